// Base for elementwise ops of one f32 tensor written as two scalar functions: the op derives as
// `class Exp : public UnaryOp<Exp>` and defines
//   static float value(float x);                   y = f(x)
//   static float derivative(float x, float y);     dy/dx, from the input and the output
// The base does the shape check, the loops (vectorised; both threads from kParallelMinElements) and
// the gradient rule (dx += dy · f'(x), or written when dx holds nothing yet).
#pragma once
#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

template <class Derived>
class UnaryOp : public Op {
 public:
  std::pair<int, int> arity() const override { return {1, 1}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_dtype(in[0], DType::f32, "input");
    return in[0];
  }

  void forward(const Inputs& in, Tensor& out) override {
    const float* x = in[0]->f32();
    float* y = out.f32();
    const int64_t n = out.size();
#pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMinElements)
    for (int64_t i = 0; i < n; ++i) y[i] = Derived::value(x[i]);
  }

  void backward(const Inputs& in, const Tensor& out, const Tensor& dout, const Grads& din) override {
    GradOut dx_t = din.out(0);
    if (!dx_t) return;
    const float* x = in[0]->f32();
    const float* y = out.f32();
    const float* dy = dout.f32();
    float* dx = dx_t->f32();
    const int64_t n = out.size();
    if (dx_t.overwrite) {
#pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMinElements)
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * Derived::derivative(x[i], y[i]);
    } else {
#pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMinElements)
      for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * Derived::derivative(x[i], y[i]);
    }
  }
};

}  // namespace dagrad
