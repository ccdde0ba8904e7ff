// An op from outside the tree: Softplus, y = log(1 + e^x), in its own project, built against the
// installed dagrad as a shared object and loaded with `dagrad --plugin` (docs/library.md):
//
//   c++ -std=c++20 -O2 -fPIC -shared softplus.cpp $(pkg-config --cflags dagrad) -o libsoftplus.so
//   dagrad gradcheck Softplus --plugin ./libsoftplus.so
//
// It is then usable wherever a registered op is: `op: Softplus` in a model file, or as an MLP's
// activation (`activation: Softplus`). The plugin does not link libdagrad: its references resolve
// against the program that loads it, so that it registers into that program's registry.
#include <cmath>

#include "ops/unary_op.hpp"

namespace {

class Softplus : public dagrad::UnaryOp<Softplus> {
 public:
  explicit Softplus(const dagrad::Attrs&) {}
  // Above 20, log(1 + e^x) equals x in f32; computing it as x avoids e^x overflowing to inf.
  static float value(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }
  // d/dx log(1 + e^x) = 1 / (1 + e^-x), the logistic sigmoid.
  static float derivative(float x, float) { return 1.0f / (1.0f + std::exp(-x)); }

  // What `dagrad gradcheck` checks: central differences against backward on these inputs.
  static std::vector<dagrad::Sample> samples() {
    return {{"matrix", {}, {{{3, 5}, dagrad::DType::f32, -4, 4}}},
            {"rank 3", {}, {{{2, 3, 4}, dagrad::DType::f32, -2, 2}}}};
  }
};

}  // namespace

DAGRAD_REGISTER_OP(Softplus, "Softplus", "log(1 + e^x) elementwise (an example plugin, docs/examples/plugin)");
