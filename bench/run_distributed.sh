#!/bin/sh
# Data-parallel calibration on one machine: the same quantize run as 1 rank and as N ranks
# (`quantforge launch`), one thread per rank, on a synthetic Qwen2.5-0.5B-shaped model
# (bench/synthetic) with 128 x 512 calibration tokens. Prints each run's wall time and phase table,
# the bytes summed across ranks per layer, whether the outputs are identical, and a projection for
# more ranks from the 1-rank run's split into work that divides over ranks (forwards, Gram
# accumulation, the AWQ search's module forwards) and work every rank repeats (the method's own
# solve and search arithmetic, loading layers), plus the sums' cost at a given network speed.
#   bench/run_distributed.sh gptq|awq [LAYERS] [RANKS]      (defaults: 2 layers, 2 ranks)
# The models live in ${QF_BENCH_DIR:-/tmp/qf_bench} and are reused between runs.
set -eu
cd "$(dirname "$0")/.."
method="${1:?usage: bench/run_distributed.sh gptq|awq [LAYERS] [RANKS]}"
layers="${2:-2}"
ranks="${3:-2}"
bench_dir="${QF_BENCH_DIR:-/tmp/qf_bench}"
bin=build/bin/quantforge
gen=build/bench/synthetic/make_synthetic_model
[ -x "$bin" ] && [ -x "$gen" ] || { echo "build first: scripts/build.sh" >&2; exit 2; }
case "$method" in
  gptq) args="--gptq --dataset bundled --num_samples 128 --seqlen 512" ;;
  awq) args="--awq --dataset bundled --num_samples 128 --seqlen 512" ;;
  *) echo "method must be gptq or awq" >&2; exit 2 ;;
esac
model="$bench_dir/qwen2.5-0.5b-synthetic-$layers"
[ -f "$model/model.safetensors" ] || "$gen" "$model" --layers "$layers" --tokenizer-from tests/data/models/tiny-llama
one="$bench_dir/dist-$method-1" many="$bench_dir/dist-$method-$ranks"
rm -rf "$one" "$many" "$one.log" "$many.log" "$many.log.rank"*

seconds_of() { awk -v p="$2" 'index($0, p) { v = $(NF-1); sub("s", "", v); t += v } END { printf "%.1f", t + 0 }' "$1"; }

echo "== $method, $layers layers, 1 rank, 1 thread"
s0=$(date +%s.%N)
"$bin" quantize "$model" $args --threads 1 --output "$one" --log-file "$one.log" >/dev/null 2>&1 \
  || { echo "quantize failed: see $one.log" >&2; exit 1; }
s1=$(date +%s.%N)
echo "== $method, $layers layers, $ranks ranks (quantforge launch), 1 thread each"
"$bin" launch -n "$ranks" -- quantize "$model" $args --threads 1 --output "$many" --log-file "$many.log" \
  >"$many.console" 2>&1 || { echo "launch failed: see $many.console" >&2; exit 1; }
s2=$(date +%s.%N)
grep -E "time by phase|^\[.*\]   " "$one.log" | sed 's/^\[[0-9:]*\] \[info\] //'
grep -E "summed across" "$many.log" | sed 's/^\[[0-9:]*\] \[rank 0\] \[info\] //'
if cmp -s "$one/model.safetensors" "$many/model.safetensors"; then same=yes; else same=NO; fi
total=$(sed -nE 's/.*time by phase \(total ([0-9.]+)s.*/\1/p' "$one.log" | tail -n 1)
parallel=$(awk -v a="$(seconds_of "$one.log" "capture forwards")" -v b="$(seconds_of "$one.log" "propagation forwards")" \
  -v c="$(seconds_of "$one.log" "Gram accumulation")" -v d="$(seconds_of "$one.log" "module forwards")" \
  'BEGIN { printf "%.1f", a + b + c + d }')
mb=$(grep -E "summed across" "$many.log" | sed -E 's/.*\(([0-9.]+) MB a layer\).*/\1/')
awk -v s0="$s0" -v s1="$s1" -v s2="$s2" -v n="$ranks" -v total="$total" \
    -v par="$parallel" -v mb="$mb" -v layers="$layers" -v same="$same" 'BEGIN {
  t1 = s1 - s0; tn = s2 - s1
  printf "wall: 1 rank %.1f s, %d ranks %.1f s (%.2fx); outputs identical: %s\n", t1, n, tn, t1 / tn, same
  printf "1-rank split: %.1f s divides over ranks (forwards, Gram, module forwards), %.1f s repeated on every rank\n",
         par, total - par
  printf "summed across ranks: %.1f MB a layer (ring all-reduce moves 2(N-1)/N of it per rank)\n", mb
  printf "projected speedup over 1 rank (this CPU per rank; sums over a 10 Gbit/s network):"
  for (k = 2; k <= 16; k *= 2) {
    comm = 2 * (k - 1) / k * mb * layers * 8 / 10000  # seconds at 10 Gbit/s
    printf " %d ranks %.1fx", k, total / (par / k + (total - par) + comm)
  }
  printf "\n"
}'
rm -rf "$one" "$many"
