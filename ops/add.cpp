// Add: out = a + b elementwise, for f32 tensors of identical shape (oneDNN binary_add).
#include "ops/kernels/kernels.hpp"
#include "graph/op.hpp"

namespace dagrad {

class Add : public Op {
 public:
  explicit Add(const Attrs&) {}

  std::pair<int, int> arity() const override { return {2, 2}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_dtype(in[0], DType::f32, "a");
    expect_dtype(in[1], DType::f32, "b");
    expect_same_shape(in[0], in[1], "a and b must have the same shape");
    return in[0];
  }

  void forward(const Inputs& in, Tensor& out) override {
    binary_op(dnnl::algorithm::binary_add, *in[0], *in[1], out);
  }

  void backward(const Inputs&, const Tensor&, const Tensor& dout, const Grads& din) override {
    if (GradOut da = din.out(0)) accumulate(*da, dout, da.overwrite);
    if (GradOut db = din.out(1)) accumulate(*db, dout, db.overwrite);
  }

  static std::vector<Sample> samples() {
    return {{"vector", {}, {{{7}}, {{7}}}},
            {"matrix", {}, {{{3, 5}}, {{3, 5}}}},
            {"rank 3", {}, {{{2, 3, 4}, DType::f32, -2, 2}, {{2, 3, 4}}}}};
  }
};

DAGRAD_REGISTER_OP(Add, "Add", "a + b elementwise, identical shapes (oneDNN binary)");

}  // namespace dagrad
