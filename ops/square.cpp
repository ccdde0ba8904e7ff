// Square: x² elementwise.
#include "ops/unary_op.hpp"

namespace dagrad {

class Square : public UnaryOp<Square> {
 public:
  explicit Square(const Attrs&) {}
  static float value(float x) { return x * x; }
  static float derivative(float x, float) { return 2.0f * x; }

  static std::vector<Sample> samples() {
    return {{"matrix", {}, {{{3, 5}, DType::f32, -3, 3}}}, {"rank 3", {}, {{{2, 3, 4}}}}};
  }
};

DAGRAD_REGISTER_OP(Square, "Square", "x² elementwise");

}  // namespace dagrad
