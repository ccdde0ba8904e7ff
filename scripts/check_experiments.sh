#!/usr/bin/env bash
# Runs every YAML experiment (experiments/*/experiment.yaml) on the real MovieLens-100k with its
# seeds into a temporary folder, two runs at a time with a thread each (--jobs 2), and fails unless
# each meets all its anchors. Skipped (exit 77) when DAGRAD_DATA does not point at the data.
# Usage: check_experiments.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
if [[ -z "${DAGRAD_DATA:-}" || ! -f "$DAGRAD_DATA/u.data" ]]; then
  echo "DAGRAD_DATA does not point at MovieLens-100k: experiments not run"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for f in "$src"/experiments/*/experiment.yaml; do
  name=$(basename "$(dirname "$f")")
  out=$("$build/experiments/experiment" "$f" --data "$DAGRAD_DATA" --out "$tmp/out" --results "$tmp/results" --threads 2 --jobs 2 \
        --set fit.progress=none 2>&1 >/dev/null | tail -n 1; exit "${PIPESTATUS[0]}")
  rc=$?
  echo "$name: $out"
  if [[ $rc -ne 0 ]]; then
    status=1
    continue
  fi
  if [[ "$out" =~ anchors\ met:\ ([0-9]+)\ of\ ([0-9]+) ]]; then
    [[ "${BASH_REMATCH[1]}" == "${BASH_REMATCH[2]}" ]] || status=1
  else
    status=1
  fi
done
exit $status
