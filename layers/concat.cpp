// Concat: joins values along the feature axis.
#include "layers/layer.hpp"

namespace dagrad {
namespace {

Schema concat_keys() { return {Key::values("inputs", "the values to join, in order").required()}; }

int concat(LayerContext& ctx) { return ctx.add("Concat", ctx.inputs(), {}, ""); }

}  // namespace

DAGRAD_REGISTER_LAYER(concat, "Concat", "joins values along the last axis", concat_keys);

}  // namespace dagrad
