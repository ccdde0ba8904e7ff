// Base for the per-row losses of a prediction against a target, both [B, N] f32, giving [B]:
// out[b] = mean over n of Loss::value(p, t) (Keras losses before the reduction over the batch).
// Backward: dp = dout[b] · kGradScale / N · Loss::dpred(p, t), and dt the same with dtarget.
// A Loss supplies value, dpred and dtarget (elementwise), kGradScale, kVectorize (whether the
// forward sum may be reordered for SIMD) and flops(input) per element.
#pragma once
#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

template <class Loss>
class RowLossOp : public Op {
 public:
  std::pair<int, int> arity() const override { return {2, 2}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_rank(in[0], 2, Loss::kPred);
    expect_dtype(in[0], DType::f32, Loss::kPred);
    expect_dtype(in[1], DType::f32, Loss::kTarget);
    expect_same_shape(in[0], in[1], Loss::kBoth);
    return {{in[0].shape[0]}, DType::f32};
  }

  void forward(const Inputs& in, Tensor& out) override {
    const int64_t b = in[0]->dim(0), n = in[0]->dim(1);
    const float* p = in[0]->f32();
    const float* t = in[1]->f32();
    float* o = out.f32();
    const float inv_n = n ? 1.0f / static_cast<float>(n) : 0.0f;
#pragma omp parallel for schedule(static) if (b * n >= kParallelMinElements)
    for (int64_t r = 0; r < b; ++r) {
      float s = 0.0f;
      if constexpr (Loss::kVectorize) {
#pragma omp simd reduction(+ : s)
        for (int64_t c = 0; c < n; ++c) s += Loss::value(p[r * n + c], t[r * n + c]);
      } else {
        for (int64_t c = 0; c < n; ++c) s += Loss::value(p[r * n + c], t[r * n + c]);
      }
      o[r] = s * inv_n;
    }
  }

  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    GradOut dp = din.out(0);
    GradOut dt = din.out(1);
    if (!dp && !dt) return;
    const int64_t b = in[0]->dim(0), n = in[0]->dim(1);
    const float* p = in[0]->f32();
    const float* t = in[1]->f32();
    const float* g = dout.f32();
    float* dpp = dp ? dp->f32() : nullptr;
    float* dtp = dt ? dt->f32() : nullptr;
    const float scale = n ? Loss::kGradScale / static_cast<float>(n) : 0.0f;
    const bool add_p = !dp.overwrite, add_t = !dt.overwrite;
#pragma omp parallel for schedule(static) if (b * n >= kParallelMinElements)
    for (int64_t r = 0; r < b; ++r) {
      const float k = g[r] * scale;
      const int64_t base = r * n;
      if (dpp) {
#pragma omp simd
        for (int64_t c = 0; c < n; ++c) {
          const float v = k * Loss::dpred(p[base + c], t[base + c]);
          dpp[base + c] = add_p ? dpp[base + c] + v : v;
        }
      }
      if (dtp) {
#pragma omp simd
        for (int64_t c = 0; c < n; ++c) {
          const float v = k * Loss::dtarget(p[base + c], t[base + c]);
          dtp[base + c] = add_t ? dtp[base + c] + v : v;
        }
      }
    }
  }

  double flops(const Inputs& in, const Tensor&, int input) const override {
    return Loss::flops(input) * static_cast<double>(in[0]->size());
  }
};

}  // namespace dagrad
