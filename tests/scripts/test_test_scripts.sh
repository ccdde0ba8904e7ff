#!/usr/bin/env bash
# The suite's own machinery cannot hide a failure: fuzz/run_fuzzer.sh turns every non-zero status of
# a fuzzer (libFuzzer's 77 for a crash, an abort, an escaped exception or a leak; a signal) into a
# failing 1, never meson's SKIP; scripts/summarize_tests.py never counts a SKIP as passed, counts a
# failed test that printed a clean count as failed, and a missing log as a failure; the sanitizer
# options scripts/test.sh sets give sanitizer reports their own exit status. Ends with 'N passed,
# N failed'.
# Usage: test_test_scripts.sh SOURCE_ROOT
set -uo pipefail
ROOT=${1:?usage: test_test_scripts.sh SOURCE_ROOT}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/test_test_scripts.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
check() {  # check NAME CONDITION-COMMAND...
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

# A stand-in fuzzer: prints libFuzzer's closing statistics and exits with the status given.
fake_fuzzer() {  # fake_fuzzer PATH STATUS [SIGNAL]
  cat >"$1" <<SH
#!/usr/bin/env bash
echo "stat::number_of_executed_units: 1234"
echo "Done 1234 runs in 1 second(s)"
${3:+kill -$3 \$\$}
exit $2
SH
  chmod +x "$1"
}
mkdir -p "$TMP/seeds"
for case in "0:0" "77:1" "1:1" "70:1" "0-KILL:1" "0-ABRT:1"; do
  want=${case#*:} spec=${case%%:*} status=${spec%%-*} sig=${spec#*-}
  [ "$sig" = "$spec" ] && sig=
  fake_fuzzer "$TMP/fuzzer" "$status" "$sig"
  out=$("$ROOT/fuzz/run_fuzzer.sh" "$TMP/fuzzer" fake "$TMP/seeds" "$TMP/work" 1 2>&1)
  got=$?
  check "run_fuzzer.sh: a fuzzer exiting $status${sig:+ (SIG$sig)} gives $want, got $got" [ "$got" = "$want" ]
  if [ "$want" = 1 ]; then
    check "run_fuzzer.sh: the failure is reported ($spec)" grep -q "fuzz fake: FAILED" <<<"$out"
  else
    check "run_fuzzer.sh: the executions are reported" grep -q "fuzz fake: 1234 executions" <<<"$out"
  fi
done

# summarize_tests.py on made-up meson logs.
cat >"$TMP/log.json" <<'JSON'
{"name": "fuzz archive", "result": "SKIP", "stdout": "fuzz archive: 10 executions in 1 s, no failure\n"}
{"name": "unit", "result": "OK", "stdout": "[doctest] test cases: 10 | 10 passed | 0 failed | 0 skipped\n"}
{"name": "crashed", "result": "FAIL", "stdout": "3 passed, 0 failed\n"}
{"name": "plain", "result": "OK", "stdout": ""}
JSON
out=$(python3 "$ROOT/scripts/summarize_tests.py" "a=$TMP/log.json" "b=$TMP/missing.json")
check "summarize: a SKIP is not a pass, a crash after a clean count fails, a missing log fails" \
  [ "$(tail -n 1 <<<"$out")" = "14 passed, 2 failed" ]
check "summarize: the skipped test is named" grep -q "SKIPPED (not counted as passed): fuzz archive" <<<"$out"

# scripts/test.sh gives the sanitizers their own exit status (not 1 or 2, which dagrad uses).
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
  check "test.sh: $v sets exitcode=86" grep -Eq "^ *$v=.*:exitcode=86\"" "$ROOT/scripts/test.sh"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
