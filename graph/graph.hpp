// Graph: an append-only list of nodes in topological order, referred to by integer id.
// A node is a named input (fed per batch), a parameter (owns its value), or an op applied to
// earlier nodes. Shapes are inferred as nodes are added; a dimension known only at run time (the
// batch, a padded token axis) is kBatch; at run time buffers are planned per shape and reused,
// so a training step does not allocate. Gradients are not the graph's: autodiff/ computes them
// through this public interface.
#pragma once
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/op.hpp"
#include "graph/profile.hpp"
#include "graph/schedule.hpp"

namespace dagrad {

enum class NodeKind { Input, Param, Op };

struct Node {
  int id = -1;
  NodeKind kind = NodeKind::Op;
  std::string name;
  std::string op_name;  // for op nodes
  Attrs attrs;          // for op nodes, as given
  std::unique_ptr<Op> op;
  std::vector<int> inputs;  // the ids of the inputs given, in declared order
  // Per declared input of the op: its index in `inputs`, or -1 for an optional input not given.
  // The identity for ops without optional inputs.
  std::vector<int> slots;
  TensorType type;         // dimension 0 may be kBatch
  bool needs_grad = false; // a parameter, an input asked for, or an op over one of those
};

// Inputs given to Graph::add by name, for ops that declare input_names(): {{"logits", id}, ...}.
class NamedInputs {
 public:
  NamedInputs() = default;
  NamedInputs(std::initializer_list<std::pair<std::string, int>> in) : items_(in) {}
  void add(const std::string& name, int id) { items_.emplace_back(name, id); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<std::pair<std::string, int>> items_;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Building. Names must be unique; an empty op-node name becomes "<op>_<id>".
  int input(const std::string& name, TensorType type);
  int param(const std::string& name, Tensor value, bool trainable = true);
  // Throws UserError naming the node, the op and the input shapes when they do not fit. Inputs
  // fill the op's declared inputs in order; trailing optional ones may be left out.
  int add(const std::string& op, std::vector<int> inputs, const Attrs& attrs = {}, std::string name = "");
  // The same with inputs by name (Op::input_names); optional ones may be left out.
  int add(const std::string& op, const NamedInputs& inputs, const Attrs& attrs = {}, std::string name = "");
  // Changes with the structure (a node added, an input's needs_grad changed), and differs between
  // any two graphs of the process: lets a differentiator keep what it derived from the structure
  // between calls.
  uint64_t version() const { return version_; }

  int size() const { return static_cast<int>(nodes_.size()); }
  const Node& node(int id) const { return nodes_.at(id); }
  int find(const std::string& name) const;  // -1 when absent
  int id(const std::string& name) const;    // throws UserError when absent
  std::vector<int> params() const;
  std::vector<int> inputs() const;
  int64_t param_count() const;

  // Running. set_input checks dtype, rank and every dimension but the batch one.
  void set_input(int id, const Tensor& value);
  void set_input(const std::string& name, const Tensor& value) { set_input(id(name), value); }
  // Training (the default) or inference: passed to every op (Op::set_training), which may then
  // skip work that only a backward pass needs, or behave as in inference (Dropout).
  void set_training(bool on);
  bool training() const { return training_; }
  // The training step about to run, passed to every op (Op::set_step): what random ops draw from.
  void set_step(int64_t step);
  // Lets the gradient with respect to an input be computed (gradient checks, saliency).
  void set_input_needs_grad(int id, bool on);
  void forward();                          // every node
  void forward(std::span<const int> targets);  // only what the targets need
  const Tensor& value(int id) const;
  Tensor& param_value(int id);             // parameters only: optimizers write here

  // The op of an op node, for its differentiator.
  Op& op(int id);
  // The arguments of op node `id`'s op: the values of its inputs, one per declared input (null
  // for an optional input not given). Reuses `out`'s storage.
  void op_inputs(int id, Inputs& out) const;

  // Flags by node id: 1 for the targets and every node they depend on.
  std::vector<char> ancestors(std::span<const int> targets) const;

  // Floating-point operations of forward(targets) at the shapes of the last forward (each op's
  // Op::flops); the values it needs must have been computed.
  double forward_flops(std::span<const int> targets) const;

  // Inter-op parallelism (graph/schedule.hpp): with more than one thread, forward() and autodiff's
  // backward() run small nodes that do not depend on each other side by side, each on one thread
  // (a model's two towers), and large ones alone with every thread. On by default; the environment
  // variable DAGRAD_INTER_OP=0 turns it off for a process, set_inter_op() for a graph, and
  // DAGRAD_INTER_OP=always runs every graph's independent nodes side by side whatever their cost
  // (ScheduleLimits::always(): how the test suite checks tiny graphs that way). Results are
  // deterministic either way for a fixed thread count, but differ in rounding between the two.
  void set_inter_op(bool on);
  bool inter_op() const { return inter_op_; }
  void set_schedule_limits(const ScheduleLimits& limits);
  const ScheduleLimits& schedule_limits() const { return limits_; }
  // What the last schedule built (after a forward over new shapes) found for op node `id`: its cost
  // and whether it runs alone (ScheduleLimits); costs_version() changes with every rebuild.
  double node_cost(int id) const { return cost_.at(static_cast<size_t>(id)); }
  bool node_wide(int id) const { return wide_.at(static_cast<size_t>(id)) != 0; }
  uint64_t costs_version() const { return costs_version_; }
  // The schedule forward(targets) used last (null when it ran one node at a time): for tests.
  const Schedule* forward_schedule(std::span<const int> targets) const;

  // Times every op call into `p` (resized to the graph) until detached with nullptr.
  void attach_profile(Profile* p);
  Profile* profile() const { return profile_; }

  // One line per node: id, name, op, inputs, shape, parameters and memory at `batch`.
  std::string summary(int64_t batch = 1) const;

 private:
  int append(Node n);
  int add_node(const std::string& op_name, const std::vector<int>& slot_ids, const Attrs& attrs, std::string name,
               std::unique_ptr<Op> op);

  std::vector<Node> nodes_;
  std::map<std::string, int> by_name_;
  std::vector<Tensor> values_;
  std::vector<char> computed_;             // value is current for the last forward
  uint64_t version_ = next_version();
  bool training_ = true;
  static uint64_t next_version();
  Profile* profile_ = nullptr;

  // Forward plans, so that a step neither allocates nor re-infers shapes: the nodes each recent
  // target list needs (the loss and, in evaluation, each tower alternate), and per node the input
  // shapes its output type was last inferred from.
  struct Plan {
    std::vector<int> targets;
    std::vector<char> need;
    std::vector<int> ops;  // the op nodes needed, in id order
    Schedule schedule;     // built after a forward over new shapes, when more than one thread runs
  };
  struct Inferred {
    std::vector<Shape> in;
    std::vector<DType> dtypes;
    TensorType out;
    bool valid = false;
  };
  // One calling thread's scratch for run_node.
  struct Scratch {
    Inputs in;
    std::vector<TensorType> types;
    bool inferred = false;  // run_node inferred a new shape since the pass began
  };
  Plan& plan(std::span<const int> targets);
  bool inferred_matches(const Node& n) const;
  void run_node(Node& n, Scratch& s);
  void schedule_plan(Plan& p, int threads);
  std::vector<Plan> plans_;
  std::vector<Inferred> inferred_;
  std::vector<Scratch> scratch_{1};
  bool inter_op_ = inter_op_mode_from_env() != InterOpMode::off;
  ScheduleLimits limits_ = inter_op_mode_from_env() == InterOpMode::always ? ScheduleLimits::always() : ScheduleLimits{};
  std::vector<double> cost_;
  std::vector<char> wide_;
  uint64_t costs_version_ = 0;
};

// Shape with kBatch replaced by `batch` and kTokens by 1 (memory estimates per token).
Shape concrete(const Shape& s, int64_t batch);

}  // namespace dagrad
