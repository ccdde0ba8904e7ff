// Dense: x·kernel + bias with an optional activation (Keras Dense: glorot_uniform kernel, zero bias).
#include "layers/layer.hpp"

namespace dagrad {

int build_dense_layer(const LayerContext& ctx, int x, int64_t units, const std::string& activation,
                      bool use_bias, const std::string& prefix) {
  const Shape& in = ctx.graph.node(x).type.shape;
  if (in.size() != 2 || in[1] < 0)
    ctx.cfg.fail("layer '" + ctx.name + "': Dense needs a [batch, features] input, got " + shape_str(in));
  std::string p = prefix.empty() ? "" : prefix + "/";
  int kernel = ctx.param(p + "kernel", glorot_uniform(in[1], units, ctx.rng));
  int y = ctx.add("MatMul", {x, kernel}, {}, p + "matmul");
  if (use_bias) y = ctx.add("BiasAdd", {y, ctx.param(p + "bias", Tensor::zeros({units}))}, {}, p + "bias_add");
  return add_activation(ctx, ctx.cfg, y, activation, p + activation);
}

namespace {

int dense(LayerContext& ctx) {
  ctx.cfg.check_keys({"type", "input", "units", "activation", "use_bias"});
  int x = ctx.input();
  int64_t units = ctx.cfg.require_int("units", Range::greater_than(0));
  std::string act = ctx.cfg.get_enum("activation", kActivations, "linear");
  return build_dense_layer(ctx, x, units, act, ctx.cfg.get_bool("use_bias", true), "");
}

}  // namespace

DAGRAD_REGISTER_LAYER(dense, "Dense", "x·kernel + bias, optional activation (units, activation, use_bias)");

}  // namespace dagrad
