"""Prints one closing line 'N passed, N failed' from a meson testlog.json.

Counts doctest test cases and 'N passed, N failed' lines that tests print; a test that printed
neither counts as one case, passed or failed by its result.
"""
import json
import re
import sys

passed = failed = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        t = json.loads(line)
        out = (t.get("stdout") or "") + (t.get("stderr") or "")
        ok = t.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
        doc = re.findall(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed", out)
        plain = re.findall(r"^(\d+) passed, (\d+) failed", out, re.M)
        if doc:
            passed += int(doc[-1][1]); failed += int(doc[-1][2])
        elif plain:
            passed += int(plain[-1][0]); failed += int(plain[-1][1])
        elif ok:
            passed += 1
        else:
            failed += 1
        if not ok and (doc or plain) and failed == 0:
            failed += 1  # crashed after printing a clean count
print(f"{passed} passed, {failed} failed")
