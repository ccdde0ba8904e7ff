// Concat: joins values along the feature axis.
#include "layers/layer.hpp"

namespace dagrad {
namespace {

int concat(LayerContext& ctx) {
  ctx.cfg.check_keys({"type", "inputs"});
  return ctx.add("Concat", ctx.inputs(), {}, "");
}

}  // namespace

DAGRAD_REGISTER_LAYER(concat, "Concat", "joins values along the last axis (inputs)");

}  // namespace dagrad
