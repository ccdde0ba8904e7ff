#!/usr/bin/env bash
# Sets up (scripts/setup.sh), builds and runs the whole test suite; ends with 'N passed, N failed'
# counting every doctest case and every gradient-check sample. Exit status is meson test's.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
export DAGRAD_DATA=${DAGRAD_DATA:-$(cd .. && pwd)/shared/data/ml-100k}
scripts/setup.sh "$BUILD_DIR" || exit 1
meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 1
status=$?
python3 scripts/summarize_tests.py "$BUILD_DIR/meson-logs/testlog.json"
exit $status
