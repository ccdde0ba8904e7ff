#!/usr/bin/env bash
# Sets up and builds the sanitizer build in BUILD_DIR (default build-asan): the release compiler
# (GCC, with the same OpenMP runtime) with AddressSanitizer and UndefinedBehaviorSanitizer
# (meson's b_sanitize), at -O1 with line tables (-g1) so that reports name lines and it builds in
# minutes. Builds only what the test suite runs: the test binary and the two binaries it drives.
# A unity build (meson's unity=on): each folder's library compiles as one file, which shares the
# work of the headers (oneDNN's, yaml-cpp's, Boost's) among its sources; unity_size=1000 makes that
# one file whatever the folder's size (meson 1.0 lists one object too many for a library whose
# source count is a multiple of unity_size). The test binary keeps groups of 4 (tests/meson.build).
# Usage: scripts/sanitizer_build.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build-asan}
scripts/install_packages.sh g++ meson ninja-build pkg-config cmake libdnnl-dev ocl-icd-opencl-dev \
  libyaml-cpp-dev nlohmann-json3-dev doctest-dev libboost-dev libboost-program-options-dev nettle-dev libhnswlib-dev libcairo2-dev fonts-dejavu-core python3 curl \
  openmpi-bin libopenmpi-dev || exit 1
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  meson setup "$BUILD_DIR" --buildtype=plain -Doptimization=1 -Dcpp_args=-g1 \
    -Db_sanitize=address,undefined -Dunity=on -Dunity_size=1000 >/dev/null || exit 1
fi
echo "sanitizer build: building the test binary and the binaries it runs in $BUILD_DIR"
if ! ninja -C "$BUILD_DIR" tests/dagrad_tests cli/dagrad experiments/movielens_two_tower experiments/experiment \
    >"$BUILD_DIR/sanitizer-build.log" 2>&1; then
  tail -n 40 "$BUILD_DIR/sanitizer-build.log"
  exit 1
fi
