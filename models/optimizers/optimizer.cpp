#include "models/optimizers/optimizer.hpp"

#include <cmath>
#include <sstream>

#include "autodiff/backward.hpp"
#include "graph/graph.hpp"

namespace dagrad {

Optimizer::Optimizer(const Attrs& a, std::vector<std::string> slot_names) : slot_names_(std::move(slot_names)) {
  set_learning_rate(a.get_double("learning_rate"));
}

void Optimizer::require(bool ok, const char* key, const char* what, double v) {
  if (ok) return;
  std::ostringstream os;
  os << key << " must be " << what << ", got " << v;
  throw UserError(os.str());
}

void Optimizer::set_learning_rate(double lr) {
  require(std::isfinite(lr) && lr >= 0, "learning_rate", "a finite number >= 0", lr);
  learning_rate_ = lr;
}

std::vector<Tensor>& Optimizer::slots_for(std::string_view name, const Shape& shape) {
  auto it = slots_.find(name);
  if (it == slots_.end()) {
    std::vector<Tensor> s;
    for (size_t k = 0; k < slot_names_.size(); ++k) {
      s.emplace_back(shape);
      s.back().fill(slot_initial_value(k));
    }
    it = slots_.emplace(std::string(name), std::move(s)).first;
  }
  for (const auto& t : it->second)
    if (t.shape() != shape)
      throw UserError("optimizer state for parameter '" + std::string(name) + "' has shape " +
                      shape_str(t.shape()) + " but the parameter has shape " + shape_str(shape));
  return it->second;
}

void Optimizer::step(std::span<const ParamGrad> params) {
  const int64_t t = iterations_ + 1;
  for (const auto& p : params) {
    DAGRAD_ASSERT(p.value && p.grad && p.value->dtype() == DType::f32 && p.grad->shape() == p.value->shape(),
                  "optimizer step: parameter '" + std::string(p.name) + "' has no f32 gradient of its shape");
    if (p.rows && !p.rows->empty())
      DAGRAD_ASSERT(p.value->rank() == 2 && p.rows->front() >= 0 && p.rows->back() < p.value->dim(0),
                    "optimizer step: sparse rows of '" + std::string(p.name) + "' out of range");
    auto& slots = slots_for(p.name, p.value->shape());
    update(p, slots, t);
  }
  ++iterations_;
}

void Optimizer::step(Graph& g, const Gradients& grads) {
  scratch_.clear();
  for (int id = 0; id < g.size(); ++id) {
    const Node& n = g.node(id);
    // Parameters the last backward did not reach have no gradient for this step (Keras skips a
    // None gradient): their buffers hold an earlier pass's.
    if (n.kind != NodeKind::Param || !n.needs_grad || !grads.current(id) || !grads.grad(id).defined()) continue;
    scratch_.push_back({n.name, &g.param_value(id), &grads.grad(id), grads.sparse(id) ? &grads.rows(id) : nullptr});
  }
  step(scratch_);
}

std::vector<std::pair<std::string, Tensor*>> Optimizer::state(Graph& g) {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (int id = 0; id < g.size(); ++id) {
    const Node& n = g.node(id);
    if (n.kind != NodeKind::Param || !n.needs_grad) continue;
    auto& slots = slots_for(n.name, g.param_value(id).shape());
    for (size_t k = 0; k < slot_names_.size(); ++k) out.emplace_back(n.name + "/" + slot_names_[k], &slots[k]);
  }
  return out;
}

// ---- Registry ----

OptimizerRegistry& OptimizerRegistry::instance() {
  static OptimizerRegistry registry;
  return registry;
}

const Schema& OptimizerRegistry::common() {
  static const Schema s{Key::string("type", "the optimizer's type").required()};
  return s;
}

std::unique_ptr<Optimizer> OptimizerRegistry::make(const std::string& name, Attrs options) const {
  const OptimizerInfo& info = get(name);
  options.apply(info.schema, "optimizer " + info.name);
  try {
    return info.make(options);
  } catch (const UserError& e) {
    throw UserError("optimizer " + info.name + ": " + e.what());
  }
}

Key Optimizer::learning_rate_key(double def) {
  return Key::number("learning_rate", "the step size").in(Range::at_least(0)).otherwise(def);
}

}  // namespace dagrad
