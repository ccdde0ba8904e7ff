#include "graph/graph.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <sstream>

#include "graph/dnnl_context.hpp"

namespace dagrad {

Shape concrete(const Shape& s, int64_t batch) {
  Shape c = s;
  for (auto& d : c)
    if (d == kBatch) d = batch;
    else if (d == kTokens) d = 1;
  return c;
}

uint64_t Graph::next_version() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

int Graph::append(Node n) {
  if (n.name.empty()) throw UserError("a graph node needs a name");
  if (by_name_.count(n.name))
    throw UserError("node name '" + n.name + "' is used twice (first by node " +
                    std::to_string(by_name_.at(n.name)) + ")");
  n.id = size();
  by_name_[n.name] = n.id;
  nodes_.push_back(std::move(n));
  values_.emplace_back();
  computed_.push_back(0);
  inferred_.emplace_back();
  cost_.push_back(0);
  wide_.push_back(0);
  plans_.clear();
  version_ = next_version();
  return nodes_.back().id;
}

int Graph::input(const std::string& name, TensorType type) {
  for (size_t i = 0; i < type.shape.size(); ++i)
    if (type.shape[i] == 0 || type.shape[i] < kTokens)
      throw UserError("input '" + name + "': bad shape " + shape_str(type.shape) +
                      " (dimensions must be positive, kBatch or kTokens)");
  Node n;
  n.kind = NodeKind::Input;
  n.name = name;
  n.type = std::move(type);
  return append(std::move(n));
}

int Graph::param(const std::string& name, Tensor value, bool trainable) {
  Node n;
  n.kind = NodeKind::Param;
  n.name = name;
  n.type = {value.shape(), value.dtype()};
  n.needs_grad = trainable && value.dtype() == DType::f32;
  int id = append(std::move(n));
  values_[id] = std::move(value);
  computed_[id] = 1;
  return id;
}

namespace {

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The declared inputs of an op: (name, optional) pairs.
std::vector<std::pair<std::string, bool>> declared(const Op& op) {
  std::vector<std::pair<std::string, bool>> d;
  for (std::string n : op.input_names()) {
    const bool optional = !n.empty() && n.back() == '?';
    if (optional) n.pop_back();
    d.emplace_back(n, optional);
  }
  return d;
}

std::string input_list(const std::vector<std::pair<std::string, bool>>& d) {
  std::string s;
  for (const auto& [n, opt] : d) s += (s.empty() ? "" : ", ") + n + (opt ? " (optional)" : "");
  return s;
}

}  // namespace

int Graph::add(const std::string& op_name, std::vector<int> inputs, const Attrs& attrs, std::string name) {
  if (name.empty()) name = lowercase(op_name) + "_" + std::to_string(size());
  std::unique_ptr<Op> op;
  try {
    op = OpRegistry::instance().make(op_name, attrs);
  } catch (const UserError& e) {
    throw UserError("node '" + name + "': " + e.what());
  }
  // Positional inputs fill the declared ones in order; the optional ones left over are absent.
  const auto d = declared(*op);
  if (!d.empty() && inputs.size() < d.size()) {
    for (size_t k = inputs.size(); k < d.size(); ++k)
      if (!d[k].second) break;
      else inputs.push_back(-1);
  }
  return add_node(op_name, inputs, attrs, std::move(name), std::move(op));
}

int Graph::add(const std::string& op_name, const NamedInputs& inputs, const Attrs& attrs, std::string name) {
  if (name.empty()) name = lowercase(op_name) + "_" + std::to_string(size());
  std::unique_ptr<Op> op;
  try {
    op = OpRegistry::instance().make(op_name, attrs);
  } catch (const UserError& e) {
    throw UserError("node '" + name + "': " + e.what());
  }
  const auto d = declared(*op);
  if (d.empty()) throw UserError("node '" + name + "' (" + op_name + "): this op takes its inputs by position, not by name");
  std::vector<int> slot_ids(d.size(), -1);
  std::vector<char> given(d.size(), 0);
  for (const auto& [key, id] : inputs) {
    size_t k = 0;
    while (k < d.size() && d[k].first != key) ++k;
    if (k == d.size())
      throw UserError("node '" + name + "' (" + op_name + "): no input named '" + key + "' (inputs: " + input_list(d) + ")");
    if (given[k]) throw UserError("node '" + name + "' (" + op_name + "): input '" + key + "' is given twice");
    given[k] = 1;
    slot_ids[k] = id;
  }
  for (size_t k = 0; k < d.size(); ++k)
    if (!given[k] && !d[k].second)
      throw UserError("node '" + name + "' (" + op_name + "): input '" + d[k].first + "' is required (inputs: " +
                      input_list(d) + ")");
  return add_node(op_name, slot_ids, attrs, std::move(name), std::move(op));
}

int Graph::add_node(const std::string& op_name, const std::vector<int>& slot_ids, const Attrs& attrs, std::string name,
                    std::unique_ptr<Op> op) {
  auto fail = [&](const std::string& why) -> UserError {
    std::string shapes;
    for (int i : slot_ids) {
      if (i == -1) continue;
      shapes += (shapes.empty() ? "" : ", ") +
                (i >= 0 && i < size() ? nodes_[i].name + " " + shape_str(nodes_[i].type.shape) + " " +
                                            dtype_name(nodes_[i].type.dtype)
                                      : std::string("?"));
    }
    return UserError("node '" + name + "' (" + op_name + "): " + why + "; inputs: " +
                     (shapes.empty() ? "none" : shapes));
  };
  Node n;
  for (int i : slot_ids) {
    if (i == -1) {
      n.slots.push_back(-1);
      continue;
    }
    if (i < 0 || i >= size()) throw fail("input id " + std::to_string(i) + " does not exist");
    n.slots.push_back(static_cast<int>(n.inputs.size()));
    n.inputs.push_back(i);
  }
  const auto d = declared(*op);
  if (!d.empty() && slot_ids.size() != d.size())
    throw fail("expects " + std::to_string(d.size()) + " inputs (" + input_list(d) + "), got " +
               std::to_string(slot_ids.size()));
  auto [lo, hi] = op->arity();
  int n_in = static_cast<int>(slot_ids.size());
  if (n_in < lo || (hi >= 0 && n_in > hi))
    throw fail("expects " + (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + (hi < 0 ? "any" : std::to_string(hi))) +
               " inputs, got " + std::to_string(n_in));
  std::vector<TensorType> types;
  for (int s : n.slots) {
    TensorType t;
    if (s < 0) t.absent = true;
    else t = nodes_[n.inputs[s]].type;
    types.push_back(t);
  }
  try {
    n.type = op->infer(types);
  } catch (const UserError& e) {
    throw fail(e.what());
  }
  if (!training_) op->set_training(false);
  n.kind = NodeKind::Op;
  n.name = std::move(name);
  n.op_name = op_name;
  n.attrs = attrs;
  n.op = std::move(op);
  for (int i : n.inputs) n.needs_grad = n.needs_grad || nodes_[i].needs_grad;
  return append(std::move(n));
}

int Graph::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : it->second;
}

int Graph::id(const std::string& name) const {
  int i = find(name);
  if (i < 0) throw UserError("no node named '" + name + "' in the graph");
  return i;
}

std::vector<int> Graph::params() const {
  std::vector<int> p;
  for (const auto& n : nodes_)
    if (n.kind == NodeKind::Param) p.push_back(n.id);
  return p;
}

std::vector<int> Graph::inputs() const {
  std::vector<int> p;
  for (const auto& n : nodes_)
    if (n.kind == NodeKind::Input) p.push_back(n.id);
  return p;
}

int64_t Graph::param_count() const {
  int64_t c = 0;
  for (const auto& n : nodes_)
    if (n.kind == NodeKind::Param) c += numel(n.type.shape);
  return c;
}

void Graph::set_input(int id, const Tensor& value) {
  const Node& n = nodes_.at(id);
  if (n.kind != NodeKind::Input) throw UserError("node '" + n.name + "' is not an input");
  bool ok = value.dtype() == n.type.dtype && value.rank() == static_cast<int>(n.type.shape.size());
  for (int i = 0; ok && i < value.rank(); ++i)
    ok = n.type.shape[i] < 0 || n.type.shape[i] == value.dim(i);
  if (!ok)
    throw UserError("input '" + n.name + "': expected " + dtype_name(n.type.dtype) + " " +
                    shape_str(n.type.shape) + ", got " + dtype_name(value.dtype()) + " " +
                    shape_str(value.shape()));
  values_[id] = value;
  std::fill(computed_.begin(), computed_.end(), 0);
  for (const auto& m : nodes_)
    if (m.kind != NodeKind::Op) computed_[m.id] = values_[m.id].defined();
}

void Graph::set_input_needs_grad(int id, bool on) {
  Node& n = nodes_.at(id);
  DAGRAD_ASSERT(n.kind == NodeKind::Input, "set_input_needs_grad on a non-input");
  n.needs_grad = on && n.type.dtype == DType::f32;
  for (auto& m : nodes_) {
    if (m.kind != NodeKind::Op) continue;
    m.needs_grad = false;
    for (int i : m.inputs) m.needs_grad = m.needs_grad || nodes_[i].needs_grad;
  }
  version_ = next_version();
}

void Graph::set_training(bool on) {
  if (on == training_) return;
  training_ = on;
  for (auto& n : nodes_)
    if (n.kind == NodeKind::Op) n.op->set_training(on);
}

void Graph::set_step(int64_t step) {
  for (auto& n : nodes_)
    if (n.kind == NodeKind::Op) n.op->set_step(step);
}

Op& Graph::op(int id) {
  Node& n = nodes_.at(id);
  DAGRAD_ASSERT(n.kind == NodeKind::Op, "op() of non-op node " + n.name);
  return *n.op;
}

void Graph::op_inputs(int id, Inputs& out) const {
  const Node& n = nodes_.at(id);
  out.clear();
  for (int s : n.slots) out.push_back(s < 0 ? nullptr : &values_[n.inputs[s]]);
}

std::vector<char> Graph::ancestors(std::span<const int> targets) const {
  std::vector<char> need(nodes_.size(), 0);
  for (int t : targets) need.at(t) = 1;
  for (int i = size() - 1; i >= 0; --i)
    if (need[i])
      for (int j : nodes_[i].inputs) need[j] = 1;
  return need;
}

void Graph::forward() {
  std::vector<int> all(nodes_.size());
  for (int i = 0; i < size(); ++i) all[i] = i;
  forward(all);
}

Graph::Plan& Graph::plan(std::span<const int> targets) {
  for (auto& p : plans_)
    if (std::equal(p.targets.begin(), p.targets.end(), targets.begin(), targets.end())) return p;
  constexpr size_t kMaxPlans = 8;  // more distinct target lists than this are rare: start over
  if (plans_.size() == kMaxPlans) plans_.clear();
  Plan p;
  p.targets.assign(targets.begin(), targets.end());
  p.need = ancestors(targets);
  for (const auto& n : nodes_)
    if (p.need[n.id] && n.kind == NodeKind::Op) p.ops.push_back(n.id);
  plans_.push_back(std::move(p));
  return plans_.back();
}

bool Graph::inferred_matches(const Node& n) const {
  const Inferred& c = inferred_[n.id];
  if (!c.valid) return false;
  for (size_t k = 0; k < n.inputs.size(); ++k) {
    const Tensor& v = values_[n.inputs[k]];
    if (v.dtype() != c.dtypes[k] || v.shape() != c.in[k]) return false;
  }
  return true;
}

void Graph::set_inter_op(bool on) {
  inter_op_ = on;
  for (auto& p : plans_) p.schedule.clear();
}

void Graph::set_schedule_limits(const ScheduleLimits& limits) {
  limits_ = limits;
  for (auto& p : plans_) p.schedule.clear();
}

const Schedule* Graph::forward_schedule(std::span<const int> targets) const {
  for (const auto& p : plans_)
    if (std::equal(p.targets.begin(), p.targets.end(), targets.begin(), targets.end()))
      return p.schedule.built() ? &p.schedule : nullptr;
  return nullptr;
}

void Graph::forward(std::span<const int> targets) {
  Plan& p = plan(targets);
  for (const auto& n : nodes_)
    if (p.need[n.id] && n.kind == NodeKind::Input && !values_[n.id].defined())
      throw UserError("input '" + n.name + "' was not set before forward");
  // Side by side only from the outermost parallel level: inside a parallel region every op runs on
  // its calling thread anyway.
  const int threads = inter_op_ && !omp_in_parallel() ? num_threads() : 1;
  for (auto& s : scratch_) s.inferred = false;
  const bool scheduled = p.schedule.built() && p.schedule.threads() == threads;
  if (scheduled) {
    if (scratch_.size() < static_cast<size_t>(p.schedule.slots())) scratch_.resize(static_cast<size_t>(p.schedule.slots()));
    p.schedule.run([this](int id, int slot) { run_node(nodes_[id], scratch_[static_cast<size_t>(slot)]); });
  } else {
    for (int id : p.ops) run_node(nodes_[id], scratch_[0]);
  }
  bool inferred = false;
  for (const auto& s : scratch_) inferred = inferred || s.inferred;
  // The schedule follows the shapes (a node's cost decides whether it runs alone): built after a
  // pass over new ones, for the next pass.
  if (threads > 1 && (!scheduled || inferred)) schedule_plan(p, threads);
}

void Graph::schedule_plan(Plan& p, int threads) {
  const size_t m = p.ops.size();
  std::vector<int> pos(nodes_.size(), -1);
  for (size_t k = 0; k < m; ++k) pos[static_cast<size_t>(p.ops[k])] = static_cast<int>(k);
  std::vector<std::vector<int>> deps(m);
  std::vector<double> cost(m);
  std::vector<char> wide(m);
  Inputs in;
  int last_collective = -1;  // Op::communicates: alone, in graph order
  for (size_t k = 0; k < m; ++k) {
    const Node& n = nodes_[static_cast<size_t>(p.ops[k])];
    for (int i : n.inputs)
      if (pos[static_cast<size_t>(i)] >= 0) deps[k].push_back(pos[static_cast<size_t>(i)]);
    const bool collective = n.op->communicates();
    if (collective) {
      if (last_collective >= 0) deps[k].push_back(last_collective);
      last_collective = static_cast<int>(k);
    }
    op_inputs(n.id, in);
    const double elements = static_cast<double>(values_[n.id].size());
    cost[k] = n.op->flops(in, values_[n.id], -1) + ScheduleLimits::kElementCost * elements;
    wide[k] = collective || limits_.wide(cost[k], elements);
    cost_[static_cast<size_t>(n.id)] = cost[k];
    wide_[static_cast<size_t>(n.id)] = wide[k];
  }
  costs_version_ = next_version();
  p.schedule.build(p.ops, deps, cost, wide, limits_, threads);
}

void Graph::run_node(Node& n, Scratch& s) {
  Inputs& in = s.in;
  op_inputs(n.id, in);
  if (!inferred_matches(n)) {  // a new shape: infer (this allocates; a repeated shape does not)
    s.inferred = true;
    std::vector<TensorType>& types = s.types;
    types.clear();
    for (const Tensor* t : in) {
      TensorType ty;
      if (t) ty = {t->shape(), t->dtype()};
      else ty.absent = true;
      types.push_back(ty);
    }
    Inferred& c = inferred_[n.id];
    c.valid = false;
    try {
      c.out = n.op->infer(types);
    } catch (const UserError& e) {
      std::string shapes;
      for (const auto& ty : types)
        if (!ty.absent) shapes += (shapes.empty() ? "" : ", ") + shape_str(ty.shape);
      throw UserError("node '" + n.name + "' (" + n.op_name + ") at run time: " + e.what() +
                      "; input shapes: " + shapes);
    }
    c.in.clear();
    c.dtypes.clear();
    for (const auto& ty : types) {
      if (ty.absent) continue;  // c.in and c.dtypes follow n.inputs, the inputs given
      c.in.push_back(ty.shape);
      c.dtypes.push_back(ty.dtype);
    }
    c.valid = true;
  }
  const TensorType& t = inferred_[n.id].out;
  Tensor& v = values_[n.id];
  if (!(v.defined() && v.dtype() == t.dtype && v.shape() == t.shape)) v = grown_view(v, t.shape, t.dtype);
  const auto t0 = profile_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  try {
    n.op->forward(in, values_[n.id]);
  } catch (const UserError& e) {
    throw UserError("node '" + n.name + "' (" + n.op_name + "): " + e.what());
  }
  if (profile_) {
    profile_->forward_s[n.id] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    profile_->forward_calls[n.id]++;
  }
  computed_[n.id] = 1;
}

double Graph::forward_flops(std::span<const int> targets) const {
  std::vector<char> need = ancestors(targets);
  double total = 0;
  Inputs in;
  for (const auto& n : nodes_) {
    if (!need[n.id] || n.kind != NodeKind::Op) continue;
    for (int i : n.inputs) value(i);  // computed, or an InternalError naming it
    op_inputs(n.id, in);
    total += n.op->flops(in, value(n.id), -1);
  }
  return total;
}

void Graph::attach_profile(Profile* p) {
  profile_ = p;
  if (p && static_cast<int>(p->forward_s.size()) != size()) p->reset(size());
}

const Tensor& Graph::value(int id) const {
  if (!computed_.at(id))
    throw InternalError("value of node '" + nodes_.at(id).name + "' read before it was computed");
  return values_[id];
}

Tensor& Graph::param_value(int id) {
  DAGRAD_ASSERT(nodes_.at(id).kind == NodeKind::Param, "param_value of non-parameter " + nodes_[id].name);
  return values_[id];
}

std::string Graph::summary(int64_t batch) const {
  std::ostringstream os;
  char line[512];
  std::snprintf(line, sizeof line, "%4s  %-28s %-20s %-16s %12s %12s  %s\n", "id", "node", "op", "shape",
                "params", "bytes", "inputs");
  os << line;
  int64_t total_bytes = 0;
  for (const auto& n : nodes_) {
    std::string ins;
    for (int i : n.inputs) ins += (ins.empty() ? "" : ", ") + nodes_[i].name;
    const char* op = n.kind == NodeKind::Input ? "(input)" : n.kind == NodeKind::Param ? "(param)" : n.op_name.c_str();
    int64_t params = n.kind == NodeKind::Param ? numel(n.type.shape) : 0;
    int64_t bytes = numel(concrete(n.type.shape, batch)) * 4;
    total_bytes += bytes;
    std::snprintf(line, sizeof line, "%4d  %-28s %-20s %-16s %12lld %12lld  %s\n", n.id, n.name.c_str(), op,
                  shape_str(n.type.shape).c_str(), static_cast<long long>(params),
                  static_cast<long long>(bytes), ins.c_str());
    os << line;
  }
  os << "parameters: " << param_count() << " (" << param_count() * 4 << " bytes); values at batch " << batch
     << ": " << total_bytes << " bytes\n";
  return os.str();
}

}  // namespace dagrad
