// Dot: the row-wise dot product over the last axis: a, b of identical shape [..., d] give [..., 1]
// (Keras Dot(axes=-1); the ranking score of two towers, as in the multitask tutorial's models).
#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

class Dot : public Op {
 public:
  explicit Dot(const Attrs&) {}

  std::pair<int, int> arity() const override { return {2, 2}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_dtype(in[0], DType::f32, "a");
    expect_dtype(in[1], DType::f32, "b");
    expect_same_shape(in[0], in[1], "a and b must have the same shape");
    if (in[0].shape.empty()) throw UserError("a and b need at least one axis, got scalars");
    TensorType t = in[0];
    t.shape.back() = 1;
    return t;
  }

  void forward(const Inputs& in, Tensor& out) override {
    const int64_t d = in[0]->shape().back(), rows = out.size();
    const float* a = in[0]->f32();
    const float* b = in[1]->f32();
    float* y = out.f32();
#pragma omp parallel for schedule(static) if (rows * d >= kParallelMinElements)
    for (int64_t r = 0; r < rows; ++r) {
      float s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t k = 0; k < d; ++k) s += a[r * d + k] * b[r * d + k];
      y[r] = s;
    }
  }

  // da[r, :] += dy[r] · b[r, :], db[r, :] += dy[r] · a[r, :].
  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    const int64_t d = in[0]->shape().back(), rows = dout.size();
    const float* dy = dout.f32();
    for (int i = 0; i < 2; ++i) {
      GradOut g = din.out(i);
      if (!g) continue;
      const float* other = in[1 - i]->f32();
      float* dx = g->f32();
      const bool overwrite = g.overwrite;
#pragma omp parallel for schedule(static) if (rows * d >= kParallelMinElements)
      for (int64_t r = 0; r < rows; ++r) {
        const float s = dy[r];
        float* row = dx + r * d;
        const float* o = other + r * d;
        if (overwrite) {
#pragma omp simd
          for (int64_t k = 0; k < d; ++k) row[k] = s * o[k];
        } else {
#pragma omp simd
          for (int64_t k = 0; k < d; ++k) row[k] += s * o[k];
        }
      }
    }
  }

  double flops(const Inputs& in, const Tensor&, int input) const override {
    (void)input;  // a multiply-add per element, forward and either gradient
    return 2.0 * static_cast<double>(in[0]->size());
  }

  static std::vector<Sample> samples() {
    return {{"vector", {}, {{{7}}, {{7}}}},
            {"matrix", {}, {{{3, 5}}, {{3, 5}, DType::f32, -3, 3}}},
            {"rank 3", {}, {{{2, 3, 4}}, {{2, 3, 4}}}}};
  }
};

DAGRAD_REGISTER_OP(Dot, "Dot", "row-wise dot product over the last axis: [..., d]·[..., d] -> [..., 1]");

}  // namespace dagrad
