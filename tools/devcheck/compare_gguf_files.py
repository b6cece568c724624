#!/usr/bin/env python3
"""Developer check (not CI): compares two GGUF files with llama.cpp's gguf-py: every metadata key (type and
value), every tensor (name, shape, type and bytes). Exits 1 when a tensor differs or when a metadata key
differs that is not descriptive (the `general.*` naming keys the converter derives from model cards).

  PYTHONPATH=<llama.cpp>/gguf-py python3 tools/devcheck/compare_gguf_files.py OURS.gguf THEIRS.gguf
"""
import sys

import numpy as np
from gguf import GGUFReader

# Keys that describe a file rather than the model's function; llama.cpp's converter fills them from model
# cards and folder names, so they are reported but do not fail the check.
DESCRIPTIVE = {"general.name", "general.basename", "general.size_label", "general.finetune",
               "general.version", "general.organization", "general.license", "general.tags",
               "general.languages", "general.quantized_by", "general.file_type"}


def metadata(reader):
    out = {}
    for field in reader.fields.values():
        if field.name.startswith("GGUF."):
            continue
        value = field.contents()
        out[field.name] = ([t.name for t in field.types], value)
    return out


def short(value):
    text = repr(value)
    return text if len(text) < 90 else text[:60] + f"... ({len(value) if hasattr(value, '__len__') else '?'} items)"


def main():
    ours, theirs = GGUFReader(sys.argv[1]), GGUFReader(sys.argv[2])
    failed = False
    a, b = metadata(ours), metadata(theirs)
    for key in sorted(a.keys() | b.keys()):
        if a.get(key) == b.get(key):
            continue
        hard = key not in DESCRIPTIVE
        failed |= hard
        tag = "DIFF" if hard else "note"
        print(f"  {tag} {key}: ours {short(a[key]) if key in a else '(absent)'} | llama.cpp "
              f"{short(b[key]) if key in b else '(absent)'}")
    ta = {t.name: t for t in ours.tensors}
    tb = {t.name: t for t in theirs.tensors}
    if ta.keys() != tb.keys():
        print(f"  DIFF tensor names: only ours {sorted(ta.keys() - tb.keys())}, "
              f"only llama.cpp {sorted(tb.keys() - ta.keys())}")
        failed = True
    elif list(ta) != list(tb):  # llama.cpp looks tensors up by name; the converter follows shard order
        print("  note tensor order: ours by block, llama.cpp's in the checkpoint shards' order")
    same = 0
    for name in ta.keys() & tb.keys():
        x, y = ta[name], tb[name]
        if x.tensor_type != y.tensor_type or list(x.shape) != list(y.shape):
            print(f"  DIFF {name}: ours {x.tensor_type.name}{list(x.shape)}, llama.cpp {y.tensor_type.name}{list(y.shape)}")
            failed = True
        elif not np.array_equal(np.asarray(x.data).view(np.uint8), np.asarray(y.data).view(np.uint8)):
            diff = np.count_nonzero(np.asarray(x.data).view(np.uint8) != np.asarray(y.data).view(np.uint8))
            print(f"  DIFF {name} ({x.tensor_type.name}): {diff} of {x.n_bytes} bytes differ")
            failed = True
        else:
            same += 1
    print(f"{sys.argv[1]}: {len(a)} metadata keys, {same} of {len(tb)} tensors bit-identical to llama.cpp's"
          f" -> {'DIFFERENT' if failed else 'same'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
