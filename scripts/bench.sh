#!/usr/bin/env bash
# Builds and runs the flagship benchmark (bench/movielens_bench.cpp; docs/performance.md explains
# it): MovieLens two-tower training per epoch, evaluation, peak memory, the compute floor, the
# PyTorch reference and the synthetic scaling runs, in one invocation. Prints markdown tables and
# writes the JSON to $BENCH_JSON (default out/bench/movielens_bench.json). Extra arguments go to
# movielens_bench (e.g. --configs 64_32 --epochs 9 --scaling off).
# The reference needs Debian's python3-torch with an optimised BLAS (libopenblas0-openmp; with the
# reference netlib BLAS PyTorch's matmul runs at ~0.1 GFLOP/s): installed here when missing,
# unless BENCH_NO_INSTALL=1. Not part of the test suite or CI.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JSON=${BENCH_JSON:-out/bench/movielens_bench.json}
THREADS=${THREADS:-2}
export DAGRAD_DATA=${DAGRAD_DATA:-$(cd .. && pwd)/shared/data/ml-100k}
# BENCH_ISA=avx2: the AVX2 code paths on a CPU that has more (docs/performance.md, "The AVX2 path,
# emulated"): the fused softmax's AVX2 loops, oneDNN's AVX2 kernels (and the peak they measure),
# and the PyTorch reference's AVX2 kernels; best with BUILD_DIR a portable build (-Dnative=false).
case "${BENCH_ISA:-}" in
  "") ;;
  avx2) export DAGRAD_ISA=avx2 ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 OPENBLAS_CORETYPE=Haswell ;;
  *) echo "bench: BENCH_ISA=$BENCH_ISA: expected avx2 (or unset)" >&2; exit 2 ;;
esac

scripts/setup.sh "$BUILD_DIR"
if [ "${BENCH_NO_INSTALL:-0}" != 1 ]; then
  scripts/install_packages.sh python3-torch libopenblas0-openmp
fi
mkdir -p "$(dirname "$JSON")"
"$BUILD_DIR/bench/movielens_bench" --threads "$THREADS" --json "$JSON" "$@"
