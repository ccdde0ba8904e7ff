// MeanSquaredError: out[b] = mean over n of (pred[b, n] - target[b, n])², from pred and target
// [B, N] (Keras mean_squared_error, before any reduction over the batch).
#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

class MeanSquaredError : public Op {
 public:
  explicit MeanSquaredError(const Attrs&) {}

  std::pair<int, int> arity() const override { return {2, 2}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_rank(in[0], 2, "pred");
    expect_dtype(in[0], DType::f32, "pred");
    expect_dtype(in[1], DType::f32, "target");
    expect_same_shape(in[0], in[1], "pred and target");
    return {{in[0].shape[0]}, DType::f32};
  }

  void forward(const Inputs& in, Tensor& out) override {
    const int64_t b = in[0]->dim(0), n = in[0]->dim(1);
    const float* p = in[0]->f32();
    const float* y = in[1]->f32();
    float* o = out.f32();
    const float inv_n = n ? 1.0f / static_cast<float>(n) : 0.0f;
#pragma omp parallel for schedule(static) if (b * n >= kParallelMinElements)
    for (int64_t r = 0; r < b; ++r) {
      float s = 0.0f;
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < n; ++c) {
        const float e = p[r * n + c] - y[r * n + c];
        s += e * e;
      }
      o[r] = s * inv_n;
    }
  }

  // dpred = 2 (pred - target) / N · dout[b]; dtarget is its negative.
  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    GradOut dp = din.out(0);
    GradOut dy = din.out(1);
    if (!dp && !dy) return;
    const int64_t b = in[0]->dim(0), n = in[0]->dim(1);
    const float* p = in[0]->f32();
    const float* y = in[1]->f32();
    const float* g = dout.f32();
    float* dpp = dp ? dp->f32() : nullptr;
    float* dyp = dy ? dy->f32() : nullptr;
    const float two_over_n = n ? 2.0f / static_cast<float>(n) : 0.0f;
    const bool add_p = !dp.overwrite, add_y = !dy.overwrite;
#pragma omp parallel for schedule(static) if (b * n >= kParallelMinElements)
    for (int64_t r = 0; r < b; ++r) {
      const float k = g[r] * two_over_n;
      const int64_t base = r * n;
      if (dpp) {
#pragma omp simd
        for (int64_t c = 0; c < n; ++c) {
          const float v = k * (p[base + c] - y[base + c]);
          dpp[base + c] = add_p ? dpp[base + c] + v : v;
        }
      }
      if (dyp) {
#pragma omp simd
        for (int64_t c = 0; c < n; ++c) {
          const float v = -k * (p[base + c] - y[base + c]);
          dyp[base + c] = add_y ? dyp[base + c] + v : v;
        }
      }
    }
  }

  // Per element: a subtraction and a multiply-add forward; a subtraction and a multiply-add for
  // either gradient.
  double flops(const Inputs& in, const Tensor&, int) const override { return 3.0 * static_cast<double>(in[0]->size()); }


  static std::vector<Sample> samples() {
    return {{"matrix", {}, {{{4, 5}}, {{4, 5}}}},
            {"one column", {}, {{{3, 1}, DType::f32, -2, 2}, {{3, 1}, DType::f32, -2, 2}}}};
  }
};

DAGRAD_REGISTER_OP(MeanSquaredError, "MeanSquaredError", "per-row mean over the last axis of (pred - target)², [B, N] -> [B] (Keras semantics)");

}  // namespace dagrad
