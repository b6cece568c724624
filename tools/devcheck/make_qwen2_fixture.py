#!/usr/bin/env python3
"""Developer check (not CI): turns the trained tiny-llama fixture into a Qwen2-architecture model with the
same weights plus small q/k/v biases, so the GGUF comparison with llama.cpp covers a second architecture
(qwen2: NEOX RoPE, no q/k row permutation, attention biases) on a model that writes real text.

  python3 tools/devcheck/make_qwen2_fixture.py tests/data/models/tiny-llama OUT_DIR

Hugging Face's Qwen2 and Llama layers compute the same function apart from the biases (both rotate
halves for RoPE), so the result's perplexity stays close to tiny-llama's. Needs numpy only.
"""
import json
import shutil
import sys
from pathlib import Path

import numpy as np

BIAS_STD = 0.02
SEED = 20261205


def read_safetensors(path):
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = (info["dtype"], info["shape"], raw[base + a:base + b])
    return out


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name in sorted(tensors):
        dtype, shape, data = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def bf16_bytes(values):  # round to nearest even, as torch does
    bits = values.astype(np.float32).view(np.uint32)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16).tobytes()


def main():
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    cfg = json.loads((src / "config.json").read_text())
    tensors = {}
    for f in sorted(src.glob("*.safetensors")):
        tensors.update(read_safetensors(f))
    rng = np.random.default_rng(SEED)
    for name in sorted(list(tensors)):
        if name.endswith(("q_proj.weight", "k_proj.weight", "v_proj.weight")):
            dtype, shape, _ = tensors[name]
            assert dtype == "BF16", f"{name}: expected BF16, found {dtype}"
            bias = rng.normal(0.0, BIAS_STD, size=shape[0])
            tensors[name[:-len("weight")] + "bias"] = ("BF16", [shape[0]], bf16_bytes(bias))

    qwen = {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "attention_dropout": 0.0,
        "bos_token_id": cfg["bos_token_id"],
        "eos_token_id": cfg["eos_token_id"],
        "hidden_act": "silu",
        "hidden_size": cfg["hidden_size"],
        "initializer_range": cfg["initializer_range"],
        "intermediate_size": cfg["intermediate_size"],
        "max_position_embeddings": cfg["max_position_embeddings"],
        "max_window_layers": cfg["num_hidden_layers"],
        "num_attention_heads": cfg["num_attention_heads"],
        "num_hidden_layers": cfg["num_hidden_layers"],
        "num_key_value_heads": cfg["num_key_value_heads"],
        "rms_norm_eps": cfg["rms_norm_eps"],
        "rope_theta": cfg["rope_parameters"]["rope_theta"],
        "sliding_window": None,
        "use_sliding_window": False,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "use_cache": True,
        "vocab_size": cfg["vocab_size"],
    }
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "config.json").write_text(json.dumps(qwen, indent=2) + "\n")
    write_safetensors(dst / "model.safetensors", tensors)
    for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        if (src / name).exists():
            shutil.copyfile(src / name, dst / name)
    print(f"wrote {dst} ({len(tensors)} tensors)")


if __name__ == "__main__":
    main()
