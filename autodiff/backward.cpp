#include "autodiff/backward.hpp"

#include <algorithm>
#include <chrono>

namespace dagrad {
namespace {

// Nodes on a path from a trainable leaf to the loss.
std::vector<char> live_nodes(const Graph& g, int loss) {
  std::vector<char> live = g.ancestors(std::span<const int>(&loss, 1));
  for (int i = 0; i < g.size(); ++i) live[i] = live[i] && g.node(i).needs_grad;
  return live;
}

}  // namespace

double backward_flops(const Graph& g, int loss) {
  std::vector<char> live = live_nodes(g, loss);
  double total = 0;
  Inputs in;
  for (int i = loss; i >= 0; --i) {
    const Node& n = g.node(i);
    if (!live[i] || n.kind != NodeKind::Op) continue;
    in.clear();
    for (int j : n.inputs) in.push_back(&g.value(j));
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (live[n.inputs[k]]) total += n.op->flops(in, g.value(i), static_cast<int>(k));
  }
  return total;
}

void backward(Graph& g, int loss, const Tensor* seed) {
  const Tensor& lv = g.value(loss);
  if (!seed && lv.size() != 1)
    throw UserError("backward: loss node '" + g.node(loss).name + "' must be a single value, has shape " +
                    shape_str(lv.shape()));
  if (!g.node(loss).needs_grad)
    throw UserError("backward: loss node '" + g.node(loss).name + "' depends on no parameter");
  g.update_sparse_flags();

  using Clock = std::chrono::steady_clock;
  Profile* prof = g.profile_;
  auto t0 = prof ? Clock::now() : Clock::time_point{};
  std::vector<char> live = live_nodes(g, loss);

  for (int i = 0; i <= loss; ++i) {
    if (!live[i]) continue;
    const Tensor& v = g.values_[i];
    Tensor& gr = g.grads_[i];
    if (g.sparse_[i] && gr.defined() && gr.shape() == v.shape()) {
      const int64_t width = v.dim(1);
      for (int32_t r : g.rows_[i]) std::fill_n(gr.f32() + r * width, width, 0.0f);
    } else {
      if (!(gr.defined() && gr.shape() == v.shape())) {
        if (Tensor r = gr.defined() ? gr.resized(v.shape()) : Tensor(); r.defined()) gr = r;
        else gr = Tensor(v.shape());
      }
      gr.zero();
    }
    g.rows_[i].clear();
  }
  if (seed) {
    DAGRAD_ASSERT(seed->shape() == lv.shape(), "backward seed shape " + shape_str(seed->shape()) +
                                                   " differs from loss " + shape_str(lv.shape()));
    g.grads_[loss].copy_from(*seed);
  } else {
    g.grads_[loss].fill(1.0f);
  }

  if (prof) prof->clear_s += std::chrono::duration<double>(Clock::now() - t0).count();

  Inputs in;
  std::vector<Tensor*> dense;
  std::vector<std::vector<int32_t>*> rows;
  for (int i = loss; i >= 0; --i) {
    Node& n = g.nodes_[i];
    if (!live[i] || n.kind != NodeKind::Op) continue;
    in.clear();
    dense.clear();
    rows.clear();
    for (int j : n.inputs) {
      in.push_back(&g.values_[j]);
      dense.push_back(live[j] ? &g.grads_[j] : nullptr);
      rows.push_back(live[j] && g.sparse_[j] ? &g.rows_[j] : nullptr);
    }
    if (prof) t0 = Clock::now();
    n.op->backward(in, g.values_[i], g.grads_[i], Grads(dense, rows));
    if (prof) {
      prof->backward_s[i] += std::chrono::duration<double>(Clock::now() - t0).count();
      prof->backward_calls[i]++;
    }
  }
  for (int i = 0; i <= loss; ++i) {
    if (!g.sparse_[i] || !live[i]) continue;
    auto& r = g.rows_[i];
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
  }
}

}  // namespace dagrad
