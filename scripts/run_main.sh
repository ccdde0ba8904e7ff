#!/usr/bin/env bash
# The main job: installs and builds dagrad (scripts/setup.sh), gets MovieLens-100k if no data
# directory is given (scripts/get_movielens.sh, checking SHA-256 sums), then trains the flagship
# two-tower experiment — towers [32], [64, 32], [128, 64, 32] and the sampling-bias-corrected
# [64, 32], 3 seeds each, 300 epochs — and writes docs/results/ (figures and table).
# Usage: scripts/run_main.sh [--data DIR] [any movielens_two_tower train option]
# The data directory may also be given as DAGRAD_DATA=DIR. The 12 runs go side by side, as many at
# once as the machine has cores (--jobs; each run gets cores / jobs threads): on 2 cores that was
# 1.5x faster than one run at a time with both threads (docs/performance.md). --jobs 1 runs them
# one at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
data=""
jobs=(--jobs "$(( $(nproc) < 12 ? $(nproc) : 12 ))")
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--data" ] && data=${args[$((i + 1))]:-}
  [ "${args[$i]}" = "--jobs" ] && jobs=()
done
if [ -z "$data" ] && [ -z "${DAGRAD_DATA:-}" ] && [ ! -f data/ml-100k/u.data ]; then
  scripts/install_packages.sh curl  # a fresh Debian machine may have neither curl nor wget
  scripts/get_movielens.sh data/ml-100k
fi
exec build/experiments/movielens_two_tower train --out out/movielens --results docs/results "${jobs[@]}" "$@"
