// SigmoidCrossEntropy: out[b] = mean over n of the binary cross-entropy of labels y in [0, 1] with
// logits z, both [B, N] (Keras binary_crossentropy(from_logits=True) before batch reduction).
// The stable form max(z, 0) - z·y + log(1 + exp(-|z|)) never overflows exp.
#include <cmath>

#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

class SigmoidCrossEntropy : public Op {
 public:
  explicit SigmoidCrossEntropy(const Attrs&) {}

  std::pair<int, int> arity() const override { return {2, 2}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_rank(in[0], 2, "logits");
    expect_dtype(in[0], DType::f32, "logits");
    expect_dtype(in[1], DType::f32, "labels");
    expect_same_shape(in[0], in[1], "logits and labels");
    return {{in[0].shape[0]}, DType::f32};
  }

  void forward(const Inputs& in, Tensor& out) override {
    const int64_t b = in[0]->dim(0), n = in[0]->dim(1);
    const float* z = in[0]->f32();
    const float* y = in[1]->f32();
    float* o = out.f32();
    const float inv_n = n ? 1.0f / static_cast<float>(n) : 0.0f;
#pragma omp parallel for schedule(static) if (b * n >= kParallelMinElements)
    for (int64_t r = 0; r < b; ++r) {
      float s = 0.0f;
      for (int64_t c = 0; c < n; ++c) {
        const float zv = z[r * n + c];
        s += std::max(zv, 0.0f) - zv * y[r * n + c] + std::log1p(std::exp(-std::fabs(zv)));
      }
      o[r] = s * inv_n;
    }
  }

  // dz = (sigmoid(z) - y) / N · dout[b]; dy = -z / N · dout[b].
  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    GradOut dz = din.out(0);
    GradOut dy = din.out(1);
    if (!dz && !dy) return;
    const int64_t b = in[0]->dim(0), n = in[0]->dim(1);
    const float* z = in[0]->f32();
    const float* y = in[1]->f32();
    const float* g = dout.f32();
    float* dzp = dz ? dz->f32() : nullptr;
    float* dyp = dy ? dy->f32() : nullptr;
    const float inv_n = n ? 1.0f / static_cast<float>(n) : 0.0f;
    const bool add_z = !dz.overwrite, add_y = !dy.overwrite;
#pragma omp parallel for schedule(static) if (b * n >= kParallelMinElements)
    for (int64_t r = 0; r < b; ++r) {
      const float k = g[r] * inv_n;
      for (int64_t c = 0; c < n; ++c) {
        const int64_t i = r * n + c;
        if (dzp) dzp[i] = (add_z ? dzp[i] : 0.0f) + k * (sigmoid(z[i]) - y[i]);
        if (dyp) dyp[i] = (add_y ? dyp[i] : 0.0f) - k * z[i];
      }
    }
  }

  // Per element, forward: max, multiply-add, |z|, exp, log1p and the sum; backward: the sigmoid
  // (exp, add, division), a subtraction and a multiply-add for dz, a multiply-add for dy.
  double flops(const Inputs& in, const Tensor&, int input) const override {
    return (input < 0 ? 7.0 : input == 0 ? 6.0 : 2.0) * static_cast<double>(in[0]->size());
  }


  static std::vector<Sample> samples() {
    return {{"matrix", {}, {{{3, 4}, DType::f32, -3, 3}, {{3, 4}, DType::f32, 0, 1}}},
            // Large |z|, where the naive log(1 + exp(z)) would overflow or lose all precision.
            {"large logits", {}, {{{2, 3}, DType::f32, -30, 30}, {{2, 3}, DType::f32, 0, 1}}}};
  }

 private:
  // Stable in both tails: exp only of a non-positive number.
  static float sigmoid(float z) {
    const float e = std::exp(-std::fabs(z));
    return z >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
  }
};

DAGRAD_REGISTER_OP(SigmoidCrossEntropy, "SigmoidCrossEntropy", "per-row mean binary cross-entropy of f32 labels in [0, 1] with logits, [B, N] -> [B] (Keras from_logits, stable form)");

}  // namespace dagrad
