#!/bin/sh
# End-to-end quantization benchmark on synthetic Qwen2.5-0.5B-shaped models (bench/synthetic):
# for each layer count, `quantforge quantize` with the method's recipe on 128 x 512 calibration
# tokens, printing the host's time-by-phase table, the plugin's totals and peak RSS, after the
# matmul ceilings measured in the same run.
#   bench/run_quantize_e2e.sh gptq|awq [--compare-states] [LAYERS ...]     (default: 12 24)
# --compare-states runs each model twice: first with QUANTFORGE_FORWARD_STATE_BYTES=0 (no kept layer
# states: every capture forwards from the layer's input, as before the states were kept), then with
# the default budget; it prints capture + propagation per layer in units of one layer forward (the
# first run's propagation, a full forward of the layer) and whether the two outputs are identical.
# Calibration: for gptq, the wikitext2 train split (GPTQ protocol) when the development machines'
# data folder beside the checkout (../shared/data) has it, else the bundled text. The models live in
# ${QF_BENCH_DIR:-/tmp/qf_bench} and are reused between runs.
set -eu
cd "$(dirname "$0")/.."
method="${1:?usage: bench/run_quantize_e2e.sh gptq|awq [LAYERS ...]}"
shift
compare=0
if [ "${1:-}" = --compare-states ]; then compare=1; shift; fi
[ $# -gt 0 ] || set -- 12 24
bench_dir="${QF_BENCH_DIR:-/tmp/qf_bench}"
bin=build/bin/quantforge
gen=build/bench/synthetic/make_synthetic_model
[ -x "$bin" ] && [ -x "$gen" ] || { echo "build first: scripts/build.sh" >&2; exit 2; }
if grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; fi

calib="--dataset bundled"
if [ -f ../shared/data/wikitext-2-raw/wiki.train.raw ] && [ "$method" = gptq ]; then
  calib="--dataset wikitext2 --dataset-path ../shared/data/wikitext-2-raw"
fi
case "$method" in
  gptq) args="--gptq $calib --num_samples 128 --seqlen 512" ;;
  awq) args="--awq $calib --num_samples 128 --seqlen 512" ;;
  *) echo "method must be gptq or awq" >&2; exit 2 ;;
esac

build/bench/synthetic/matmul_ceiling
# One quantize run; prints its phase table and achieved rates; leaves "$bench_dir/$method-$layers$tag.log".
run_one() {
  tag="$1"
  log="$bench_dir/$method-$layers$tag.log"
  rm -f "$log"  # --log-file appends
  echo "== $method, $layers layers${tag:+ ($tag)}: quantforge quantize $args"
  "$bin" quantize "$model" $args --output "$bench_dir/out-$method-$layers$tag" --log-file "$log" >/dev/null 2>&1 \
    || { echo "quantize failed: see $log" >&2; exit 1; }
  grep -E "time by phase|^\[.*\]   |total|done in" "$log" | sed 's/^\[[0-9:]*\] \[info\] //'
  # Achieved rates from the FLOPs each phase does per layer with these shapes (N = 65536 tokens):
  # forward = 2.07e12 (q/k/v 0.135, attention scores 0.120, o 0.105, gate/up 1.142, down 0.571);
  # Gram 2N(3*896^2 + 4864^2) = 3.42e12 for GPTQ, the down input's 3.10e12 for AWQ;
  # AWQ search: 21 forwards of attention (0.361e12) and of the MLP (1.714e12) = 43.6e12.
  awk -v layers="$layers" -v method="$method" '
    /propagation forwards/ { prop = $(NF-1) }
    /capture forwards/ { cap = $(NF-1) }
    /Gram accumulation/ { gram = $(NF-1) }
    /module forwards/ { mod = $(NF-1) }
    END {
      sub("s", "", prop); sub("s", "", cap); sub("s", "", gram); sub("s", "", mod)
      if (gram > 0) printf "achieved: Gram %.0f GFLOP/s", (method == "gptq" ? 3.42e3 : 3.10e3) * layers / gram
      if (mod > 0) printf ", AWQ search forwards %.0f GFLOP/s", 43.6e3 * layers / mod
      printf " (bf16; compare with the ceilings above)\n"
    }' "$log"
}

# Seconds of capture and propagation forwards in a log.
forward_seconds() {
  awk '/propagation forwards|capture forwards/ { v = $(NF-1); sub("s", "", v); t += v } END { printf "%.2f", t }' "$1"
}
propagation_seconds() {
  awk '/propagation forwards/ { v = $(NF-1); sub("s", "", v); t += v } END { printf "%.2f", t }' "$1"
}

for layers in "$@"; do
  model="$bench_dir/qwen2.5-0.5b-synthetic-$layers"
  [ -f "$model/model.safetensors" ] || "$gen" "$model" --layers "$layers" --tokenizer-from tests/data/models/tiny-llama
  rm -rf "$bench_dir/out-$method-$layers" "$bench_dir/out-$method-$layers-no-states"
  if [ "$compare" = 1 ]; then
    QUANTFORGE_FORWARD_STATE_BYTES=0 run_one -no-states
    run_one ""
    before="$bench_dir/$method-$layers-no-states.log" after="$bench_dir/$method-$layers.log"
    awk -v layers="$layers" -v b="$(forward_seconds "$before")" -v a="$(forward_seconds "$after")" \
        -v f="$(propagation_seconds "$before")" 'BEGIN {
      one = f / layers  # a full forward of one layer (the run without kept states propagates afresh)
      printf "capture + propagation per layer: %.2f s = %.2f layer forwards without kept states, %.2f s = %.2f with (%.2fx less)\n",
             b / layers, b / f, a / layers, a / f, b / a }'
    if cmp -s "$bench_dir/out-$method-$layers-no-states/model.safetensors" "$bench_dir/out-$method-$layers/model.safetensors"
    then echo "outputs identical: yes"; else echo "outputs identical: NO"; fi
  else
    run_one ""
  fi
  rm -rf "$bench_dir/out-$method-$layers" "$bench_dir/out-$method-$layers-no-states"
done
