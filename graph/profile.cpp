#include "graph/profile.hpp"

namespace dagrad {

void Profile::reset(int nodes) {
  forward_s.assign(nodes, 0.0);
  backward_s.assign(nodes, 0.0);
  forward_calls.assign(nodes, 0);
  backward_calls.assign(nodes, 0);
  clear_s = feed_s = optimizer_s = 0;
  steps = 0;
}

}  // namespace dagrad
