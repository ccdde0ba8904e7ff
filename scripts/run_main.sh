#!/usr/bin/env bash
# The main job: installs and builds dagrad (scripts/setup.sh), gets MovieLens-100k if no data
# directory is given (scripts/get_movielens.sh, checking SHA-256 sums), then trains the flagship
# two-tower experiment — towers [32], [64, 32], [128, 64, 32] and the sampling-bias-corrected
# [64, 32], 3 seeds each, 300 epochs — and writes docs/results/ (figures and table).
# Usage: scripts/run_main.sh [--data DIR] [any movielens_two_tower train option]
# The data directory may also be given as DAGRAD_DATA=DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
data=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--data" ] && data=${args[$((i + 1))]:-}
done
if [ -z "$data" ] && [ -z "${DAGRAD_DATA:-}" ] && [ ! -f data/ml-100k/u.data ]; then
  scripts/install_packages.sh curl  # a fresh Debian machine may have neither curl nor wget
  scripts/get_movielens.sh data/ml-100k
fi
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
exec build/experiments/movielens_two_tower train --out out/movielens --results docs/results "$@"
