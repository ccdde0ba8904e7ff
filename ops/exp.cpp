// Exp: e^x elementwise (overflows to +inf above x ≈ 88.7, as in every f32 framework).
#include <cmath>

#include "ops/unary_op.hpp"

namespace dagrad {

class Exp : public UnaryOp<Exp> {
 public:
  explicit Exp(const Attrs&) {}
  static float value(float x) { return std::exp(x); }
  static float derivative(float, float y) { return y; }

  static std::vector<Sample> samples() {
    return {{"matrix", {}, {{{3, 5}, DType::f32, -3, 3}}}, {"rank 3", {}, {{{2, 3, 4}, DType::f32, -2, 2}}}};
  }
};

DAGRAD_REGISTER_OP(Exp, "Exp", "e^x elementwise");

}  // namespace dagrad
