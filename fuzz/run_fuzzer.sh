#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time, starting from its seed corpus, and prints one line:
# the executions and the outcome. A crash, sanitizer report, timeout or memory blow-up fails it,
# and the input that caused it is kept in WORK_DIR/artifacts/ (reproduce:
# DAGRAD_MEMORY_LIMIT=1G FUZZER -rss_limit_mb=2560 ARTIFACT).
# libFuzzer reports a finding with exit status 77, which meson takes for a skipped test: any
# non-zero status of the fuzzer is therefore reported as 1, a failure.
# Usage: run_fuzzer.sh FUZZER NAME SEED_DIR WORK_DIR SECONDS
set -uo pipefail
exe=$1 name=$2 seeds=$3 work=$4 seconds=$5
mkdir -p "$work/corpus" "$work/artifacts"
log="$work/fuzz.log"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export OMP_NUM_THREADS=1  # one input at a time, each small: threads would only add overhead
# The tensors' memory budget (graph/limits.hpp; by default half the machine's memory) below the
# fuzzer's own limit: a fuzzed size past it must end in the LimitError a user gets, which the
# fuzzers accept, where a 4 GB table (output_dim: 134092420, found by fuzz_model_config) within
# the default budget was a legitimate allocation that libFuzzer reports as out of memory.
export DAGRAD_MEMORY_LIMIT=${DAGRAD_MEMORY_LIMIT:-1G}
# New inputs go to $work/corpus (first directory); the seeds are only read.
"$exe" "$work/corpus" "$seeds" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2560 \
  -max_len=8192 -print_final_stats=1 -artifact_prefix="$work/artifacts/" >"$log" 2>&1
status=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
[ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
if [ "$status" -eq 0 ]; then
  echo "fuzz $name: ${runs:-?} executions in $seconds s, no failure"
else
  tail -n 80 "$log"
  echo "fuzz $name: FAILED (exit $status) after ${runs:-?} executions; input in $work/artifacts/"
  exit 1
fi
exit 0
