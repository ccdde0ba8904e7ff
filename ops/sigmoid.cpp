// Sigmoid: 1 / (1 + exp(-x)), elementwise.
#include "ops/eltwise_op.hpp"

namespace dagrad {

class Sigmoid : public EltwiseOp<dnnl::algorithm::eltwise_logistic_use_dst_for_bwd> {
 public:
  explicit Sigmoid(const Attrs&) {}
  static std::vector<Sample> samples() {
    return {{"matrix", {}, {{{3, 5}, DType::f32, -4, 4}}}};
  }
};

DAGRAD_REGISTER_OP(Sigmoid, "Sigmoid", "1/(1+exp(-x)) elementwise (oneDNN eltwise)");

}  // namespace dagrad
