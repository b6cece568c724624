#!/bin/sh
# End-to-end quantization benchmark on synthetic Qwen2.5-0.5B-shaped models (bench/synthetic):
# for each layer count, `quantforge quantize` with the method's recipe on 128 x 512 calibration
# tokens, printing the host's time-by-phase table, the plugin's totals and peak RSS, after the
# matmul ceilings measured in the same run.
#   bench/run_quantize_e2e.sh gptq|awq [LAYERS ...]     (default: 12 24)
# Calibration: wikitext2 from ../shared/data when present (the GPTQ protocol), else the bundled
# text; the models live in ${QF_BENCH_DIR:-/tmp/qf_bench} and are reused between runs.
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
  "$bin" quantize "$model" $args --output "$out" --log-file "$bench_dir/$method-$layers.log" >/dev/null
  grep -E "time by phase|^\[.*\]   |totals|done in" "$bench_dir/$method-$layers.log" | sed 's/^\[[0-9:]*\] \[info\] //'
  rm -rf "$out"
done
