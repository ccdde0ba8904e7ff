// Graph layers: each is registered by name and turns its YAML node into graph nodes, composed of
// existing ops. Parameters are named after the layer path ("query/dense_0/kernel").
//
// Adding a layer: write layers/<snake_case>.cpp with a function `int build(LayerContext&)` that
// reads its keys from ctx.cfg (check_keys first), adds nodes to ctx.graph and returns the output
// node; register it with DAGRAD_REGISTER_LAYER(Function, "Name", "description"); list the file
// in layers/meson.build.
#pragma once
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "config/config.hpp"

namespace dagrad {

struct LayerContext {
  Graph& graph;
  const ConfigNode& cfg;    // this layer's map
  std::string name;         // layer name: node names and parameter prefix
  std::mt19937_64& rng;     // initialisers; seeded from the run's configuration
  // Node of a named value defined earlier; an unknown or later name is an error at `at`.
  std::function<int(const ConfigNode& at)> resolve;
  // Number of ids a node can hold when it is fed by an id-producing preprocessor, else 0.
  std::function<int64_t(int node)> id_range;

  int input(const std::string& key = "input") const { return resolve(cfg.at(key)); }
  std::vector<int> inputs(const std::string& key = "inputs") const;
  // Adds an op node named "<layer>/<suffix>"; an error names the layer's position.
  int add(const std::string& op, std::vector<int> in, const Attrs& attrs, const std::string& suffix) const;
  // The same with inputs by name, for ops with optional inputs (Op::input_names).
  int add(const std::string& op, const NamedInputs& in, const Attrs& attrs, const std::string& suffix) const;
  int param(const std::string& suffix, Tensor value) const { return graph.param(name + "/" + suffix, std::move(value)); }
};

using LayerBuilder = int (*)(LayerContext&);

struct LayerInfo {
  std::string name, description;
  LayerBuilder build;
};

class LayerRegistry {
 public:
  static LayerRegistry& instance();
  bool add(LayerInfo info);
  const LayerInfo* find(const std::string& name) const;  // null when unknown
  std::vector<std::string> names() const;                // sorted

 private:
  std::vector<LayerInfo> layers_;
};

#define DAGRAD_REGISTER_LAYER(Function, Name, Description) \
  [[maybe_unused]] static const bool dagrad_layer_##Function = ::dagrad::LayerRegistry::instance().add({Name, Description, Function})

// Initialisers (Keras semantics).
Tensor glorot_uniform(int64_t fan_in, int64_t fan_out, std::mt19937_64& rng);
Tensor uniform(Shape shape, double lo, double hi, std::mt19937_64& rng);

// Adds x·kernel (+ bias) (+ activation) with parameters "<layer>/<prefix>/kernel" and ".../bias"
// (no prefix: "<layer>/kernel"). Shared by Dense and MLP.
int build_dense_layer(const LayerContext& ctx, int x, int64_t units, const std::string& activation,
                      bool use_bias, const std::string& prefix);

// Appends an activation by name ("linear" adds nothing); the allowed names are checked at `at`.
int add_activation(const LayerContext& ctx, const ConfigNode& at, int x, const std::string& activation,
                   const std::string& suffix);
inline const std::vector<std::string> kActivations = {"linear", "relu", "sigmoid", "tanh"};

}  // namespace dagrad
