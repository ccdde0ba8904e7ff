// Dense: x·kernel + bias with an optional activation (Keras Dense: glorot_uniform kernel, zero bias),
// built as one Dense op (ops/dense.cpp) for linear and relu, else Dense then the activation op.
#include "layers/layer.hpp"

namespace dagrad {

int build_dense_layer(const LayerContext& ctx, int x, int64_t units, const std::string& activation,
                      bool use_bias, const std::string& prefix) {
  const Shape& in = ctx.graph.node(x).type.shape;
  if (in.size() != 2 || in[1] < 0)
    ctx.cfg.fail("layer '" + ctx.name + "': Dense needs a [batch, features] input, got " + shape_str(in));
  std::string p = prefix.empty() ? "" : prefix + "/";
  int kernel = ctx.param(p + "kernel", glorot_uniform(in[1], units, ctx.rng));
  const ConfigNode at = ctx.keys.has("activation") ? ctx.keys.at("activation") : ctx.cfg;
  if (!use_bias) return add_activation(ctx, at, ctx.add("MatMul", {x, kernel}, {}, p + "matmul"), activation, p + activation);
  // The product, the bias and a ReLU in one Dense op; another activation follows as its own op.
  const bool fuse_act = activation == "linear" || activation == "relu";
  int y = ctx.add("Dense", {x, kernel, ctx.param(p + "bias", Tensor::zeros({units}))},
                  {{"activation", fuse_act ? activation : std::string("linear")}}, p + "dense");
  return fuse_act ? y : add_activation(ctx, at, y, activation, p + activation);
}

namespace {

Schema dense_keys() {
  return {Key::value("input", "a [batch, features] value").required(),
          Key::integer("units", "output width").in(Range::greater_than(0)).required(),
          activation_key("linear", "applied to x·kernel + bias"),
          Key::boolean("use_bias", "add a learned bias (zeros at first)").otherwise(true)};
}

int dense(LayerContext& ctx) {
  int x = ctx.input();
  return build_dense_layer(ctx, x, ctx.keys.integer("units"), read_activation(ctx), ctx.keys.boolean("use_bias"), "");
}

}  // namespace

DAGRAD_REGISTER_LAYER(dense, "Dense", "x·kernel + bias, then an activation (Keras Dense, glorot_uniform kernel)", dense_keys);

}  // namespace dagrad
