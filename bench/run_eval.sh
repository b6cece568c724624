#!/bin/sh
# Evaluation speed and CPU use: `quantforge eval` on an fp model and on its 4-bit quantization (RTN,
# group 128: the same dequantize-on-load path as AWQ/GPTQ outputs, made in seconds), fp32 and bf16,
# printing tokens/s, wall/user/sys seconds, CPU use ((user+sys)/wall, at most the thread count when
# no thread spins) and the kernel's share (sys/(user+sys)). Each row also runs with OpenBLAS's
# default 0.1 s spin (OPENBLAS_THREAD_TIMEOUT=28) to show what the short timeout the executable sets
# (framework/common/blas_environment.hpp) changes.
#   bench/run_eval.sh [MODEL_DIR ...]     (default: the bundled tiny-llama and a synthetic
#                                          Qwen2.5-0.5B-shaped model of 4 layers, bench/synthetic)
# Text: the bundled public-domain calibration text, 16 windows of 512 tokens. Scratch in
# ${QF_BENCH_DIR:-/tmp/qf_bench}.
set -eu
cd "$(dirname "$0")/.."
bin=build/bin/quantforge
gen=build/bench/synthetic/make_synthetic_model
[ -x "$bin" ] && [ -x "$gen" ] || { echo "build first: scripts/build.sh" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }
bench_dir="${QF_BENCH_DIR:-/tmp/qf_bench}"
mkdir -p "$bench_dir"
threads="${QF_BENCH_THREADS:-$(nproc)}"
if [ $# -eq 0 ]; then
  synthetic="$bench_dir/qwen2.5-0.5b-synthetic-4"
  [ -f "$synthetic/model.safetensors" ] || "$gen" "$synthetic" --layers 4 --tokenizer-from tests/data/models/tiny-llama >/dev/null
  set -- tests/data/models/tiny-llama "$synthetic"
fi

echo "quantforge eval, $threads threads, 16 windows x 512 tokens of data/calibration/public-domain.txt"
printf '%-34s %-5s %-8s %9s %7s %7s %7s %8s %6s\n' model dtype spin tokens/s wall_s user_s sys_s cpu/wall sys%
for model in "$@"; do
  name=$(basename "$model")
  quantized="$bench_dir/$name-rtn"
  if [ ! -f "$quantized/config.json" ]; then
    "$bin" quantize "$model" --recipe rtn --output "$quantized" --threads "$threads" >/dev/null 2>&1 \
      || { echo "RTN quantization of $model failed" >&2; exit 1; }
  fi
  for m in "$model" "$quantized"; do
    for dtype in fp32 bf16; do
      for spin in 4 28; do
        log="$bench_dir/eval.log"
        OPENBLAS_THREAD_TIMEOUT=$spin /usr/bin/time -f "%e %U %S" -o "$bench_dir/time.txt" \
          "$bin" eval "$m" --dataset bundled --seqlen 512 --max-windows 16 --dtype "$dtype" --threads "$threads" \
          >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
        tps=$(sed -n 's/.* \([0-9.]*\) tokens\/s.*/\1/p' "$log" | tail -1)
        read -r wall user sys <"$bench_dir/time.txt"
        label=$(basename "$m")
        [ "$spin" = 4 ] && spin_name="2^4" || spin_name="2^28"
        awk -v l="$label" -v d="$dtype" -v s="$spin_name" -v t="$tps" -v w="$wall" -v u="$user" -v k="$sys" 'BEGIN {
          printf "%-34s %-5s %-8s %9s %7.1f %7.1f %7.1f %8.2f %5.1f%%\n", l, d, s, t, w, u, k, (u + k) / w, 100 * k / (u + k) }'
      done
    done
  done
done
