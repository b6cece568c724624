#!/bin/sh
# End-to-end quantization benchmark on synthetic Qwen2.5-0.5B-shaped models (bench/synthetic):
# for each layer count, `quantforge quantize` with the method's recipe on 128 x 512 calibration
# tokens, printing the host's time-by-phase table, the plugin's totals and peak RSS, after the
# matmul ceilings measured in the same run.
#   bench/run_quantize_e2e.sh gptq|awq [LAYERS ...]     (default: 12 24)
# Calibration: for gptq, the wikitext2 train split (GPTQ protocol) when the development machines'
# data folder beside the checkout (../shared/data) has it, else the bundled text. The models live in
# ${QF_BENCH_DIR:-/tmp/qf_bench} and are reused between runs.
set -eu
cd "$(dirname "$0")/.."
method="${1:?usage: bench/run_quantize_e2e.sh gptq|awq [LAYERS ...]}"
shift
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
for layers in "$@"; do
  model="$bench_dir/qwen2.5-0.5b-synthetic-$layers"
  [ -f "$model/model.safetensors" ] || "$gen" "$model" --layers "$layers" --tokenizer-from tests/data/models/tiny-llama
  out="$bench_dir/out-$method-$layers"
  rm -rf "$out"
  echo "== $method, $layers layers: quantforge quantize $args"
  "$bin" quantize "$model" $args --output "$out" --log-file "$bench_dir/$method-$layers.log" >/dev/null 2>&1 \
    || { echo "quantize failed: see $bench_dir/$method-$layers.log" >&2; exit 1; }
  grep -E "time by phase|^\[.*\]   |total|done in" "$bench_dir/$method-$layers.log" | sed 's/^\[[0-9:]*\] \[info\] //'
  # Achieved rates from the FLOPs each phase does per layer with these shapes (N = 65536 tokens):
  # forward = 2.07e12 (q/k/v 0.135, attention scores 0.120, o 0.105, gate/up 1.142, down 0.571);
  # capture forwards stop at the input they need: 2.12e12 per layer for either method's four inputs;
  # Gram 2N(3*896^2 + 4864^2) = 3.42e12 for GPTQ, the down input's 3.10e12 for AWQ;
  # AWQ search: 21 forwards of attention (0.361e12) and of the MLP (1.714e12) = 43.6e12.
  awk -v layers="$layers" -v method="$method" '
    /propagation forwards/ { prop = $(NF-1) }
    /capture forwards/ { cap = $(NF-1) }
    /Gram accumulation/ { gram = $(NF-1) }
    /module forwards/ { mod = $(NF-1) }
    END {
      sub("s", "", prop); sub("s", "", cap); sub("s", "", gram); sub("s", "", mod)
      if (prop > 0) printf "achieved: propagation %.0f GFLOP/s", 2.07e3 * layers / prop
      if (cap > 0) printf ", capture %.0f GFLOP/s", 2.12e3 * layers / cap
      if (gram > 0) printf ", Gram %.0f GFLOP/s", (method == "gptq" ? 3.42e3 : 3.10e3) * layers / gram
      if (mod > 0) printf ", AWQ search forwards %.0f GFLOP/s", 43.6e3 * layers / mod
      printf " (bf16 forwards; compare with the ceilings above)\n"
    }' "$bench_dir/$method-$layers.log"
  rm -rf "$out"
done
