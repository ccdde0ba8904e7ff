#!/usr/bin/env bash
# The main job. Until the MovieLens experiment lands this builds dagrad and gradient-checks every op.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
build/cli/dagrad gradcheck
