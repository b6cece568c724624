#!/bin/sh
# Installs QuantForge's build and runtime dependencies from Debian bookworm. Idempotent; run as root.
set -eu
PKGS="g++ cmake ninja-build make pkg-config git ca-certificates
 libtorch-dev libopenblas0-pthread
 libboost-dev libboost-program-options-dev libboost-filesystem-dev
 libtomlplusplus-dev libspdlog-dev catch2 libdlpack-dev nlohmann-json3-dev libpcre2-dev
 libicu-dev zlib1g-dev libzstd-dev libdnnl-dev libssl-dev libgloo-dev libprotobuf-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing
fi
echo "setup: all dependencies present"
