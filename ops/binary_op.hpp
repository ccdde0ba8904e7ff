// Base for elementwise ops of two f32 tensors of identical shape (Add, Mul): the shape check and a
// forward by one oneDNN binary algorithm; the op adds its backward.
#pragma once
#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

template <dnnl::algorithm Alg>
class ElementwiseBinaryOp : public Op {
 public:
  std::pair<int, int> arity() const override { return {2, 2}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_dtype(in[0], DType::f32, "a");
    expect_dtype(in[1], DType::f32, "b");
    expect_same_shape(in[0], in[1], "a and b must have the same shape");
    return in[0];
  }

  void forward(const Inputs& in, Tensor& out) override { binary_op(Alg, *in[0], *in[1], out); }
};

}  // namespace dagrad
