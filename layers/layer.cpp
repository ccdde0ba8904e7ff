#include "layers/layer.hpp"

#include <algorithm>
#include <cmath>

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

bool LayerRegistry::add(LayerInfo info) {
  DAGRAD_ASSERT(!find(info.name), "layer '" + info.name + "' registered twice");
  layers_.push_back(std::move(info));
  return true;
}

const LayerInfo* LayerRegistry::find(const std::string& name) const {
  for (const auto& l : layers_)
    if (l.name == name) return &l;
  return nullptr;
}

std::vector<std::string> LayerRegistry::names() const {
  std::vector<std::string> n;
  for (const auto& l : layers_) n.push_back(l.name);
  std::sort(n.begin(), n.end());
  return n;
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

int add_activation(const LayerContext& ctx, const ConfigNode& at, int x, const std::string& activation,
                   const std::string& suffix) {
  if (activation == "linear") return x;
  if (activation == "relu") return ctx.add("Relu", {x}, {}, suffix);
  if (activation == "sigmoid") return ctx.add("Sigmoid", {x}, {}, suffix);
  if (activation == "tanh") return ctx.add("Tanh", {x}, {}, suffix);
  at.fail("unknown activation '" + activation + "' (allowed: linear, relu, sigmoid, tanh)");
}

}  // namespace dagrad
