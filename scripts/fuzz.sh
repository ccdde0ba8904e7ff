#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang, AddressSanitizer and UBSan in BUILD_DIR
# (default build-fuzz) and runs each for FUZZ_SECONDS (default 60) from its seed corpus, as the
# meson test suite 'fuzz'. Prints each fuzzer's executions and outcome; exits non-zero when one
# finds a failure (its input is then in BUILD_DIR/fuzz/NAME/artifacts/).
# Usage: scripts/fuzz.sh [BUILD_DIR]      e.g. FUZZ_SECONDS=600 scripts/fuzz.sh for a longer hunt
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
# The build dependencies, and clang with its runtimes (libFuzzer, the sanitizers, OpenMP).
scripts/install_packages.sh g++ meson ninja-build pkg-config cmake libdnnl-dev ocl-icd-opencl-dev \
  libyaml-cpp-dev nlohmann-json3-dev doctest-dev libboost-dev libboost-program-options-dev nettle-dev libhnswlib-dev libcairo2-dev fonts-dejavu-core python3 \
  clang-14 libclang-rt-14-dev libomp-14-dev || exit 1
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  # -O1 with debug info: reports name lines, and the build takes minutes. b_lundef=false: the
  # sanitizers' runtimes are linked by the compiler driver. A unity build, as the sanitizer build
  # (scripts/sanitizer_build.sh says why).
  CXX=clang++-14 meson setup "$BUILD_DIR" --buildtype=debugoptimized -Doptimization=1 -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false -Dunity=on -Dunity_size=1000 >/dev/null || exit 1
fi
meson configure "$BUILD_DIR" -Dfuzz_seconds="$FUZZ_SECONDS" || exit 1
echo "fuzz: building the fuzzers in $BUILD_DIR"
targets=()
for src in fuzz/fuzz_*.cpp; do targets+=("fuzz/$(basename "$src" .cpp)"); done
if ! ninja -C "$BUILD_DIR" "${targets[@]}" >"$BUILD_DIR/fuzz-build.log" 2>&1; then
  tail -n 40 "$BUILD_DIR/fuzz-build.log"
  exit 1
fi
# The fuzzers are single-threaded processes: two at a time keep both cores busy.
meson test -C "$BUILD_DIR" --no-rebuild --suite fuzz --print-errorlogs --num-processes 2
