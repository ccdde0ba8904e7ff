// SigmoidCrossEntropy: out[b] = mean over n of the binary cross-entropy of labels y in [0, 1] with
// logits z, both [B, N] (Keras binary_crossentropy(from_logits=True) before batch reduction).
// The stable form max(z, 0) - z·y + log(1 + exp(-|z|)) never overflows exp.
// dz = (sigmoid(z) - y) / N · dout[b]; dy = -z / N · dout[b].
#include <algorithm>
#include <cmath>

#include "ops/row_loss_op.hpp"

namespace dagrad {
// A named namespace (not an anonymous one): the op class, whose base names this type, has external
// linkage, and GCC warns (-Wsubobject-linkage) when such a file is compiled inside a unity file.
namespace row_losses {

struct BinaryCrossEntropy {
  static constexpr const char* kPred = "logits";
  static constexpr const char* kTarget = "labels";
  static constexpr const char* kBoth = "logits and labels";
  static constexpr float kGradScale = 1.0f;
  static constexpr bool kVectorize = false;  // exp and log1p: the sum stays in element order
  static float value(float z, float y) { return std::max(z, 0.0f) - z * y + std::log1p(std::exp(-std::fabs(z))); }
  // Stable in both tails: exp only of a non-positive number.
  static float dpred(float z, float y) {
    const float e = std::exp(-std::fabs(z));
    return (z >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e)) - y;
  }
  static float dtarget(float z, float) { return -z; }
  // Per element, forward: max, multiply-add, |z|, exp, log1p and the sum; backward: the sigmoid
  // (exp, add, division), a subtraction and a multiply-add for dz, a multiply-add for dy.
  static double flops(int input) { return input < 0 ? 7.0 : input == 0 ? 6.0 : 2.0; }
};

}  // namespace row_losses

class SigmoidCrossEntropy : public RowLossOp<row_losses::BinaryCrossEntropy> {
 public:
  explicit SigmoidCrossEntropy(const Attrs&) {}

  static std::vector<Sample> samples() {
    return {{"matrix", {}, {{{3, 4}, DType::f32, -3, 3}, {{3, 4}, DType::f32, 0, 1}}},
            // Large |z|, where the naive log(1 + exp(z)) would overflow or lose all precision.
            {"large logits", {}, {{{2, 3}, DType::f32, -30, 30}, {{2, 3}, DType::f32, 0, 1}}}};
  }
};

DAGRAD_REGISTER_OP(SigmoidCrossEntropy, "SigmoidCrossEntropy", "per-row mean binary cross-entropy of f32 labels in [0, 1] with logits, [B, N] -> [B] (Keras from_logits, stable form)");

}  // namespace dagrad
