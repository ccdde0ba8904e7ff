"""Prints one closing line 'N passed, N failed' from one or more meson testlog.json files.

Counts doctest test cases and 'N passed, N failed' lines that tests print; a test that printed
neither counts as one case, passed or failed by its result. A test meson reports as SKIP (exit
status 77: libFuzzer's status for a finding, or a test that could not run) never counts as passed:
it is counted and listed as skipped. A missing log (its build failed, or its tests never ran)
counts as one failure. Before the closing line it prints each log's own count, the skipped tests,
and every fuzzer's 'fuzz NAME: ...' line (executions and outcome).
Usage: summarize_tests.py LABEL=testlog.json [LABEL=testlog.json ...] (LABEL= is optional).
"""
import json
import os
import re
import sys


def count(path):
    """(passed, failed, skipped test names, fuzz lines) of one testlog.json."""
    passed = failed = 0
    skipped = []
    fuzz = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            out = (t.get("stdout") or "") + (t.get("stderr") or "")
            fuzz += re.findall(r"^fuzz \S+: .*$", out, re.M)
            if t.get("result") == "SKIP":  # never a pass, whatever it printed
                skipped.append(t.get("name", "?"))
                continue
            ok = t.get("result") in ("OK", "EXPECTEDFAIL")
            doc = re.findall(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed", out)
            plain = re.findall(r"^(\d+) passed, (\d+) failed", out, re.M)
            before = failed
            if doc:
                passed += int(doc[-1][1]); failed += int(doc[-1][2])
            elif plain:
                passed += int(plain[-1][0]); failed += int(plain[-1][1])
            elif ok:
                passed += 1
            else:
                failed += 1
            if not ok and failed == before:
                failed += 1  # crashed or timed out after printing a clean count
    return passed, failed, skipped, fuzz


def main(args):
    total_passed = total_failed = 0
    for arg in args:
        label, _, path = arg.rpartition("=")
        label = label or path
        if not os.path.exists(path):
            print(f"{label}: no test log at {path} (the build failed or the tests did not run): 1 failure")
            total_failed += 1
            continue
        passed, failed, skipped, fuzz = count(path)
        for line in fuzz:
            print(line)
        for name in skipped:
            print(f"{label}: SKIPPED (not counted as passed): {name}")
        print(f"{label}: {passed} passed, {failed} failed" + (f", {len(skipped)} skipped" if skipped else ""))
        total_passed += passed
        total_failed += failed
    print(f"{total_passed} passed, {total_failed} failed")


if __name__ == "__main__":
    main(sys.argv[1:])
