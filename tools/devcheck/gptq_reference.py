"""Reference GPTQ in eager PyTorch (run on the GPU machine), to compare with QuantForge's perplexities.

Our own implementation of the published algorithm as the IST-DASLab gptq code runs it (docs/gptq.md):
sequential decoder layers, true-sequential linear groups (q/k/v, o, gate/up, down) whose Hessians are
gathered with the earlier groups already quantized, fasterquant (dead columns, damping, Cholesky ->
inverse -> upper Cholesky, blocks of 128 with lazy updates, group params from W at each group start),
and layer outputs recomputed with the quantized weights. RTN uses the same quantizer without error
feedback. Calibration: 512-token windows of the bundled text drawn with Python's random seeded with 0
(the GPTQ protocol for a text file, tokenized with BOS: the same windows as `--dataset bundled`). Scored like `quantforge eval`: non-overlapping 512-token windows
of heldout.txt, fp32, no BOS.

usage: gptq_reference.py MODEL_DIR CALIB_TEXT HELDOUT_TEXT [NUM_SAMPLES]
"""
import math
import random
import sys

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = "cuda" if torch.cuda.is_available() else "cpu"


def grid_params(x, bits, sym):  # x [rows, cols] -> scale, zero [rows, 1]
    maxq = 2**bits - 1
    xmin = torch.clamp(x.min(1).values, max=0)
    xmax = torch.clamp(x.max(1).values, min=0)
    if sym:
        xmax = torch.maximum(xmin.abs(), xmax)
        xmin = torch.where(xmin < 0, -xmax, xmin)
    both0 = (xmin == 0) & (xmax == 0)
    xmin[both0], xmax[both0] = -1, 1
    scale = (xmax - xmin) / maxq
    zero = torch.full_like(scale, (maxq + 1) / 2) if sym else torch.round(-xmin / scale)
    return scale.unsqueeze(1), zero.unsqueeze(1)


def fake_quant(x, scale, zero, bits):
    q = torch.clamp(torch.round(x / scale) + zero, 0, 2**bits - 1)
    return scale * (q - zero)


def rtn(W, bits, gs, sym):
    Q = torch.empty_like(W)
    for g in range(0, W.shape[1], gs):
        s, z = grid_params(W[:, g:g + gs], bits, sym)
        Q[:, g:g + gs] = fake_quant(W[:, g:g + gs], s, z, bits)
    return Q


def gptq(W, H, bits, gs, sym, damp, block=128):
    W = W.clone().float()
    H = H.clone()
    cols = W.shape[1]
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    H += damp * torch.mean(torch.diag(H)) * torch.eye(cols, device=W.device)
    Hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
    Q = torch.zeros_like(W)
    scale = zero = None
    for i1 in range(0, cols, block):
        i2 = min(i1 + block, cols)
        W1 = W[:, i1:i2].clone()
        Err1 = torch.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        for i in range(i2 - i1):
            if (i1 + i) % gs == 0:
                scale, zero = grid_params(W[:, i1 + i:i1 + i + gs], bits, sym)
            w = W1[:, i]
            d = Hinv1[i, i]
            q = fake_quant(w.unsqueeze(1), scale, zero, bits).flatten()
            Q[:, i1 + i] = q
            err = (w - q) / d
            W1[:, i:] -= err.unsqueeze(1).matmul(Hinv1[i, i:].unsqueeze(0))
            Err1[:, i] = err
        W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:])
    return Q


GROUPS = [["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"], ["self_attn.o_proj"],
          ["mlp.gate_proj", "mlp.up_proj"], ["mlp.down_proj"]]


def get(module, path):
    for p in path.split("."):
        module = getattr(module, p)
    return module


@torch.no_grad()
def quantize_model(model, calib, method, bits, gs, sym, damp):
    layers = model.model.layers
    hidden = model.model.embed_tokens(calib)  # [n, T, h]
    T = calib.shape[1]
    pos = torch.arange(T, device=dev).unsqueeze(0)
    rope = model.model.rotary_emb(hidden, pos)
    mask = torch.full((T, T), float("-inf"), device=dev).triu(1)[None, None]
    run = lambda layer, x: layer(x, attention_mask=mask, position_ids=pos, position_embeddings=rope)
    out = lambda r: r[0] if isinstance(r, tuple) else r
    for layer in layers:
        for group in GROUPS:
            if method == "rtn":
                for name in group:
                    lin = get(layer, name)
                    lin.weight.data = rtn(lin.weight.data.float(), bits, gs, sym)
                continue
            H = {n: 0 for n in group}
            hooks = []
            for name in group:
                def hook(mod, inp, _out, name=name):
                    x = inp[0].reshape(-1, inp[0].shape[-1]).double()
                    H[name] = H[name] + 2.0 * x.t() @ x
                hooks.append(get(layer, name).register_forward_hook(hook))
            for b in range(hidden.shape[0]):
                run(layer, hidden[b:b + 1])
            for h in hooks:
                h.remove()
            tokens = hidden.shape[0] * T
            for name in group:
                lin = get(layer, name)
                lin.weight.data = gptq(lin.weight.data.float(), (H[name] / tokens).float(), bits, gs, sym, damp)
        hidden = torch.cat([out(run(layer, hidden[b:b + 1])) for b in range(hidden.shape[0])])


@torch.no_grad()
def heldout_ppl(model, ids, seqlen=512):
    n = len(ids) // seqlen
    x = torch.tensor(ids[:n * seqlen], device=dev).view(n, seqlen)
    nll = []
    for b in range(0, n, 16):
        logits = model(x[b:b + 16], use_cache=False).logits.float()
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), x[b:b + 16, 1:], reduction="none")
        nll += loss.mean(1).tolist()
    return math.exp(sum(nll) / len(nll))


def main():
    model_dir, calib_text, heldout_text = sys.argv[1:4]
    nsamples = int(sys.argv[4]) if len(sys.argv) > 4 else 128
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    enc = lambda p, bos: tok.encode(open(p, "rb").read().decode("utf-8"), add_special_tokens=bos).ids
    calib_ids, held = enc(calib_text, True), enc(heldout_text, False)  # GPTQ tokenizes the text with BOS
    random.seed(0)
    starts = [random.randint(0, len(calib_ids) - 512 - 1) for _ in range(nsamples)]
    calib = torch.tensor([calib_ids[s:s + 512] for s in starts], device=dev)
    print(f"calibration {nsamples} x 512 from {calib_text}; heldout {len(held)} tokens", flush=True)
    runs = [("fp32", None, 0, 0, True, 0), ("rtn", "rtn", 4, 128, False, 0), ("rtn", "rtn", 4, 128, True, 0),
            ("gptq", "gptq", 4, 128, False, 0.1), ("gptq", "gptq", 4, 128, True, 0.1),
            ("gptq", "gptq", 8, 128, True, 0.1)]
    for label, method, bits, gs, sym, damp in runs:
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32,
                                                     attn_implementation="eager").to(dev).eval()
        if method:
            quantize_model(model, calib, method, bits, gs, sym, damp)
        ppl = heldout_ppl(model, held)
        print(f"{label:5s} w{bits} g{gs} {'sym ' if sym else 'asym'} damp {damp:<5}: heldout ppl {ppl:.4f}", flush=True)


if __name__ == "__main__":
    main()
