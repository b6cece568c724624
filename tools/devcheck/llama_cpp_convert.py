#!/usr/bin/env python3
"""Developer check (not CI): runs llama.cpp's own convert_hf_to_gguf.py on a model folder, for the baseline
our `quantforge convert --format gguf` and our quantized GGUFs are compared with. Needs torch and
transformers (the device machine has them).

  python3 tools/devcheck/llama_cpp_convert.py LLAMA_CPP_DIR MODEL_DIR --outtype bf16 --outfile OUT.gguf

One change to the converter's behaviour, and only for small test models: llama.cpp identifies a BPE
pre-tokenizer by hashing the token ids of a fixed text and refuses hashes it has not listed. Our fixtures'
tokenizers are trained for the tests, so their hash is unknown; their pre-tokenizer is GPT-2's byte-level
regex, which llama.cpp calls "gpt-2". A known hash is left to the converter.

And one for fixtures whose tokenizer_config.json names the generic "PreTrainedTokenizerFast": transformers 5's
AutoTokenizer picks a tokenizer class from config.json's model_type instead (for qwen2, one that adds
Qwen's special tokens past the fixture's vocabulary), so such folders are loaded with the class they name.
"""
import json
import sys
from pathlib import Path


def main():
    llama_dir = Path(sys.argv[1]).resolve()
    sys.path.insert(0, str(llama_dir))
    sys.path.insert(1, str(llama_dir / "gguf-py"))
    import convert_hf_to_gguf
    from conversion import base

    original = base.TextModel.get_vocab_base_pre

    def pre_with_gpt2_fallback(self, tokenizer):
        try:
            return original(self, tokenizer)
        except NotImplementedError:
            pre = self.dir_model / "tokenizer.json"
            kind = json.loads(pre.read_text()).get("pre_tokenizer", {}) or {}
            if kind.get("type") == "ByteLevel" and kind.get("use_regex", True):
                print("llama_cpp_convert: unknown pre-tokenizer hash, GPT-2 byte-level regex -> 'gpt-2'")
                return "gpt-2"
            raise

    base.TextModel.get_vocab_base_pre = pre_with_gpt2_fallback

    import transformers
    auto_load = transformers.AutoTokenizer.from_pretrained

    def load_named_class(path, *args, **kwargs):
        cfg_file = Path(path) / "tokenizer_config.json"
        named = json.loads(cfg_file.read_text()).get("tokenizer_class") if cfg_file.exists() else None
        if named == "PreTrainedTokenizerFast":
            return transformers.PreTrainedTokenizerFast.from_pretrained(path, *args, **kwargs)
        return auto_load(path, *args, **kwargs)

    transformers.AutoTokenizer.from_pretrained = load_named_class
    sys.argv = ["convert_hf_to_gguf.py"] + sys.argv[2:]
    convert_hf_to_gguf.main()


if __name__ == "__main__":
    main()
