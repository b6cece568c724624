#!/bin/sh
# End-to-end quantization benchmark on synthetic Qwen2 models (bench/synthetic): for each layer count,
# `quantforge quantize` with the method's recipe on 128 calibration blocks, printing the host's
# time-by-phase table, the plugin's totals, peak RSS, milliseconds per calibration token and the
# achieved GFLOP/s of the forwards, after the matmul ceilings measured in the same run.
#   bench/run_quantize_e2e.sh gptq|awq [--shape qwen2.5-0.5b|hidden512] [--compare-states] [LAYERS ...]
# Shapes (make_synthetic_model): qwen2.5-0.5b (default; layers default 12 24) or hidden512 (hidden 512,
# intermediate 1792, 8/2 heads; layers default 8 = 29M parameters).
# QF_BENCH_SEQLEN sets the tokens per block (default 512); QF_BENCH_ARGS adds quantize flags
# (e.g. "--bits 4 --sym true" for GPTQ w4 g128 sym).
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
shape=qwen2.5-0.5b
while [ $# -gt 0 ]; do
  case "$1" in
    --compare-states) compare=1; shift ;;
    --shape) shape="${2:?--shape needs a name}"; shift 2 ;;
    *) break ;;
  esac
done
case "$shape" in
  # hidden, intermediate, query width, key/value width (heads x 64)
  qwen2.5-0.5b) dims="896 4864 896 128"; [ $# -gt 0 ] || set -- 12 24 ;;
  hidden512) dims="512 1792 512 128"; [ $# -gt 0 ] || set -- 8 ;;
  *) echo "--shape must be qwen2.5-0.5b or hidden512" >&2; exit 2 ;;
esac
seqlen="${QF_BENCH_SEQLEN:-512}"
samples=128
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
  gptq) args="--gptq $calib --num_samples $samples --seqlen $seqlen ${QF_BENCH_ARGS:-}" ;;
  awq) args="--awq $calib --num_samples $samples --seqlen $seqlen ${QF_BENCH_ARGS:-}" ;;
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
  # Achieved rates from the FLOPs each phase does per layer, N = tokens, T = block length, h hidden,
  # I intermediate, q/kv the query and key/value widths (scores and P.V over the T(T+1)/2 causal pairs):
  # forward = 2N(h(q + 2kv) + qh + 3hI) + 2N(T+1)q; Gram 2N(3h^2 + I^2) for GPTQ, the down input's 2N I^2
  # for AWQ; AWQ search: 21 forwards of the attention and of the MLP (the grid's 20 and the reference).
  awk -v layers="$layers" -v method="$method" -v dims="$dims" -v n=$((samples * seqlen)) -v t="$seqlen" '
    /propagation forwards/ { prop = $(NF-1) }
    /capture forwards/ { cap = $(NF-1) }
    /Gram accumulation/ { gram = $(NF-1) }
    /module forwards/ { mod = $(NF-1) }
    /time by phase \(total/ { for (i = 1; i < NF; ++i) if ($i ~ /\(total$/) { total = $(i+1); sub("s,", "", total) } }
    END {
      split(dims, d, " "); h = d[1]; I = d[2]; q = d[3]; kv = d[4]
      attn = 2 * n * (h * (q + 2 * kv) + q * h) + 2 * n * (t + 1) * q; mlp = 6 * n * h * I
      sub("s", "", prop); sub("s", "", cap); sub("s", "", gram); sub("s", "", mod)
      printf "layer forward %.3f TFLOP", (attn + mlp) / 1e12
      if (gram > 0) printf "; achieved: Gram %.0f GFLOP/s", (method == "gptq" ? 2 * n * (3 * h * h + I * I) : 2 * n * I * I) * layers / gram / 1e9
      if (mod > 0) printf ", AWQ search forwards %.0f GFLOP/s", 21 * (attn + mlp) * layers / mod / 1e9
      if (cap + prop > 0) printf ", capture + propagation %.0f GFLOP/s per layer forward", (attn + mlp) * layers / (cap + prop) / 1e9
      printf " (bf16; compare with the ceilings above)\n"
      if (total > 0) printf "per calibration token: %.3f ms (%d tokens, %.1f s)\n", total * 1000 / n, n, total
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
  model="$bench_dir/$shape-synthetic-$layers"
  [ -f "$model/model.safetensors" ] || "$gen" "$model" --layers "$layers" --shape "$shape" --tokenizer-from tests/data/models/tiny-llama
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
