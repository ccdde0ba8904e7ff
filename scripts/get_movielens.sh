#!/usr/bin/env bash
# Downloads MovieLens 100k (GroupLens ml-100k.zip), unpacks it and checks its files' SHA-256 sums
# against models/data/sources/ml-100k.sha256 before installing them in DEST.
# Usage: scripts/get_movielens.sh [DEST]    (DEST defaults to ./data/ml-100k)
# MOVIELENS_ZIP=/path/to/ml-100k.zip uses a local copy of the zip instead of downloading.
# The data's license forbids redistribution: never commit it.
set -euo pipefail

URL=https://files.grouplens.org/datasets/movielens/ml-100k.zip
DEST=${1:-data/ml-100k}
SUMS="$(cd "$(dirname "$0")/.." && pwd)/models/data/sources/ml-100k.sha256"

die() { echo "get_movielens: error: $*" >&2; exit 1; }
say() { echo "get_movielens: $*"; }

[ -f "$SUMS" ] || die "the expected sums $SUMS are missing (run this script from a dagrad checkout)"
command -v sha256sum >/dev/null || die "sha256sum not found (Debian: apt-get install coreutils)"

# Prints one line per problem ("FILE: missing" or "FILE: expected X, got Y"); silent when all match.
check_sums() {
  local dir=$1 want name got
  while read -r want name; do
    [ -n "$want" ] || continue
    name=${name#\*}
    if [ ! -f "$dir/$name" ]; then
      echo "$name: missing"
      continue
    fi
    got=$(sha256sum "$dir/$name" | cut -d' ' -f1)
    [ "$got" = "$want" ] || echo "$name: SHA-256 mismatch: expected $want, got $got"
  done <"$SUMS"
}

if [ -f "$DEST/u.data" ] && [ -z "$(check_sums "$DEST")" ]; then
  say "$DEST already holds MovieLens 100k and every file matches its SHA-256; nothing to do"
  exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/get_movielens.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [ -n "${MOVIELENS_ZIP:-}" ]; then
  [ -f "$MOVIELENS_ZIP" ] || die "MOVIELENS_ZIP=$MOVIELENS_ZIP: no such file"
  ZIP=$MOVIELENS_ZIP
  say "using $ZIP (MOVIELENS_ZIP) instead of downloading"
else
  ZIP="$WORK/ml-100k.zip"
  say "downloading $URL"
  if command -v curl >/dev/null; then
    curl -fsSL --retry 3 --connect-timeout 30 -o "$ZIP" "$URL" ||
      die "curl could not download $URL (no network? behind a proxy?). If you have the zip, run:
  MOVIELENS_ZIP=/path/to/ml-100k.zip $0 $DEST"
  elif command -v wget >/dev/null; then
    wget -q --tries=3 --timeout=30 -O "$ZIP" "$URL" ||
      die "wget could not download $URL (no network? behind a proxy?). If you have the zip, run:
  MOVIELENS_ZIP=/path/to/ml-100k.zip $0 $DEST"
  else
    die "neither curl nor wget is installed (Debian: apt-get install curl)"
  fi
fi

if command -v unzip >/dev/null; then
  say "unpacking with unzip"
  unzip -q "$ZIP" -d "$WORK/unpacked" || die "unzip could not unpack $ZIP (not a zip, or damaged)"
elif command -v python3 >/dev/null; then
  say "unpacking with python3's zipfile (unzip is not installed)"
  python3 -m zipfile -e "$ZIP" "$WORK/unpacked" ||
    die "python3's zipfile could not unpack $ZIP (not a zip, or damaged)"
else
  die "neither unzip nor python3 is installed to unpack $ZIP (Debian: apt-get install unzip)"
fi
SRC="$WORK/unpacked/ml-100k"
[ -d "$SRC" ] || die "$ZIP has no ml-100k/ folder: it is not GroupLens' ml-100k.zip"

say "checking SHA-256 sums against $SUMS"
problems=$(check_sums "$SRC")
if [ -n "$problems" ]; then
  die "the files in $ZIP are not the expected MovieLens 100k; nothing was installed in $DEST:
$(sed 's/^/  /' <<<"$problems")"
fi

mkdir -p "$DEST"
cp -R "$SRC/." "$DEST/"
problems=$(check_sums "$DEST")
[ -z "$problems" ] || die "copying into $DEST went wrong:
$(sed 's/^/  /' <<<"$problems")"
say "MovieLens 100k is in $DEST ($(wc -l <"$SUMS") files checked). Its license (see $DEST/README)
  forbids redistribution: do not commit it. Point dagrad at it with --data $DEST or DAGRAD_DATA=$DEST"
