#!/bin/sh
# The main job: installs dependencies, builds, quantizes a copy of the bundled model
# (tests/data/models/tiny-llama: a 4-layer Llama, 10 MB) with the default method (AWQ 4-bit,
# calibrated on the bundled public-domain text), then shows what quantization did: perplexity of the
# original and of the quantized model on held-out text (tests/data/text/heldout.txt, which the
# calibration text does not overlap), and a summary with the times. The copy lives in build/demo so
# the repository's fixture stays pristine.
# Env: QF_DEMO_METHOD overrides the method flags (e.g. "--gptq"); QF_DEMO_EVAL_WINDOWS (default 64)
# caps the held-out windows of 512 tokens evaluated (0: the whole text, 161 windows); QF_DEMO_THREADS
# (default 0: every core) is passed to quantize and eval as --threads.
set -eu
cd "$(dirname "$0")/.."
demo_start=$(date +%s)
scripts/setup.sh
scripts/build.sh -DQF_BUILD_TESTS=OFF -DQF_BUILD_BENCH=OFF

QF=build/bin/quantforge
MODEL=build/demo/tiny-llama
HELDOUT=tests/data/text/heldout.txt
EVAL_WINDOWS="${QF_DEMO_EVAL_WINDOWS:-64}"
THREADS="${QF_DEMO_THREADS:-0}"
rm -rf build/demo && mkdir -p build/demo && cp -r tests/data/models/tiny-llama "$MODEL"
METHOD="${QF_DEMO_METHOD:-}"
if [ -z "$METHOD" ]; then
  # AWQ is the default method once its plugin is built; until then the RTN example plugin runs.
  if "$QF" plugins describe awq >/dev/null 2>&1; then METHOD="--awq"; else METHOD="--recipe rtn"; fi
fi

echo "demo: quantizing $MODEL with: quantforge quantize $MODEL $METHOD"
quantize_start=$(date +%s)
# shellcheck disable=SC2086
"$QF" quantize "$MODEL" $METHOD --threads "$THREADS"
quantize_s=$(( $(date +%s) - quantize_start ))

# The quantized model is either in place (AWQ: *-AWQ.safetensors beside the originals) or the one
# subfolder the run created (GPTQ_8bit_CPU, RTN_4bit_CPU, ...).
if [ -f "$MODEL/model-AWQ.safetensors.index.json" ]; then
  QUANTIZED="$MODEL"; VARIANT=AWQ; OUT_DESC="in place: $MODEL/*-AWQ.safetensors"
else
  QUANTIZED=$(find "$MODEL" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  VARIANT=""; OUT_DESC="$QUANTIZED/"
  [ -n "$QUANTIZED" ] || { echo "demo: quantize wrote no output folder under $MODEL" >&2; exit 1; }
fi
LOG=$QUANTIZED/quantize.log
DONE_LINE=$(sed -n 's/.*\] done in /done in /p' "$LOG" | tail -n 1)

echo "demo: perplexity of the original and the quantized model on $HELDOUT"
eval_start=$(date +%s)
set -- --base "$MODEL" --dataset "$HELDOUT" --seqlen 512 --max-windows "$EVAL_WINDOWS" --threads "$THREADS"
if [ -n "$VARIANT" ]; then set -- --variant "$VARIANT" "$@"; fi
"$QF" eval "$QUANTIZED" "$@" | tee build/demo/eval.txt
eval_s=$(( $(date +%s) - eval_start ))

# The eval table: the column names ("model windows tokens ppl"), the quantized model's row, then the
# base's row; the perplexity is the last field of a row.
PPL_AFTER=$(awk '/^ *model +windows +tokens +ppl/{row=0; next} row!=""{row++} row==1{print $NF; exit}' build/demo/eval.txt)
PPL_BEFORE=$(awk '/^ *model +windows +tokens +ppl/{row=0; next} row!=""{row++} row==2{print $NF; exit}' build/demo/eval.txt)
WINDOWS=$(sed -n 's/^perplexity on [^:]*: \([0-9]* windows x [0-9]* tokens\).*/\1/p' build/demo/eval.txt)
RATIO=$(sed -n 's/^ppl ratio model\/base: \([0-9.]*\).*/\1/p' build/demo/eval.txt)
TOP1=$(sed -n 's/^top-1 agreement: //p' build/demo/eval.txt)
if [ -z "$PPL_BEFORE" ] || [ -z "$PPL_AFTER" ]; then
  echo "demo: could not read the perplexities from quantforge eval (build/demo/eval.txt)" >&2
  exit 1
fi

total_s=$(( $(date +%s) - demo_start ))
cat <<SUMMARY

==================== demo summary ====================
model        tiny-llama (4 decoder layers, bundled test model), copy in $MODEL
method       quantforge quantize $METHOD
output       $OUT_DESC (log: $LOG)
result       $DONE_LINE
perplexity on held-out text ($HELDOUT, $WINDOWS):
  before     $PPL_BEFORE  (original weights)
  after      $PPL_AFTER  (quantized; ratio after/before $RATIO)
top-1 agreement with the original: $TOP1
time         quantize ${quantize_s} s, evaluate ${eval_s} s; whole demo ${total_s} s (with setup and build)
======================================================
SUMMARY
