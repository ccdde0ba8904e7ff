#!/usr/bin/env bash
# The fused softmax's per-instruction-set libraries (ops/kernels/softmax_tiles_isa.cpp and
# softmax_tiles_bf16.cpp) must define exactly one external symbol each, their entry point
# dagrad::tiles::softmax_block_<isa>: any other (an inline function or a template instance of the
# standard library) could be picked by the linker for callers built for a narrower instruction set.
# Usage: check_tile_symbols.sh BUILD_DIR (the objects of ops/kernels/libdagrad_tiles_*; the
# sanitizer build compiles them without archiving them).
set -uo pipefail
shopt -s nullglob
objects=("$1"/ops/kernels/libdagrad_tiles_*.a.p/*.o)
if [ ${#objects[@]} -lt 4 ]; then
  echo "FAIL: expected the objects of 4 loop libraries under $1/ops/kernels, found ${#objects[@]}"
  exit 1
fi
status=0
for lib in "${objects[@]}"; do
  # DW.ref.__gxx_personality_v0 (a pointer to the C++ exception personality routine, data that an
  # unwinding table may refer to) is no code and is the same in every object: not counted.
  syms=$(nm -C --defined-only --extern-only "$lib" | awk 'NF >= 3 && $2 ~ /^[A-Za-z]$/ { $1 = ""; $2 = ""; sub(/^  /, ""); print }' |
    grep -v '^DW\.ref\.__gxx_personality_v0$')
  count=$(printf '%s\n' "$syms" | grep -c .)
  if [ "$count" != 1 ] || ! printf '%s\n' "$syms" | grep -q '^dagrad::tiles::softmax_block_'; then
    echo "FAIL $lib exports:"
    printf '  %s\n' "$syms"
    status=1
  else
    echo "ok   $lib: $syms"
  fi
done
exit $status
