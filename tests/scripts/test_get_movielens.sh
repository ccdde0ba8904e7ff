#!/usr/bin/env bash
# scripts/get_movielens.sh, offline through MOVIELENS_ZIP: a zip of made-up files is refused with
# the failing files named; with DAGRAD_DATA pointing at the real data, a zip made of it (in a temp
# dir, never in the repo) installs, also without unzip. Ends with 'N passed, N failed'.
# Usage: test_get_movielens.sh SOURCE_ROOT
set -uo pipefail
ROOT=${1:?usage: test_get_movielens.sh SOURCE_ROOT}
SCRIPT="$ROOT/scripts/get_movielens.sh"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/test_get_movielens.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
PY=$(python3 -c 'import sys; print(sys.executable)')  # once: a pyenv shim is slow to start

check() {  # check NAME CONDITION-COMMAND...
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name"; fi
}
has() { grep -qF -- "$2" <<<"$1" || { echo "  '$2' not in output:"; sed 's/^/    /' <<<"$1"; false; }; }

# Zips the files of $1 as ml-100k/NAME into $2, as GroupLens' zip lays them out.
make_zip() {
  "$PY" - "$1" "$2" <<'EOF'
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w") as z:
    for name in sorted(os.listdir(src)):
        if name != "SHA256SUMS":
            z.write(os.path.join(src, name), "ml-100k/" + name)
EOF
}

# 1. Made-up files: every listed file is named, with both sums where present; nothing installed.
mkdir -p "$TMP/fake"
printf '1\t1\t4\t10\n' >"$TMP/fake/u.data"
printf 'made up\n' >"$TMP/fake/README"
make_zip "$TMP/fake" "$TMP/fake.zip"
out=$(MOVIELENS_ZIP="$TMP/fake.zip" bash "$SCRIPT" "$TMP/dest_fake" 2>&1)
status=$?
check "fake zip fails" test $status -ne 0
fake_sum=$(sha256sum "$TMP/fake/u.data" | cut -d' ' -f1)
check "fake zip: u.data sums named" has "$out" \
  "u.data: SHA-256 mismatch: expected 06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490, got $fake_sum"
check "fake zip: u.item missing named" has "$out" "u.item: missing"
check "fake zip: nothing installed" has "$out" "nothing was installed in $TMP/dest_fake"
check "fake zip: no dest files" test ! -e "$TMP/dest_fake/u.data"

# 2. A zip that does not exist, and one that is not a zip.
out=$(MOVIELENS_ZIP="$TMP/none.zip" bash "$SCRIPT" "$TMP/dest_none" 2>&1)
check "missing zip fails" test $? -ne 0
check "missing zip named" has "$out" "MOVIELENS_ZIP=$TMP/none.zip: no such file"
echo "not a zip" >"$TMP/bad.zip"
out=$(MOVIELENS_ZIP="$TMP/bad.zip" bash "$SCRIPT" "$TMP/dest_bad" 2>&1)
check "bad zip fails" test $? -ne 0
check "bad zip named" has "$out" "could not unpack $TMP/bad.zip"

# 3. The real files, when DAGRAD_DATA points at them.
if [ -n "${DAGRAD_DATA:-}" ] && [ -f "$DAGRAD_DATA/u.data" ]; then
  make_zip "$DAGRAD_DATA" "$TMP/ml-100k.zip"
  out=$(MOVIELENS_ZIP="$TMP/ml-100k.zip" bash "$SCRIPT" "$TMP/dest" 2>&1)
  check "real zip installs" test $? -eq 0
  check "real zip: says where" has "$out" "MovieLens 100k is in $TMP/dest"
  check "real zip: files match" bash -c "cd '$TMP/dest' && sha256sum --quiet -c '$ROOT/models/data/sources/ml-100k.sha256'"
  out=$(bash "$SCRIPT" "$TMP/dest" 2>&1)
  check "second run does nothing" has "$out" "nothing to do"

  # Without unzip on PATH, python3's zipfile unpacks: a PATH of links to the tools the script
  # uses, unzip not among them.
  mkdir -p "$TMP/bin"
  for tool in bash cat cp cut dirname mkdir mktemp rm sed sha256sum wc; do
    ln -s "$(command -v "$tool")" "$TMP/bin/$tool"
  done
  ln -s "$PY" "$TMP/bin/python3"
  out=$(PATH="$TMP/bin" MOVIELENS_ZIP="$TMP/ml-100k.zip" bash "$SCRIPT" "$TMP/dest2" 2>&1)
  check "python3 unpacks without unzip" test $? -eq 0
  check "python3 path: says so" has "$out" "unpacking with python3's zipfile"
  check "python3 path: files match" bash -c "cd '$TMP/dest2' && sha256sum --quiet -c '$ROOT/models/data/sources/ml-100k.sha256'"

  # A damaged installed copy is replaced.
  printf 'x' >>"$TMP/dest/u.item"
  out=$(MOVIELENS_ZIP="$TMP/ml-100k.zip" bash "$SCRIPT" "$TMP/dest" 2>&1)
  check "damaged copy replaced" bash -c "cd '$TMP/dest' && sha256sum --quiet -c '$ROOT/models/data/sources/ml-100k.sha256'"
else
  echo "DAGRAD_DATA does not point at MovieLens 100k: real-zip checks not run"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
