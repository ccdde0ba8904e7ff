// Base for unary activations backed by oneDNN eltwise (forward and backward from the output).
#pragma once
#include "ops/kernels/kernels.hpp"
#include "graph/op.hpp"

namespace dagrad {

template <dnnl::algorithm Alg>
class EltwiseOp : public Op {
 public:
  std::pair<int, int> arity() const override { return {1, 1}; }
  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_dtype(in[0], DType::f32, "input");
    return in[0];
  }
  void forward(const Inputs& in, Tensor& out) override { eltwise_forward(Alg, *in[0], out); }
  void backward(const Inputs&, const Tensor& out, const Tensor& dout, const Grads& din) override {
    if (GradOut dx = din.out(0)) eltwise_backward(Alg, out, dout, *dx, dx.overwrite);
  }
};

}  // namespace dagrad
