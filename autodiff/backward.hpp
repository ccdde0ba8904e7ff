// Reverse-mode differentiation over a Graph whose forward() has run, through the graph's public
// interface: Gradients holds what backward() computes, one slot per node, and what it derives
// from the graph's structure, kept between calls so that a training step does not allocate. With
// more than one thread, small independent nodes run side by side as in Graph::forward.
#pragma once
#include <cstdint>
#include <vector>

#include "graph/graph.hpp"

namespace dagrad {

class Gradients {
 public:
  // The gradient of d(loss)/d(node `id`), valid after backward() until the graph's next forward()
  // (a gradient an op lent lives in that op's buffers).
  const Tensor& grad(int id) const;
  // A parameter read only by ops that touch rows (an embedding table) has a sparse gradient:
  // only rows(id) (sorted, unique) are valid; the other rows are zero.
  bool sparse(int id) const { return static_cast<size_t>(id) < sparse_.size() && sparse_[static_cast<size_t>(id)]; }
  const std::vector<int32_t>& rows(int id) const { return rows_.at(static_cast<size_t>(id)); }
  // True when the last backward() wrote node `id`'s gradient; a node that the loss does not
  // reach keeps an older pass's gradient, which must not be applied again.
  bool current(int id) const { return static_cast<size_t>(id) < written_.size() && written_[static_cast<size_t>(id)]; }

 private:
  friend void backward(Graph& g, int loss, Gradients& grads, const Tensor* seed);
  void prepare(const Graph& g, int loss);  // re-derives the structure's flags when it changed
  // One op's arguments, reused: one per thread that runs nodes.
  struct Scratch {
    Inputs in;
    std::vector<Tensor*> dense;
    std::vector<std::vector<int32_t>*> row_lists;
    std::vector<char*> pending_slots;
    std::vector<const Tensor*> lend_slots;
    double clear_s = 0;  // profiling: time spent zeroing and copying gradients
  };
  void run_node(Graph& g, int i, Scratch& s);
  // Node i's backward waits for the last node before it that wrote its gradient, and for the last
  // that wrote each of its inputs' (so two nodes never write one gradient at once, and they write
  // it in the order of one node at a time): the graph's costs decide the phases.
  void schedule(const Graph& g, int threads);

  std::vector<Tensor> grads_;
  std::vector<char> sparse_;
  std::vector<std::vector<int32_t>> rows_;
  std::vector<char> written_;     // by node: its gradient was written in the last pass
  std::vector<Tensor> lent_;      // by node: a gradient an op lent (Grads::lend) ...
  std::vector<char> is_lent_;     // ... in this pass, used instead of the own buffer
  std::vector<char> pending_;     // by node: its dense gradient holds nothing yet in this pass
  // Derived from the structure, for one graph version and loss.
  uint64_t version_ = ~uint64_t{0};
  const Graph* graph_ = nullptr;
  int loss_ = -1;
  std::vector<char> live_;        // by node: backward computes its gradient
  std::vector<int> order_;        // the live op nodes, in the order backward runs them alone
  // Inter-op parallelism (Graph::set_inter_op): the pass's schedule, for the graph's costs and a
  // thread count.
  Schedule schedule_;
  uint64_t costs_version_ = 0;
  std::vector<Scratch> scratch_{1};
  std::vector<uint64_t> row_bits_;  // deduplication of a sparse gradient's rows
};

// Seeds d(loss)/d(loss) = 1 (or `seed`, which must have the loss's shape) and runs one reverse
// loop over the op nodes that lead from something needing a gradient to the loss, writing the
// gradients into `grads`. The loss must be a single element unless a seed is given.
void backward(Graph& g, int loss, Gradients& grads, const Tensor* seed = nullptr);

// Floating-point operations of backward(g, loss) at the shapes of the last forward (each op's
// Op::flops for the inputs that get a gradient).
double backward_flops(const Graph& g, int loss);

}  // namespace dagrad
