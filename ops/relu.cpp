// Relu: max(x, 0), elementwise.
#include "ops/eltwise_op.hpp"

namespace dagrad {

class Relu : public EltwiseOp<dnnl::algorithm::eltwise_relu_use_dst_for_bwd> {
 public:
  explicit Relu(const Attrs&) {}
  static std::vector<Sample> samples() {
    return {{"matrix", {}, {{{3, 5}, DType::f32, -1, 1, {0.0}}}},
            {"rank 3", {}, {{{2, 3, 4}, DType::f32, -2, 2, {0.0}}}}};
  }
};

DAGRAD_REGISTER_OP(Relu, "Relu", "max(x, 0) elementwise (oneDNN eltwise)");

}  // namespace dagrad
