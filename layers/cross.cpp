// Cross: the cross layers of DCN-v2 (Wang et al. 2021; TensorFlow Recommenders' tfrs.layers.dcn.Cross),
// stacked num_layers times over the same x0:
//   x_{l+1} = x0 ⊙ (W_l x_l + b_l) + x_l                       full rank, W_l [d, d]
//   x_{l+1} = x0 ⊙ (V_l (U_l x_l) + b_l) + x_l                 low rank (projection_dim r): U_l [d, r], V_l [r, d]
// Parameters "<layer>/cross_<l>/kernel" (full) or ".../u_kernel" and ".../v_kernel" (low rank), and
// ".../bias" (zeros). Built from MatMul, Dense, Mul and Add ops.
#include <cmath>

#include "layers/layer.hpp"

namespace dagrad {
namespace {

Schema cross_keys() {
  return {Key::value("input", "x0, a [batch, features] value").required(),
          Key::integer("num_layers", "cross layers stacked over the same x0").in(Range::at_least(1)).otherwise(1),
          Key::integer("projection_dim", "0: full-rank kernels [d, d]; r > 0: low-rank kernels [d, r]·[r, d] (DCN-Mix's "
                                         "U·V)").in(Range::at_least(0)).otherwise(0),
          Key::boolean("use_bias", "add a learned bias (zeros at first)").otherwise(true),
          Key::choice("kernel_initializer", {"truncated_normal", "glorot_uniform"},
                      "truncated_normal: N(0, 0.05²) truncated at 2 sd (the TFRS default); glorot_uniform as Dense")
              .otherwise("truncated_normal")};
}

// Keras TruncatedNormal(stddev = 0.05): normal draws redrawn outside 2 standard deviations.
Tensor truncated_normal(int64_t rows, int64_t cols, std::mt19937_64& rng) {
  Tensor t({rows, cols});
  std::normal_distribution<double> n(0.0, 0.05);
  for (float& v : t.values()) {
    double x;
    do x = n(rng);
    while (std::fabs(x) > 0.1);
    v = static_cast<float>(x);
  }
  return t;
}

int cross(LayerContext& ctx) {
  const int x0 = ctx.input();
  const Shape& in = ctx.graph.node(x0).type.shape;
  if (in.size() != 2 || in[1] < 0)
    ctx.cfg.fail("layer '" + ctx.name + "': Cross needs a [batch, features] input, got " + shape_str(in));
  const int64_t d = in[1];
  const int64_t layers = ctx.keys.integer("num_layers"), r = ctx.keys.integer("projection_dim");
  const bool bias = ctx.keys.boolean("use_bias");
  const bool glorot = ctx.keys.string("kernel_initializer") == "glorot_uniform";
  auto kernel = [&](int64_t rows, int64_t cols) {
    return glorot ? glorot_uniform(rows, cols, ctx.rng) : truncated_normal(rows, cols, ctx.rng);
  };
  int x = x0;
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "cross_" + std::to_string(l) + "/";
    int h = x;
    if (r > 0) h = ctx.add("MatMul", {h, ctx.param(p + "u_kernel", kernel(d, r))}, {}, p + "project");
    const int w = ctx.param(p + (r > 0 ? "v_kernel" : "kernel"), kernel(r > 0 ? r : d, d));
    h = bias ? ctx.add("Dense", {h, w, ctx.param(p + "bias", Tensor::zeros({d}))}, {{"activation", std::string("linear")}}, p + "dense")
             : ctx.add("MatMul", {h, w}, {}, p + "matmul");
    x = ctx.add("Add", {ctx.add("Mul", {x0, h}, {}, p + "gate"), x}, {}, p + "residual");
  }
  return x;
}

}  // namespace

DAGRAD_REGISTER_LAYER(cross, "Cross", "DCN-v2 cross layers x0 ⊙ (W·x + b) + x, full or low rank (TFRS dcn.Cross)", cross_keys);

}  // namespace dagrad
