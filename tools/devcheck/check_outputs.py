"""Cross-check QuantForge outputs with the real Python stack (run on the GPU machine).

For each output folder given: open every safetensors file with the `safetensors` library, parse
config.json with transformers' AutoConfig, dequantize the GPTQ (v1/v2) or AWQ GEMM tensors with an
independent torch implementation of the loaders' formulas (docs/gptq.md#packing-v1-and-v2,
docs/awq.md#gemm-packing), load the result into transformers' model class, and compute perplexity
on a text with non-overlapping 512-token windows. Also tries transformers' own quantized loading when the optional backends
(gptqmodel / optimum / autoawq) are installed, and reports when they are not.

usage: check_outputs.py BASE_MODEL_DIR TEXT_FILE OUT_DIR [OUT_DIR ...]
"""
import glob
import importlib.util
import json
import math
import os
import sys

import torch
from safetensors import safe_open
from transformers import AutoConfig, AutoModelForCausalLM
from tokenizers import Tokenizer


def load_tensors(folder, index_name=None):
    tensors = {}
    if index_name and os.path.exists(os.path.join(folder, index_name)):
        files = sorted(set(json.load(open(os.path.join(folder, index_name)))["weight_map"].values()))
    else:
        files = sorted(os.path.basename(f) for f in glob.glob(os.path.join(folder, "*.safetensors")))
    for f in files:
        with safe_open(os.path.join(folder, f), framework="pt") as h:
            meta = h.metadata()
            assert meta.get("format") == "pt", (f, meta)
            for k in h.keys():
                tensors[k] = h.get_tensor(k)
    return tensors, files


def unpack_rows(packed, bits):  # [r, c] int32 -> [r * 32/bits, c], values along dim 0
    pf = 32 // bits
    p = packed.to(torch.int64) & 0xFFFFFFFF
    shifts = torch.arange(pf, dtype=torch.int64) * bits
    vals = (p.unsqueeze(1) >> shifts.view(1, pf, 1)) & ((1 << bits) - 1)
    return vals.reshape(-1, packed.shape[1])


def unpack_cols(packed, bits):  # [r, c] -> [r, c * 32/bits], values along dim 1
    return unpack_rows(packed.t().contiguous(), bits).t()


AWQ_REVERSE = [0, 4, 1, 5, 2, 6, 3, 7]


def awq_unpack(packed):  # [r, n/8] -> [r, n] in column order
    p = packed.to(torch.int64) & 0xFFFFFFFF
    cols = []
    for j in range(8):
        cols.append((p >> (4 * AWQ_REVERSE[j])) & 0xF)
    return torch.stack(cols, dim=-1).reshape(packed.shape[0], -1)


def dequantize(tensors, qc):
    out = {}
    prefixes = sorted(k[: -len(".qweight")] for k in tensors if k.endswith(".qweight"))
    for p in prefixes:
        scales = tensors[p + ".scales"].float()  # [G, out]
        if qc["quant_method"] == "awq":
            q = awq_unpack(tensors[p + ".qweight"]).float()  # [in, out]
            z = awq_unpack(tensors[p + ".qzeros"]).float()  # [G, out]
            g = q.shape[0] // scales.shape[0]
            idx = torch.arange(q.shape[0]) // g
        else:
            bits = qc["bits"]
            q = unpack_rows(tensors[p + ".qweight"], bits).float()  # [in, out]
            z = unpack_cols(tensors[p + ".qzeros"], bits)
            if qc.get("checkpoint_format", "gptq") == "gptq":
                z = (z + 1) & ((1 << bits) - 1)
            z = z.float()
            idx = tensors[p + ".g_idx"].long()
        w = scales[idx] * (q - z[idx])  # [in, out]
        out[p + ".weight"] = w.t().contiguous()
    for k, v in tensors.items():
        if not any(k.endswith(s) for s in (".qweight", ".qzeros", ".scales", ".g_idx")):
            out[k] = v
    return out


def perplexity(model, ids, seqlen=512, max_windows=40):
    n = min(ids.numel() // seqlen, max_windows)
    nlls = []
    with torch.no_grad():
        for i in range(n):
            x = ids[i * seqlen:(i + 1) * seqlen].unsqueeze(0).cuda()
            logits = model(x).logits.float()
            nlls.append(torch.nn.functional.cross_entropy(logits[0, :-1], x[0, 1:]).item())
    return math.exp(sum(nlls) / len(nlls)), n


def main():
    base, text_file, outs = sys.argv[1], sys.argv[2], sys.argv[3:]
    tok = Tokenizer.from_file(os.path.join(base, "tokenizer.json"))
    ids = torch.tensor(tok.encode(open(text_file, encoding="utf-8").read(), add_special_tokens=False).ids)
    fp = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32, attn_implementation="eager").cuda().eval()
    print(f"base {base}: ppl {perplexity(fp, ids)}")
    for backend in ("gptqmodel", "optimum", "awq", "auto_gptq", "compressed_tensors"):
        print(f"python backend {backend}: {'installed' if importlib.util.find_spec(backend) else 'not installed'}")
    for out in outs:
        print(f"== {out}")
        if os.path.exists(os.path.join(out, "quant_config-AWQ.json")):  # in-place layout
            qc = json.load(open(os.path.join(out, "quant_config-AWQ.json")))
            tensors, files = load_tensors(out, "model-AWQ.safetensors.index.json")
            config = AutoConfig.from_pretrained(out)
        else:
            config = AutoConfig.from_pretrained(out)
            qc = json.load(open(os.path.join(out, "config.json")))["quantization_config"]
            tensors, files = load_tensors(out, "model.safetensors.index.json")
            print(f"AutoConfig quantization_config: {getattr(config, 'quantization_config', None)}")
        print(f"safetensors opened {files}: {len(tensors)} tensors, dtypes {sorted({str(t.dtype) for t in tensors.values()})}")
        state = dequantize(tensors, qc)
        cfg = config.to_dict()
        cfg.pop("quantization_config", None)
        from transformers import LlamaConfig, LlamaForCausalLM
        model = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in cfg.items() if k != "model_type"}))
        missing, unexpected = model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
        print(f"load_state_dict: missing {missing} unexpected {unexpected}")
        model = model.float().cuda().eval()
        print(f"dequantized ppl {perplexity(model, ids)}")
        try:
            q = AutoModelForCausalLM.from_pretrained(out, device_map="cuda")
            print(f"transformers quantized load OK: {type(q).__name__}; ppl {perplexity(q.float() if False else q, ids)}")
        except Exception as e:  # noqa: BLE001 - report whatever the optional backends say
            print(f"transformers quantized load: {type(e).__name__}: {str(e)[:300]}")


if __name__ == "__main__":
    main()
