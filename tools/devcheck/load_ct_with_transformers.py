#!/usr/bin/env python3
"""Developer check (not CI): loads a compressed-tensors folder we wrote with transformers' own loader
(AutoModelForCausalLM, quantization_config from config.json, decompressed by the compressed-tensors
package) and compares every quantized Linear's weight with the same run's ordinary output (GPTQ or AutoAWQ
safetensors) dequantized from its codes, zero points and scales; then scores held-out text with the loaded
model. It proves the files load, unchanged, in the Python stack users load them with.

  quantforge quantize MODEL --gptq --bits 4 --output ST_DIR
  quantforge quantize MODEL --gptq --bits 4 --format compressed-tensors --output CT_DIR
  python3 tools/devcheck/load_ct_with_transformers.py --ct-src COMPRESSED_TENSORS/src CT_DIR ST_DIR [--text FILE]

Needs torch, transformers and the compressed-tensors package. Where that package is not installed (the
GPU machine has no network), --ct-src points at its source tree: it is put on the path with a package
record so transformers sees it, and its two logging/system helpers (loguru, psutil), when missing, are
replaced by minimal stand-ins (they only log and report memory).
"""
import argparse
import json
import math
import os
import sys
import tempfile
import types
from pathlib import Path


def make_importable(ct_src):
    """compressed_tensors from a source tree, visible to importlib.metadata (transformers checks it)."""
    shim = Path(tempfile.mkdtemp(prefix="ct_shim_"))
    version = "0.14.0"
    info = shim / f"compressed_tensors-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: compressed-tensors\nVersion: {version}\n")
    (info / "top_level.txt").write_text("compressed_tensors\n")
    try:
        import loguru  # noqa: F401
    except ImportError:
        (shim / "loguru.py").write_text(
            "import logging\n_log = logging.getLogger('compressed_tensors')\n"
            "class _Logger:\n"
            "    def __getattr__(self, name):\n"
            "        return lambda *a, **k: None if name in ('remove', 'add', 'configure', 'enable', 'disable') "
            "else _log.debug(str(a[0]) if a else '')\n"
            "    def bind(self, *a, **k): return self\n"
            "    def opt(self, *a, **k): return self\n"
            "logger = _Logger()\n")
    try:
        import psutil  # noqa: F401
    except ImportError:
        (shim / "psutil.py").write_text(
            "import os\nclass _VM:\n    total = available = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')\n"
            "def virtual_memory(): return _VM()\n")
    sys.path.insert(0, str(shim))
    sys.path.insert(1, ct_src)
    version_py = Path(ct_src) / "compressed_tensors" / "version.py"
    if not version_py.exists():  # written by setuptools-scm at install time
        version_py.write_text(f'__version__ = "{version}"\nversion = __version__\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ct-src", help="the src/ folder of a compressed-tensors checkout (when not installed)")
    ap.add_argument("--text", help="held-out text to score (first 16 windows of 512 tokens)")
    ap.add_argument("ct_dir")
    ap.add_argument("st_dir")
    args = ap.parse_args()
    try:
        import compressed_tensors  # noqa: F401
    except ImportError:
        if not args.ct_src:
            sys.exit("compressed_tensors is not installed; pass --ct-src")
        make_importable(args.ct_src)
    import numpy as np
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    sys.path.insert(0, str(Path(__file__).parent))
    from check_compressed_tensors import load_folder, reference_grid

    print(f"transformers {transformers.__version__}, torch {torch.__version__}, "
          f"compressed_tensors from {compressed_tensors_origin()}")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    qc = json.load(open(os.path.join(args.ct_dir, "config.json")))["quantization_config"]
    weights = qc["config_groups"]["group_0"]["weights"]
    st_qc = json.load(open(os.path.join(args.st_dir, "config.json")))["quantization_config"]
    st = load_folder(args.st_dir)
    ok = True
    for run_compressed in (False, True):
        config = transformers.CompressedTensorsConfig(run_compressed=run_compressed)
        try:
            model = AutoModelForCausalLM.from_pretrained(args.ct_dir, quantization_config=config).to(device).eval()
        except Exception as e:  # report and go on: the decompressed load is the one that must work
            print(f"run_compressed={run_compressed}: load failed: {type(e).__name__}: {e}")
            ok = ok and run_compressed
            continue
        quantized = {n[: -len(".weight_packed")] for n in load_folder(args.ct_dir) if n.endswith(".weight_packed")}
        worst, compared = 0.0, 0
        if not run_compressed:
            params = dict(model.named_parameters())
            for p in sorted(quantized):
                w = params[p + ".weight"].detach().float().cpu()
                codes, zeros, scales, g_idx = reference_grid(st, p, st_qc)
                dtype = params[p + ".weight"].dtype
                scales = scales.to(dtype).float().numpy()
                ref = torch.from_numpy(((codes - zeros[:, g_idx]) * scales[:, g_idx]).astype(np.float32)).to(dtype).float()
                worst = max(worst, (w - ref).abs().max().item())
                compared += 1
            print(f"run_compressed=False: {compared} Linears decompressed by transformers; "
                  f"max |weight - our grid| = {worst} (weights {weights['num_bits']}-bit, "
                  f"symmetric {weights['symmetric']}, actorder {weights['actorder']})")
            ok = ok and compared == len(quantized) and compared > 0 and worst == 0
        else:
            kinds = sorted({type(m).__name__ for m in model.modules() if "Compressed" in type(m).__name__})
            print(f"run_compressed=True: loaded, quantized modules: {kinds or 'none (decompressed)'}")
        if args.text:
            tok = AutoTokenizer.from_pretrained(args.ct_dir)
            ids = tok(open(args.text, encoding="utf-8").read(), return_tensors="pt").input_ids[0]
            nll, count = 0.0, 0
            with torch.no_grad():
                for w in range(min(16, ids.numel() // 512)):
                    x = ids[w * 512:(w + 1) * 512].unsqueeze(0).to(device)
                    logits = model(x).logits.float()
                    nll += torch.nn.functional.cross_entropy(logits[0, :-1], x[0, 1:], reduction="sum").item()
                    count += 511
            print(f"run_compressed={run_compressed}: perplexity over {count} predicted tokens = {math.exp(nll / count):.4f}")
        del model
    sys.exit(0 if ok else 1)


def compressed_tensors_origin():
    import compressed_tensors
    return os.path.dirname(compressed_tensors.__file__)


if __name__ == "__main__":
    main()
