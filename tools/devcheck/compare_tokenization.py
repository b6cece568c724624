#!/usr/bin/env python3
"""Developer check (not CI): tokenizes every golden string of tests/data/tokenizers/goldens.json with
llama.cpp's own tokenizer (llama-tokenize, vocabulary only) reading a GGUF, and compares the ids with
transformers' ids for the same tokenizer (`ids_no_special`, or `ids` with --with-special). Prints each
mismatch and a count; exit 1 when any string differs.

  python3 tools/devcheck/compare_tokenization.py LLAMA_TOKENIZE MODEL.gguf TOKENIZER_NAME [--with-special]

TOKENIZER_NAME is a key of goldens.json's "tokenizers" (e.g. sp-llama2-legacy). Strings are passed in
files (-f, no escape processing) so newlines, tabs and NULs reach the tokenizer as they are. Special
tokens written in the text are parsed as special, as transformers does.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def main():
    tool, gguf, name = sys.argv[1:4]
    with_special = "--with-special" in sys.argv[4:]
    data = Path(__file__).resolve().parents[2] / "tests" / "data" / "tokenizers" / "goldens.json"
    goldens = json.loads(data.read_text())
    cases = goldens["tokenizers"][name]["cases"]
    mismatches = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (text, case) in enumerate(zip(goldens["strings"], cases)):
            f = Path(tmp) / f"s{i}.txt"
            f.write_bytes(text.encode("utf-8", "surrogatepass"))
            args = [tool, "-m", gguf, "-f", str(f), "--ids", "--log-disable", "--no-escape"]
            if not with_special:
                args.append("--no-bos")
            out = subprocess.run(args, capture_output=True, text=True)
            if out.returncode != 0:
                print(f"string {i}: llama-tokenize failed: {out.stderr.strip()[-300:]}")
                mismatches += 1
                continue
            got = json.loads(out.stdout.strip().splitlines()[-1])
            want = case["ids" if with_special else "ids_no_special"]
            if got != want:
                mismatches += 1
                print(f"string {i} {text[:40]!r}: llama.cpp {got[:16]} vs transformers {want[:16]}")
    print(f"{len(cases) - mismatches} of {len(cases)} strings tokenized as transformers does")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
