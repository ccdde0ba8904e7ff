// Tanh: hyperbolic tangent, elementwise.
#include "ops/eltwise_op.hpp"

namespace dagrad {

class Tanh : public EltwiseOp<dnnl::algorithm::eltwise_tanh_use_dst_for_bwd> {
 public:
  explicit Tanh(const Attrs&) {}
  static std::vector<Sample> samples() {
    return {{"matrix", {}, {{{3, 5}, DType::f32, -2, 2}}}};
  }
};

DAGRAD_REGISTER_OP(Tanh, "Tanh", "tanh(x) elementwise (oneDNN eltwise)");

}  // namespace dagrad
