#include "autodiff/backward.hpp"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <chrono>

#include "graph/dnnl_context.hpp"

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
  order_.clear();
  for (int i = loss; i >= 0; --i)
    if (live_[static_cast<size_t>(i)] && g.node(i).kind == NodeKind::Op) order_.push_back(i);
  schedule_.clear();
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

void Gradients::schedule(const Graph& g, int threads) {
  const size_t m = order_.size();
  std::vector<int> last_writer(static_cast<size_t>(g.size()), -1);  // by node: position in order_
  std::vector<std::vector<int>> deps(m);
  std::vector<double> cost(m);
  std::vector<char> wide(m);
  int last_collective = -1;  // Op::communicates: alone, in this order
  for (size_t k = 0; k < m; ++k) {
    const int i = order_[k];
    const Node& n = g.node(i);
    auto& d = deps[k];
    if (last_writer[static_cast<size_t>(i)] >= 0) d.push_back(last_writer[static_cast<size_t>(i)]);
    if (n.op->communicates()) {
      if (last_collective >= 0) d.push_back(last_collective);
      last_collective = static_cast<int>(k);
    }
    for (size_t s = 0; s < n.slots.size(); ++s) {
      if (n.slots[s] < 0) continue;
      const int j = n.inputs[static_cast<size_t>(n.slots[s])];
      if (!live_[static_cast<size_t>(j)]) continue;
      const int w = last_writer[static_cast<size_t>(j)];
      if (w >= 0 && w != static_cast<int>(k)) d.push_back(w);  // (not itself: a value read twice)
      last_writer[static_cast<size_t>(j)] = static_cast<int>(k);
    }
    cost[k] = g.node_cost(i);
    wide[k] = g.node_wide(i) || n.op->communicates();  // (also when no forward has costed it)
  }
  schedule_.build(order_, deps, cost, wide, g.schedule_limits(), threads);
  costs_version_ = g.costs_version();
}

void Gradients::run_node(Graph& g, int i, Scratch& s) {
  using Clock = std::chrono::steady_clock;
  Profile* prof = g.profile();
  const Node& n = g.node(i);
  auto t0 = prof ? Clock::now() : Clock::time_point{};
  const size_t slots = n.slots.size();
  g.op_inputs(i, s.in);
  s.dense.assign(slots, nullptr);
  s.row_lists.assign(slots, nullptr);
  s.pending_slots.assign(slots, nullptr);
  s.lend_slots.assign(slots, nullptr);
  // A value the op reads twice gets both gradients added: it may not take a lent one.
  bool repeated = false;
  for (size_t a = 0; a < n.inputs.size() && !repeated; ++a)
    for (size_t b = a + 1; b < n.inputs.size() && !repeated; ++b) repeated = n.inputs[a] == n.inputs[b];
  for (size_t k = 0; k < slots; ++k) {
    if (n.slots[k] < 0) continue;
    const int j = n.inputs[n.slots[k]];
    if (!live_[j]) continue;
    s.dense[k] = &grads_[j];
    if (sparse_[j]) {
      s.row_lists[k] = &rows_[j];
      continue;
    }
    if (is_lent_[j]) {  // about to be added to: copy the lent gradient into the own buffer
      grads_[j].copy_from(lent_[j]);
      is_lent_[j] = 0;
    }
    s.pending_slots[k] = &pending_[j];
  }
  if (pending_[i]) {  // no consumer touched this node's gradient: it is zero
    grads_[i].zero();
    pending_[i] = 0;
  }
  const Tensor& dout = is_lent_[i] ? lent_[i] : grads_[i];
  if (prof) {
    const auto t1 = Clock::now();
    s.clear_s += std::chrono::duration<double>(t1 - t0).count();
    t0 = t1;
  }
  g.op(i).backward(s.in, g.value(i), dout,
                   Grads(s.dense, s.row_lists, s.pending_slots,
                         repeated ? std::span<const Tensor*>() : std::span<const Tensor*>(s.lend_slots)));
  if (prof) {
    prof->backward_s[i] += std::chrono::duration<double>(Clock::now() - t0).count();
    prof->backward_calls[i]++;
  }
  for (size_t k = 0; k < slots; ++k) {
    if (!s.dense[k]) continue;
    const int j = n.inputs[n.slots[k]];
    written_[j] = 1;
    if (const Tensor* t = s.lend_slots[k]) {  // the op lent its own tensor as this gradient
      DAGRAD_ASSERT(t->shape() == g.value(j).shape(),
                    "op '" + n.name + "' lent a gradient of shape " + shape_str(t->shape()) + " for " +
                        shape_str(g.value(j).shape()));
      lent_[j] = *t;
      is_lent_[j] = 1;
    }
  }
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

  // Side by side only from the outermost parallel level (as Graph::forward), and only once the
  // graph has costed its nodes (a forward with more than one thread).
  const int threads = g.inter_op() && !omp_in_parallel() && g.costs_version() != 0 ? num_threads() : 1;
  for (auto& s : gr.scratch_) s.clear_s = 0;
  if (threads > 1) {
    if (!gr.schedule_.built() || gr.schedule_.threads() != threads || gr.costs_version_ != g.costs_version())
      gr.schedule(g, threads);
    if (gr.scratch_.size() < static_cast<size_t>(gr.schedule_.slots()))
      gr.scratch_.resize(static_cast<size_t>(gr.schedule_.slots()));
    gr.schedule_.run([&](int i, int slot) { gr.run_node(g, i, gr.scratch_[static_cast<size_t>(slot)]); });
  } else {
    for (int i : gr.order_) gr.run_node(g, i, gr.scratch_[0]);
  }
  for (const auto& s : gr.scratch_) clear_s += s.clear_s;
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
