// The fused in-batch softmax's block work (DotSoftmaxCrossEntropy, the Retrieval task's default):
// for a block of query rows, the logits scale·q·cᵀ (+ logQ correction), their softmax rows, the row
// losses, G = k·(softmax - onehot) and the block's shares of both gradient products, all while the
// block's [rows, N] logits sit in the core's L2 cache. The products are register-tiled loops of
// this project's own (oneDNN has no fused primitive for this, and its sgemm on a block this skinny
// spends its time packing), compiled once per instruction set (softmax_tiles_isa.cpp: AVX-512,
// AVX2 + FMA, and SSE2) and chosen at run time from the CPU's features, so that one binary runs
// the best loop on any x86-64 machine.
#pragma once

#include <cstdint>

namespace dagrad::tiles {

// The width padding `dp` must be a multiple of kWidthMultiple and the candidate padding `np` of
// kColumnMultiple, whatever the instruction set (the widest vector holds 16 floats, and the
// logits loops take two vectors of columns at a time).
inline constexpr int64_t kWidthMultiple = 16, kColumnMultiple = 32;
// SoftmaxBlock::work holds this many floats per row of the block, for a padded width dp.
inline constexpr int64_t work_per_row(int64_t dp) { return dp + 2; }

// The bf16 operands (softmax_tiles_bf16.cpp), bf16 values as their 16 bits, each product's two
// operands in pairs along the index it sums over, so that one 32-bit lane holds a pair.
struct Bf16Operands {
  const uint32_t* q = nullptr;   // [rows, dp/2] this block's rows, pairs along the width
  const uint16_t* qi = nullptr;  // [ceil(rows/2), dp, 2] this block's rows in pairs of rows
                                 // (an odd last row paired with zeros)
  const uint16_t* ct = nullptr;  // panels of 32 candidates, each [dp/2, 32, 2]: pairs along the width
  const uint16_t* cj = nullptr;  // [np/2, dp, 2] pairs of candidates (zeros beyond n)
  uint32_t* g = nullptr;         // scratch of rows·np/2 + ceil(rows/2)·np values
};

// One block of query rows. Every matrix is row-major and dense; widths are padded with zeros to
// `dp` and the candidates to `np`, so that the loops have no ragged edges.
struct SoftmaxBlock {
  int64_t rows = 0;             // query rows in this block
  int64_t n = 0, np = 0, dp = 0;  // candidates, candidates padded, width padded
  int64_t ls = 0;                   // row stride of s, at least np (a multiple of 16 floats)
  float scale = 1.0f;           // multiplies q·cᵀ (1 / temperature)
  const float* q = nullptr;     // [rows, dp] this block's query rows
  // The candidates transposed in panels of 32 columns: panel p holds columns 32p..32p+31 as
  // [dp, 32], so ct[p·32·dp + k·32 + jj] = c[32p + jj, k] (zeros beyond n and d).
  const float* ct = nullptr;
  const float* c = nullptr;     // [n, dp] the candidates
  const int32_t* labels = nullptr;  // [rows] label column of each row
  const float* corr = nullptr;      // [n] added to every row's logits, or null
  const int32_t* cand = nullptr;    // [n] candidate ids: columns with the label's id left out, or null
  const float* w = nullptr;         // [rows] row weights, or null
  const float* dout = nullptr;      // [rows] incoming gradient, or null for all ones
  float* s = nullptr;               // [rows, ls] scratch: the logits, then G (or its exps)
  float* work = nullptr;            // [rows·(dp + 2)] scratch of the f32 loops (work_per_row)
  float* loss = nullptr;            // [rows] unweighted row losses, or null
  // The gradients; when dq is null only the logits and losses are computed (inference).
  float* dq = nullptr;              // [rows, dp] written: scale·G·c
  float* dc = nullptr;              // [n, dp] added to: scale·Gᵀ·q
  float* dcorr = nullptr;           // [n] added to: the column sums of G, or null for none
  // Set: the three products in bf16 with f32 accumulation (ct above unused; q and c serve the
  // onehot part of the gradients, in f32); the CPU must
  // have AVX512-BF16 (has_bf16()).
  const Bf16Operands* bf16 = nullptr;
};

// The instruction set the loops run with on this CPU: "avx512", "avx2" or "sse2".
const char* isa();
// Whether the CPU has AVX512-BF16 (and the AVX-512 the bf16 loops use besides).
bool has_bf16();
// Does the work above for one block, on the calling thread.
void softmax_block(const SoftmaxBlock& b);

// The per-instruction-set entry points behind softmax_block (softmax_tiles_isa.cpp).
void softmax_block_avx512(const SoftmaxBlock& b);
void softmax_block_avx2(const SoftmaxBlock& b);
void softmax_block_sse2(const SoftmaxBlock& b);
void softmax_block_avx512bf16(const SoftmaxBlock& b);

}  // namespace dagrad::tiles
