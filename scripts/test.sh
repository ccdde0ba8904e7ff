#!/usr/bin/env bash
# Sets up (scripts/setup.sh), builds and runs the whole test suite three ways: the release build;
# the same suite under AddressSanitizer + UndefinedBehaviorSanitizer (scripts/sanitizer_build.sh,
# build-asan); and the libFuzzer targets for FUZZ_SECONDS each (scripts/fuzz.sh, clang, build-fuzz). Ends
# with one line 'N passed, N failed' counting every doctest case, gradient-check sample and fuzzer
# of all three; exits non-zero if anything failed or did not build.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
SAN_DIR=${SAN_DIR:-build-asan}
FUZZ_DIR=${FUZZ_DIR:-build-fuzz}
export DAGRAD_DATA=${DAGRAD_DATA:-$(cd .. && pwd)/shared/data/ml-100k}
status=0
release_log="$BUILD_DIR/meson-logs/testlog.json"
san_log="$SAN_DIR/meson-logs/testlog.json"
fuzz_log="$FUZZ_DIR/meson-logs/testlog.json"
# A stale log must not stand in for a suite that did not run this time.
rm -f "$release_log" "$san_log" "$fuzz_log"

if scripts/setup.sh "$BUILD_DIR"; then
  meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 1 || status=1
else
  status=1
fi

# halt_on_error makes any UBSan report fail its test (by default UBSan prints and goes on).
# exitcode=86: a sanitizer report (ASan, UBSan, a leak) ends the process with a status of its own,
# never 1 or 2, so that a case expecting dagrad's exit 1 (a failed run) or 2 (bad input) cannot
# pass on a sanitizer report (tests/main.cpp sets the same for the binaries the tests start).
if scripts/sanitizer_build.sh "$SAN_DIR"; then
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}:exitcode=86" \
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}:exitcode=86" \
  LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}:exitcode=86" \
    meson test -C "$SAN_DIR" --no-rebuild --print-errorlogs --num-processes 1 --no-suite experiments --no-suite install || status=1
else
  status=1
fi
scripts/fuzz.sh "$FUZZ_DIR" || status=1

python3 scripts/summarize_tests.py "release=$release_log" "sanitizers=$san_log" "fuzzers=$fuzz_log"
exit $status
