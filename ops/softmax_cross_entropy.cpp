// SoftmaxCrossEntropy: the fused, numerically stable softmax cross-entropy with logits, per row.
// Inputs: logits [B, C] f32, labels [B] i32, and optionally, by name, weights [B] f32,
// correction [C] f32 added to every row's logits (logQ correction: pass -log p) and candidate_ids
// [C] i32 (a column c != label whose candidate id equals the label column's is left out of row
// b's softmax, as TFRS's remove_accidental_hits; see ops/softmax_inputs.hpp).
// out[b] = w_b · (logsumexp_c z_bc - z_b,label), z = logits + correction over the columns kept.
//
// Speed: this runs on 2048 x 2048 logits every training step. Forward makes three passes over each
// row (max; exp and sum; scaling by 1 / sum and subtracting 1 at the label, while the row is in
// L1) and keeps D = softmax(z) - onehot(label), the logits gradient of a unit weight. Backward is
// then dlogits = dout·w · D, one pass; and when every dout·w is 1 (the Retrieval task's summed
// loss) no pass at all: D itself is lent as the logits gradient (Grads::lend), which
// saves writing and reading 16 MB per step. The numbers below are for the earlier layout (e and
// 1 / sum kept, backward dlogits += dout·w/sum · e - dout·w at the label), which costs the same
// forward. Measured for 2048 x 2048 on 2 threads (OMP_WAIT_POLICY=PASSIVE), fastest of 200 runs
// on the shared machine (medians under load were 2-4x higher for every variant alike):
//   this fused kernel                                   forward 0.71 ms   backward 0.34 ms
//     with correction and remove_accidental_hits        forward 0.83 ms   backward 0.41 ms (+ dcorrection)
//   oneDNN logsoftmax_forward + loss gather             forward 1.76 ms
//     backward via logsoftmax_backward (one-hot dst)    backward 3.20 ms (+ building the one-hot)
//   oneDNN softmax_forward + -log p[label] (unstable)   forward 1.50 ms   backward 0.32 ms (p - onehot)
// One thread: fused forward 1.19 ms, oneDNN logsoftmax 2.49 ms, softmax 2.75 ms. The fused kernel
// is kept: oneDNN's forward is 2x slower and gives neither the loss nor backward's input directly.
#include <omp.h>

#include <bit>
#include <cmath>
#include <limits>

#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"
#include "ops/kernels/softmax_row.hpp"
#include "ops/softmax_inputs.hpp"

namespace dagrad {
namespace {

namespace si = softmax_inputs;
// Input positions.
constexpr int kLogits = 0, kLabels = 1, kWeights = kLabels + si::kWeights, kCorr = kLabels + si::kCorrection,
              kCand = kLabels + si::kCandidateIds;

// A buffer that grows but never shrinks, so a smaller (last) batch reuses it without allocating.
float* reuse(Tensor& buf, int64_t n) { return grown_view(buf, {n}).f32(); }

}  // namespace

class SoftmaxCrossEntropy : public Op {
 public:
  explicit SoftmaxCrossEntropy(const Attrs&) {}

  std::pair<int, int> arity() const override { return {2, 5}; }
  std::vector<std::string> input_names() const override { return si::names({"logits"}); }

  TensorType infer(const std::vector<TensorType>& in) const override {
    if (in.size() != 5)
      throw UserError("expects the inputs logits, labels, weights?, correction?, candidate_ids? (absent ones marked), got " +
                      std::to_string(in.size()));
    expect_rank(in[kLogits], 2, "logits");
    expect_dtype(in[kLogits], DType::f32, "logits");
    const int64_t b = in[kLogits].shape[0], c = in[kLogits].shape[1];
    const std::string shape = " of logits " + shape_str(in[kLogits].shape);
    si::check(in, kLabels, b, c, "row" + shape, "column" + shape);
    return {{b}, DType::f32};
  }

  void forward(const Inputs& in, Tensor& out) override {
    const int64_t b = in[0]->dim(0), c = in[0]->dim(1);
    if (c == 0) throw UserError("SoftmaxCrossEntropy: logits have no columns");
    si::check_labels(*in[kLabels], c, "SoftmaxCrossEntropy", "logits have", "columns");
    Rows rows{in[kLogits]->f32(),
              in[kLabels]->i32(),
              in[kCorr] ? in[kCorr]->f32() : nullptr,
              in[kCand] ? in[kCand]->i32() : nullptr,
              reuse(grad_, b * c),
              reuse(loss_, b),
              c};
    if (!(lent_.defined() && lent_.f32() == grad_.f32() && lent_.shape() == in[0]->shape()))
      lent_ = grad_.resized(in[0]->shape());
    if (rows.corr) {
      if (rows.cand) forward_rows<true, true>(rows, b);
      else forward_rows<true, false>(rows, b);
    } else {
      if (rows.cand) forward_rows<false, true>(rows, b);
      else forward_rows<false, false>(rows, b);
    }
    correction_ = rows.corr != nullptr;
    const float* w = in[kWeights] ? in[kWeights]->f32() : nullptr;
    float* o = out.f32();
    for (int64_t r = 0; r < b; ++r) o[r] = w ? w[r] * rows.loss[r] : rows.loss[r];
    seen_logits_ = in[0]->f32();
    seen_shape_ = in[0]->shape();
  }

  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    DAGRAD_ASSERT(seen_logits_ == in[0]->f32() && seen_shape_ == in[0]->shape(),
                  "SoftmaxCrossEntropy backward without a forward on the same logits");
    const int64_t b = in[0]->dim(0), c = in[0]->dim(1);
    const float* g = dout.f32();
    const float* w = in[kWeights] ? in[kWeights]->f32() : nullptr;
    si::weights_grad(din.out(kWeights), g, loss_.f32(), b);
    GradOut dcorr = din.out(kCorr);
    if (!din.needs(kLogits) && !dcorr) return;
    if (!dcorr) {  // dlogits = D exactly when every dout·w is 1: lend it, if the caller takes it
      bool unit = true;
      for (int64_t r = 0; r < b && unit; ++r) unit = g[r] * (w ? w[r] : 1.0f) == 1.0f;
      if (unit && din.lend(kLogits, lent_)) return;
    }
    GradOut dlogits = din.out(kLogits);
    const int nt = omp_get_max_threads();
    // Per-thread column sums of the logits gradient (for dcorrection), reduced in thread order.
    float* part = dcorr ? reuse(col_part_, int64_t{nt} * c) : nullptr;
    Grad grad{grad_.f32(), g, w, dlogits ? dlogits->f32() : nullptr, part, c};
    int used = 1;  // threads that wrote a column-sum slice
    if (dlogits && !dlogits.overwrite) {
      if (dcorr) used = backward_rows<true, true, true>(grad, b, nt);
      else backward_rows<true, false, true>(grad, b, nt);
    } else if (dlogits) {
      if (dcorr) used = backward_rows<true, true, false>(grad, b, nt);
      else backward_rows<true, false, false>(grad, b, nt);
    } else {
      used = backward_rows<false, true, true>(grad, b, nt);
    }
    if (dcorr) {
      float* dc = dcorr->f32();
      const bool add = !dcorr.overwrite;
#pragma omp parallel for schedule(static) if (c * used >= kParallelMinElements)
      for (int64_t j = 0; j < c; ++j) {
        float s = 0.0f;
        for (int t = 0; t < used; ++t) s += part[int64_t{t} * c + j];
        dc[j] = add ? dc[j] + s : s;
      }
    }
  }

  // Per logit, forward: the max, a subtraction, an exp, the sum and the scaling (plus the
  // correction's add); backward: a multiply per element into either gradient (none when lent).
  double flops(const Inputs& in, const Tensor&, int input) const override {
    const double n = static_cast<double>(in[0]->size());
    if (input < 0) return (correction_ ? 6.0 : 5.0) * n;
    return input == kLogits || input == kCorr ? n : static_cast<double>(in[0]->dim(0));
  }

  static std::vector<Sample> samples() { return si::samples({{{4, 6}, DType::f32, -2, 2}}, 4, 6); }

 private:
  struct Rows {
    const float* logits;
    const int32_t* labels;
    const float* corr;
    const int32_t* cand;
    float* grad;     // D = softmax - onehot(label) per element, 0 where excluded
    float* loss;     // unweighted loss per row
    int64_t c;
  };

  template <bool kCorr, bool kHits>
  static void forward_rows(const Rows& p, int64_t b) {
#pragma omp parallel for schedule(static) if (b * p.c >= kParallelMinElements)
    for (int64_t r = 0; r < b; ++r)
      p.loss[r] = softmax_row<kCorr, kHits>(p.logits + r * p.c, p.corr, p.cand, p.labels[r], p.c, p.grad + r * p.c);
  }

  struct Grad {
    const float* grad;  // D from forward
    const float* dout;
    const float* w;
    float* dlogits;
    float* part;  // [threads, C] column sums, or null
    int64_t c;
  };

  // G[r, j] = dout_r · w_r · D[r, j]; dlogits += G (= G unless kAdd) and/or part += G. Returns
  // the number of threads that ran (each wrote its own slice of part).
  template <bool kDlogits, bool kCols, bool kAdd>
  static int backward_rows(const Grad& p, int64_t b, int nt) {
    const int64_t c = p.c;
    int used = 1;
#pragma omp parallel num_threads(nt) if (b * c >= kParallelMinElements)
    {
#pragma omp single nowait
      used = omp_get_num_threads();
      float* part = kCols ? p.part + int64_t{omp_get_thread_num()} * c : nullptr;
      if (kCols)
        for (int64_t j = 0; j < c; ++j) part[j] = 0.0f;
#pragma omp for schedule(static)
      for (int64_t r = 0; r < b; ++r) {
        const float k = p.dout[r] * (p.w ? p.w[r] : 1.0f);
        const float* e = p.grad + r * c;
        float* d = kDlogits ? p.dlogits + r * c : nullptr;
#pragma omp simd
        for (int64_t j = 0; j < c; ++j) {
          const float v = k * e[j];
          if (kDlogits) d[j] = kAdd ? d[j] + v : v;
          if (kCols) part[j] += v;
        }
      }
    }
    return used;
  }

  bool correction_ = false;  // the last forward had a correction (for flops)
  // Kept from forward for backward; grown to the largest batch seen, never shrunk. lent_ views
  // grad_ with the logits' shape, for Grads::lend.
  Tensor grad_, loss_, col_part_, lent_;
  const float* seen_logits_ = nullptr;
  Shape seen_shape_;
};

DAGRAD_REGISTER_OP(SoftmaxCrossEntropy, "SoftmaxCrossEntropy", "fused stable softmax cross-entropy per row from logits [B, C] and i32 labels [B]; optional weights, logQ correction, remove_accidental_hits");

}  // namespace dagrad
