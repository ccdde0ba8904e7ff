#!/usr/bin/env bash
# Installs dagrad's build dependencies from Debian 12's archive (skipped when already present)
# and configures a release build in ./build. Usage: scripts/setup.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
scripts/install_packages.sh g++ meson ninja-build pkg-config cmake libdnnl-dev ocl-icd-opencl-dev \
  libyaml-cpp-dev nlohmann-json3-dev doctest-dev libboost-dev libboost-program-options-dev nettle-dev libhnswlib-dev libcairo2-dev fonts-dejavu-core python3 curl \
  openmpi-bin libopenmpi-dev
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  meson setup "$BUILD_DIR" --buildtype=release >/dev/null
fi
ninja -C "$BUILD_DIR" >/dev/null
echo "setup: built in $BUILD_DIR"
