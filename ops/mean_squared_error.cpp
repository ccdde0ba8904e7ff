// MeanSquaredError: out[b] = mean over n of (pred[b, n] - target[b, n])², from pred and target
// [B, N] (Keras mean_squared_error, before any reduction over the batch).
// dpred = 2 (pred - target) / N · dout[b]; dtarget is its negative.
#include "ops/row_loss_op.hpp"

namespace dagrad {
// A named namespace (not an anonymous one): the op class, whose base names this type, has external
// linkage, and GCC warns (-Wsubobject-linkage) when such a file is compiled inside a unity file.
namespace row_losses {

struct SquaredError {
  static constexpr const char* kPred = "pred";
  static constexpr const char* kTarget = "target";
  static constexpr const char* kBoth = "pred and target";
  static constexpr float kGradScale = 2.0f;
  static constexpr bool kVectorize = true;
  static float value(float p, float t) {
    const float e = p - t;
    return e * e;
  }
  static float dpred(float p, float t) { return p - t; }
  static float dtarget(float p, float t) { return -(p - t); }
  // Per element: a subtraction and a multiply-add forward; a subtraction and a multiply-add for
  // either gradient.
  static double flops(int) { return 3.0; }
};

}  // namespace row_losses

class MeanSquaredError : public RowLossOp<row_losses::SquaredError> {
 public:
  explicit MeanSquaredError(const Attrs&) {}

  static std::vector<Sample> samples() {
    return {{"matrix", {}, {{{4, 5}}, {{4, 5}}}},
            {"one column", {}, {{{3, 1}, DType::f32, -2, 2}, {{3, 1}, DType::f32, -2, 2}}}};
  }
};

DAGRAD_REGISTER_OP(MeanSquaredError, "MeanSquaredError", "per-row mean over the last axis of (pred - target)², [B, N] -> [B] (Keras semantics)");

}  // namespace dagrad
