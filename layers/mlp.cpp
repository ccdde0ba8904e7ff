// MLP: a stack of Dense layers from a list of sizes, the activation between them and the last one
// linear (the TFRS deep retrieval towers).
#include "layers/layer.hpp"

namespace dagrad {
namespace {

Schema mlp_keys() {
  return {Key::value("input", "a [batch, features] value").required(),
          Key::integers("units", "the Dense layers' widths, first to last").in(Range::greater_than(0)).required(),
          activation_key("relu", "between the layers (the last is linear)"),
          Key::boolean("use_bias", "learned biases").otherwise(true)};
}

int mlp(LayerContext& ctx) {
  int x = ctx.input();
  auto units = ctx.keys.integers("units");
  if (units.empty()) ctx.keys.at("units").fail("expected at least one layer size");
  std::string act = read_activation(ctx);
  bool bias = ctx.keys.boolean("use_bias");
  for (size_t i = 0; i < units.size(); ++i)
    x = build_dense_layer(ctx, x, units[i], i + 1 < units.size() ? act : "linear", bias,
                          "dense_" + std::to_string(i));
  return x;
}

}  // namespace

DAGRAD_REGISTER_LAYER(mlp, "MLP", "Dense layers of the given widths, the activation between them, the last linear", mlp_keys);

}  // namespace dagrad
