// DotSoftmaxCrossEntropy: the softmax cross-entropy of the logits scale·q·cᵀ, per row, without the
// [B, N] logits ever existing in memory. Inputs: q [B, d] f32, c [N, d] f32, labels [B] i32, then
// the optional inputs enabled by bool attributes as in SoftmaxCrossEntropy: `weights` -> [B] f32,
// `correction` -> [N] f32 added to every row's logits, `remove_accidental_hits` -> candidate ids
// [N] i32. Attribute `scale` (default 1; the Retrieval task passes 1 / temperature).
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

#include <algorithm>
#include <string>

#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"
#include "ops/kernels/softmax_row.hpp"

namespace dagrad {
namespace {

// Rows per block. Measured on the MovieLens [64, 32] model (B = N = 2048, d = 32, 2 threads, epoch
// seconds): 16 rows 0.427, 64 rows 0.382, 256 rows 0.333, 1024 rows 0.336. Smaller blocks keep
// the block's logits in L2 but each one-threaded product then packs all of c again, which costs
// more than the cache saves.
constexpr int64_t kBlockRows = 256;

// c = alpha · op(a) · op(b) + beta · c, row-major, on the calling thread only.
void sgemm1(char ta, char tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
            const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const dnnl_status_t st = dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (st != dnnl_success) throw RuntimeFailure("dnnl_sgemm failed with status " + std::to_string(st));
}

float* reuse(Tensor& buf, int64_t n) {
  if (buf.capacity() < n) buf = Tensor({std::max<int64_t>(n, 1)});
  return buf.f32();
}

}  // namespace

class DotSoftmaxCrossEntropy : public Op {
 public:
  explicit DotSoftmaxCrossEntropy(const Attrs& a)
      : scale_(static_cast<float>(a.get_double("scale", 1.0))),
        weights_(a.get_bool("weights", false)),
        correction_(a.get_bool("correction", false)),
        remove_hits_(a.get_bool("remove_accidental_hits", false)) {
    int next = 3;
    w_in_ = weights_ ? next++ : -1;
    corr_in_ = correction_ ? next++ : -1;
    cand_in_ = remove_hits_ ? next++ : -1;
    n_inputs_ = next;
  }

  std::pair<int, int> arity() const override { return {3, 6}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    if (static_cast<int>(in.size()) != n_inputs_)
      throw UserError("expects " + std::to_string(n_inputs_) + " inputs (" + input_list() + "), got " +
                      std::to_string(in.size()));
    expect_rank(in[0], 2, "q");
    expect_rank(in[1], 2, "c");
    expect_dtype(in[0], DType::f32, "q");
    expect_dtype(in[1], DType::f32, "c");
    if (in[0].shape[1] != in[1].shape[1])
      throw UserError("q " + shape_str(in[0].shape) + " and c " + shape_str(in[1].shape) +
                      " must have the same width");
    expect_rank(in[2], 1, "labels");
    expect_dtype(in[2], DType::i32, "labels");
    const int64_t b = in[0].shape[0], n = in[1].shape[0];
    if (in[2].shape[0] != b)
      throw UserError("labels " + shape_str(in[2].shape) + " must have one label per row of q " + shape_str(in[0].shape));
    auto per = [&](int i, DType d, int64_t count, const char* what, const char* per_what) {
      if (i < 0) return;
      expect_rank(in[i], 1, what);
      expect_dtype(in[i], d, what);
      if (in[i].shape[0] != count)
        throw UserError(std::string(what) + " " + shape_str(in[i].shape) + " must have one value per " + per_what);
    };
    per(w_in_, DType::f32, b, "weights", "row of q");
    per(corr_in_, DType::f32, n, "correction", "row of c");
    per(cand_in_, DType::i32, n, "candidate ids", "row of c");
    return {{b}, DType::f32};
  }

  void forward(const Inputs& in, Tensor& out) override {
    const Problem p = problem(in);
    // The unit-dout gradients: dq0 [B, d] and dc0 [N, d], and the column sums of D·w (dcorrection).
    run<true>(p, nullptr, reuse(dq0_, p.b * p.d), reuse(dc0_, p.n * p.d), reuse(dcorr0_, p.n), reuse(loss_, p.b));
    float* o = out.f32();
    for (int64_t r = 0; r < p.b; ++r) o[r] = p.w ? p.w[r] * loss_.f32()[r] : loss_.f32()[r];
    seen_ = {in[0]->f32(), in[1]->f32(), p.b, p.n};
  }

  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    const Problem p = problem(in);
    DAGRAD_ASSERT(seen_.q == in[0]->f32() && seen_.c == in[1]->f32() && seen_.b == p.b && seen_.n == p.n,
                  "DotSoftmaxCrossEntropy backward without a forward on the same inputs");
    const float* g = dout.f32();
    if (w_in_ >= 0)
      if (Tensor* dw = din[w_in_]) {
        float* dwp = dw->f32();
        const bool add = !din.fresh(w_in_);
        for (int64_t r = 0; r < p.b; ++r) dwp[r] = (add ? dwp[r] : 0.0f) + g[r] * loss_.f32()[r];
      }
    Tensor* dq = din[0];
    Tensor* dc = din[1];
    Tensor* dcorr = corr_in_ >= 0 ? din[corr_in_] : nullptr;
    if (!dq && !dc && !dcorr) return;
    bool unit = true;
    for (int64_t r = 0; r < p.b && unit; ++r) unit = g[r] == 1.0f;
    const float *gq = dq0_.f32(), *gc = dc0_.f32(), *gcorr = dcorr0_.f32();
    if (!unit) {  // recompute the blocks with this dout
      run<false>(p, g, reuse(dq1_, p.b * p.d), reuse(dc1_, p.n * p.d), reuse(dcorr1_, p.n), nullptr);
      gq = dq1_.f32();
      gc = dc1_.f32();
      gcorr = dcorr1_.f32();
    }
    auto give = [&](Tensor* t, int input, const float* src) {
      if (!t) return;
      float* d = t->f32();
      const int64_t size = t->size();
      if (din.fresh(input)) std::copy_n(src, size, d);
      else
        for (int64_t i = 0; i < size; ++i) d[i] += src[i];
    };
    give(dq, 0, gq);
    give(dc, 1, gc);
    give(dcorr, corr_in_, gcorr);
  }
  bool writes_fresh_grads() const override { return true; }

  // The three products (logits, and one per gradient) at 2·B·N·d each, and the softmax's 5-6
  // operations per logit (as SoftmaxCrossEntropy's), counted under the forward.
  double flops(const Inputs& in, const Tensor&, int input) const override {
    const double bn = static_cast<double>(in[0]->dim(0)) * static_cast<double>(in[1]->dim(0));
    const double prod = 2.0 * bn * static_cast<double>(in[0]->dim(1));
    if (input < 0) return prod + (correction_ ? 6.0 : 5.0) * bn;
    return input == 0 || input == 1 ? prod : input == corr_in_ ? bn : static_cast<double>(in[0]->dim(0));
  }

  static std::vector<Sample> samples() {
    std::vector<Sample> s;
    for (int mask = 0; mask < 8; ++mask) {
      const bool w = mask & 1, corr = mask & 2, hits = mask & 4;
      const int64_t b = 4, n = 6, d = 3;
      Sample smp{std::string("weights=") + (w ? "1" : "0") + " correction=" + (corr ? "1" : "0") +
                     " remove_accidental_hits=" + (hits ? "1" : "0"),
                 {{"weights", w}, {"correction", corr}, {"remove_accidental_hits", hits}, {"scale", 1.5}},
                 {{{b, d}, DType::f32, -1, 1}, {{n, d}, DType::f32, -1, 1}, {{b}, DType::i32, 0, n - 1}}};
      if (w) smp.inputs.push_back({{b}, DType::f32, 0.2, 1.5});
      if (corr) smp.inputs.push_back({{n}, DType::f32, -1, 1});
      // Candidate ids 0..2 over 6 rows of c: most labels collide with another candidate.
      if (hits) smp.inputs.push_back({{n}, DType::i32, 0, 2});
      s.push_back(std::move(smp));
    }
    // More rows than one block (kBlockRows) and than one thread's share.
    s.push_back({"150 rows", {{"scale", 0.5}}, {{{150, 2}, DType::f32, -1, 1}, {{7, 2}, DType::f32, -1, 1}, {{150}, DType::i32, 0, 6}}});
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
    Problem p{in[0]->f32(),
              in[1]->f32(),
              in[2]->i32(),
              w_in_ >= 0 ? in[w_in_]->f32() : nullptr,
              corr_in_ >= 0 ? in[corr_in_]->f32() : nullptr,
              cand_in_ >= 0 ? in[cand_in_]->i32() : nullptr,
              in[0]->dim(0),
              in[1]->dim(0),
              in[0]->dim(1)};
    if (p.n == 0 && p.b > 0) throw UserError("DotSoftmaxCrossEntropy: c has no rows (no candidates)");
    for (int64_t r = 0; r < p.b; ++r)
      if (p.labels[r] < 0 || p.labels[r] >= p.n)
        throw UserError("DotSoftmaxCrossEntropy: label " + std::to_string(p.labels[r]) + " at labels[" +
                        std::to_string(r) + "] is outside [0, " + std::to_string(p.n) + "): c has " +
                        std::to_string(p.n) + " rows");
    return p;
  }

  // Over row blocks, each thread on its own blocks with one-threaded products: the block's logits
  // S = scale·q_blk·cᵀ (+ correction), its softmax rows (D in place of S, and the row losses when
  // `loss` is given), G = k_r·D with k_r = w_r (kUnit: dout = 1) or dout_r·w_r, then
  // dq_blk = scale·G·c, this thread's dc += scale·Gᵀ·q_blk and its column sums of G. The threads'
  // dc and column sums are added in thread order: the result depends only on the thread count.
  template <bool kUnit>
  void run(const Problem& p, const float* dout, float* dq, float* dc, float* dcorr, float* loss) {
    const int64_t blocks = (p.b + kBlockRows - 1) / kBlockRows;
    const int nt = static_cast<int>(std::clamp<int64_t>(
        p.b * p.n >= kParallelMinElements ? omp_get_max_threads() : 1, 1, std::max<int64_t>(blocks, 1)));
    const int64_t nd = p.n * p.d;
    float* s_all = reuse(scratch_, int64_t{nt} * kBlockRows * std::max<int64_t>(p.n, 1));
    float* dc_part = reuse(dc_part_, int64_t{nt} * nd);
    float* col_part = reuse(col_part_, int64_t{nt} * p.n);
    std::fill_n(dc_part, int64_t{nt} * nd, 0.0f);
    std::fill_n(col_part, int64_t{nt} * p.n, 0.0f);
    const bool corr = p.corr != nullptr, hits = p.cand != nullptr;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
      const int t = omp_get_thread_num();
      // Products inside this thread's share run on this thread only; restored below, though the
      // setting belongs to this region's implicit task and ends with it.
      const int saved_threads = omp_get_max_threads();
      omp_set_num_threads(1);
      float* s = s_all + int64_t{t} * kBlockRows * p.n;
      float* my_dc = dc_part + int64_t{t} * nd;
      float* my_col = col_part + int64_t{t} * p.n;
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
          const float k = (p.w ? p.w[r] : 1.0f) * (kUnit ? 1.0f : dout[r]);
          if (k != 1.0f) {
#pragma omp simd
            for (int64_t j = 0; j < p.n; ++j) row[j] *= k;
          }
#pragma omp simd
          for (int64_t j = 0; j < p.n; ++j) my_col[j] += row[j];
        }
        sgemm1('N', 'N', rows, p.d, p.n, scale_, s, p.n, p.c, p.d, 0.0f, dq + r0 * p.d, p.d);
        sgemm1('T', 'N', p.n, p.d, rows, scale_, s, p.n, p.q + r0 * p.d, p.d, 1.0f, my_dc, p.d);
      }
      omp_set_num_threads(saved_threads);
    }
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

  std::string input_list() const {
    std::string s = "q, c, labels";
    if (weights_) s += ", weights";
    if (correction_) s += ", correction";
    if (remove_hits_) s += ", candidate ids";
    return s;
  }

  float scale_;
  bool weights_, correction_, remove_hits_;
  int w_in_, corr_in_, cand_in_, n_inputs_;
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
