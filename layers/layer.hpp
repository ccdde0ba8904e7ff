// Graph layers: each is registered by name and turns its YAML node into graph nodes, composed of
// existing ops. Parameters are named after the layer path ("query/dense_0/kernel").
//
// Adding a layer: write layers/<snake_case>.cpp with a function `Schema keys()` declaring the keys
// it reads besides `type` (Key::value for the names of its input values, so that layers can be
// written in any order), and a function `int build(LayerContext&)` that reads them through
// ctx.keys, adds nodes to ctx.graph and returns the output node; register both with
// DAGRAD_REGISTER_LAYER(build, "Name", "one-line description", keys); list the file in
// layers/meson.build.
#pragma once
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "config/keys.hpp"
#include "graph/graph.hpp"
#include "graph/registry.hpp"

namespace dagrad {

struct LayerContext {
  Graph& graph;
  const ConfigNode& cfg;    // this layer's map
  const Keys& keys;         // the map read through the layer's schema (already checked)
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
  Schema schema;  // its keys besides `type`
  LayerBuilder build;
};

class LayerRegistry : public Registry<LayerInfo> {
 public:
  static LayerRegistry& instance();
  // The keys every layer map has besides its own: `type`.
  static const Schema& common();

 private:
  LayerRegistry() : Registry("layer") {}
};

#define DAGRAD_REGISTER_LAYER(Function, Name, Description, SchemaFunction)                           \
  [[maybe_unused]] static const bool dagrad_layer_##Function =                                      \
      ::dagrad::abi_matches(DAGRAD_ABI_VERSION, "layer", Name) &&                                   \
      ::dagrad::LayerRegistry::instance().add({Name, Description, SchemaFunction(), Function})

// Initialisers (Keras semantics).
Tensor glorot_uniform(int64_t fan_in, int64_t fan_out, std::mt19937_64& rng);
Tensor uniform(Shape shape, double lo, double hi, std::mt19937_64& rng);

// An embedding table [vocab, dim] (uniform in [-0.05, 0.05]) named "<layer>/embeddings" and its lookup
// by `ids`: op `op` (Embedding, EmbeddingMean, EmbeddingSum). With `sharded` in a distributed world
// (graph/row_shard.hpp) the parameter is this rank's shard only, holding exactly the values the
// whole table would hold at its rows (the same draws from rng), read by a ShardedEmbedding op;
// otherwise (one process, one rank) the whole table and `op`.
int add_embedding_table(const LayerContext& ctx, int ids, int64_t vocab, int64_t dim, const std::string& op, bool sharded);
// The `sharded` key of the layers that hold a table.
Key sharded_key();

// Adds x·kernel (+ bias) (+ activation) with parameters "<layer>/<prefix>/kernel" and ".../bias"
// (no prefix: "<layer>/kernel"). Shared by Dense and MLP.
int build_dense_layer(const LayerContext& ctx, int x, int64_t units, const std::string& activation,
                      bool use_bias, const std::string& prefix);

// Appends an activation: "linear" adds nothing, any other name is a registered op with one input
// and no required attribute (Relu, Sigmoid, Tanh, a plugin's...), checked at `at`.
int add_activation(const LayerContext& ctx, const ConfigNode& at, int x, const std::string& activation,
                   const std::string& suffix);
// An `activation` key: "linear" or the name of an elementwise op; `def` its default.
Key activation_key(const std::string& def, const std::string& doc);
// The layer's `activation`, checked to name linear or a registered op (at its position).
std::string read_activation(const LayerContext& ctx);

}  // namespace dagrad
