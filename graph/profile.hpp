// Profile: where the time of training steps goes, node by node, for benchmarks.
#pragma once
#include <cstdint>
#include <vector>

namespace dagrad {

// Where the time of training steps goes, when a Profile is attached to a graph (benchmarks): the
// seconds of each node's forward and backward calls, gradient clearing, and what the training
// loop records around them (feeding inputs, the optimizer). Timing costs ~50 ns per call.
struct Profile {
  std::vector<double> forward_s, backward_s;  // by node id
  std::vector<int64_t> forward_calls, backward_calls;
  double clear_s = 0;      // backward(): zeroing gradients, deduplicating sparse gradient rows
  double feed_s = 0;       // training loop: feeding a batch (features and task inputs)
  double optimizer_s = 0;  // training loop: the optimizer step
  int64_t steps = 0;       // training steps recorded
  void reset(int nodes);
};

}  // namespace dagrad
