#!/usr/bin/env bash
# The fused softmax's per-instruction-set libraries (ops/kernels/softmax_tiles_isa.cpp and
# softmax_tiles_bf16.cpp) must define exactly one external symbol each, their entry point
# dagrad::tiles::softmax_block_<isa>: any other (an inline function or a template instance of the
# standard library) could be picked by the linker for callers built for a narrower instruction set.
# Usage: check_tile_symbols.sh LIB.a ...
set -uo pipefail
status=0
for lib in "$@"; do
  syms=$(nm -C --defined-only --extern-only "$lib" | awk 'NF >= 3 && $2 ~ /^[A-Za-z]$/ { $1 = ""; $2 = ""; sub(/^  /, ""); print }')
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
