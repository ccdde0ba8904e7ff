#include "autodiff/backward.hpp"

#include <algorithm>
#include <bit>
#include <chrono>

namespace dagrad {
namespace {

// Nodes on a path from a trainable leaf to the loss.
std::vector<char> live_nodes(const Graph& g, int loss) {
  std::vector<char> live = g.ancestors(std::span<const int>(&loss, 1));
  for (int i = 0; i < g.size(); ++i) live[i] = live[i] && g.node(i).needs_grad;
  return live;
}

// Makes `gr` a gradient buffer shaped like `v`, reusing its storage when it is large enough.
void shape_like(Tensor& gr, const Tensor& v) {
  if (gr.defined() && gr.shape() == v.shape()) return;
  if (Tensor r = gr.defined() ? gr.resized(v.shape()) : Tensor(); r.defined()) gr = r;
  else gr = Tensor(v.shape());
}

// Sorts and deduplicates `rows` (ids in [0, n)) through a bitmap: O(rows + n / 64), and the
// bitmap is left all zero for the next call.
void sort_unique(std::vector<int32_t>& rows, int64_t n, std::vector<uint64_t>& bits) {
  const size_t words = static_cast<size_t>((n + 63) / 64);
  if (bits.size() < words) bits.resize(words, 0);
  for (int32_t r : rows) bits[static_cast<size_t>(r) >> 6] |= uint64_t{1} << (r & 63);
  rows.clear();
  for (size_t w = 0; w < words; ++w)
    for (uint64_t b = bits[w]; b; b &= b - 1) rows.push_back(static_cast<int32_t>(w * 64 + std::countr_zero(b)));
  std::fill_n(bits.begin(), words, 0);
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
  BackwardState& st = g.bw_;
  if (!st.valid || st.loss != loss) {
    st.live = live_nodes(g, loss);
    st.loss = loss;
    st.valid = true;
  }
  const std::vector<char>& live = st.live;

  using Clock = std::chrono::steady_clock;
  Profile* prof = g.profile_;
  auto t0 = prof ? Clock::now() : Clock::time_point{};
  double clear_s = 0;
  // Dense gradient buffers are neither shaped nor zeroed here: the first op to write one in this
  // pass writes it fresh (writes_fresh_grads), lends its own (Grads::lend), or finds it zeroed
  // just before. A sparse gradient keeps the invariant "zero outside its rows": the last pass's
  // rows are cleared.
  const size_t nodes = g.nodes_.size();
  st.written.assign(nodes, 0);
  st.is_lent.assign(nodes, 0);
  if (st.lent.size() != nodes) st.lent.resize(nodes);
  for (int i = 0; i <= loss; ++i) {
    if (!live[i] || !g.sparse_[i]) continue;
    const Tensor& v = g.values_[i];
    Tensor& gr = g.grads_[i];
    if (gr.defined() && gr.shape() == v.shape()) {
      const int64_t width = v.dim(1);
      for (int32_t r : g.rows_[i]) std::fill_n(gr.f32() + r * width, width, 0.0f);
    } else {
      shape_like(gr, v);
      gr.zero();
    }
    g.rows_[i].clear();
  }
  shape_like(g.grads_[loss], lv);
  if (seed) {
    DAGRAD_ASSERT(seed->shape() == lv.shape(), "backward seed shape " + shape_str(seed->shape()) +
                                                   " differs from loss " + shape_str(lv.shape()));
    g.grads_[loss].copy_from(*seed);
  } else {
    g.grads_[loss].fill(1.0f);
  }
  st.written[loss] = 1;
  if (prof) clear_s += std::chrono::duration<double>(Clock::now() - t0).count();

  for (int i = loss; i >= 0; --i) {
    Node& n = g.nodes_[i];
    if (!live[i] || n.kind != NodeKind::Op) continue;
    const size_t k_in = n.inputs.size();
    st.in.clear();
    st.dense.clear();
    st.rows.clear();
    st.fresh.clear();
    st.lend_slots.assign(k_in, nullptr);
    const bool op_fresh = n.op->writes_fresh_grads();
    if (prof) t0 = Clock::now();
    for (size_t k = 0; k < k_in; ++k) {
      const int j = n.inputs[k];
      const bool first = std::find(n.inputs.begin(), n.inputs.begin() + static_cast<std::ptrdiff_t>(k), j) ==
                         n.inputs.begin() + static_cast<std::ptrdiff_t>(k);
      bool fresh = live[j] && !st.written[j] && !g.sparse_[j];
      // A value read twice by one op gets both gradients added: it cannot be written fresh.
      const bool repeated = std::count(n.inputs.begin(), n.inputs.end(), j) > 1;
      if (live[j] && !g.sparse_[j] && first) {
        if (fresh) shape_like(g.grads_[j], g.values_[j]);
        if (fresh && (!op_fresh || repeated)) g.grads_[j].zero();
        if (st.is_lent[j]) {  // about to be added to: copy the lent gradient into the own buffer
          shape_like(g.grads_[j], g.values_[j]);
          g.grads_[j].copy_from(st.lent[j]);
          st.is_lent[j] = 0;
        }
      }
      if (fresh && (!op_fresh || repeated)) fresh = false;
      st.in.push_back(&g.values_[j]);
      st.dense.push_back(live[j] ? &g.grads_[j] : nullptr);
      st.rows.push_back(live[j] && g.sparse_[j] ? &g.rows_[j] : nullptr);
      st.fresh.push_back(fresh);
    }
    if (prof) clear_s += std::chrono::duration<double>(Clock::now() - t0).count();
    if (prof) t0 = Clock::now();
    const Tensor& dout = st.is_lent[i] ? st.lent[i] : g.grads_[i];
    n.op->backward(st.in, g.values_[i], dout, Grads(st.dense, st.rows, st.fresh, st.lend_slots));
    if (prof) {
      prof->backward_s[i] += std::chrono::duration<double>(Clock::now() - t0).count();
      prof->backward_calls[i]++;
    }
    for (size_t k = 0; k < k_in; ++k) {
      const int j = n.inputs[k];
      if (!live[j]) continue;
      st.written[j] = 1;
      if (st.lend_slots[k]) {  // the op lent its own tensor as this gradient
        DAGRAD_ASSERT(st.lend_slots[k]->shape() == g.values_[j].shape(),
                      "op '" + n.name + "' lent a gradient of shape " + shape_str(st.lend_slots[k]->shape()) +
                          " for " + shape_str(g.values_[j].shape()));
        st.lent[j] = *st.lend_slots[k];
        st.is_lent[j] = 1;
      }
    }
  }
  if (prof) t0 = Clock::now();
  for (int i = 0; i <= loss; ++i)
    if (g.sparse_[i] && live[i]) sort_unique(g.rows_[i], g.values_[i].dim(0), st.row_bits);
  if (prof) prof->clear_s += clear_s + std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace dagrad
