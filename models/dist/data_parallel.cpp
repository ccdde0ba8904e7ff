#include "models/dist/data_parallel.hpp"

#include <algorithm>
#include <cstring>

#include "graph/error.hpp"
#include "graph/row_shard.hpp"

namespace dagrad {

void DataParallel::broadcast(Graph& g, const std::vector<std::pair<std::string, Tensor*>>& extra) {
  // A sharded table (graph/row_shard.hpp) is not broadcast: each rank holds other rows, drawn or
  // loaded as the whole table's, and so is its optimizer state.
  for (int id : g.params()) {
    Tensor& t = g.param_value(id);
    if (t.defined() && t.size() && !row_shard(g, id)) w_.broadcast(t.f32(), t.size() * 4, 0);
  }
  for (const auto& [name, t] : extra)
    if (t->defined() && t->size() && !row_shard_of_state(g, name)) w_.broadcast(t->f32(), t->size() * 4, 0);
}

std::span<const ParamGrad> DataParallel::reduce(Graph& g, const Gradients& grads) {
  const int64_t before = w_.bytes_sent;
  if (buffers_.size() < static_cast<size_t>(g.size())) {
    buffers_.resize(static_cast<size_t>(g.size()));
    seen_.resize(static_cast<size_t>(g.size()));
  }
  params_.clear();
  // Dense gradients: packed into one buffer, one all-reduce for all of them.
  std::vector<int> dense_ids, sparse_ids, sharded_ids;
  int64_t dense_n = 0;
  if (sharded_version_ != g.version()) {  // which parameters are sharded tables: once per graph
    sharded_version_ = g.version();
    sharded_.assign(static_cast<size_t>(g.size()), 0);
    for (int id : g.params()) sharded_[static_cast<size_t>(id)] = row_shard(g, id).has_value();
  }
  for (int id = 0; id < g.size(); ++id) {
    const Node& n = g.node(id);
    if (n.kind != NodeKind::Param || !n.needs_grad || !grads.current(id) || !grads.grad(id).defined()) continue;
    if (sharded_[static_cast<size_t>(id)]) {
      // A sharded table's gradient is complete already: its lookups sent each row's gradient to
      // the row's owner, which summed the ranks' in rank order (ops/sharded_embedding.cpp).
      sharded_ids.push_back(id);
    } else if (grads.sparse(id)) {
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
  // Sparse gradients: each rank's rows and their values, all-gathered, summed in rank order. All
  // tables travel together: one all-gather of the row counts (a count per table per rank) and one
  // of the packed rows and values, so that the step's number of collective calls (each a few
  // round trips) does not grow with the number of tables.
  const size_t nt = sparse_ids.size();
  if (nt) {
    std::vector<int64_t> mine_counts(nt);
    int64_t mine_bytes = 0;
    for (size_t t = 0; t < nt; ++t) {
      const int id = sparse_ids[t];
      mine_counts[t] = static_cast<int64_t>(grads.rows(id).size());
      mine_bytes += mine_counts[t] * (4 + 4 * grads.grad(id).dim(1));
    }
    const int ranks = w_.size();
    std::vector<int64_t> counts(nt * static_cast<size_t>(ranks));  // [rank][table]
    std::vector<int64_t> count_bytes(static_cast<size_t>(ranks), static_cast<int64_t>(nt * 8));
    w_.allgatherv(mine_counts.data(), counts.data(), count_bytes);
    // This rank's block: per table, its rows (i32) then their values (f32, row-major).
    packed_.resize(static_cast<size_t>(mine_bytes));
    char* out = packed_.data();
    for (size_t t = 0; t < nt; ++t) {
      const int id = sparse_ids[t];
      const std::vector<int32_t>& rows = grads.rows(id);
      const Tensor& gr = grads.grad(id);
      const int64_t width = gr.dim(1);
      std::memcpy(out, rows.data(), rows.size() * 4);
      out += rows.size() * 4;
      for (int32_t r : rows) {
        std::memcpy(out, gr.f32() + int64_t{r} * width, static_cast<size_t>(width) * 4);
        out += width * 4;
      }
    }
    std::vector<int64_t> bytes(static_cast<size_t>(ranks), 0);
    int64_t total_bytes = 0;
    for (int r = 0; r < ranks; ++r) {
      for (size_t t = 0; t < nt; ++t)
        bytes[static_cast<size_t>(r)] += counts[static_cast<size_t>(r) * nt + t] * (4 + 4 * grads.grad(sparse_ids[t]).dim(1));
      total_bytes += bytes[static_cast<size_t>(r)];
    }
    all_packed_.resize(static_cast<size_t>(total_bytes));
    w_.allgatherv(packed_.data(), all_packed_.data(), bytes);
    // The union of the rows of each table, zeroed, then every rank's values added in rank order.
    for (size_t t = 0; t < nt; ++t) {
      const int id = sparse_ids[t];
      const Tensor& gr = grads.grad(id);
      Buffers& b = buffers_[static_cast<size_t>(id)];
      if (!(b.grad.defined() && b.grad.shape() == gr.shape())) b.grad = Tensor(gr.shape());
      b.rows.clear();
      if (seen_[static_cast<size_t>(id)].size() != static_cast<size_t>(gr.dim(0)))
        seen_[static_cast<size_t>(id)].assign(static_cast<size_t>(gr.dim(0)), 0);  // all 0 between steps
    }
    const char* in = all_packed_.data();
    for (int r = 0; r < ranks; ++r)
      for (size_t t = 0; t < nt; ++t) {
        const int id = sparse_ids[t];
        Buffers& b = buffers_[static_cast<size_t>(id)];
        const int64_t n = counts[static_cast<size_t>(r) * nt + t], width = b.grad.dim(1), nrows = b.grad.dim(0);
        const int32_t* rows = reinterpret_cast<const int32_t*>(in);
        const float* values = reinterpret_cast<const float*>(in + n * 4);
        std::vector<char>& seen = seen_[static_cast<size_t>(id)];
        for (int64_t i = 0; i < n; ++i) {
          int32_t row = 0;
          std::memcpy(&row, rows + i, 4);
          if (row < 0 || row >= nrows) throw InternalError("sparse gradient row " + std::to_string(row) + " outside the table");
          float* dst = b.grad.f32() + int64_t{row} * width;
          if (!seen[static_cast<size_t>(row)]) {
            seen[static_cast<size_t>(row)] = 1;
            b.rows.push_back(row);
            std::memset(dst, 0, static_cast<size_t>(width) * 4);
          }
          for (int64_t k = 0; k < width; ++k) {
            float v;
            std::memcpy(&v, values + i * width + k, 4);
            dst[k] += v;
          }
        }
        in += n * (4 + 4 * width);
      }
    for (int id : sparse_ids) {
      Buffers& b = buffers_[static_cast<size_t>(id)];
      std::sort(b.rows.begin(), b.rows.end());
      for (int32_t row : b.rows) seen_[static_cast<size_t>(id)][static_cast<size_t>(row)] = 0;  // O(rows), not O(table)
    }
  }
  for (int id = 0; id < g.size(); ++id) {
    if (std::find(sharded_ids.begin(), sharded_ids.end(), id) != sharded_ids.end()) {
      params_.push_back({g.node(id).name, &g.param_value(id), &grads.grad(id), grads.sparse(id) ? &grads.rows(id) : nullptr});
      continue;
    }
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
