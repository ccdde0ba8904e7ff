// Mul: out = a · b elementwise, for f32 tensors of identical shape (oneDNN binary_mul).
#include "ops/binary_op.hpp"

namespace dagrad {

class Mul : public ElementwiseBinaryOp<dnnl::algorithm::binary_mul> {
 public:
  explicit Mul(const Attrs&) {}

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
