#!/usr/bin/env bash
# Developer check only (never CI): QuantForge's GGUF files against llama.cpp on one model.
#
#   tools/devcheck/compare_with_llama_cpp.sh MODEL_DIR REFERENCE_DIR WORK_DIR [TEXT]
#
# MODEL_DIR      a Hugging Face model folder (it is copied; nothing is written into it)
# REFERENCE_DIR  GGUF files llama.cpp's own convert_hf_to_gguf.py wrote for that model
#                (tools/devcheck/llama_cpp_convert.py, run where torch and transformers are):
#                NAME-bf16.gguf and NAME-q8_0.gguf, NAME being MODEL_DIR's folder name
# WORK_DIR       scratch folder for our outputs and llama-quantize's
# TEXT           text llama-perplexity scores (default tests/data/text/heldout.txt, which no
#                calibration set contains)
#
# Environment: LLAMA_BIN (llama.cpp's build/bin, from tools/devcheck/build_llama_cpp.sh),
# LLAMA_GGUF_PY (its gguf-py folder), QF (our quantforge binary, default build/bin/quantforge),
# THREADS (default 2), PYTHON (a python3 with numpy, default /usr/bin/python3).
#
# It checks, failing on the first miss:
#  1. our `convert --type bf16` and `--type q8_0` hold the same tensors, bit for bit, as llama.cpp's
#     converter's files, and score the same perplexity in llama-perplexity;
#  2. our GPTQ 4-bit symmetric (Q4_0), AWQ (Q4_1) and GPTQ 8-bit (Q8_0) files load, generate text,
#     and read back through gguf-py's dequantizer equal to the grid of the same run's safetensors
#     checkpoint (exact for Q4_0/Q8_0, within the fp16 rounding of m for Q4_1);
# and prints the perplexity table: ours next to llama-quantize's Q4_0 / Q4_1 / Q8_0 of the converter's
# bf16 file (token embeddings and output kept bf16 as ours are, and also llama-quantize's defaults).
set -euo pipefail

MODEL=$(cd "$1" && pwd)
REF=$(cd "$2" && pwd)
mkdir -p "$3"
WORK=$(cd "$3" && pwd)
REPO=$(cd "$(dirname "$0")/../.." && pwd)
TEXT=${4:-$REPO/tests/data/text/heldout.txt}
QF=${QF:-$REPO/build/bin/quantforge}
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-/usr/bin/python3}
: "${LLAMA_BIN:?set LLAMA_BIN to llama.cpp's build/bin (tools/devcheck/build_llama_cpp.sh)}"
: "${LLAMA_GGUF_PY:?set LLAMA_GGUF_PY to llama.cpp's gguf-py folder}"
NAME=$(basename "$MODEL")
export PYTHONPATH=$LLAMA_GGUF_PY

fail() { echo "FAIL: $*" >&2; exit 1; }

perplexity() {  # GGUF -> "PPL +/- err", the mean over llama.cpp's own protocol
    local log=$WORK/$(basename "$1" .gguf).ppl.log
    "$LLAMA_BIN/llama-perplexity" -m "$1" -f "$TEXT" -c 512 -b 512 -t "$THREADS" >"$log" 2>&1 \
        || { tail -20 "$log" >&2; fail "llama-perplexity on $1"; }
    sed -n 's/.*Final estimate: PPL = \([0-9.]*\) +\/- \([0-9.]*\).*/\1 +\/- \2/p' "$log"
}

size_mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.2f", b / 1048576 }'; }

rm -rf "$WORK/$NAME"
cp -r "$MODEL" "$WORK/$NAME"
M=$WORK/$NAME

echo "== $NAME: our convert (bf16, q8_0) against llama.cpp's converter"
"$QF" convert "$M" --type bf16 --output "$WORK/ours-bf16" --threads "$THREADS" >/dev/null 2>&1
"$QF" convert "$M" --type q8_0 --output "$WORK/ours-q8_0" --threads "$THREADS" >/dev/null 2>&1
for t in bf16 q8_0; do
    ours=$(ls "$WORK/ours-$t"/*.gguf)
    "$PYTHON" "$REPO/tools/devcheck/compare_gguf_files.py" "$ours" "$REF/$NAME-$t.gguf" \
        || fail "our convert --type $t differs from llama.cpp's converter"
done

echo "== $NAME: quantize (GPTQ 4-bit sym, AWQ, GPTQ 8-bit; group 128 and 32), GGUF and safetensors"
# Group 128 is the methods' default; group 32 gives every GGUF block its own scale, as llama-quantize's
# blocks have, so those rows compare the same number of bits. GPTQ's g32 runs calibrate on the bundled
# public-domain text, the domain the fixtures were trained on (their default, WikiText-2, is not).
declare -A FLAGS=([gptq4]="--gptq --bits 4 --sym true" [awq]="--awq" [gptq8]="--gptq"
                  [gptq4g32]="--gptq --bits 4 --sym true --group_size 32 --dataset bundled"
                  [awqg32]="--awq --group_size 32" [gptq8g32]="--gptq --group_size 32 --dataset bundled")
for v in gptq4 awq gptq8 gptq4g32 awqg32 gptq8g32; do
    # Outputs of an earlier complete run of the same commands are kept (our runs are deterministic).
    if ! compgen -G "$WORK/$v-gguf/*.gguf" >/dev/null; then
        # shellcheck disable=SC2086
        "$QF" quantize "$M" ${FLAGS[$v]} --format gguf --output "$WORK/$v-gguf" --threads "$THREADS" >/dev/null 2>&1
    fi
    [[ $v == *g32 ]] && continue  # the read-back check below covers the block types once
    if [[ ! -f $WORK/$v-st/config.json ]]; then
        # shellcheck disable=SC2086
        "$QF" quantize "$M" ${FLAGS[$v]} --output "$WORK/$v-st" --threads "$THREADS" >/dev/null 2>&1
    fi
    "$PYTHON" "$REPO/tools/devcheck/check_gguf.py" "$(ls "$WORK/$v-gguf"/*.gguf)" "$WORK/$v-st" \
        || fail "$v: GGUF read back by gguf-py differs from the checkpoint's grid"
done

echo "== $NAME: llama-quantize of the converter's bf16 file"
for q in Q4_0 Q4_1 Q8_0; do
    "$LLAMA_BIN/llama-quantize" --token-embedding-type bf16 --output-tensor-type bf16 \
        "$REF/$NAME-bf16.gguf" "$WORK/llama-$q-bf16emb.gguf" "$q" "$THREADS" >"$WORK/quantize-$q.log" 2>&1 \
        || { tail -20 "$WORK/quantize-$q.log" >&2; fail "llama-quantize $q"; }
    "$LLAMA_BIN/llama-quantize" "$REF/$NAME-bf16.gguf" "$WORK/llama-$q.gguf" "$q" "$THREADS" \
        >>"$WORK/quantize-$q.log" 2>&1 || fail "llama-quantize $q (defaults)"
done

echo "== $NAME: text from our GGUFs (greedy)"
for f in "$WORK"/gptq4-gguf/*.gguf "$WORK"/awq-gguf/*.gguf "$WORK"/gptq8-gguf/*.gguf; do
    text=$("$LLAMA_BIN/llama-completion" -m "$f" -p "It was a truth universally" -n 24 --temp 0 -t "$THREADS" \
        -no-cnv --no-display-prompt 2>/dev/null) || fail "llama-completion on $f"
    [[ -n ${text//[[:space:]]/} ]] || fail "llama-completion produced no text from $f"
    printf '%-28s %s\n' "$(basename "$(dirname "$f")")/$(basename "$f"):" "$(echo "$text" | tr '\n' ' ' | cut -c1-110)"
done

echo "== $NAME: perplexity (llama-perplexity, c=512, $(basename "$TEXT"))"
printf '| %-44s | %9s | %-20s |\n' "file" "MiB" "PPL"
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "$(printf -- '-%.0s' {1..11})" "$(printf -- '-%.0s' {1..22})"
row() { printf '| %-44s | %9s | %-20s |\n' "$1" "$(size_mib "$2")" "$(perplexity "$2")"; }
row "llama.cpp convert bf16" "$REF/$NAME-bf16.gguf"
row "ours convert bf16" "$(ls "$WORK"/ours-bf16/*.gguf)"
row "llama.cpp convert q8_0" "$REF/$NAME-q8_0.gguf"
row "ours convert q8_0" "$(ls "$WORK"/ours-q8_0/*.gguf)"
row "ours GPTQ 4-bit sym g128 -> Q4_0" "$(ls "$WORK"/gptq4-gguf/*.gguf)"
row "ours GPTQ 4-bit sym g32 -> Q4_0" "$(ls "$WORK"/gptq4g32-gguf/*.gguf)"
row "llama-quantize Q4_0 (emb/out bf16)" "$WORK/llama-Q4_0-bf16emb.gguf"
row "llama-quantize Q4_0 (defaults)" "$WORK/llama-Q4_0.gguf"
row "ours AWQ 4-bit g128 -> Q4_1" "$(ls "$WORK"/awq-gguf/*.gguf)"
row "ours AWQ 4-bit g32 -> Q4_1" "$(ls "$WORK"/awqg32-gguf/*.gguf)"
row "llama-quantize Q4_1 (emb/out bf16)" "$WORK/llama-Q4_1-bf16emb.gguf"
row "llama-quantize Q4_1 (defaults)" "$WORK/llama-Q4_1.gguf"
row "ours GPTQ 8-bit g128 -> Q8_0" "$(ls "$WORK"/gptq8-gguf/*.gguf)"
row "ours GPTQ 8-bit g32 -> Q8_0" "$(ls "$WORK"/gptq8g32-gguf/*.gguf)"
row "llama-quantize Q8_0 (emb/out bf16)" "$WORK/llama-Q8_0-bf16emb.gguf"
row "llama-quantize Q8_0 (defaults)" "$WORK/llama-Q8_0.gguf"
