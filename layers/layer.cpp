#include "layers/layer.hpp"

#include <algorithm>
#include <cmath>

#include "graph/row_shard.hpp"

namespace dagrad {

std::vector<int> LayerContext::inputs(const std::string& key) const {
  ConfigNode list = cfg.at(key);
  if (!list.is_list()) list.fail("expected a list of value names, found " + list.describe());
  if (list.size() == 0) list.fail("expected at least one value name");
  std::vector<int> ids;
  for (const auto& e : list.elements()) ids.push_back(resolve(e));
  return ids;
}

int LayerContext::add(const std::string& op, std::vector<int> in, const Attrs& attrs, const std::string& suffix) const {
  try {
    return graph.add(op, std::move(in), attrs, suffix.empty() ? name : name + "/" + suffix);
  } catch (const UserError& e) {
    cfg.fail(std::string("layer '") + name + "': " + e.what());
  }
}

int LayerContext::add(const std::string& op, const NamedInputs& in, const Attrs& attrs, const std::string& suffix) const {
  try {
    return graph.add(op, in, attrs, suffix.empty() ? name : name + "/" + suffix);
  } catch (const UserError& e) {
    cfg.fail(std::string("layer '") + name + "': " + e.what());
  }
}

LayerRegistry& LayerRegistry::instance() {
  static LayerRegistry r;
  return r;
}

const Schema& LayerRegistry::common() {
  static const Schema s{Key::string("type", "the layer's type (`dagrad list` lists them)").required()};
  return s;
}

Tensor uniform(Shape shape, double lo, double hi, std::mt19937_64& rng) {
  Tensor t(std::move(shape));
  std::uniform_real_distribution<double> u(lo, hi);
  for (float& v : t.values()) v = static_cast<float>(u(rng));
  return t;
}

Tensor glorot_uniform(int64_t fan_in, int64_t fan_out, std::mt19937_64& rng) {
  double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return uniform({fan_in, fan_out}, -limit, limit, rng);
}

Key sharded_key() {
  return Key::boolean("sharded",
                      "under mpirun with N > 1 ranks, split the table by rows: row r lives on rank r mod N only, "
                      "with its optimizer state, and lookups and updates go through all-to-all (docs/distributed.md); "
                      "without MPI or on one rank the whole table, as when false")
      .otherwise(false);
}

int add_embedding_table(const LayerContext& ctx, int ids, int64_t vocab, int64_t dim, const std::string& op, bool sharded) {
  Collective* w = sharded ? distributed() : nullptr;
  if (!w) return ctx.add(op, {ctx.param("embeddings", uniform({vocab, dim}, -0.05, 0.05, ctx.rng)), ids}, {}, "");
  if (vocab < w->size())
    ctx.cfg.at("sharded").fail("layer '" + ctx.name + "': a table of " + std::to_string(vocab) + " row" +
                               (vocab == 1 ? "" : "s") + " cannot be sharded over " + std::to_string(w->size()) +
                               " ranks (each rank holds at least one row); leave sharded out");
  const RowShard s{vocab, w->rank(), w->size()};
  Tensor shard({s.local_rows(), dim});
  // Every value of the whole table is drawn, in its order, and this rank's rows are kept: the
  // shard holds what the whole table would, and the draws after it are the same.
  std::uniform_real_distribution<double> u(-0.05, 0.05);
  for (int64_t r = 0; r < vocab; ++r) {
    float* row = r % s.ranks == s.rank ? shard.f32() + (r / s.ranks) * dim : nullptr;
    for (int64_t c = 0; c < dim; ++c) {
      const float v = static_cast<float>(u(ctx.rng));
      if (row) row[c] = v;
    }
  }
  const std::string mode = op == "EmbeddingMean" ? "mean" : op == "EmbeddingSum" ? "sum" : "lookup";
  return ctx.add(kShardedEmbeddingOp, {ctx.param("embeddings", std::move(shard)), ids},
                 {{"rows", vocab}, {"mode", mode}}, "");
}

Key activation_key(const std::string& def, const std::string& doc) {
  return Key::string("activation", doc + ": linear, or an elementwise op (relu, sigmoid, tanh, or any registered op "
                                         "of one input: Relu, Sigmoid, ...)").otherwise(def);
}

namespace {

// Keras' lower-case names for the built-in ones, else the op's own name.
std::string activation_op(const std::string& activation) {
  return activation == "relu" ? "Relu" : activation == "sigmoid" ? "Sigmoid" : activation == "tanh" ? "Tanh" : activation;
}

void check_activation(const ConfigNode& at, const std::string& activation) {
  if (activation == "linear" || OpRegistry::instance().contains(activation_op(activation))) return;
  std::vector<std::string> all = {"linear", "relu", "sigmoid", "tanh"};
  for (const auto& n : OpRegistry::instance().names()) all.push_back(n);
  at.fail("unknown activation '" + activation + "'" + did_you_mean(activation, all) +
          " (linear, relu, sigmoid, tanh, or an elementwise op: " + join(OpRegistry::instance().names()) + ")");
}

}  // namespace

std::string read_activation(const LayerContext& ctx) {
  std::string a = ctx.keys.string("activation");
  check_activation(ctx.keys.has("activation") ? ctx.keys.at("activation") : ctx.cfg, a);
  return a;
}

int add_activation(const LayerContext& ctx, const ConfigNode& at, int x, const std::string& activation,
                   const std::string& suffix) {
  if (activation == "linear") return x;
  check_activation(at, activation);
  const std::string op = activation_op(activation);
  int y = -1;
  try {
    y = ctx.graph.add(op, std::vector<int>{x}, {}, ctx.name + "/" + suffix);
  } catch (const UserError& e) {
    at.fail("activation '" + activation + "' cannot follow this layer: " + e.what());
  }
  if (ctx.graph.node(y).type.shape != ctx.graph.node(x).type.shape)
    at.fail("activation '" + activation + "' is not elementwise: it turns " + shape_str(ctx.graph.node(x).type.shape) +
            " into " + shape_str(ctx.graph.node(y).type.shape));
  return y;
}

}  // namespace dagrad
