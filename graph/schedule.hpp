// Schedule: the op nodes of one pass (a forward, or a backward in reverse) in phases that run one
// after another. A phase is either one node run alone with every thread (its op parallelises
// inside: the in-batch logits, a layer over a large batch), or small nodes run side by side, each
// on one thread, taken by the threads as their inputs become ready: inter-op parallelism, which
// lets the two towers of a retrieval model run at once instead of each small product paying for
// waking the second thread. Built from the pass's dependencies and each node's cost (Graph and
// autodiff build one per plan); run() executes it.
#pragma once
#include <exception>
#include <limits>
#include <span>
#include <vector>

namespace dagrad {

// When nodes run side by side. A node's cost is its forward FLOPs plus kElementCost per output
// element (a streaming loop's element costs about as much time as that many FLOPs of a small
// product on one core).
struct ScheduleLimits {
  static constexpr double kElementCost = 16;
  // A node this costly, or with at least wide_elements output elements (where the ops' own loops
  // use every thread: ops/kernels' kParallelMinElements), runs alone with every thread. 2^26 FLOPs
  // is a [2048, 128] x [128, 128] product: below it, one thread runs a tower's product about as
  // fast as two (docs/performance.md).
  double wide_cost = double(1 << 26);
  double wide_elements = double(1 << 20);
  // A phase runs side by side when the work off its longest path costs at least min_gain (less
  // would not pay for waking the other threads, 5-50 µs) and at least min_share of the phase's:
  // side by side, the nodes on the longest path run on one thread each, where a small product on
  // two threads is 1.1-1.3x as fast; a tower evaluated alone (a chain but for its lookups) is
  // faster one node at a time.
  double min_gain = double(1 << 20);
  double min_share = 0.25;
  bool wide(double cost, double elements) const { return cost >= wide_cost || elements >= wide_elements; }
  // Every node small and every phase worth it: how tests make tiny graphs run side by side.
  static ScheduleLimits always() {
    ScheduleLimits l;
    l.wide_cost = l.wide_elements = std::numeric_limits<double>::infinity();
    l.min_gain = 0;
    l.min_share = 0;
    return l;
  }
};

// DAGRAD_INTER_OP, read once: 0 off, 1 on (the default, also when unset), always (every node small
// and every phase worth it: ScheduleLimits::always()). Anything else is a UserError.
enum class InterOpMode { off, on, always };
InterOpMode inter_op_mode_from_env();

class Schedule {
 public:
  struct Phase {
    std::vector<int> nodes;  // node ids; in a serial phase, in the order they run
    bool concurrent = false;
    int threads = 1;
    // Concurrent phases: per position in `nodes`, the in-phase predecessors' count, the in-phase
    // successors, and the cost of the longest path from the node to the phase's end (the threads
    // take the ready node with the longest one first).
    std::vector<int> indegree;
    std::vector<std::vector<int>> next;
    std::vector<double> rank;
  };

  // `order`: the pass's node ids in an order valid to run one by one; deps[k]: the positions in
  // `order` (each < k, repeats allowed) of the nodes order[k] waits for; cost[k] its cost, wide[k] whether it runs
  // alone with every thread (ScheduleLimits::wide); `threads` the most a phase may use (1: every
  // phase serial).
  void build(std::span<const int> order, const std::vector<std::vector<int>>& deps, std::span<const double> cost,
             std::span<const char> wide, const ScheduleLimits& limits, int threads);
  bool built() const { return built_; }
  void clear() { built_ = false; phases_.clear(); }
  const std::vector<Phase>& phases() const { return phases_; }
  // The scratch slots run() may pass: the most threads of any phase.
  int slots() const { return slots_; }
  int threads() const { return threads_; }

  // Runs every node, calling fn(node id, slot) with slot < slots() naming the calling thread's
  // scratch (0 outside concurrent phases). An exception from fn stops the pass: nodes not started
  // then are not run, and the first exception is rethrown once the threads have stopped.
  template <class Fn>
  void run(Fn&& fn) {
    for (Phase& ph : phases_) {
      if (!ph.concurrent) {
        for (int id : ph.nodes) fn(id, 0);
        continue;
      }
      run_concurrent(ph, [](void* f, int id, int slot) { (*static_cast<Fn*>(f))(id, slot); }, &fn);
    }
  }

 private:
  using Call = void (*)(void*, int, int);
  void run_concurrent(Phase& ph, Call call, void* fn);

  std::vector<Phase> phases_;
  bool built_ = false;
  int slots_ = 1;
  int threads_ = 1;
  // A concurrent phase's state while it runs, reused.
  std::vector<int> remaining_, ready_;
};

}  // namespace dagrad
