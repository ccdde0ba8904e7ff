// EmbeddingMean and EmbeddingSum (bag embeddings): out[b] = mean (or sum) of table[ids[b, t]] over
// the tokens t whose id is nonzero, from table [V, D] and ids [B, T] i32; a row without tokens gives
// zeros. EmbeddingMean gives the same values, bit for bit, as MaskedMean(Embedding(table, ids), ids),
// without the padded [B, T, D] token vectors between them (4 MB per MovieLens batch of 2048 titles
// padded to 16 tokens, written and read forward and backward). The MaskedMean layer builds it when
// its input is an Embedding of its mask's ids; the EmbeddingBag layer builds either. The table's
// gradient is sparse by rows; ids get none.
#include <omp.h>

#include <string>

#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

// kMean: divide each row's sum by its token count (EmbeddingMean); otherwise the sum (EmbeddingSum).
template <bool kMean>
class EmbeddingPool : public Op {
 public:
  explicit EmbeddingPool(const Attrs&) {}
  static constexpr const char* kName = kMean ? "EmbeddingMean" : "EmbeddingSum";

  std::pair<int, int> arity() const override { return {2, 2}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_rank(in[0], 2, "table");
    expect_dtype(in[0], DType::f32, "table");
    expect_rank(in[1], 2, "ids");
    expect_dtype(in[1], DType::i32, "ids");
    return {{in[1].shape[0], in[0].shape[1]}, DType::f32};
  }

  // Tokens are summed in order, then (mean) scaled by 1 / count: MaskedMean's arithmetic exactly.
  void forward(const Inputs& in, Tensor& out) override {
    const Tensor& table = *in[0];
    const Tensor& ids = *in[1];
    const int64_t v = table.dim(0), d = table.dim(1), b = ids.dim(0), t = ids.dim(1);
    check_ids(v, ids);
    const float* tp = table.f32();
    const int32_t* id = ids.i32();
    float* o = out.f32();
#pragma omp parallel for schedule(static) if (b * t * d >= kParallelMinElements)
    for (int64_t r = 0; r < b; ++r) {
      float* orow = o + r * d;
      for (int64_t c = 0; c < d; ++c) orow[c] = 0.0f;
      int64_t count = 0;
      for (int64_t k = 0; k < t; ++k) {
        const int32_t row = id[r * t + k];
        if (row == 0) continue;
        ++count;
        const float* src = tp + int64_t{row} * d;
#pragma omp simd
        for (int64_t c = 0; c < d; ++c) orow[c] += src[c];
      }
      if (!kMean || count == 0) continue;
      const float inv = 1.0f / static_cast<float>(count);
#pragma omp simd
      for (int64_t c = 0; c < d; ++c) orow[c] *= inv;
    }
  }

  // dtable[ids[b, t]] += dout[b] / count (mean) or dout[b] (sum) for nonzero ids. As Embedding's backward: each thread
  // owns a fixed range of table rows and scans every token, so each row sums its contributions in
  // token order whatever the thread count. dout[b] / count is rounded to float before the add (a
  // stored row, not a fused multiply-add), as MaskedMean's gradient is.
  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    Tensor* dtable = din[0];
    if (!dtable) return;
    const Tensor& ids = *in[1];
    const int64_t v = in[0]->dim(0), d = in[0]->dim(1), b = ids.dim(0), t = ids.dim(1);
    const int32_t* id = ids.i32();
    const float* g = dout.f32();
    float* dt = dtable->f32();
    scaled_.resize(static_cast<size_t>(b * d));
    for (int64_t r = 0; r < b; ++r) {
      int64_t count = 0;
      for (int64_t k = 0; k < t; ++k) count += id[r * t + k] != 0;
      const float inv = !kMean ? 1.0f : count ? 1.0f / static_cast<float>(count) : 0.0f;
      for (int64_t c = 0; c < d; ++c) scaled_[r * d + c] = g[r * d + c] * inv;
    }
    const float* s = scaled_.data();
#pragma omp parallel if (b * t * d >= kParallelMinElements)
    {
      const int64_t nt = omp_get_num_threads(), th = omp_get_thread_num();
      const int64_t lo = v * th / nt, hi = v * (th + 1) / nt;
      for (int64_t i = 0; i < b * t; ++i) {
        const int64_t row = id[i];
        if (row == 0 || row < lo || row >= hi) continue;
        float* dst = dt + row * d;
        const float* src = s + (i / t) * d;
#pragma omp simd
        for (int64_t c = 0; c < d; ++c) dst[c] += src[c];
      }
    }
    touched_.clear();
    for (int64_t i = 0; i < b * t; ++i)
      if (id[i] != 0) touched_.push_back(id[i]);
    din.add_rows(0, touched_);
  }

  bool sparse_rows(int input) const override { return input == 0; }

  // Forward adds every token's row and (mean) scales each output; backward one add per token element
  // (mean: of the scaled gradient).
  double flops(const Inputs& in, const Tensor& out, int input) const override {
    const double tokens = static_cast<double>(in[1]->size()) * static_cast<double>(out.dim(1));
    return input < 0 ? tokens + (kMean ? static_cast<double>(out.size()) : 0.0) : (kMean ? 2.0 : 1.0) * tokens;
  }

  static std::vector<Sample> samples() {
    return {
        // Ids 0..4 of a 5-row table: about a fifth of the tokens are padding.
        {"mixed padding", {}, {{{5, 3}}, {{4, 3}, DType::i32, 0, 4}}},
        {"no padding, repeated ids", {}, {{{3, 2}}, {{3, 4}, DType::i32, 1, 2}}},
        // Every row empty: zero output and zero gradient.
        {"all padding", {}, {{{4, 2}}, {{2, 3}, DType::i32, 0, 0}}},
    };
  }

 private:
  // Throws UserError naming the first id outside [0, v) and its position.
  static void check_ids(int64_t v, const Tensor& ids) {
    const int32_t* id = ids.i32();
    for (int64_t i = 0; i < ids.size(); ++i)
      if (id[i] < 0 || id[i] >= v)
        throw UserError(std::string(kName) + ": id " + std::to_string(id[i]) + " at ids[" + std::to_string(i / ids.dim(1)) +
                        ", " + std::to_string(i % ids.dim(1)) + "] is outside [0, " + std::to_string(v) +
                        "): the table has " + std::to_string(v) + " rows");
  }

  std::vector<float> scaled_;      // backward scratch: dout / count, grown to the largest batch
  std::vector<int32_t> touched_;
};

using EmbeddingMean = EmbeddingPool<true>;
using EmbeddingSum = EmbeddingPool<false>;

DAGRAD_REGISTER_OP(EmbeddingMean, "EmbeddingMean", "mean of table rows [V, D] over the nonzero ids of each row of ids [B, T] (MaskedMean of Embedding in one op; sparse row gradient)");
DAGRAD_REGISTER_OP(EmbeddingSum, "EmbeddingSum", "sum of table rows [V, D] over the nonzero ids of each row of ids [B, T] (a bag embedding; sparse row gradient)");

}  // namespace dagrad
