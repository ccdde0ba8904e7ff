#include "models/fit/nan_guard.hpp"

#include <cmath>

namespace dagrad {
namespace {

bool all_finite(const Tensor& t) {
  for (float x : t.values())
    if (!std::isfinite(x)) return false;
  return true;
}

// The first node (in graph order) holding a non-finite value: the one that produced it, since
// its inputs are finite.
std::string first_non_finite(Graph& g, int upto, int64_t step) {
  for (int i = 0; i <= upto; ++i) {
    const Node& n = g.node(i);
    if (n.type.dtype != DType::f32 || all_finite(g.value(i))) continue;
    if (n.kind == NodeKind::Param)
      return "parameter '" + n.name + "' (it became non-finite in the update of step " + std::to_string(step - 1) +
             "; a smaller learning rate may help)";
    if (n.kind == NodeKind::Op) return "node '" + n.name + "' (" + n.op_name + ")";
    return "input '" + n.name + "' (the data, after preprocessing: an extreme value in its column?)";
  }
  return "no single node (the loss itself)";
}

}  // namespace

void NanGuard::on_loss(FitState& s, double loss) {
  if (std::isfinite(loss)) return;
  const int64_t step = s.optimizer->iterations() + 1;
  throw RuntimeFailure("training stopped: the loss is " + std::string(std::isnan(loss) ? "NaN" : "infinite") + " at step " +
                       std::to_string(step) + " (epoch " + std::to_string(s.epoch + 1) + ", batch " + std::to_string(s.batch + 1) +
                       "); first non-finite value at " + first_non_finite(s.model.graph(), s.loss, step) +
                       ". The last good checkpoint (if any) in " + s.out_dir + " is kept.");
}

void check_finite_parameters(const FitState& s) {
  Graph& g = s.model.graph();
  for (int id : g.params()) {
    if (all_finite(g.param_value(id))) continue;
    // The epoch of the last step: the one in progress, or the one just finished.
    const int64_t epoch = s.batch > 0 ? s.epoch + 1 : s.epoch;
    throw RuntimeFailure("training stopped: parameter '" + g.node(id).name + "' is not finite after step " +
                         std::to_string(s.optimizer->iterations()) + " (epoch " + std::to_string(epoch) +
                         "); a smaller learning rate may help. The last good checkpoint (if any) in " + s.out_dir +
                         " is kept.");
  }
}

}  // namespace dagrad
