#include "autodiff/backward.hpp"

#include <algorithm>
#include <bit>
#include <chrono>

namespace dagrad {
namespace {

// Nodes on a path from something that needs a gradient to the loss.
std::vector<char> live_nodes(const Graph& g, int loss) {
  std::vector<char> live = g.ancestors(std::span<const int>(&loss, 1));
  for (int i = 0; i < g.size(); ++i) live[i] = live[i] && g.node(i).needs_grad;
  return live;
}

// Makes `gr` a gradient buffer shaped like `v`, reusing its storage when it is large enough.
void shape_like(Tensor& gr, const Tensor& v) {
  if (gr.defined() && gr.shape() == v.shape()) return;
  gr = grown_view(gr, v.shape());
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

const Tensor& Gradients::grad(int id) const {
  const size_t i = static_cast<size_t>(id);
  if (i < is_lent_.size() && is_lent_[i]) return lent_[i];
  return grads_.at(i);
}

void Gradients::prepare(const Graph& g, int loss) {
  if (graph_ == &g && version_ == g.version() && loss_ == loss) return;
  const size_t n = static_cast<size_t>(g.size());
  grads_.resize(n);
  rows_.resize(n);
  lent_.resize(n);
  // A rank-2 parameter whose every consumer reads it through a sparse_rows() input (an
  // embedding table) gets a sparse gradient.
  std::vector<int> dense_uses(n, 0), sparse_uses(n, 0);
  for (int i = 0; i < g.size(); ++i) {
    const Node& node = g.node(i);
    if (node.kind != NodeKind::Op) continue;
    for (size_t k = 0; k < node.slots.size(); ++k)
      if (node.slots[k] >= 0)
        (node.op->sparse_rows(static_cast<int>(k)) ? sparse_uses : dense_uses)[node.inputs[node.slots[k]]]++;
  }
  sparse_.assign(n, 0);
  for (int i = 0; i < g.size(); ++i) {
    const Node& node = g.node(i);
    sparse_[i] = node.kind == NodeKind::Param && node.type.shape.size() == 2 && sparse_uses[i] > 0 && dense_uses[i] == 0;
    // A sparse gradient must be zero outside its rows: start it afresh (the buffer may have been
    // another node's, or dense).
    if (sparse_[i]) {
      grads_[i] = Tensor();
      rows_[i].clear();
    }
  }
  live_ = live_nodes(g, loss);
  graph_ = &g;
  version_ = g.version();
  loss_ = loss;
}

double backward_flops(const Graph& g, int loss) {
  std::vector<char> live = live_nodes(g, loss);
  double total = 0;
  Inputs in;
  for (int i = loss; i >= 0; --i) {
    const Node& n = g.node(i);
    if (!live[i] || n.kind != NodeKind::Op) continue;
    g.op_inputs(i, in);
    for (size_t k = 0; k < n.slots.size(); ++k)
      if (n.slots[k] >= 0 && live[n.inputs[n.slots[k]]]) total += n.op->flops(in, g.value(i), static_cast<int>(k));
  }
  return total;
}

void backward(Graph& g, int loss, Gradients& gr, const Tensor* seed) {
  const Tensor& lv = g.value(loss);
  if (!seed && lv.size() != 1)
    throw UserError("backward: loss node '" + g.node(loss).name + "' must be a single value, has shape " +
                    shape_str(lv.shape()));
  if (!g.node(loss).needs_grad)
    throw UserError("backward: loss node '" + g.node(loss).name + "' depends on no parameter");
  gr.prepare(g, loss);
  const std::vector<char>& live = gr.live_;

  using Clock = std::chrono::steady_clock;
  Profile* prof = g.profile();
  auto t0 = prof ? Clock::now() : Clock::time_point{};
  double clear_s = 0;
  // Dense gradient buffers are shaped here but not zeroed: each is marked pending, and the first
  // op to touch it in this pass zeroes it (Grads::operator[]), writes it (Grads::out) or lends
  // its own tensor (Grads::lend). A sparse gradient keeps the invariant "zero outside its rows":
  // the last pass's rows are cleared.
  const size_t nodes = static_cast<size_t>(g.size());
  gr.written_.assign(nodes, 0);
  gr.is_lent_.assign(nodes, 0);
  gr.pending_.assign(nodes, 0);
  for (int i = 0; i <= loss; ++i) {
    if (!live[i]) continue;
    const Tensor& v = g.value(i);
    Tensor& buf = gr.grads_[i];
    if (!gr.sparse_[i]) {
      shape_like(buf, v);
      gr.pending_[i] = 1;
      continue;
    }
    if (buf.defined() && buf.shape() == v.shape()) {
      const int64_t width = v.dim(1);
      for (int32_t r : gr.rows_[i]) std::fill_n(buf.f32() + r * width, width, 0.0f);
    } else {
      shape_like(buf, v);
      buf.zero();
    }
    gr.rows_[i].clear();
  }
  if (seed) {
    DAGRAD_ASSERT(seed->shape() == lv.shape(), "backward seed shape " + shape_str(seed->shape()) +
                                                   " differs from loss " + shape_str(lv.shape()));
    gr.grads_[loss].copy_from(*seed);
  } else {
    gr.grads_[loss].fill(1.0f);
  }
  gr.pending_[loss] = 0;
  gr.written_[loss] = 1;
  if (prof) clear_s += std::chrono::duration<double>(Clock::now() - t0).count();

  for (int i = loss; i >= 0; --i) {
    const Node& n = g.node(i);
    if (!live[i] || n.kind != NodeKind::Op) continue;
    if (prof) t0 = Clock::now();
    const size_t slots = n.slots.size();
    g.op_inputs(i, gr.in_);
    gr.dense_.assign(slots, nullptr);
    gr.row_lists_.assign(slots, nullptr);
    gr.pending_slots_.assign(slots, nullptr);
    gr.lend_slots_.assign(slots, nullptr);
    // A value the op reads twice gets both gradients added: it may not take a lent one.
    bool repeated = false;
    for (size_t a = 0; a < n.inputs.size() && !repeated; ++a)
      for (size_t b = a + 1; b < n.inputs.size() && !repeated; ++b) repeated = n.inputs[a] == n.inputs[b];
    for (size_t k = 0; k < slots; ++k) {
      if (n.slots[k] < 0) continue;
      const int j = n.inputs[n.slots[k]];
      if (!live[j]) continue;
      gr.dense_[k] = &gr.grads_[j];
      if (gr.sparse_[j]) {
        gr.row_lists_[k] = &gr.rows_[j];
        continue;
      }
      if (gr.is_lent_[j]) {  // about to be added to: copy the lent gradient into the own buffer
        gr.grads_[j].copy_from(gr.lent_[j]);
        gr.is_lent_[j] = 0;
      }
      gr.pending_slots_[k] = &gr.pending_[j];
    }
    if (gr.pending_[i]) {  // no consumer touched this node's gradient: it is zero
      gr.grads_[i].zero();
      gr.pending_[i] = 0;
    }
    const Tensor& dout = gr.is_lent_[i] ? gr.lent_[i] : gr.grads_[i];
    if (prof) clear_s += std::chrono::duration<double>(Clock::now() - t0).count();
    if (prof) t0 = Clock::now();
    g.op(i).backward(gr.in_, g.value(i), dout,
                     Grads(gr.dense_, gr.row_lists_, gr.pending_slots_,
                           repeated ? std::span<const Tensor*>() : std::span<const Tensor*>(gr.lend_slots_)));
    if (prof) {
      prof->backward_s[i] += std::chrono::duration<double>(Clock::now() - t0).count();
      prof->backward_calls[i]++;
    }
    for (size_t k = 0; k < slots; ++k) {
      if (!gr.dense_[k]) continue;
      const int j = n.inputs[n.slots[k]];
      gr.written_[j] = 1;
      if (const Tensor* t = gr.lend_slots_[k]) {  // the op lent its own tensor as this gradient
        DAGRAD_ASSERT(t->shape() == g.value(j).shape(),
                      "op '" + n.name + "' lent a gradient of shape " + shape_str(t->shape()) + " for " +
                          shape_str(g.value(j).shape()));
        gr.lent_[j] = *t;
        gr.is_lent_[j] = 1;
      }
    }
  }
  if (prof) t0 = Clock::now();
  for (int i = 0; i <= loss; ++i) {
    if (!live[i]) continue;
    if (gr.pending_[i]) {  // a leaf whose consumers added nothing
      gr.grads_[i].zero();
      gr.pending_[i] = 0;
    }
    if (gr.sparse_[i]) sort_unique(gr.rows_[i], g.value(i).dim(0), gr.row_bits_);
  }
  if (prof) prof->clear_s += clear_s + std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace dagrad
