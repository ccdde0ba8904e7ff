// MLP: a stack of Dense layers from a list of sizes, the activation between them and the last one
// linear (the TFRS deep retrieval towers).
#include "layers/layer.hpp"

namespace dagrad {
namespace {

int mlp(LayerContext& ctx) {
  ctx.cfg.check_keys({"type", "input", "units", "activation", "use_bias"});
  int x = ctx.input();
  auto units = ctx.cfg.require_ints("units", Range::greater_than(0));
  if (units.empty()) ctx.cfg.at("units").fail("expected at least one layer size");
  std::string act = ctx.cfg.get_enum("activation", kActivations, "relu");
  bool bias = ctx.cfg.get_bool("use_bias", true);
  for (size_t i = 0; i < units.size(); ++i)
    x = build_dense_layer(ctx, x, units[i], i + 1 < units.size() ? act : "linear", bias,
                          "dense_" + std::to_string(i));
  return x;
}

}  // namespace

DAGRAD_REGISTER_LAYER(mlp, "MLP", "Dense layers of the given sizes, activation between, last linear (units, activation)");

}  // namespace dagrad
