# syntax=docker/dockerfile:1
# QuantForge CLI image: the `quantforge` executable, the bundled plugins, the recipes and the SDK.
#
#   docker build -t quantforge .                    (podman: `podman build -t quantforge .`, never --pull)
#   docker run --rm quantforge --help
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD/models:/models" quantforge quantize /models/MyModel --awq
#
# Two stages: `build` (toolchain + -dev packages, Release build, `cmake --install` to /opt/quantforge)
# and the runtime image (Debian's runtime libraries only, no compiler). Layers are ordered so that
# editing sources reuses the apt layers, and editing only configs/ reuses the compiled build.

############################ build stage ############################
FROM debian:bookworm-slim AS build
ARG DEBIAN_FRONTEND=noninteractive
# The -dev packages of scripts/setup.sh (minus git/ca-certificates/make: nothing is fetched, Ninja
# builds), plus libicu-dev: the tokenizer enables its Unicode normalizers when ICU is found; libdnnl-dev
# for the bf16 Gram matrices (the runtime libdnnl2 comes with libtorch1.13); libgloo-dev for the headers
# of LibTorch's Gloo process group (data-parallel calibration; the runtime libgloo0 comes with libtorch1.13);
# libprotobuf-dev: the GGUF writer reads SentencePiece tokenizer.model files (the runtime libprotobuf32
# comes with libtorch1.13).
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
      g++ cmake ninja-build pkg-config \
      libtorch-dev libopenblas0-pthread \
      libboost-dev libboost-program-options-dev libboost-filesystem-dev \
      libtomlplusplus-dev libspdlog-dev catch2 libdlpack-dev nlohmann-json3-dev \
      libpcre2-dev libicu-dev zlib1g-dev libzstd-dev libdnnl-dev libssl-dev libgloo-dev \
      libprotobuf-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Only what CMake needs with QF_BUILD_TESTS=OFF and QF_BUILD_BENCH=OFF (no tests/, bench/, tools/);
# configs/ and data/ follow the compile step.
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY sdk/ sdk/
COPY framework/ framework/
COPY plugins/ plugins/
COPY apps/ apps/
# QF_JOBS: parallel compile jobs (LibTorch translation units take ~1.5 GB of RAM each).
ARG QF_JOBS=2
# With tests and benchmarks off, the default target is exactly what gets installed: the quantforge
# executable, the bundled plugins (plugins/* and the SDK's rtn example) and the static host libraries
# they link. The build tree lives in a cache mount (BuildKit / podman): after a source edit only the
# changed files recompile; a clean machine builds everything (~10 min on 2 cores).
RUN --mount=type=cache,id=quantforge-build,target=/build \
    cmake -G Ninja -S . -B /build \
      -DCMAKE_BUILD_TYPE=Release -DQF_BUILD_TESTS=OFF -DQF_BUILD_BENCH=OFF \
      -DCMAKE_INSTALL_PREFIX=/opt/quantforge \
 && cmake --build /build -j "${QF_JOBS}"
# Recipes and shipped data (the bundled calibration texts: public-domain excerpts and WikiText-2's
# validation split with its attribution) are only needed at install time:
# editing them does not recompile.
COPY configs/ configs/
COPY data/ data/
RUN --mount=type=cache,id=quantforge-build,target=/build \
    rm -rf /opt/quantforge && cmake --install /build --strip \
 && echo "runtime libraries (ldd of the installed binary and plugins -> Debian package):" \
 && for f in /opt/quantforge/bin/quantforge /opt/quantforge/lib/quantforge/plugins/*.so; do \
      ldd "$f" | awk '$3 ~ /^\//{print $3}'; \
    done | sort -u | xargs -r readlink -f | xargs -r dpkg -S 2>/dev/null | cut -d: -f1 | sort -u | tr '\n' ' ' \
 && echo

############################ runtime stage ############################
FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
# Runtime libraries the installed binary and plugins link (see the ldd listing of the build stage):
# LibTorch (libtorch1.13 pulls its own dependencies), OpenBLAS (named first so LibTorch's BLAS/LAPACK
# alternatives resolve to it: with the reference BLAS, matmuls run ~50x slower), Boost, spdlog, fmt,
# toml++, PCRE2 and ICU (tokenizer). The alternatives check fails the build if OpenBLAS is not selected.
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
      libopenblas0-pthread \
      libtorch1.13 \
      libboost-program-options1.74.0 libboost-filesystem1.74.0 \
      libspdlog1.10 libfmt9 libtomlplusplus3 libpcre2-8-0 libicu72 libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && update-alternatives --query libblas.so.3-x86_64-linux-gnu | grep -q '^Value: .*openblas' \
 && update-alternatives --query liblapack.so.3-x86_64-linux-gnu | grep -q '^Value: .*openblas'

# bin/quantforge, lib/quantforge/plugins/*.so, share/quantforge/configs/*.toml,
# share/quantforge/data (bundled calibration texts), include/quantforge/*.h* and lib/cmake/QuantForgeSDK
# (the SDK, for building third-party plugins).
COPY --from=build /opt/quantforge /opt/quantforge

# HOME=/tmp: with `--user UID:GID` the uid has no passwd entry and no home; nothing may depend on one.
ENV PATH=/opt/quantforge/bin:$PATH \
    HOME=/tmp

# Fail the image build, not the first user, if a runtime library is missing.
RUN set -e; \
    for f in /opt/quantforge/bin/quantforge /opt/quantforge/lib/quantforge/plugins/*.so; do \
      if ldd "$f" | grep 'not found'; then echo "missing runtime library for $f" >&2; exit 1; fi; \
    done; \
    quantforge --help >/dev/null; \
    quantforge plugins list

WORKDIR /models
ENTRYPOINT ["quantforge"]
CMD ["--help"]
