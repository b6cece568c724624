#!/usr/bin/env bash
# Container smoke test (README "Docker"): build the image with podman, run `--help`, quantize a copy of the
# bundled tiny-llama inside the container with every bundled method plugin (rtn always; awq and gptq
# when `plugins list` shows them), check the output files, quantize.log, that the model's own files are
# byte-identical afterwards, and that outputs belong to the invoking (non-root) user.
#
# Without podman (or its local debian:bookworm-slim base image) it runs the machine's podman setup
# hook, see QF_PODMAN_SETUP below; if that is not possible it prints
# "docker smoke test SKIPPED: <reason>" and exits 0, or exits 1 when QF_REQUIRE_DOCKER=1 (CI).
# AWQ runs on the bundled calibration text with a small set, so that the check tests the image
# (plugins, data files, ownership) and stays quick on 2 cores: QF_SMOKE_CALIB_ARGS overrides (default
# "--dataset bundled --num_samples 8 --seqlen 128"). GPTQ runs the README's command, `--gptq` with no
# other flag: full default calibration (128 x 2048 tokens) on the bundled WikiText-2 validation split,
# since the image has no train split, with the fallback warning checked.
# Env: QF_IMAGE (default quantforge:smoke), QF_SMOKE_KEEP=1 keeps the temp dir.
# QF_PODMAN_SETUP=path: machine-specific hook, a script run once as root that makes podman usable on
# a machine with no Docker engine and no registry access (installs podman, imports the base image).
# Unset: a single docker/podman-setup.sh in a folder beside the checkout is used when there is one;
# with no hook the test is skipped as above.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
IMAGE=${QF_IMAGE:-quantforge:smoke}
MODEL_SRC=$ROOT/tests/data/models/tiny-llama
read -r -a CALIB <<<"${QF_SMOKE_CALIB_ARGS:---dataset bundled --num_samples 8 --seqlen 128}"

skip() {
  if [ "${QF_REQUIRE_DOCKER:-0}" = 1 ]; then
    echo "docker smoke test FAILED: $1 (QF_REQUIRE_DOCKER=1)" >&2
    exit 1
  fi
  echo "docker smoke test SKIPPED: $1"
  exit 0
}
fail() { echo "docker smoke test FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

# ---- podman ----
if ! command -v podman >/dev/null 2>&1 || ! podman image exists docker.io/library/debian:bookworm-slim 2>/dev/null; then
  SETUP=${QF_PODMAN_SETUP:-}
  if [ -z "$SETUP" ]; then
    hooks=("$ROOT"/../*/docker/podman-setup.sh)
    if [ "${#hooks[@]}" = 1 ] && [ -f "${hooks[0]}" ]; then SETUP=${hooks[0]}; fi
  fi
  if [ -z "$SETUP" ]; then
    command -v podman >/dev/null 2>&1 || skip "podman is not installed and no setup hook was found (set QF_PODMAN_SETUP)"
  elif [ ! -f "$SETUP" ]; then
    command -v podman >/dev/null 2>&1 || skip "podman is not installed and $SETUP does not exist"
  elif [ "$(id -u)" != 0 ]; then
    command -v podman >/dev/null 2>&1 || skip "podman is not installed and $SETUP needs root"
  else
    step "setting up podman with $SETUP"
    bash "$SETUP" || skip "$SETUP failed"
  fi
fi
command -v podman >/dev/null 2>&1 || skip "podman is not available"
podman info >/dev/null 2>&1 || skip "podman does not work here: $(podman info 2>&1 | tail -n1)"
[ -d "$MODEL_SRC" ] || fail "bundled model $MODEL_SRC is missing"

# ---- build ----
step "podman build -t $IMAGE ."
t0=$(date +%s)
podman build -t "$IMAGE" . || fail "image build failed"
build_s=$(( $(date +%s) - t0 ))

# ---- --help ----
step "podman run --rm $IMAGE --help"
help=$(podman run --rm "$IMAGE" --help 2>&1) || fail "--help exited non-zero: $help"
grep -q quantize <<<"$help" || fail "--help does not mention quantize: $help"
help_default=$(podman run --rm "$IMAGE" 2>&1) || fail "running the image without arguments failed: $help_default"

step "podman run --rm $IMAGE plugins list"
plugins=$(podman run --rm "$IMAGE" plugins list 2>&1) || fail "plugins list failed: $plugins"
echo "$plugins"
has_plugin() { awk '{print $1}' <<<"$plugins" | grep -qx "$1"; }
has_plugin rtn || fail "the bundled rtn plugin is not installed in the image"

# ---- who runs the container ----
# Non-root always: as root, use uid/gid 1000 on a directory chowned to it; otherwise our own ids
# (rootless podman also needs --userns=keep-id so that the container's uid is ours on the host).
if [ "$(id -u)" = 0 ]; then
  RUN_UID=1000; RUN_GID=1000; USERNS=()
else
  RUN_UID=$(id -u); RUN_GID=$(id -g); USERNS=(--userns=keep-id)
fi

WORK=$(mktemp -d -t qf-docker-smoke.XXXXXX)
cleanup() {
  if [ "${QF_SMOKE_KEEP:-0}" = 1 ]; then echo "kept $WORK"; return; fi
  # files written by the container's uid may not be removable by a rootless caller: go through podman
  rm -rf "$WORK" 2>/dev/null || podman unshare rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT

# Fresh copy of the model per method; checksums of the originals before and after.
prepare() {  # prepare NAME -> $WORK/NAME/tiny-llama
  local d=$WORK/$1
  mkdir -p "$d"
  cp -r "$MODEL_SRC" "$d/tiny-llama"
  chmod -R u+rwX,go+rX "$d"
  if [ "$(id -u)" = 0 ]; then chown -R "$RUN_UID:$RUN_GID" "$d"; fi
  (cd "$d/tiny-llama" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$d/before.sha256"
}

quantize() {  # quantize NAME ARGS... : runs the container on $WORK/NAME/tiny-llama
  local name=$1; shift
  local d=$WORK/$name
  step "quantize /models/tiny-llama $* (as $RUN_UID:$RUN_GID)"
  podman run --rm "${USERNS[@]}" --user "$RUN_UID:$RUN_GID" -v "$d/tiny-llama:/models/tiny-llama" \
    "$IMAGE" quantize /models/tiny-llama "$@" > "$d/console.log" 2>&1 \
    || { cat "$d/console.log" >&2; fail "quantize $* exited non-zero"; }
  tail -n 3 "$d/console.log"
  (cd "$d/tiny-llama" && sha256sum --quiet -c "$d/before.sha256") \
    || fail "quantize $*: the model's original files changed"
}

expect_file() {  # expect_file PATH: exists, non-empty, owned by RUN_UID
  [ -s "$1" ] || fail "missing or empty output: ${1#"$WORK"/}"
  local owner
  owner=$(stat -c %u "$1")
  [ "$owner" = "$RUN_UID" ] || fail "${1#"$WORK"/} is owned by uid $owner, not $RUN_UID"
}

checked=()

# ---- rtn: MODEL/RTN_4bit_CPU/, a complete model folder ----
prepare rtn
quantize rtn --recipe rtn
out=$WORK/rtn/tiny-llama/RTN_4bit_CPU
for f in model.safetensors config.json quantize_config.json tokenizer.json tokenizer_config.json quantize.log; do
  expect_file "$out/$f"
done
grep -q quantization_config "$out/config.json" || fail "RTN config.json has no quantization_config"
checked+=(rtn)

# ---- awq: in place, -AWQ suffix ----
if has_plugin awq; then
  prepare awq
  quantize awq --awq "${CALIB[@]}"
  m=$WORK/awq/tiny-llama
  shopt -s nullglob
  shards=("$m"/model-AWQ.safetensors "$m"/model-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]-AWQ.safetensors)
  shopt -u nullglob
  [ ${#shards[@]} -gt 0 ] || fail "AWQ wrote no model-AWQ.safetensors / model-0000i-of-0000N-AWQ.safetensors"
  for f in "${shards[@]}" "$m/model-AWQ.safetensors.index.json" "$m/quant_config-AWQ.json"; do expect_file "$f"; done
  if [ -f "$m/quantize.log" ]; then expect_file "$m/quantize.log"
  else fail "AWQ wrote no quantize.log in the model folder"; fi
  checked+=(awq)
else
  echo "(awq plugin not in the image: AWQ not checked)"
fi

# ---- gptq: MODEL/GPTQ_8bit_CPU/, the default command with no other flag ----
# `quantize MODEL --gptq` as the README gives it: no calibration flags, and no WikiText-2 train split
# in the image, so it must run on the bundled validation split and say so in one warning.
if has_plugin gptq; then
  BUNDLED_VALID=/opt/quantforge/share/quantforge/data/wikitext-2-raw/wiki.valid.raw
  step "bundled WikiText-2 validation split and its attribution in the image"
  podman run --rm --entrypoint sh "$IMAGE" \
    -c "test -s $BUNDLED_VALID && grep -q 'CC BY-SA 3.0' ${BUNDLED_VALID%/*}/README.md" \
    || fail "the image lacks $BUNDLED_VALID or its attribution README.md"
  prepare gptq
  quantize gptq --gptq
  log=$WORK/gptq/console.log
  grep -q "calibration dataset \"wikitext2\" not found (looked for wiki.train.raw" "$log" \
    || fail "GPTQ default: no warning that the WikiText-2 train split was not found"
  grep -q "calibrating on the recipe's fallback_dataset \"wikitext2-valid\" instead: $BUNDLED_VALID" "$log" \
    || fail "GPTQ default: the warning does not name the bundled validation split $BUNDLED_VALID"
  grep -q "calibration data: wikitext2 (GPTQ paper protocol) from $BUNDLED_VALID .*: 128 x 2048 tokens, seed 0" "$log" \
    || fail "GPTQ default: not calibrated on 128 x 2048 tokens of $BUNDLED_VALID with seed 0"
  out=$WORK/gptq/tiny-llama/GPTQ_8bit_CPU
  [ -d "$out" ] || fail "GPTQ wrote no GPTQ_8bit_CPU/"
  shopt -s nullglob
  shards=("$out"/model.safetensors "$out"/model-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9].safetensors)
  shopt -u nullglob
  [ ${#shards[@]} -gt 0 ] || fail "GPTQ wrote no model*.safetensors in GPTQ_8bit_CPU/"
  for f in "${shards[@]}" "$out/config.json" "$out/quantize_config.json" "$out/quantize.log"; do expect_file "$f"; done
  grep -q 'fallback_dataset "wikitext2-valid"' "$out/quantize.log" \
    || fail "GPTQ quantize.log lacks the fallback warning"
  checked+=(gptq)
else
  echo "(gptq plugin not in the image: GPTQ not checked)"
fi

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "image $IMAGE: $size bytes ($(( size / 1000000 )) MB); build took ${build_s}s"
echo "docker smoke test PASSED: ${checked[*]}"
