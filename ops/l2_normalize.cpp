// L2Normalize: each row along the last axis divided by its L2 norm, as tf.math.l2_normalize:
// y = x / sqrt(max(Σ x², epsilon)), attribute epsilon (default 1e-12).
#include <algorithm>
#include <cmath>

#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

class L2Normalize : public Op {
 public:
  explicit L2Normalize(const Attrs& a) : epsilon_(a.get_double("epsilon")) {}

  static Schema schema() {
    return {Key::number("epsilon", "lower bound of the squared norm").in(Range::greater_than(0)).otherwise(1e-12)};
  }

  std::pair<int, int> arity() const override { return {1, 1}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_dtype(in[0], DType::f32, "input");
    if (in[0].shape.empty()) throw UserError("input must have rank 1 or more, got " + shape_str(in[0].shape));
    return in[0];
  }

  // One pass per row (a [2048, 32] batch of embeddings is 64 K elements): no oneDNN primitive
  // normalizes rows, and a reduction plus a binary division would read the input twice.
  void forward(const Inputs& in, Tensor& out) override {
    const int64_t width = in[0]->dim(-1);
    const int64_t rows = width ? in[0]->size() / width : 0;
    const float eps = static_cast<float>(epsilon_);
    switch (width) {
      case 16: return forward_rows<16>(in[0]->f32(), out.f32(), rows, width, eps);
      case 32: return forward_rows<32>(in[0]->f32(), out.f32(), rows, width, eps);
      case 64: return forward_rows<64>(in[0]->f32(), out.f32(), rows, width, eps);
      case 128: return forward_rows<128>(in[0]->f32(), out.f32(), rows, width, eps);
      default: return forward_rows<0>(in[0]->f32(), out.f32(), rows, width, eps);
    }
  }

  void backward(const Inputs& in, const Tensor& out, const Tensor& dout, const Grads& din) override {
    GradOut dx = din.out(0);
    if (!dx) return;
    const int64_t width = in[0]->dim(-1);
    const int64_t rows = width ? in[0]->size() / width : 0;
    const float eps = static_cast<float>(epsilon_);
    const float *x = in[0]->f32(), *y = out.f32(), *dy = dout.f32();
    if (dx.overwrite) return backward_width<false>(x, y, dy, dx->f32(), rows, width, eps);
    backward_width<true>(x, y, dy, dx->f32(), rows, width, eps);
  }

  // Forward: a square-add and a multiply per element; backward: two multiply-adds for s and the
  // dot product, then a multiply-add and a multiply.
  double flops(const Inputs& in, const Tensor&, int input) const override {
    return (input < 0 ? 3.0 : 7.0) * static_cast<double>(in[0]->size());
  }

  // The function is smooth except where a row's Σ x² crosses epsilon, which is not a per-element
  // kink: each sample keeps every row on one side (default epsilon: rows of norm ~1; epsilon 1:
  // rows of 4 values in [-0.4, 0.4] have Σ x² ≤ 0.64 + the step's effect).
  static std::vector<Sample> samples() {
    return {{"vector", {}, {{{5}}}},
            {"matrix", {}, {{{4, 6}, DType::f32, 0.2, 1.0}}},
            {"rank 3, mixed signs", {}, {{{2, 3, 4}, DType::f32, -2, 2}}},
            {"width 16 (a fixed-width loop)", {}, {{{3, 16}}}},
            {"clamped rows, epsilon 1", {{"epsilon", 1.0}}, {{{3, 4}, DType::f32, -0.4, 0.4}}}};
  }

 private:
  // The row loops. N > 0 is the row width fixed at compile time, for the common embedding widths:
  // the loops then unroll fully (forward [2048, 32]: 11.5 µs instead of 15, backward 19 instead of
  // 27; 1 thread). N == 0 takes the width at run time.
  template <int64_t N>
  static void forward_rows(const float* x, float* y, int64_t rows, int64_t width, float eps) {
    const int64_t n = N ? N : width;
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMinElements)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * n;
      float* yr = y + r * n;
      float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
      for (int64_t c = 0; c < n; ++c) ss += xr[c] * xr[c];
      const float inv = 1.0f / std::sqrt(std::max(ss, eps));
#pragma omp simd
      for (int64_t c = 0; c < n; ++c) yr[c] = xr[c] * inv;
    }
  }

  // With s = Σ x² and norm = sqrt(s): where s > epsilon, dx += (dy - y·Σ(dy·y)) / norm;
  // elsewhere the norm is clamped to the constant sqrt(epsilon) and dx += dy / sqrt(epsilon).
  // s is recomputed from x (cheap next to the memory traffic) rather than kept from forward.
  template <bool kAdd>
  static void backward_width(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                             int64_t width, float eps) {
    switch (width) {
      case 16: return backward_rows<16, kAdd>(x, y, dy, dx, rows, width, eps);
      case 32: return backward_rows<32, kAdd>(x, y, dy, dx, rows, width, eps);
      case 64: return backward_rows<64, kAdd>(x, y, dy, dx, rows, width, eps);
      case 128: return backward_rows<128, kAdd>(x, y, dy, dx, rows, width, eps);
      default: return backward_rows<0, kAdd>(x, y, dy, dx, rows, width, eps);
    }
  }

  template <int64_t N, bool kAdd>
  static void backward_rows(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                            int64_t width, float eps) {
    const int64_t n = N ? N : width;
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMinElements)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t o = r * n;
      float ss = 0.0f, dot = 0.0f;
#pragma omp simd reduction(+ : ss, dot)
      for (int64_t c = 0; c < n; ++c) {
        ss += x[o + c] * x[o + c];
        dot += dy[o + c] * y[o + c];
      }
      const float inv = 1.0f / std::sqrt(std::max(ss, eps));
      if (!(ss > eps)) dot = 0.0f;
#pragma omp simd
      for (int64_t c = 0; c < n; ++c) {
        const float v = (dy[o + c] - y[o + c] * dot) * inv;
        dx[o + c] = kAdd ? dx[o + c] + v : v;
      }
    }
  }

  double epsilon_;
};

DAGRAD_REGISTER_OP(L2Normalize, "L2Normalize", "x / sqrt(max(sum(x^2), epsilon)) along the last axis (tf.math.l2_normalize)");

}  // namespace dagrad
