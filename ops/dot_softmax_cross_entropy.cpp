// DotSoftmaxCrossEntropy: the softmax cross-entropy of the logits scale·q·cᵀ, per row, without the
// [B, N] logits ever existing in memory. Inputs: q [B, d] f32, c [N, d] f32, labels [B] i32, and
// optionally, by name, weights [B] f32, correction [N] f32 added to every row's logits and
// candidate_ids [N] i32, as in SoftmaxCrossEntropy (ops/softmax_inputs.hpp). Attribute `scale`
// (default 1; the Retrieval task passes 1 / temperature).
// out[b] = w_b · (logsumexp_j z_bj - z_b,label), z = scale·q·cᵀ + correction over the kept columns:
// exactly SoftmaxCrossEntropy(Scale(MatMul(q, c, transpose_b))), computed differently.
//
// Why: as three ops the in-batch softmax keeps B x N logits and B x N D = softmax - onehot in
// memory (32 MB at B = N = 2048; 512 MB at 8192). Here each thread takes blocks of kBlockRows
// rows: the block's logits, its softmax in place, then its share of dq and dc, with one-threaded
// products, so memory is O(threads·kBlockRows·N). At B = 2048 it is not faster than the three ops
// (see docs/performance.md): the one-threaded products run below the two-threaded ones' speed.
// The Retrieval task uses it with `fused: true`. Forward computes the gradients for dout = 1 (the task's summed loss) alongside the
// loss, since it has D at hand; backward hands them out when dout is indeed all ones, and
// otherwise recomputes the blocks with the given dout (the gradient checker's path).
#include <omp.h>

#include <oneapi/dnnl/dnnl.h>

#include <unistd.h>

#include <algorithm>
#include <string>

#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"
#include "ops/kernels/softmax_row.hpp"
#include "ops/softmax_inputs.hpp"

namespace dagrad {
namespace {

// Rows per block when the op is not told (attribute block_rows): as many as keep a block's logits
// (rows x N floats) in half of one core's L2, between 16 and 256. Smaller blocks keep the block in
// cache but each one-threaded product then packs all of c again. Measured on the MovieLens
// [64, 32] model (B = N = 2048, d = 32, 2 threads, epoch seconds) on an AMD EPYC with 1 MiB of L2:
// 16 rows 0.427, 64 rows 0.382, 256 rows 0.333, 1024 rows 0.336; see docs/performance.md for
// the machine at hand.
int64_t default_block_rows(int64_t n) {
  static const int64_t l2 = [] {
    const long v = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return v > 0 ? static_cast<int64_t>(v) : int64_t{1} << 20;
  }();
  int64_t rows = 16;
  while (rows < 256 && 2 * rows * std::max<int64_t>(n, 1) * 4 <= l2 / 2) rows *= 2;
  return rows;
}

// c = alpha · op(a) · op(b) + beta · c, row-major, on the calling thread only.
void sgemm1(char ta, char tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
            const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const dnnl_status_t st = dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (st != dnnl_success) throw RuntimeFailure("dnnl_sgemm failed with status " + std::to_string(st));
}

float* reuse(Tensor& buf, int64_t n) { return grown_view(buf, {std::max<int64_t>(n, 1)}).f32(); }

namespace si = softmax_inputs;
// Input positions.
constexpr int kQ = 0, kC = 1, kLabels = 2, kWeights = kLabels + si::kWeights, kCorr = kLabels + si::kCorrection,
              kCand = kLabels + si::kCandidateIds;

}  // namespace

class DotSoftmaxCrossEntropy : public Op {
 public:
  explicit DotSoftmaxCrossEntropy(const Attrs& a)
      : scale_(static_cast<float>(a.get_double("scale"))), block_rows_(a.get_int("block_rows")) {}

  static Schema schema() {
    return {Key::number("scale", "multiplies the logits q·cᵀ (1 / temperature)").otherwise(1.0),
            Key::integer("block_rows", "query rows per block; 0 sizes blocks from the L2 cache").in(Range::at_least(0)).otherwise(0)};
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
    // D·w (dcorrection).
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
    // More rows than one block (kBlockRows) and than one thread's share.
    s.push_back({"150 rows",
                 {{"scale", 0.5}},
                 {{{150, 2}, DType::f32, -1, 1}, {{7, 2}, DType::f32, -1, 1}, {{150}, DType::i32, 0, 6}, InputSpec::none(),
                  InputSpec::none(), InputSpec::none()}});
    return s;
  }

 private:
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

  // Over row blocks, each thread on its own blocks with one-threaded products: the block's logits
  // S = scale·q_blk·cᵀ (+ correction), its softmax rows (D in place of S, and the row losses when
  // `loss` is given), G = k_r·D with k_r = w_r (kUnit: dout = 1) or dout_r·w_r, then
  // dq_blk = scale·G·c, this thread's dc += scale·Gᵀ·q_blk and its column sums of G. The threads'
  // dc and column sums are added in thread order: the result depends only on the thread count.
  // Without kGrads, only the logits and the row losses (inference).
  template <bool kUnit, bool kGrads>
  void run(const Problem& p, const float* dout, float* dq, float* dc, float* dcorr, float* loss) {
    const int64_t kBlockRows = block_rows_ > 0 ? block_rows_ : default_block_rows(p.n);
    const int64_t blocks = (p.b + kBlockRows - 1) / kBlockRows;
    const int nt = static_cast<int>(std::clamp<int64_t>(
        p.b * p.n >= kParallelMinElements ? omp_get_max_threads() : 1, 1, std::max<int64_t>(blocks, 1)));
    const int64_t nd = p.n * p.d;
    float* s_all = reuse(scratch_, int64_t{nt} * kBlockRows * std::max<int64_t>(p.n, 1));
    float* dc_part = kGrads ? reuse(dc_part_, int64_t{nt} * nd) : nullptr;
    float* col_part = kGrads ? reuse(col_part_, int64_t{nt} * p.n) : nullptr;
    if (kGrads) {
      std::fill_n(dc_part, int64_t{nt} * nd, 0.0f);
      std::fill_n(col_part, int64_t{nt} * p.n, 0.0f);
    }
    const bool corr = p.corr != nullptr, hits = p.cand != nullptr;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
      const int t = omp_get_thread_num();
      // Products inside this thread's share run on this thread only; restored below, though the
      // setting belongs to this region's implicit task and ends with it.
      const int saved_threads = omp_get_max_threads();
      omp_set_num_threads(1);
      float* s = s_all + int64_t{t} * kBlockRows * p.n;
      float* my_dc = kGrads ? dc_part + int64_t{t} * nd : nullptr;
      float* my_col = kGrads ? col_part + int64_t{t} * p.n : nullptr;
#pragma omp for schedule(static)
      for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t r0 = blk * kBlockRows, rows = std::min(kBlockRows, p.b - r0);
        sgemm1('N', 'T', rows, p.n, p.d, scale_, p.q + r0 * p.d, p.d, p.c, p.d, 0.0f, s, p.n);
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t r = r0 + i;
          float* row = s + i * p.n;
          float l;
          if (corr) l = hits ? softmax_row<true, true>(row, p.corr, p.cand, p.labels[r], p.n, row)
                             : softmax_row<true, false>(row, p.corr, p.cand, p.labels[r], p.n, row);
          else l = hits ? softmax_row<false, true>(row, p.corr, p.cand, p.labels[r], p.n, row)
                        : softmax_row<false, false>(row, p.corr, p.cand, p.labels[r], p.n, row);
          if (loss) loss[r] = l;
          if (!kGrads) continue;
          const float k = (p.w ? p.w[r] : 1.0f) * (kUnit ? 1.0f : dout[r]);
          if (k != 1.0f) {
#pragma omp simd
            for (int64_t j = 0; j < p.n; ++j) row[j] *= k;
          }
#pragma omp simd
          for (int64_t j = 0; j < p.n; ++j) my_col[j] += row[j];
        }
        if (!kGrads) continue;
        sgemm1('N', 'N', rows, p.d, p.n, scale_, s, p.n, p.c, p.d, 0.0f, dq + r0 * p.d, p.d);
        sgemm1('T', 'N', p.n, p.d, rows, scale_, s, p.n, p.q + r0 * p.d, p.d, 1.0f, my_dc, p.d);
      }
      omp_set_num_threads(saved_threads);
    }
    if (!kGrads) return;
    for (int64_t i = 0; i < nd; ++i) {
      float v = 0.0f;
      for (int t = 0; t < nt; ++t) v += dc_part[int64_t{t} * nd + i];
      dc[i] = v;
    }
    for (int64_t j = 0; j < p.n; ++j) {
      float v = 0.0f;
      for (int t = 0; t < nt; ++t) v += col_part[int64_t{t} * p.n + j];
      dcorr[j] = v;
    }
  }

  float scale_;
  int64_t block_rows_;
  bool training_ = true;
  bool unit_grads_ = false;  // the last forward computed the unit-dout gradients
  // Grown to the largest problem seen, never shrunk: unit-dout gradients and row losses from
  // forward, gradients for another dout, per-thread logits blocks and partial sums.
  Tensor dq0_, dc0_, dcorr0_, loss_, dq1_, dc1_, dcorr1_, scratch_, dc_part_, col_part_;
  struct Seen {
    const float *q = nullptr, *c = nullptr;
    int64_t b = -1, n = -1;
  } seen_;
};

DAGRAD_REGISTER_OP(DotSoftmaxCrossEntropy, "DotSoftmaxCrossEntropy",
                   "softmax cross-entropy of scale·q·cᵀ per row, blockwise without the [B, N] logits (the Retrieval task's "
                   "in-batch softmax); labels, optional weights, logQ correction, remove_accidental_hits");

}  // namespace dagrad
