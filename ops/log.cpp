// Log: the natural logarithm elementwise; log(0) = -inf and a negative input gives NaN (the fitter's
// NaN guard then names the node), as in every f32 framework.
#include <cmath>

#include "ops/unary_op.hpp"

namespace dagrad {

class Log : public UnaryOp<Log> {
 public:
  explicit Log(const Attrs&) {}
  static float value(float x) { return std::log(x); }
  static float derivative(float x, float) { return 1.0f / x; }

  static std::vector<Sample> samples() {
    return {{"matrix", {}, {{{3, 5}, DType::f32, 0.5, 4}}}, {"rank 3, small inputs", {}, {{{2, 3, 4}, DType::f32, 0.2, 1}}}};
  }
};

DAGRAD_REGISTER_OP(Log, "Log", "natural logarithm elementwise");

}  // namespace dagrad
