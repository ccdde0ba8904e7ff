// Dropout: zeroes a fraction `rate` of the elements in training and scales the rest by
// 1 / (1 − rate) (Keras Dropout); the identity in evaluation and serving. The masks are drawn from
// a seed that follows the run's seed unless the layer names one (see ops/dropout.cpp).
#include "layers/layer.hpp"

namespace dagrad {
namespace {

Schema dropout_keys() {
  return {Key::value("input", "any f32 value").required(),
          Key::number("rate", "the fraction of elements zeroed in training").in(Range::at_least(0) & Range::less_than(1)).required(),
          Key::integer("seed", "the masks' seed").otherwise_text("drawn from the run's seed")};
}

int dropout(LayerContext& ctx) {
  const int x = ctx.input();
  if (ctx.graph.node(x).type.dtype != DType::f32)
    ctx.cfg.at("input").fail("layer '" + ctx.name + "': Dropout needs floats, '" + ctx.graph.node(x).name + "' holds ids");
  const int64_t seed = ctx.keys.has("seed") ? ctx.keys.integer("seed") : static_cast<int64_t>(ctx.rng() >> 1);
  return ctx.add("Dropout", {x}, {{"rate", ctx.keys.number("rate")}, {"seed", seed}}, "");
}

}  // namespace

DAGRAD_REGISTER_LAYER(dropout, "Dropout", "zeroes a fraction of the elements in training, scaling the rest (Keras Dropout)", dropout_keys);

}  // namespace dagrad
