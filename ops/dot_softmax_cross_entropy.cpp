// DotSoftmaxCrossEntropy: the softmax cross-entropy of the logits scale·q·cᵀ, per row, without the
// [B, N] logits ever existing in memory. Inputs: q [B, d] f32, c [N, d] f32, labels [B] i32, and
// optionally, by name, weights [B] f32, correction [N] f32 added to every row's logits and
// candidate_ids [N] i32, as in SoftmaxCrossEntropy (ops/softmax_inputs.hpp). Attribute `scale`
// (default 1; the Retrieval task passes 1 / temperature).
// out[b] = w_b · (logsumexp_j z_bj - z_b,label), z = scale·q·cᵀ + correction over the kept columns:
// exactly SoftmaxCrossEntropy(Scale(MatMul(q, c, transpose_b))), computed differently.
//
// Why: as three ops the in-batch softmax writes B x N logits and B x N D = softmax - onehot to
// memory and reads them back three times (32 MB at B = N = 2048; 512 MB at 8192), which on a
// machine with a small L2 and little memory bandwidth per core costs more than the products. Here
// each thread takes blocks of rows whose logits take at most 2 MiB (default_block_rows): the
// block's logits, its softmax in place, then its share of dq and dc, all in one pass
// (ops/kernels/softmax_tiles.hpp, register-tiled loops chosen per instruction set at run time), so
// memory is O(threads·block_rows·N) and the [B, N] logits never exist. It is the Retrieval task's
// default (`fused: false` selects the three ops); attribute bf16 runs the three products in bf16.
// Forward computes the gradients for dout = 1 (the task's summed loss) alongside the
// loss, since it has D at hand; backward hands them out when dout is indeed all ones, and
// otherwise recomputes the blocks with the given dout (the gradient checker's path).
#include <omp.h>

#include <algorithm>
#include <bit>
#include <string>

#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"
#include "ops/kernels/softmax_tiles.hpp"
#include "ops/softmax_inputs.hpp"

namespace dagrad {
namespace {

// Rows per block when the op is not told (attribute block_rows): the most, up to 256, whose logits
// (rows x N floats) take at most 2 MiB. Each block streams c, its transpose and the thread's dc
// (3·N·d floats) once, so fewer, larger blocks win until the block's logits fall out of the caches
// near the core. Measured on the MovieLens [64, 32] model (B = N = 2048, d = 32, 2 threads, ms per
// step in this op, AVX-512 loops) on an AMD EPYC with 1 MiB of L2 per core: 16 rows 3.9, 32 rows
// 3.5, 64 rows 3.1, 128 rows 2.9-3.1, 256 rows 2.8-3.0, 512 rows 3.2, 1024 rows 3.2.
int64_t default_block_rows(int64_t n) {
  int64_t rows = 16;
  while (rows < 256 && 2 * rows * std::max<int64_t>(n, 1) * 4 <= int64_t{2} << 20) rows *= 2;
  return rows;
}

namespace si = softmax_inputs;

}  // namespace

class DotSoftmaxCrossEntropy : public Op {
 public:
  // Input positions (class members: SoftmaxCrossEntropy's file names its own in the same unity build).
  static constexpr int kQ = 0, kC = 1, kLabels = 2, kWeights = kLabels + si::kWeights,
                       kCorr = kLabels + si::kCorrection, kCand = kLabels + si::kCandidateIds;

  explicit DotSoftmaxCrossEntropy(const Attrs& a)
      : scale_(static_cast<float>(a.get_double("scale"))), block_rows_(a.get_int("block_rows")), bf16_(a.get_bool("bf16")) {
    tiles::isa();  // chooses the loops now (a bad DAGRAD_ISA is refused here, not inside a parallel region)
    if (bf16_ && !tiles::has_bf16())
      throw UserError(std::string("bf16: true needs a CPU with AVX512-BF16 (bf16 products with f32 accumulation); this one "
                                  "lacks it (its best vector instructions: ") + tiles::isa() + ")");
    if (bf16_ && block_rows_ % 2) ++block_rows_;  // blocks start on even rows, where the row pairs start
  }

  static Schema schema() {
    return {Key::number("scale", "multiplies the logits q·cᵀ (1 / temperature)").otherwise(1.0),
            Key::integer("block_rows", "query rows per block; 0 sizes them by the logits' size (at most 2 MiB)").in(Range::at_least(0)).otherwise(0),
            Key::boolean("bf16", "the three products in bf16 with f32 accumulation (AVX512-BF16 only; the softmax stays f32)")
                .otherwise(false)};
  }

  // In inference the forward computes the losses only; a backward after it recomputes the blocks.
  void set_training(bool on) override { training_ = on; }

  std::pair<int, int> arity() const override { return {3, 6}; }
  std::vector<std::string> input_names() const override { return si::names({"q", "c"}); }

  TensorType infer(const std::vector<TensorType>& in) const override {
    if (in.size() != 6)
      throw UserError("expects the inputs q, c, labels, weights?, correction?, candidate_ids? (absent ones marked), got " +
                      std::to_string(in.size()));
    expect_rank(in[kQ], 2, "q");
    expect_rank(in[kC], 2, "c");
    expect_dtype(in[kQ], DType::f32, "q");
    expect_dtype(in[kC], DType::f32, "c");
    if (in[kQ].shape[1] != in[kC].shape[1])
      throw UserError("q " + shape_str(in[kQ].shape) + " and c " + shape_str(in[kC].shape) +
                      " must have the same width");
    si::check(in, kLabels, in[kQ].shape[0], in[kC].shape[0], "row of q", "row of c");
    return {{in[kQ].shape[0]}, DType::f32};
  }

  void forward(const Inputs& in, Tensor& out) override {
    const Problem p = problem(in);
    // In training, also the unit-dout gradients: dq0 [B, d] and dc0 [N, d], and the column sums of
    // D·w (dcorrection, when there is a correction).
    if (training_) run<true, true>(p, nullptr, reuse(dq0_, p.b * p.d), reuse(dc0_, p.n * p.d), reuse(dcorr0_, p.n), reuse(loss_, p.b));
    else run<true, false>(p, nullptr, nullptr, nullptr, nullptr, reuse(loss_, p.b));
    unit_grads_ = training_;
    float* o = out.f32();
    for (int64_t r = 0; r < p.b; ++r) o[r] = p.w ? p.w[r] * loss_.f32()[r] : loss_.f32()[r];
    seen_ = {in[0]->f32(), in[1]->f32(), p.b, p.n};
  }

  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    const Problem p = problem(in);
    DAGRAD_ASSERT(seen_.q == in[0]->f32() && seen_.c == in[1]->f32() && seen_.b == p.b && seen_.n == p.n,
                  "DotSoftmaxCrossEntropy backward without a forward on the same inputs");
    const float* g = dout.f32();
    si::weights_grad(din.out(kWeights), g, loss_.f32(), p.b);
    if (!din.needs(kQ) && !din.needs(kC) && !din.needs(kCorr)) return;
    bool unit = true;
    for (int64_t r = 0; r < p.b && unit; ++r) unit = g[r] == 1.0f;
    const float *gq = dq0_.f32(), *gc = dc0_.f32(), *gcorr = dcorr0_.f32();
    if (!unit || !unit_grads_) {  // recompute the blocks with this dout
      run<false, true>(p, g, reuse(dq1_, p.b * p.d), reuse(dc1_, p.n * p.d), reuse(dcorr1_, p.n), nullptr);
      gq = dq1_.f32();
      gc = dc1_.f32();
      gcorr = dcorr1_.f32();
    }
    auto give = [&](int input, const float* src) {
      const GradOut t = din.out(input);
      if (!t) return;
      float* d = t->f32();
      const int64_t size = t->size();
      if (t.overwrite) std::copy_n(src, size, d);
      else
        for (int64_t i = 0; i < size; ++i) d[i] += src[i];
    };
    give(kQ, gq);
    give(kC, gc);
    give(kCorr, gcorr);
  }

  // The three products (logits, and one per gradient) at 2·B·N·d each, and the softmax's 5-6
  // operations per logit (as SoftmaxCrossEntropy's), counted under the forward.
  double flops(const Inputs& in, const Tensor&, int input) const override {
    const double bn = static_cast<double>(in[0]->dim(0)) * static_cast<double>(in[1]->dim(0));
    const double prod = 2.0 * bn * static_cast<double>(in[0]->dim(1));
    if (input < 0) return prod + (in[kCorr] ? 6.0 : 5.0) * bn;
    return input == kQ || input == kC ? prod : input == kCorr ? bn : static_cast<double>(in[0]->dim(0));
  }

  static std::vector<Sample> samples() {
    std::vector<Sample> s = si::samples({{{4, 3}, DType::f32, -1, 1}, {{6, 3}, DType::f32, -1, 1}}, 4, 6, {{"scale", 1.5}});
    // Several blocks of 16 rows and a ragged last one, split between the threads; within a block,
    // register tiles of 8 (or 4) rows and single rows.
    s.push_back({"150 rows",
                 {{"scale", 0.5}, {"block_rows", 16}},
                 {{{150, 2}, DType::f32, -1, 1}, {{7, 2}, DType::f32, -1, 1}, {{150}, DType::i32, 0, 6}, InputSpec::none(),
                  InputSpec::none(), InputSpec::none()}});
    return s;
  }

 private:
  // A buffer that grows but never shrinks (at least one float), so a smaller last batch reuses it.
  static float* reuse(Tensor& buf, int64_t n) { return grown_view(buf, {std::max<int64_t>(n, 1)}).f32(); }

  struct Problem {
    const float *q, *c;
    const int32_t* labels;
    const float *w, *corr;
    const int32_t* cand;
    int64_t b, n, d;
  };

  Problem problem(const Inputs& in) const {
    Problem p{in[kQ]->f32(),
              in[kC]->f32(),
              in[kLabels]->i32(),
              in[kWeights] ? in[kWeights]->f32() : nullptr,
              in[kCorr] ? in[kCorr]->f32() : nullptr,
              in[kCand] ? in[kCand]->i32() : nullptr,
              in[kQ]->dim(0),
              in[kC]->dim(0),
              in[kQ]->dim(1)};
    if (p.n == 0 && p.b > 0) throw UserError("DotSoftmaxCrossEntropy: c has no rows (no candidates)");
    si::check_labels(*in[kLabels], p.n, "DotSoftmaxCrossEntropy", "c has", "rows");
    return p;
  }

  // Over row blocks, each thread on its own blocks (tiles::softmax_block, on the calling thread):
  // the block's logits S = scale·q_blk·cᵀ (+ correction), its softmax rows (and the row losses
  // when `loss` is given), G = k_r·D with D = softmax - onehot and k_r = w_r (kUnit: dout = 1) or
  // dout_r·w_r, then dq_blk = scale·G·c, this thread's dc += scale·Gᵀ·q_blk and, when there is a
  // correction, its column sums of G (softmax_tiles_isa.cpp: G is never formed as such; the
  // products apply its row factors). The threads' dc and column sums are added in thread order:
  // the result depends only on the thread count. Without kGrads, only the logits and the row
  // losses (inference).
  template <bool kUnit, bool kGrads>
  void run(const Problem& p, const float* dout, float* dq, float* dc, float* dcorr, float* loss) {
    const int64_t kBlockRows = block_rows_ > 0 ? block_rows_ : default_block_rows(p.n);
    const int64_t blocks = (p.b + kBlockRows - 1) / kBlockRows;
    const int nt = static_cast<int>(std::clamp<int64_t>(
        p.b * p.n >= kParallelMinElements ? omp_get_max_threads() : 1, 1, std::max<int64_t>(blocks, 1)));
    // The loops want the width padded to a multiple of 16 floats and the candidates to one of 32,
    // with zeros: q and c are copied only when d is not already a multiple.
    const int64_t d = p.d, dp = round_up(std::max<int64_t>(d, 1), tiles::kWidthMultiple),
                  np = round_up(std::max<int64_t>(p.n, 1), tiles::kColumnMultiple);
    const bool padded = dp != d;
    const float* q = p.q;
    const float* c = p.c;
    if (padded) {
      q = pad(p.q, p.b, d, dp, qp_);
      c = pad(p.c, p.n, d, dp, cp_);
    }
    // cᵀ in panels of kColumnMultiple columns, each [dp, kColumnMultiple] (softmax_tiles.hpp).
    constexpr int64_t kPanel = tiles::kColumnMultiple;
    // (The bf16 loops read their own bf16 panels below instead.)
    float* ct = bf16_ ? nullptr : reuse(ct_, dp * np);
    // The logits' row stride: np plus one cache line, so that a column walk down the block's rows
    // (the dc product) does not map every row to one L1 set when np is a multiple of 1024.
    const int64_t ls = np + 16;
    // bf16: every operand rounded once, in the pair layouts the loops want (softmax_tiles.hpp).
    const int64_t dph = dp / 2, nh = np / 2, bh = (p.b + 1) / 2;
    uint32_t* q2 = nullptr;
    uint16_t *qi = nullptr, *ct16 = nullptr, *cj = nullptr;
    if (bf16_) {
      q2 = as_u32(grown_view(q2_, {std::max<int64_t>(p.b * dph, 1)}, DType::i32));
      qi = as_u16(grown_view(qi_, {std::max<int64_t>(bh * dp, 1)}, DType::i32));
      ct16 = as_u16(grown_view(ct16_, {std::max<int64_t>(nh * dp, 1)}, DType::i32));
      cj = as_u16(grown_view(cj_, {std::max<int64_t>(nh * dp, 1)}, DType::i32));
      auto qv = [&](int64_t r, int64_t k) { return r < p.b && k < d ? p.q[r * d + k] : 0.0f; };
      auto cv = [&](int64_t j, int64_t k) { return j < p.n && k < d ? p.c[j * d + k] : 0.0f; };
      for (int64_t r = 0; r < p.b; ++r)
        for (int64_t kp = 0; kp < dph; ++kp) q2[r * dph + kp] = bf16_bits(qv(r, 2 * kp)) | bf16_bits(qv(r, 2 * kp + 1)) << 16;
      for (int64_t ip = 0; ip < bh; ++ip)
        for (int64_t k = 0; k < dp; ++k) {
          qi[(ip * dp + k) * 2] = static_cast<uint16_t>(bf16_bits(qv(2 * ip, k)));
          qi[(ip * dp + k) * 2 + 1] = static_cast<uint16_t>(bf16_bits(qv(2 * ip + 1, k)));
        }
      for (int64_t j = 0; j < np; ++j) {
        uint16_t* col = ct16 + j / kPanel * kPanel * dp + (j % kPanel) * 2;
        for (int64_t kp = 0; kp < dph; ++kp) {
          col[kp * 2 * kPanel] = static_cast<uint16_t>(bf16_bits(cv(j, 2 * kp)));
          col[kp * 2 * kPanel + 1] = static_cast<uint16_t>(bf16_bits(cv(j, 2 * kp + 1)));
        }
      }
      for (int64_t jp = 0; jp < nh; ++jp)
        for (int64_t k = 0; k < dp; ++k) {
          cj[(jp * dp + k) * 2] = static_cast<uint16_t>(bf16_bits(cv(2 * jp, k)));
          cj[(jp * dp + k) * 2 + 1] = static_cast<uint16_t>(bf16_bits(cv(2 * jp + 1, k)));
        }
    }
    const int64_t g_per_thread = kBlockRows * nh + (kBlockRows + 1) / 2 * np;
    uint32_t* g_all = bf16_ && kGrads ? as_u32(grown_view(g16_, {int64_t{nt} * g_per_thread}, DType::i32)) : nullptr;
    const int64_t ndp = p.n * dp;
    float* s_all = reuse(scratch_, int64_t{nt} * kBlockRows * ls);
    float* dq_all = kGrads ? (padded ? reuse(dqp_, p.b * dp) : dq) : nullptr;
    float* dc_part = kGrads ? reuse(dc_part_, int64_t{nt} * ndp) : nullptr;
    // The correction's gradient (the column sums of G) only when there is a correction.
    const bool col_sums = kGrads && p.corr;
    float* col_part = col_sums ? reuse(col_part_, int64_t{nt} * p.n) : nullptr;
    float* work_all = bf16_ ? nullptr : reuse(work_, int64_t{nt} * kBlockRows * tiles::work_per_row(dp));
    // One parallel region for the whole op: cᵀ's panels and the threads' partial sums are prepared,
    // and the partial sums added, by the threads too (serial, they took 0.1-0.2 ms of a 2.7 ms op).
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
      const int t = omp_get_thread_num();
      const int used = omp_get_num_threads();  // fewer than nt inside another parallel region
      if (ct) {
#pragma omp for schedule(static)
        for (int64_t panel = 0; panel < np / kPanel; ++panel) {
          float* pc = ct + panel * kPanel * dp;
          std::fill_n(pc, kPanel * dp, 0.0f);
          for (int64_t j = panel * kPanel; j < std::min(p.n, (panel + 1) * kPanel); ++j)
            for (int64_t k = 0; k < d; ++k) pc[k * kPanel + j % kPanel] = p.c[j * d + k];
        }
      }
      if (kGrads) {
        std::fill_n(dc_part + int64_t{t} * ndp, ndp, 0.0f);
        if (col_sums) std::fill_n(col_part + int64_t{t} * p.n, p.n, 0.0f);
      }
      tiles::SoftmaxBlock blk;
      tiles::Bf16Operands ops16;
      if (bf16_) {
        ops16.ct = ct16;
        ops16.cj = cj;
        ops16.g = g_all ? g_all + int64_t{t} * g_per_thread : nullptr;
        blk.bf16 = &ops16;
      }
      blk.n = p.n;
      blk.np = np;
      blk.dp = dp;
      blk.scale = scale_;
      blk.ct = ct;
      blk.c = c;
      blk.corr = p.corr;
      blk.cand = p.cand;
      blk.ls = ls;
      blk.s = s_all + int64_t{t} * kBlockRows * ls;
      if (work_all) blk.work = work_all + int64_t{t} * kBlockRows * tiles::work_per_row(dp);
      if (kGrads) {
        blk.dc = dc_part + int64_t{t} * ndp;
        if (col_sums) blk.dcorr = col_part + int64_t{t} * p.n;
      }
#pragma omp for schedule(static)
      for (int64_t bi = 0; bi < blocks; ++bi) {
        const int64_t r0 = bi * kBlockRows;
        blk.rows = std::min(kBlockRows, p.b - r0);
        blk.q = q + r0 * dp;
        blk.labels = p.labels + r0;
        blk.w = p.w ? p.w + r0 : nullptr;
        blk.dout = kUnit ? nullptr : dout + r0;
        blk.loss = loss ? loss + r0 : nullptr;
        blk.dq = kGrads ? dq_all + r0 * dp : nullptr;
        if (bf16_) {
          ops16.q = q2 + r0 * dph;
          ops16.qi = qi + r0 / 2 * dp * 2;
        }
        tiles::softmax_block(blk);
      }
      // (The loop's end waits for every thread: the partial sums are complete.) Added in thread
      // order, so the result depends only on the thread count.
      if (kGrads) {
#pragma omp for schedule(static) nowait
        for (int64_t j = 0; j < p.n; ++j) {
          float* out = dc + j * d;
          const float* first = dc_part + j * dp;
          std::copy_n(first, d, out);
          for (int u = 1; u < used; ++u) {
            const float* part = dc_part + int64_t{u} * ndp + j * dp;
#pragma omp simd
            for (int64_t k = 0; k < d; ++k) out[k] += part[k];
          }
          if (col_sums) {
            float v = col_part[j];
            for (int u = 1; u < used; ++u) v += col_part[int64_t{u} * p.n + j];
            dcorr[j] = v;
          }
        }
        if (padded) {
#pragma omp for schedule(static) nowait
          for (int64_t r = 0; r < p.b; ++r) std::copy_n(dq_all + r * dp, d, dq + r * d);
        }
      }
    }
  }

  static int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

  // bf16 storage inside i32 tensors.
  static uint32_t* as_u32(Tensor t) { return reinterpret_cast<uint32_t*>(t.i32()); }
  static uint16_t* as_u16(Tensor t) { return reinterpret_cast<uint16_t*>(t.i32()); }
  // f32 rounded to the nearest bf16 (ties to even), as the CPU's conversion does; finite values.
  static uint32_t bf16_bits(float x) {
    const uint32_t u = std::bit_cast<uint32_t>(x);
    return (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  }

  // rows x d into `buf` as rows x dp, zeros beyond d.
  static const float* pad(const float* src, int64_t rows, int64_t d, int64_t dp, Tensor& buf) {
    float* o = reuse(buf, rows * dp);
    for (int64_t r = 0; r < rows; ++r) {
      std::copy_n(src + r * d, d, o + r * dp);
      std::fill(o + r * dp + d, o + (r + 1) * dp, 0.0f);
    }
    return o;
  }

  float scale_;
  int64_t block_rows_;
  bool bf16_;
  bool training_ = true;
  bool unit_grads_ = false;  // the last forward computed the unit-dout gradients
  // Grown to the largest problem seen, never shrunk: unit-dout gradients and row losses from
  // forward, gradients for another dout, per-thread logits blocks and partial sums.
  // The padded copies of q and c (when d is not a multiple of 16), the candidates transposed, and the
  // padded dq.
  Tensor dq0_, dc0_, dcorr0_, loss_, dq1_, dc1_, dcorr1_, scratch_, dc_part_, col_part_, qp_, cp_, ct_, dqp_, work_;
  Tensor q2_, qi_, ct16_, cj_, g16_;  // bf16 operands and G (i32 storage)
  struct Seen {
    const float *q = nullptr, *c = nullptr;
    int64_t b = -1, n = -1;
  } seen_;
};

DAGRAD_REGISTER_OP(DotSoftmaxCrossEntropy, "DotSoftmaxCrossEntropy",
                   "softmax cross-entropy of scale·q·cᵀ per row, blockwise without the [B, N] logits (the Retrieval task's "
                   "in-batch softmax); labels, optional weights, logQ correction, remove_accidental_hits");

}  // namespace dagrad
