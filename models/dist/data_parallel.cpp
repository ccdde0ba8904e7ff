#include "models/dist/data_parallel.hpp"

#include <algorithm>
#include <cstring>

#include "graph/error.hpp"

namespace dagrad {

void DataParallel::broadcast(Graph& g, const std::vector<std::pair<std::string, Tensor*>>& extra) {
  for (int id : g.params()) {
    Tensor& t = g.param_value(id);
    if (t.defined() && t.size()) w_.broadcast(t.f32(), t.size() * 4, 0);
  }
  for (const auto& [name, t] : extra)
    if (t->defined() && t->size()) w_.broadcast(t->f32(), t->size() * 4, 0);
}

std::span<const ParamGrad> DataParallel::reduce(Graph& g, const Gradients& grads) {
  const int64_t before = w_.bytes_sent;
  if (buffers_.size() < static_cast<size_t>(g.size())) buffers_.resize(static_cast<size_t>(g.size()));
  params_.clear();
  // Dense gradients: packed into one buffer, one all-reduce for all of them.
  std::vector<int> dense_ids, sparse_ids;
  int64_t dense_n = 0;
  for (int id = 0; id < g.size(); ++id) {
    const Node& n = g.node(id);
    if (n.kind != NodeKind::Param || !n.needs_grad || !grads.current(id) || !grads.grad(id).defined()) continue;
    if (grads.sparse(id)) {
      sparse_ids.push_back(id);
    } else {
      dense_ids.push_back(id);
      dense_n += grads.grad(id).size();
    }
  }
  dense_.resize(static_cast<size_t>(dense_n));
  int64_t off = 0;
  for (int id : dense_ids) {
    const Tensor& gr = grads.grad(id);
    std::memcpy(dense_.data() + off, gr.f32(), static_cast<size_t>(gr.size()) * 4);
    off += gr.size();
  }
  if (dense_n) w_.allreduce_sum(std::span<float>(dense_.data(), dense_.size()));
  off = 0;
  for (int id : dense_ids) {
    Buffers& b = buffers_[static_cast<size_t>(id)];
    const Tensor& gr = grads.grad(id);
    if (!(b.grad.defined() && b.grad.shape() == gr.shape())) b.grad = Tensor(gr.shape());
    std::memcpy(b.grad.f32(), dense_.data() + off, static_cast<size_t>(gr.size()) * 4);
    off += gr.size();
  }
  // Sparse gradients: each rank's rows and their values, all-gathered, summed in rank order.
  for (int id : sparse_ids) {
    const Tensor& gr = grads.grad(id);
    const std::vector<int32_t>& rows = grads.rows(id);
    const int64_t width = gr.dim(1), nrows = gr.dim(0);
    const std::vector<int64_t> counts = w_.allgather(static_cast<int64_t>(rows.size()));
    int64_t total = 0;
    for (int64_t c : counts) total += c;
    std::vector<int64_t> bytes(counts.size());
    for (size_t r = 0; r < counts.size(); ++r) bytes[r] = counts[r] * 4;
    all_rows_.resize(static_cast<size_t>(total));
    w_.allgatherv(rows.data(), all_rows_.data(), bytes);
    std::vector<float> mine(rows.size() * static_cast<size_t>(width));
    for (size_t i = 0; i < rows.size(); ++i)
      std::memcpy(mine.data() + i * static_cast<size_t>(width), gr.f32() + int64_t{rows[i]} * width,
                  static_cast<size_t>(width) * 4);
    for (auto& b : bytes) b *= width;
    all_values_.resize(static_cast<size_t>(total * width));
    w_.allgatherv(mine.data(), all_values_.data(), bytes);
    Buffers& b = buffers_[static_cast<size_t>(id)];
    if (!(b.grad.defined() && b.grad.shape() == gr.shape())) b.grad = Tensor(gr.shape());
    mark_.assign(static_cast<size_t>(nrows), 0);
    b.rows.clear();
    for (int32_t r : all_rows_) {
      if (r < 0 || r >= nrows) throw InternalError("sparse gradient row " + std::to_string(r) + " outside the table");
      if (!mark_[static_cast<size_t>(r)]) {
        mark_[static_cast<size_t>(r)] = 1;
        b.rows.push_back(r);
        std::memset(b.grad.f32() + int64_t{r} * width, 0, static_cast<size_t>(width) * 4);
      }
    }
    std::sort(b.rows.begin(), b.rows.end());
    for (int64_t i = 0; i < total; ++i) {  // rank order: the same sums on every rank
      float* dst = b.grad.f32() + int64_t{all_rows_[static_cast<size_t>(i)]} * width;
      const float* src = all_values_.data() + i * width;
      for (int64_t k = 0; k < width; ++k) dst[k] += src[k];
    }
  }
  for (int id = 0; id < g.size(); ++id) {
    Buffers& b = buffers_[static_cast<size_t>(id)];
    const bool dense = std::find(dense_ids.begin(), dense_ids.end(), id) != dense_ids.end();
    const bool sparse = std::find(sparse_ids.begin(), sparse_ids.end(), id) != sparse_ids.end();
    if (!dense && !sparse) continue;
    params_.push_back({g.node(id).name, &g.param_value(id), &b.grad, sparse ? &b.rows : nullptr});
  }
  last_bytes_ = w_.bytes_sent - before;
  return params_;
}

}  // namespace dagrad
