// Add: out = a + b elementwise, for f32 tensors of identical shape (oneDNN binary_add).
#include "ops/binary_op.hpp"

namespace dagrad {

class Add : public ElementwiseBinaryOp<dnnl::algorithm::binary_add> {
 public:
  explicit Add(const Attrs&) {}

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
