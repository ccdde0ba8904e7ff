// Mul: out = a · b elementwise, for f32 tensors of identical shape (oneDNN binary_mul).
#include "ops/kernels/kernels.hpp"
#include "graph/op.hpp"

namespace dagrad {

class Mul : public Op {
 public:
  explicit Mul(const Attrs&) {}

  std::pair<int, int> arity() const override { return {2, 2}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_dtype(in[0], DType::f32, "a");
    expect_dtype(in[1], DType::f32, "b");
    expect_same_shape(in[0], in[1], "a and b must have the same shape");
    return in[0];
  }

  void forward(const Inputs& in, Tensor& out) override {
    binary_op(dnnl::algorithm::binary_mul, *in[0], *in[1], out);
  }

  // da += dout · b and db += dout · a, each one binary_mul with a sum post-op (no scratch).
  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    if (GradOut da = din.out(0)) binary_op(dnnl::algorithm::binary_mul, dout, *in[1], *da, !da.overwrite);
    if (GradOut db = din.out(1)) binary_op(dnnl::algorithm::binary_mul, dout, *in[0], *db, !db.overwrite);
  }

  // One multiply forward; a multiply-add per element for either gradient.
  double flops(const Inputs& in, const Tensor& out, int input) const override {
    return input < 0 ? static_cast<double>(out.size()) : 2.0 * static_cast<double>(in[input]->size());
  }

  static std::vector<Sample> samples() {
    return {{"vector", {}, {{{7}}, {{7}}}},
            {"matrix", {}, {{{3, 5}}, {{3, 5}, DType::f32, -3, 3}}},
            {"rank 3", {}, {{{2, 3, 4}}, {{2, 3, 4}}}}};
  }
};

DAGRAD_REGISTER_OP(Mul, "Mul", "a · b elementwise, identical shapes (oneDNN binary)");

}  // namespace dagrad
