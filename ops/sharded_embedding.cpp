// ShardedEmbedding: Embedding, EmbeddingMean or EmbeddingSum (attribute `mode`: lookup, mean, sum)
// over a table split by rows over the ranks of a data-parallel run (graph/row_shard.hpp,
// docs/distributed.md): `table` is this rank's shard, the rows r of the whole [rows, D] table with
// r mod N = rank, at local row r / N.
//
// Forward: the batch's distinct ids (mean, sum: the nonzero ones) go to their owners through an
// all-to-all, each owner answers with its rows (a second all-to-all), and the output is computed from
// them with the arithmetic of the op it stands for, bit for bit. Backward: each distinct row's
// gradient (its occurrences added in id order, as Embedding's backward adds them) goes back to its
// owner, which already holds the ids from the forward, so only the values travel; the owner adds
// the ranks' contributions in rank order into its shard's gradient (sparse by rows, local rows). The
// sum equals what the data-parallel exchange of a whole table's gradient gives (models/dist, rank
// order too), and the shard's gradient is complete: it takes no further part in that exchange.
// Every rank must run the op's forward and backward in the same order (every rank runs the same
// graph on its share of the batch, and the same evaluation batches).
//
// Without a distributed world the table is the whole table (`rows` must be its row count) and
// nothing is exchanged: the op is then Embedding, EmbeddingMean or EmbeddingSum.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "graph/collective.hpp"
#include "graph/op.hpp"
#include "graph/row_shard.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

class ShardedEmbedding : public Op {
 public:
  enum class Mode { lookup, mean, sum };

  explicit ShardedEmbedding(const Attrs& a) : rows_(a.get_int("rows")) {
    const std::string m = a.get_string("mode");
    mode_ = m == "mean" ? Mode::mean : m == "sum" ? Mode::sum : Mode::lookup;
  }

  static Schema schema() {
    return {Key::integer("rows", "rows of the whole table (each rank's shard holds those r with r mod N = its rank)")
                .in(Range::greater_than(0)).required(),
            Key::choice("mode", {"lookup", "mean", "sum"},
                        "lookup: table[ids] (Embedding); mean, sum: over each row's nonzero ids [B, T] (EmbeddingMean, "
                        "EmbeddingSum)").otherwise("lookup")};
  }

  bool communicates() const override { return true; }
  std::pair<int, int> arity() const override { return {2, 2}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_rank(in[0], 2, "table");
    expect_dtype(in[0], DType::f32, "table");
    expect_dtype(in[1], DType::i32, "ids");
    if (mode_ != Mode::lookup) expect_rank(in[1], 2, "ids");
    Collective* w = distributed();
    const int64_t want = w ? RowShard::local_rows(rows_, w->rank(), w->size()) : rows_;
    if (in[0].shape[0] != want)
      throw UserError("table has " + std::to_string(in[0].shape[0]) + " rows; expected " + std::to_string(want) +
                      (w ? " (the shard of rank " + std::to_string(w->rank()) + " of " + std::to_string(w->size()) +
                               " of a table of " + std::to_string(rows_) + " rows)"
                         : " (the whole table: there is no distributed world)"));
    if (mode_ != Mode::lookup) return {{in[1].shape[0], in[0].shape[1]}, DType::f32};
    Shape out = in[1].shape;
    out.push_back(in[0].shape[1]);
    return {out, DType::f32};
  }

  void forward(const Inputs& in, Tensor& out) override {
    const Tensor& table = *in[0];
    const Tensor& ids = *in[1];
    check_ids(ids);
    const int64_t d = table.dim(1), n = ids.size();
    const int32_t* id = ids.i32();
    const float* src = table.f32();  // rows by position
    pos_.resize(static_cast<size_t>(n));
    Collective* w = distributed();
    if (!w) {
      for (int64_t i = 0; i < n; ++i) pos_[static_cast<size_t>(i)] = id[i];
    } else {
      fetch(*w, table, ids);
      src = mini_.data();
    }
    compute(src, d, ids, out);
  }

  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    Tensor* dtable = din[0];
    if (!dtable) return;  // the same on every rank: the graph is the same
    const Tensor& ids = *in[1];
    const int64_t d = in[0]->dim(1);
    Collective* w = distributed();
    if (!w) {
      accumulate(dtable->f32(), d, ids, dout);
      touched_.clear();
      for (int32_t v : ids.ids())
        if (mode_ == Mode::lookup || v != 0) touched_.push_back(v);
      din.add_rows(0, touched_);
      return;
    }
    // Each distinct row's gradient, in the order the forward asked for it, back to its owner.
    const size_t u = uniq_.size();
    grad_mini_.assign(u * static_cast<size_t>(d), 0.0f);
    accumulate(grad_mini_.data(), d, ids, dout);
    send_.resize(u * static_cast<size_t>(d));
    for (size_t j = 0; j < u; ++j)
      std::memcpy(send_.data() + j * d, grad_mini_.data() + static_cast<size_t>(order_[j]) * d, d * sizeof(float));
    const int ranks = w->size();
    std::vector<int64_t> sb(static_cast<size_t>(ranks)), rb(static_cast<size_t>(ranks));
    for (int r = 0; r < ranks; ++r) {
      sb[static_cast<size_t>(r)] = send_counts_[static_cast<size_t>(r)] * d * static_cast<int64_t>(sizeof(float));
      rb[static_cast<size_t>(r)] = recv_counts_[static_cast<size_t>(r)] * d * static_cast<int64_t>(sizeof(float));
    }
    recv_.resize(recv_ids_.size() * static_cast<size_t>(d));
    w->alltoallv(send_.data(), sb, recv_.data(), rb);
    // The owner's sum: every rank's contribution in rank order (the received blocks' order).
    float* dt = dtable->f32();
    touched_.clear();
    for (size_t j = 0; j < recv_ids_.size(); ++j) {
      const int32_t local = recv_ids_[j] / ranks;
      float* dst = dt + int64_t{local} * d;
      const float* s = recv_.data() + j * d;
#pragma omp simd
      for (int64_t c = 0; c < d; ++c) dst[c] += s[c];
      touched_.push_back(local);
    }
    din.add_rows(0, touched_);
  }

  bool sparse_rows(int input) const override { return input == 0; }

  double flops(const Inputs& in, const Tensor& out, int input) const override {
    if (mode_ == Mode::lookup) return input < 0 ? 0.0 : static_cast<double>(out.size());
    const double tokens = static_cast<double>(in[1]->size()) * static_cast<double>(out.dim(1));
    const bool mean = mode_ == Mode::mean;
    return input < 0 ? tokens + (mean ? static_cast<double>(out.size()) : 0.0) : (mean ? 2.0 : 1.0) * tokens;
  }

  // One process: the whole table, as Embedding, EmbeddingMean and EmbeddingSum.
  static std::vector<Sample> samples() {
    return {
        {"lookup, repeated ids", {{"rows", int64_t{7}}}, {{{7, 3}}, {{10}, DType::i32, 0, 5}}},
        {"lookup, ids rank 2", {{"rows", int64_t{6}}}, {{{6, 4}}, {{3, 4}, DType::i32, 0, 5}}},
        {"mean, mixed padding", {{"rows", int64_t{5}}, {"mode", std::string("mean")}}, {{{5, 3}}, {{4, 3}, DType::i32, 0, 4}}},
        {"sum, repeated ids", {{"rows", int64_t{3}}, {"mode", std::string("sum")}}, {{{3, 2}}, {{3, 4}, DType::i32, 1, 2}}},
    };
  }

 private:
  // Throws UserError naming the first id outside [0, rows) and its flat position.
  void check_ids(const Tensor& ids) const {
    const int32_t* id = ids.i32();
    for (int64_t i = 0; i < ids.size(); ++i)
      if (id[i] < 0 || id[i] >= rows_)
        throw UserError("ShardedEmbedding: id " + std::to_string(id[i]) + " at flat position " + std::to_string(i) +
                        " of ids " + shape_str(ids.shape()) + " is outside [0, " + std::to_string(rows_) +
                        "): the table has " + std::to_string(rows_) + " rows");
  }

  bool counted(int32_t v) const { return mode_ == Mode::lookup || v != 0; }

  // The distinct ids' rows from their owners into mini_ (by position in uniq_), and each id's
  // position into pos_.
  void fetch(Collective& w, const Tensor& table, const Tensor& ids) {
    const int ranks = w.size();
    const int64_t d = table.dim(1);
    uniq_.clear();
    for (int32_t v : ids.ids())
      if (counted(v)) uniq_.push_back(v);
    std::sort(uniq_.begin(), uniq_.end());
    uniq_.erase(std::unique(uniq_.begin(), uniq_.end()), uniq_.end());
    const int32_t* id = ids.i32();
    for (int64_t i = 0; i < ids.size(); ++i)
      pos_[static_cast<size_t>(i)] =
          counted(id[i]) ? static_cast<int32_t>(std::lower_bound(uniq_.begin(), uniq_.end(), id[i]) - uniq_.begin()) : 0;
    // The requests, grouped by owner (rank order), ascending within each.
    send_counts_.assign(static_cast<size_t>(ranks), 0);
    for (int32_t v : uniq_) ++send_counts_[static_cast<size_t>(v % ranks)];
    std::vector<int64_t> at(static_cast<size_t>(ranks), 0);
    for (int r = 1; r < ranks; ++r) at[static_cast<size_t>(r)] = at[static_cast<size_t>(r - 1)] + send_counts_[static_cast<size_t>(r - 1)];
    order_.resize(uniq_.size());
    requests_.resize(uniq_.size());
    for (size_t j = 0; j < uniq_.size(); ++j) {
      const int64_t slot = at[static_cast<size_t>(uniq_[j] % ranks)]++;
      order_[static_cast<size_t>(slot)] = static_cast<int32_t>(j);
      requests_[static_cast<size_t>(slot)] = uniq_[j];
    }
    recv_counts_ = w.alltoall_counts(send_counts_);
    int64_t asked = 0;
    for (int64_t c : recv_counts_) asked += c;
    std::vector<int64_t> sb(static_cast<size_t>(ranks)), rb(static_cast<size_t>(ranks));
    for (int r = 0; r < ranks; ++r) {
      sb[static_cast<size_t>(r)] = send_counts_[static_cast<size_t>(r)] * 4;
      rb[static_cast<size_t>(r)] = recv_counts_[static_cast<size_t>(r)] * 4;
    }
    recv_ids_.resize(static_cast<size_t>(asked));
    w.alltoallv(requests_.data(), sb, recv_ids_.data(), rb);
    // The answers: this rank's rows asked for, in the order asked.
    send_.resize(static_cast<size_t>(asked * d));
    for (size_t j = 0; j < recv_ids_.size(); ++j) {
      const int32_t v = recv_ids_[j];
      if (v < 0 || v >= rows_ || v % ranks != w.rank())
        throw InternalError("ShardedEmbedding: rank " + std::to_string(w.rank()) + " was asked for row " + std::to_string(v) +
                            ", which it does not hold");
      std::memcpy(send_.data() + j * d, table.f32() + int64_t{v / ranks} * d, d * sizeof(float));
    }
    for (int r = 0; r < ranks; ++r) {
      std::swap(sb[static_cast<size_t>(r)], rb[static_cast<size_t>(r)]);
      sb[static_cast<size_t>(r)] *= d;
      rb[static_cast<size_t>(r)] *= d;
    }
    recv_.resize(uniq_.size() * static_cast<size_t>(d));
    w.alltoallv(send_.data(), sb, recv_.data(), rb);
    mini_.resize(uniq_.size() * static_cast<size_t>(d));
    for (size_t j = 0; j < uniq_.size(); ++j)
      std::memcpy(mini_.data() + static_cast<size_t>(order_[j]) * d, recv_.data() + j * d, d * sizeof(float));
  }

  // The output from rows `src` [.., d] at positions pos_: Embedding's or EmbeddingMean/Sum's arithmetic.
  void compute(const float* src, int64_t d, const Tensor& ids, Tensor& out) const {
    const int32_t* id = ids.i32();
    const int32_t* pos = pos_.data();
    float* o = out.f32();
    if (mode_ == Mode::lookup) {
      const int64_t n = ids.size();
#pragma omp parallel for schedule(static) if (n * d >= kParallelMinElements)
      for (int64_t i = 0; i < n; ++i) std::memcpy(o + i * d, src + int64_t{pos[i]} * d, d * sizeof(float));
      return;
    }
    const int64_t b = ids.dim(0), t = ids.dim(1);
    const bool mean = mode_ == Mode::mean;
#pragma omp parallel for schedule(static) if (b * t * d >= kParallelMinElements)
    for (int64_t r = 0; r < b; ++r) {
      float* orow = o + r * d;
      for (int64_t c = 0; c < d; ++c) orow[c] = 0.0f;
      int64_t count = 0;
      for (int64_t k = 0; k < t; ++k) {
        if (id[r * t + k] == 0) continue;
        ++count;
        const float* s = src + int64_t{pos[r * t + k]} * d;
#pragma omp simd
        for (int64_t c = 0; c < d; ++c) orow[c] += s[c];
      }
      if (!mean || count == 0) continue;
      const float inv = 1.0f / static_cast<float>(count);
#pragma omp simd
      for (int64_t c = 0; c < d; ++c) orow[c] *= inv;
    }
  }

  // dst[pos] += each occurrence's gradient, in id order (mean: dout / count rounded to float first),
  // as Embedding's and EmbeddingMean/Sum's backward add them.
  void accumulate(float* dst, int64_t d, const Tensor& ids, const Tensor& dout) {
    const int32_t* id = ids.i32();
    const float* g = dout.f32();
    if (mode_ == Mode::lookup) {
      for (int64_t i = 0; i < ids.size(); ++i) {
        float* o = dst + int64_t{pos_[static_cast<size_t>(i)]} * d;
        const float* s = g + i * d;
#pragma omp simd
        for (int64_t c = 0; c < d; ++c) o[c] += s[c];
      }
      return;
    }
    const int64_t b = ids.dim(0), t = ids.dim(1);
    scaled_.resize(static_cast<size_t>(b * d));
    for (int64_t r = 0; r < b; ++r) {
      int64_t count = 0;
      for (int64_t k = 0; k < t; ++k) count += id[r * t + k] != 0;
      const float inv = mode_ == Mode::sum ? 1.0f : count ? 1.0f / static_cast<float>(count) : 0.0f;
      for (int64_t c = 0; c < d; ++c) scaled_[static_cast<size_t>(r * d + c)] = g[r * d + c] * inv;
    }
    for (int64_t i = 0; i < b * t; ++i) {
      if (id[i] == 0) continue;
      float* o = dst + int64_t{pos_[static_cast<size_t>(i)]} * d;
      const float* s = scaled_.data() + (i / t) * d;
#pragma omp simd
      for (int64_t c = 0; c < d; ++c) o[c] += s[c];
    }
  }

  int64_t rows_;
  Mode mode_ = Mode::lookup;
  // The last forward's exchange, which backward reverses.
  std::vector<int32_t> uniq_;       // distinct ids asked for, ascending
  std::vector<int32_t> pos_;        // per id: its position in uniq_ (one process: the id)
  std::vector<int32_t> order_;      // per request slot (by owner): its position in uniq_
  std::vector<int32_t> requests_;   // ids asked for, by owner
  std::vector<int64_t> send_counts_, recv_counts_;  // ids asked of / by each rank
  std::vector<int32_t> recv_ids_;   // ids other ranks asked of this one, in rank order
  std::vector<float> send_, recv_, mini_, grad_mini_, scaled_;
  std::vector<int32_t> touched_;
};

DAGRAD_REGISTER_OP(ShardedEmbedding, "ShardedEmbedding",
                   "Embedding (or EmbeddingMean/EmbeddingSum: mode) over a table sharded by rows over the ranks of a "
                   "data-parallel run, row r on rank r mod N; lookups and gradients through all-to-all; the whole "
                   "table in one process");

}  // namespace dagrad
