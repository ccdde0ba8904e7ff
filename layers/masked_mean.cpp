// MaskedMean: the mean of token vectors [B, T, D] over the token axis, padding (id 0) excluded:
// Keras GlobalAveragePooling1D after an Embedding with mask_zero.
#include "layers/layer.hpp"

namespace dagrad {
namespace {

int masked_mean(LayerContext& ctx) {
  ctx.cfg.check_keys({"type", "input", "mask"});
  return ctx.add("MaskedMean", {ctx.input(), ctx.input("mask")}, {}, "");
}

}  // namespace

DAGRAD_REGISTER_LAYER(masked_mean, "MaskedMean", "mean over the token axis, ids of 0 masked (input, mask)");

}  // namespace dagrad
