// softmax_tiles.hpp: the choice of instruction set, once per process, from the CPU's features; the
// environment variable DAGRAD_ISA (avx512, avx2 or sse2) asks for a narrower one than the CPU has,
// to measure or test it on a wider machine (below avx512 it also takes bf16 away).
#include "ops/kernels/softmax_tiles.hpp"

#include <cstdlib>
#include <string>

#include "graph/error.hpp"

namespace dagrad::tiles {
namespace {

struct Choice {
  const char* name;
  void (*block)(const SoftmaxBlock&);
};

bool has_avx512() {
  // What -march=x86-64-v4 lets the compiler use.
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512cd") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
}
bool has_avx2() {
  // What -march=x86-64-v3 lets the compiler use (besides movbe, lzcnt and f16c, which come with
  // every CPU that has these).
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
         __builtin_cpu_supports("bmi2");
}

Choice choose() {
  __builtin_cpu_init();
  const Choice avx512{"avx512", softmax_block_avx512}, avx2{"avx2", softmax_block_avx2}, sse2{"sse2", softmax_block_sse2};
  const Choice best = has_avx512() ? avx512 : has_avx2() ? avx2 : sse2;
  const char* env = std::getenv("DAGRAD_ISA");
  if (!env || !*env) return best;
  const std::string want = env;
  if (want == "sse2") return sse2;
  if (want == "avx2" && has_avx2()) return avx2;
  if (want == "avx512" && has_avx512()) return avx512;
  if (want == "avx2" || want == "avx512")
    throw UserError("DAGRAD_ISA=" + want + ": this CPU lacks " + want + " (the best it has is " + best.name + ")");
  throw UserError("DAGRAD_ISA=" + want + ": expected avx512, avx2 or sse2");
}

const Choice& chosen() {
  static const Choice c = choose();
  return c;
}

}  // namespace

const char* isa() { return chosen().name; }

bool has_bf16() {
  static const bool v = [] {
    __builtin_cpu_init();
    // DAGRAD_ISA asking for less than AVX-512 takes bf16 away too.
    return std::string(isa()) == "avx512" && __builtin_cpu_supports("avx512bf16");
  }();
  return v;
}

void softmax_block(const SoftmaxBlock& b) {
  if (b.bf16) {
    // Callers check has_bf16() before their parallel region (an exception cannot leave one).
    if (!has_bf16()) __builtin_trap();
    softmax_block_avx512bf16(b);
  } else {
    chosen().block(b);
  }
}

}  // namespace dagrad::tiles
