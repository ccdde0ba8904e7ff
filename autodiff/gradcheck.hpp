// Gradient checking against central differences: for one op sample, for every registered op,
// and for whole graphs. An element passes when |analytic - numeric| <= floor + rtol *
// max(|analytic|, |numeric|), where floor = atol * (the largest numeric element of that input's
// gradient), never below the rounding noise of a float loss's central difference: the tolerance
// scales with each sample's gradient, so that an all-zero or a wrong gradient fails however small
// its elements (tests/autodiff/test_gradcheck.cpp proves it). Elements within one step of a
// declared kink are skipped; a non-finite value fails. Op checks also verify that backward accumulates
// (two backward calls give twice the gradient), that a sparse-row gradient records every row it
// wrote, and, for an op that writes fresh gradients, that it writes every element of them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace dagrad {

struct CheckResult {
  std::string label;       // "<op> sample '<label>'" or the graph's name
  bool ok = true;
  int64_t checked = 0;     // elements compared
  int64_t skipped = 0;     // elements skipped near kinks
  double max_rel_err = 0;  // largest |a - n| / (atol + rtol * max(|a|, |n|)); <= 1 passes
  std::string failure;     // first failure, readable
};

CheckResult check_op_sample(const std::string& op, const Sample& sample, uint64_t seed = 1);
// The same for an op already made (the sample's attrs are not used): for checking the checker.
CheckResult check_op_sample(Op& op, const std::string& label, const Sample& sample, uint64_t seed = 1);
// Every sample of one op; an op that declares no sample yields one failing result.
std::vector<CheckResult> check_op(const std::string& op, uint64_t seed = 1);

struct GraphCheckOptions {
  double step = 1e-2, rtol = 2e-2, atol = 2e-3;  // atol: a fraction of each node's largest gradient element
  int64_t max_elements_per_node = 200;  // a deterministic subset of larger tensors
};
// d(loss)/d(node) for each node in `wrt` (parameters, or inputs marked as needing gradients).
CheckResult check_graph(Graph& g, int loss, const std::vector<int>& wrt, const GraphCheckOptions& opt = {});

}  // namespace dagrad
