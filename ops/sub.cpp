// Sub: out = a - b elementwise, for f32 tensors of identical shape (oneDNN binary_sub).
#include "ops/binary_op.hpp"

namespace dagrad {

class Sub : public ElementwiseBinaryOp<dnnl::algorithm::binary_sub> {
 public:
  explicit Sub(const Attrs&) {}

  // da += dout; db -= dout (written as -dout when db holds nothing yet).
  void backward(const Inputs&, const Tensor&, const Tensor& dout, const Grads& din) override {
    if (GradOut da = din.out(0)) accumulate(*da, dout, da.overwrite);
    if (GradOut db = din.out(1)) {
      if (db.overwrite) scale_into(-1.0f, dout, *db);
      else axpy(-1.0f, dout, *db);
    }
  }

  static std::vector<Sample> samples() {
    return {{"vector", {}, {{{7}}, {{7}}}},
            {"matrix", {}, {{{3, 5}}, {{3, 5}, DType::f32, -3, 3}}},
            {"rank 3", {}, {{{2, 3, 4}, DType::f32, -2, 2}, {{2, 3, 4}}}}};
  }
};

DAGRAD_REGISTER_OP(Sub, "Sub", "a - b elementwise, identical shapes (oneDNN binary)");

}  // namespace dagrad
