#!/usr/bin/env bash
# Developer check only: builds llama.cpp's tools so a person can compare QuantForge's GGUF output
# with llama.cpp (llama-gguf to read it back, llama-perplexity / llama-completion to run it,
# llama-quantize as a reference quantizer, gguf-py and convert_hf_to_gguf.py for the Python side).
# Nothing in CI, the tests or the build calls this script, and nothing may depend on it.
#
# usage: tools/devcheck/build_llama_cpp.sh [WORK_DIR]     (default: $HOME/.cache/quantforge-llama.cpp)
#
# Source: GitHub is out of reach on our machines, but the npm package node-llama-cpp carries
# llama.cpp's source as a git bundle (llama/gitRelease.bundle), and npm's registry is reachable.
# The package version is pinned so every run builds the same llama.cpp commit.
#
# Environment (all optional):
#   LLAMA_NPM_VERSION      node-llama-cpp version to take the source from (default below)
#   LLAMA_EXPECTED_COMMIT  commit the bundle must hold; empty to skip the check (default: the one
#                          known for the default version; ignored for other versions unless set)
#   JOBS                   parallel compile jobs (default 2: our machines have 2 cores, shared)
#   FORCE_BUILD=1          rebuild even when all the binaries already exist
#
# Needs: npm, git, tar, cmake, a C++17 compiler (Debian: apt-get install npm git cmake g++;
# ninja-build is used when present). Python side: gguf-py needs numpy (Debian: python3-numpy,
# plus python3-yaml python3-tqdm python3-requests); convert_hf_to_gguf.py also needs torch and
# transformers, which Debian bookworm's archive does not fully provide.
set -euo pipefail

DEFAULT_NPM_VERSION=3.22.1
# llama.cpp commit inside node-llama-cpp 3.22.1's bundle (llama.cpp 0.5.0; the bundle is one
# squashed commit, so the hash is the bundle's own, not upstream's).
DEFAULT_COMMIT=de3ff815ea7d559ee917f063901b8986f038abc6

NPM_VERSION=${LLAMA_NPM_VERSION:-$DEFAULT_NPM_VERSION}
if [[ -v LLAMA_EXPECTED_COMMIT ]]; then
    EXPECTED_COMMIT=$LLAMA_EXPECTED_COMMIT
elif [[ $NPM_VERSION == "$DEFAULT_NPM_VERSION" ]]; then
    EXPECTED_COMMIT=$DEFAULT_COMMIT
else
    EXPECTED_COMMIT=
fi
JOBS=${JOBS:-2}
WORK=${1:-$HOME/.cache/quantforge-llama.cpp}

for tool in npm git tar cmake; do
    command -v "$tool" >/dev/null || { echo "error: '$tool' not found (apt-get install it)" >&2; exit 1; }
done

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
TARBALL="$WORK/node-llama-cpp-$NPM_VERSION.tgz"
PKG="$WORK/node-llama-cpp-$NPM_VERSION"
SRC="$WORK/llama.cpp"
BUILD="$SRC/build"

# 1. Fetch the npm package (once per version).
if [[ ! -s $TARBALL ]]; then
    echo "== npm pack node-llama-cpp@$NPM_VERSION"
    # pack into a temporary folder first so an interrupted download never looks finished
    tmp=$(mktemp -d "$WORK/pack.XXXXXX")
    (cd "$tmp" && npm pack --silent "node-llama-cpp@$NPM_VERSION" >/dev/null)
    mv "$tmp/node-llama-cpp-$NPM_VERSION.tgz" "$TARBALL"
    rmdir "$tmp"
fi

# 2. Unpack only the bundle we need (the package is mostly prebuilt JavaScript).
BUNDLE="$PKG/package/llama/gitRelease.bundle"
if [[ ! -s $BUNDLE ]]; then
    echo "== extracting llama/gitRelease.bundle"
    mkdir -p "$PKG"
    tar -xzf "$TARBALL" -C "$PKG" package/llama/gitRelease.bundle
fi
BUNDLE_COMMIT=$(git bundle list-heads "$BUNDLE" | awk '$2 == "HEAD" {print $1}')
[[ -n $BUNDLE_COMMIT ]] || BUNDLE_COMMIT=$(git bundle list-heads "$BUNDLE" | awk 'NR == 1 {print $1}')
if [[ -n $EXPECTED_COMMIT && $BUNDLE_COMMIT != "$EXPECTED_COMMIT" ]]; then
    echo "error: bundle holds $BUNDLE_COMMIT, expected $EXPECTED_COMMIT" >&2
    echo "       (set LLAMA_EXPECTED_COMMIT= to accept it)" >&2
    exit 1
fi

# 3. Clone the bundle and check out its commit (a clone that is already there is reused when it
#    has the commit; a different commit means a different package version, so start over).
if [[ -d $SRC/.git ]] && [[ $(git -C "$SRC" rev-parse HEAD) == "$BUNDLE_COMMIT" ]]; then
    echo "== llama.cpp source already at $BUNDLE_COMMIT"
else
    rm -rf "$SRC"
    echo "== git clone of the bundle"
    git -c advice.detachedHead=false clone --quiet "$BUNDLE" "$SRC"
    git -C "$SRC" -c advice.detachedHead=false checkout --quiet "$BUNDLE_COMMIT"
fi

# The completion tool was renamed over llama.cpp's history; take the first one this tree defines.
TEXT_TOOL=
for t in llama-completion llama-simple llama-cli; do
    if grep -rqs --include=CMakeLists.txt -E "set\(TARGET $t\)" "$SRC/tools" "$SRC/examples"; then
        TEXT_TOOL=$t
        break
    fi
done
[[ -n $TEXT_TOOL ]] || { echo "error: no llama-completion/llama-simple/llama-cli target in this tree" >&2; exit 1; }
TARGETS=(llama-perplexity "$TEXT_TOOL" llama-quantize llama-gguf llama-tokenize)

all_built() {
    local t
    for t in "${TARGETS[@]}"; do [[ -x $BUILD/bin/$t ]] || return 1; done
}

# 4. Configure and build only these tools. CPU only (no GPU backends), static so the binaries
#    stand alone, no network features (curl/openssl), no server/UI (the UI step may download).
#    nice keeps the compile out of the way of whoever else shares the machine.
if [[ ${FORCE_BUILD:-0} != 1 ]] && all_built; then
    echo "== binaries already built (FORCE_BUILD=1 to rebuild)"
else
    if [[ ! -f $BUILD/CMakeCache.txt ]]; then
        gen=()
        command -v ninja >/dev/null && gen=(-G Ninja)
        echo "== cmake configure"
        nice -n 19 cmake -S "$SRC" -B "$BUILD" "${gen[@]}" \
            -DCMAKE_BUILD_TYPE=Release \
            -DBUILD_SHARED_LIBS=OFF \
            -DGGML_NATIVE=ON \
            -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF \
            -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
            -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
            -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
            --no-warn-unused-cli >"$WORK/configure.log" 2>&1 \
            || { tail -30 "$WORK/configure.log" >&2; exit 1; }
    fi
    echo "== building ${TARGETS[*]} with -j$JOBS (about 6 minutes on 2 idle cores, 20 when shared; log: $WORK/build.log)"
    start=$SECONDS
    nice -n 19 cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}" >"$WORK/build.log" 2>&1 \
        || { tail -30 "$WORK/build.log" >&2; exit 1; }
    echo "== build took $((SECONDS - start)) s"
fi
all_built || { echo "error: a binary is missing after the build" >&2; exit 1; }

echo
echo "llama.cpp commit:      $BUNDLE_COMMIT (from node-llama-cpp@$NPM_VERSION)"
for t in "${TARGETS[@]}"; do
    printf '%-22s %s\n' "$t:" "$BUILD/bin/$t"
done
printf '%-22s %s\n' "gguf-py:" "$SRC/gguf-py" "convert_hf_to_gguf.py:" "$SRC/convert_hf_to_gguf.py"
echo "(use gguf-py with: PYTHONPATH=$SRC/gguf-py python3 -c 'import gguf')"
