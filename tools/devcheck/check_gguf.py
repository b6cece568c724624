#!/usr/bin/env python3
"""Developer check (not CI): reads a GGUF file we wrote with llama.cpp's own gguf-py, dequantizes every
quantized Linear with llama.cpp's dequantizer, and compares it with the same run's safetensors
checkpoint (GPTQ or AutoAWQ GEMM packing) dequantized from its codes, zeros and fp16 scales.

  PYTHONPATH=<llama.cpp>/gguf-py python3 tools/devcheck/check_gguf.py model-Q4_0.gguf SAFETENSORS_DIR

Q8_0 / Q4_0 must match bit for bit; Q4_1 within the fp16 rounding of m = -zero * scale.
"""
import json
import sys
from pathlib import Path

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def read_safetensors(folder):
    tensors = {}
    for f in sorted(Path(folder).glob("*.safetensors")):
        raw = f.read_bytes()
        n = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + n])
        base = 8 + n
        for name, info in header.items():
            if name == "__metadata__":
                continue
            a, b = info["data_offsets"]
            dt = {"I32": np.int32, "F16": np.float16, "BF16": np.uint16, "F32": np.float32}[info["dtype"]]
            tensors[name] = np.frombuffer(raw[base + a:base + b], dtype=dt).reshape(info["shape"])
    return tensors


def unpack_rows(words, bits):  # values packed along the last axis, low bits first
    per = 32 // bits
    w = words.astype(np.uint32)[..., None] >> (bits * np.arange(per, dtype=np.uint32))
    return (w & ((1 << bits) - 1)).reshape(*words.shape[:-1], words.shape[-1] * per)


def dequantized_checkpoint(t, prefix, qc):
    bits = qc.get("bits", qc.get("w_bit"))
    scales = t[prefix + ".scales"].astype(np.float32)  # [groups, out]
    if qc["quant_method"] == "awq":
        order = [0, 4, 1, 5, 2, 6, 3, 7]
        q = unpack_rows(t[prefix + ".qweight"], 4)
        q = q.reshape(q.shape[0], -1, 8)[:, :, order].reshape(q.shape[0], -1)  # [in, out]
        z = unpack_rows(t[prefix + ".qzeros"], 4)
        z = z.reshape(z.shape[0], -1, 8)[:, :, order].reshape(z.shape[0], -1)  # [groups, out]
    else:
        q = unpack_rows(t[prefix + ".qweight"].T, bits).T  # [in, out]
        z = unpack_rows(t[prefix + ".qzeros"], bits)
        if qc.get("checkpoint_format", "gptq") == "gptq":
            z = (z + 1) & ((1 << bits) - 1)
    g = np.arange(q.shape[0]) // (q.shape[0] // scales.shape[0])
    largest_m = float(np.abs(z.astype(np.float64) * scales).max())  # |m| of Q4_1's value = d * q + m
    return ((q.astype(np.int64) - z[g].astype(np.int64)) * scales[g]).T, largest_m  # [out, in]


def main():
    gguf_path, st_dir = sys.argv[1], sys.argv[2]
    qc = json.loads((Path(st_dir) / "config.json").read_text())["quantization_config"]
    cfg = json.loads((Path(st_dir) / "config.json").read_text())
    t = read_safetensors(st_dir)
    reader = GGUFReader(gguf_path)
    names = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down"}
    by_name = {x.name: x for x in reader.tensors}
    worst = 0.0
    allowed = 0.0  # Q4_1 only: half an fp16 ulp of m = -zero * scale, the one rounding the format adds
    count = 0
    for layer in range(cfg["num_hidden_layers"]):
        for hf, gg in names.items():
            prefix = f"model.layers.{layer}.{hf}"
            tensor = by_name[f"blk.{layer}.{gg}.weight"]
            ours = dequantize(tensor.data, tensor.tensor_type).reshape(-1, tensor.shape[0])
            ref, largest_m = dequantized_checkpoint(t, prefix, qc)
            if tensor.tensor_type.name == "Q4_1":  # m's fp16 rounding, plus float32 arithmetic in the dequantizer
                half_ulp = float(np.spacing(np.float16(largest_m))) / 2
                allowed = max(allowed, half_ulp + 2 * (largest_m + float(np.abs(ref).max())) * 2.0 ** -24)
            if cfg["model_type"] in ("llama", "mistral") and hf in ("self_attn.q_proj", "self_attn.k_proj"):
                heads = cfg["num_attention_heads"] if hf.endswith("q_proj") else cfg["num_key_value_heads"]
                ref = ref.reshape(heads, 2, ref.shape[0] // heads // 2, -1).swapaxes(1, 2).reshape(ref.shape)
            worst = max(worst, float(np.abs(ours.astype(np.float64) - ref.astype(np.float64)).max()))
            count += 1
    kind = by_name['blk.0.attn_q.weight'].tensor_type.name
    ok = worst <= allowed
    print(f"{count} Linears, type {kind}: largest |llama.cpp dequant - checkpoint dequant| = {worst:.3g}"
          f" (allowed {allowed:.3g}) -> {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
