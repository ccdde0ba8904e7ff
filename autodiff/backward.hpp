// Reverse-mode differentiation over a Graph whose forward() has run.
#pragma once
#include "graph/graph.hpp"

namespace dagrad {

// Seeds d(loss)/d(loss) = 1 (or `seed`, which must have the loss's shape), clears the gradients
// of every node that needs one, and runs one reverse loop that skips nodes needing no gradient.
// The loss must be a single element unless a seed is given.
void backward(Graph& g, int loss, const Tensor* seed = nullptr);

}  // namespace dagrad

namespace dagrad {

// Floating-point operations of backward(g, loss) at the shapes of the last forward (each op's
// Op::flops for the inputs that get a gradient).
double backward_flops(const Graph& g, int loss);

}  // namespace dagrad
