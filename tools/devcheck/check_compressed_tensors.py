#!/usr/bin/env python3
"""Developer check (not CI): decompresses a compressed-tensors folder we wrote with compressed-tensors'
own code (pack_quantized helpers' unpack_from_int32 and the group dequantization of forward_helpers,
loaded by path as tools/fixtures/make_ct_goldens.py does) and compares every Linear with the same
run's ordinary output (GPTQ v1/v2 or AutoAWQ GEMM) dequantized from its codes, zeros and fp16 scales
rounded to the compressed-tensors weight_scale dtype. compressed-tensors computes in that dtype, so
the reference is rounded to it too; the two must agree exactly.

  quantforge quantize MODEL --gptq --bits 4 --desc_act true --output ST_DIR
  quantforge quantize MODEL --gptq --bits 4 --desc_act true --format compressed-tensors --output CT_DIR
  /usr/bin/python3 tools/devcheck/check_compressed_tensors.py --ct-src COMPRESSED_TENSORS/src CT_DIR ST_DIR

Needs torch (Debian's python3-torch 1.13 is enough) and numpy.
"""
import argparse
import importlib.util
import json
import os
import sys
import types
from pathlib import Path

import numpy as np
import torch

NUMPY = {"I32": np.int32, "I64": np.int64, "F16": np.float16, "BF16": np.int16, "F32": np.float32}
TORCH = {"I32": torch.int32, "I64": torch.int64, "F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32}


def load_folder(folder):
    out = {}
    for path in sorted(Path(folder).glob("*.safetensors")):
        blob = path.read_bytes()
        size = int.from_bytes(blob[:8], "little")
        for name, meta in json.loads(blob[8:8 + size]).items():
            if name != "__metadata__":
                begin, end = (8 + size + x for x in meta["data_offsets"])
                array = np.frombuffer(blob[begin:end], dtype=NUMPY[meta["dtype"]]).reshape(meta["shape"]).copy()
                out[name] = torch.from_numpy(array).view(TORCH[meta["dtype"]])
    return out


def fields(words, bits, axis):  # unsigned values of int32 words, unpacked along `axis`, low bits first
    w = words.numpy().view(np.uint32)
    parts = [(w >> (bits * j)) & ((1 << bits) - 1) for j in range(32 // bits)]
    return np.stack(parts, axis + 1).reshape(*[s * (32 // bits) if a == axis else s for a, s in enumerate(w.shape)])


AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]  # nibble i holds column 8c + AWQ_ORDER[i]


def reference_grid(st, p, qc):
    """codes [out, in], zeros [out, groups], fp16 scales [out, groups], g_idx [in] of the ordinary output."""
    scales = st[p + ".scales"].t().float()
    groups, out = st[p + ".scales"].shape
    if qc["quant_method"] == "awq":
        def unawq(t):
            v = fields(t, 4, 1).reshape(t.shape[0], -1, 8)
            return v[:, :, np.argsort(AWQ_ORDER)].reshape(t.shape[0], -1)
        codes, zeros = unawq(st[p + ".qweight"]).T, unawq(st[p + ".qzeros"]).T
        bits = 4
    else:
        bits = qc["bits"]
        codes, zeros = fields(st[p + ".qweight"], bits, 0).T, fields(st[p + ".qzeros"], bits, 1).T
        if qc.get("checkpoint_format", "gptq") == "gptq":
            zeros = (zeros + 1) & ((1 << bits) - 1)
    inp = codes.shape[1]
    g_idx = st[p + ".g_idx"].numpy() if p + ".g_idx" in st else np.arange(inp) // (inp // groups)
    return codes.astype(np.int64), zeros.astype(np.int64), scales, g_idx


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ct-src", required=True, help="the src/ folder of a compressed-tensors checkout")
    ap.add_argument("ct_dir")
    ap.add_argument("st_dir")
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location(
        "make_ct_goldens", os.path.join(os.path.dirname(__file__), "..", "fixtures", "make_ct_goldens.py"))
    goldens = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(goldens)
    helpers, forward, strategy = goldens.load_compressed_tensors(args.ct_src)

    qc = json.load(open(os.path.join(args.ct_dir, "config.json")))["quantization_config"]
    weights = qc["config_groups"]["group_0"]["weights"]
    st_qc = json.load(open(os.path.join(args.st_dir, "config.json")))["quantization_config"]
    ct, st = load_folder(args.ct_dir), load_folder(args.st_dir)
    bits, worst, linears = weights["num_bits"], 0.0, 0
    for name in sorted(ct):
        if not name.endswith(".weight_packed"):
            continue
        p = name[: -len(".weight_packed")]
        shape = torch.Size(ct[p + ".weight_shape"].tolist())
        scale = ct[p + ".weight_scale"]
        zp = None
        if p + ".weight_zero_point" in ct:
            zp = helpers.unpack_from_int32(ct[p + ".weight_zero_point"], bits, torch.Size([shape[0], scale.shape[1]]), 0)
        group = weights["group_size"] or shape[1]
        mine = forward._process_group(
            helpers.unpack_from_int32(ct[name], bits, shape), scale, zp,
            types.SimpleNamespace(strategy=strategy.GROUP, group_size=group), None, None, scale.dtype,
            do_quantize=False, do_dequantize=True, g_idx=ct.get(p + ".weight_g_idx"), global_scale=None)
        codes, zeros, scales, g_idx = reference_grid(st, p, st_qc)
        scales = scales.to(scale.dtype).float().numpy()
        theirs = torch.from_numpy(((codes - zeros[:, g_idx]) * scales[:, g_idx]).astype(np.float32)).to(scale.dtype)
        worst = max(worst, (mine.float() - theirs.float()).abs().max().item())
        linears += 1
    print(f"{linears} Linears, {bits}-bit, actorder {weights['actorder']}, symmetric {weights['symmetric']}, "
          f"scales {scale.dtype}: max |compressed-tensors decompression - reference| = {worst}")
    sys.exit(0 if linears and worst == 0 else 1)


if __name__ == "__main__":
    main()
