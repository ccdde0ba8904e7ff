// Graph: an append-only list of nodes in topological order, referred to by integer id.
// A node is a named input (fed per batch), a parameter (owns its value), or an op applied to
// earlier nodes. Shapes are inferred as nodes are added; a dimension known only at run time (the
// batch, a padded token axis) is kBatch;
// at run time buffers are planned per shape and reused, so a training step does not allocate.
#pragma once
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/op.hpp"
#include "graph/profile.hpp"

namespace dagrad {

enum class NodeKind { Input, Param, Op };

struct Node {
  int id = -1;
  NodeKind kind = NodeKind::Op;
  std::string name;
  std::string op_name;  // for op nodes
  Attrs attrs;          // for op nodes, as given
  std::unique_ptr<Op> op;
  std::vector<int> inputs;
  TensorType type;         // dimension 0 may be kBatch
  bool needs_grad = false; // a parameter, an input asked for, or an op over one of those
};

// What backward() keeps between calls, so that a training step does not allocate.
struct BackwardState {
  bool valid = false;
  int loss = -1;
  std::vector<char> live;             // by node: backward computes its gradient
  std::vector<char> written;          // by node: its gradient was written in this pass
  std::vector<Tensor> lent;           // by node: a gradient an op lent (Grads::lend) ...
  std::vector<char> is_lent;          // ... in this pass, used instead of the graph's own buffer
  std::vector<const Tensor*> lend_slots;  // one op's Grads::lend records
  std::vector<uint64_t> row_bits;     // deduplication of a sparse gradient's rows
  Inputs in;                          // one op's arguments
  std::vector<Tensor*> dense;
  std::vector<std::vector<int32_t>*> rows;
  std::vector<char> fresh;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Building. Names must be unique; an empty op-node name becomes "<op>_<id>".
  int input(const std::string& name, TensorType type);
  int param(const std::string& name, Tensor value, bool trainable = true);
  // Throws UserError naming the node, the op and the input shapes when they do not fit.
  int add(const std::string& op, std::vector<int> inputs, const Attrs& attrs = {}, std::string name = "");

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
  // Lets the gradient with respect to an input be computed (gradient checks, saliency).
  void set_input_needs_grad(int id, bool on);
  void forward();                          // every node
  void forward(std::span<const int> targets);  // only what the targets need
  const Tensor& value(int id) const;
  Tensor& param_value(int id);             // parameters only: optimizers write here

  // Gradients, valid after backward() until the next forward() (a gradient an op lent lives in
  // that op's buffers). A parameter read only by ops that touch rows (an embedding table) has a
  // sparse gradient: only grad_rows() (sorted, unique) are valid.
  const Tensor& grad(int id) const;
  bool grad_sparse(int id) const { return sparse_.at(id); }
  // True when the last backward() wrote node `id`'s gradient; a node that loss does not reach
  // keeps an older pass's gradient, which must not be applied again.
  bool grad_current(int id) const {
    return bw_.valid && static_cast<size_t>(id) < bw_.written.size() && bw_.written[static_cast<size_t>(id)];
  }
  const std::vector<int32_t>& grad_rows(int id) const { return rows_.at(id); }

  // Flags by node id: 1 for the targets and every node they depend on.
  std::vector<char> ancestors(std::span<const int> targets) const;

  // Floating-point operations of forward(targets) at the shapes of the last forward (each op's
  // Op::flops); the values it needs must have been computed.
  double forward_flops(std::span<const int> targets) const;

  // Times every op call into `p` (resized to the graph) until detached with nullptr.
  void attach_profile(Profile* p);
  Profile* profile() const { return profile_; }

  // One line per node: id, name, op, inputs, shape, parameters and memory at `batch`.
  std::string summary(int64_t batch = 1) const;

 private:
  friend void backward(Graph& g, int loss, const Tensor* seed);
  friend double backward_flops(const Graph& g, int loss);
  int append(Node n);
  void ensure_value(int id, const Shape& shape, DType dtype);
  void update_sparse_flags();

  std::vector<Node> nodes_;
  std::map<std::string, int> by_name_;
  std::vector<Tensor> values_, grads_;
  std::vector<char> computed_;             // value is current for the last forward
  std::vector<char> sparse_;
  std::vector<std::vector<int32_t>> rows_; // touched rows of sparse gradients
  bool sparse_dirty_ = true;
  Profile* profile_ = nullptr;

  // Forward plans, so that a step neither allocates nor re-infers shapes: the nodes each recent
  // target list needs (the loss and, in evaluation, each tower alternate), and per node the input
  // shapes its output type was last inferred from.
  struct Plan {
    std::vector<int> targets;
    std::vector<char> need;
  };
  struct Inferred {
    std::vector<Shape> in;
    std::vector<DType> dtypes;
    TensorType out;
    bool valid = false;
  };
  const std::vector<char>& plan(std::span<const int> targets);
  bool inferred_matches(const Node& n) const;
  std::vector<Plan> plans_;
  std::vector<Inferred> inferred_;
  Inputs in_scratch_;
  std::vector<TensorType> types_scratch_;
  BackwardState bw_;
};

// Shape with kBatch replaced by `batch` and kTokens by 1 (memory estimates per token).
Shape concrete(const Shape& s, int64_t batch);

}  // namespace dagrad
