// AllGatherRows: the rows of x [B, d] of every rank of a data-parallel run, concatenated in rank
// order: [G, d], G the sum of the ranks' B (graph/collective.hpp). `owners` [G] i32 names the rank
// of each global row (non-decreasing): it gives the output its shape without a collective in shape
// inference, and each rank's count. Backward sums every rank's gradient of the gathered rows and
// hands each rank the block of its own rows (a reduce-scatter). The Retrieval task uses it to score
// each rank's queries against the candidates of the whole global batch.
//
// Without a distributed world, and in inference (evaluation), it is the identity: owners must then
// have B entries.
#include <cstring>

#include "graph/collective.hpp"
#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

class AllGatherRows : public Op {
 public:
  explicit AllGatherRows(const Attrs&) {}

  bool communicates() const override { return true; }
  std::pair<int, int> arity() const override { return {2, 2}; }
  std::vector<std::string> input_names() const override { return {"x", "owners"}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_rank(in[0], 2, "x");
    expect_dtype(in[0], DType::f32, "x");
    expect_rank(in[1], 1, "owners");
    expect_dtype(in[1], DType::i32, "owners");
    return {{in[1].shape[0], in[0].shape[1]}, DType::f32};
  }

  void set_training(bool on) override { training_ = on; }

  void forward(const Inputs& in, Tensor& out) override {
    const int64_t b = in[0]->dim(0), d = in[0]->dim(1), g = in[1]->dim(0);
    Collective* w = training_ ? distributed() : nullptr;
    if (!w) {
      if (g != b)
        throw UserError("owners has " + std::to_string(g) + " entries for " + std::to_string(b) +
                        " rows, and there is no distributed world to gather the others from");
      if (b * d > 0) std::memcpy(out.f32(), in[0]->f32(), static_cast<size_t>(b * d) * sizeof(float));
      return;
    }
    counts_ = rank_counts(*in[1], w->size());
    if (counts_[static_cast<size_t>(w->rank())] != b)
      throw UserError("owners gives rank " + std::to_string(w->rank()) + " " +
                      std::to_string(counts_[static_cast<size_t>(w->rank())]) + " rows, but x has " + std::to_string(b));
    std::vector<int64_t> bytes(counts_.size());
    for (size_t r = 0; r < counts_.size(); ++r) bytes[r] = counts_[r] * d * static_cast<int64_t>(sizeof(float));
    w->allgatherv(in[0]->f32(), out.f32(), bytes);
  }

  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    GradOut dx = din.out(0);
    const int64_t b = in[0]->dim(0), d = in[0]->dim(1);
    Collective* w = training_ ? distributed() : nullptr;
    // Collective: every rank takes part even if its x needs no gradient (it always does in the task).
    const float* mine = dout.f32();
    if (w) {
      std::vector<int64_t> floats(counts_.size());
      for (size_t r = 0; r < counts_.size(); ++r) floats[r] = counts_[r] * d;
      float* sum = grown_view(scratch_, {b * d}).f32();
      w->reduce_scatter_sum(dout.f32(), sum, floats);
      mine = sum;
    }
    if (!dx) return;
    float* o = dx->f32();
    if (dx.overwrite) {
      if (b * d > 0) std::memcpy(o, mine, static_cast<size_t>(b * d) * sizeof(float));
    } else {
      for (int64_t i = 0; i < b * d; ++i) o[i] += mine[i];
    }
  }

  double flops(const Inputs& in, const Tensor&, int) const override { return static_cast<double>(in[0]->size()); }

  // Single process: the identity, checked as such (owners all rank 0).
  static std::vector<Sample> samples() {
    return {{"one process", {}, {{{3, 4}}, {{3}, DType::i32, 0, 0}}}};
  }

 private:
  static std::vector<int64_t> rank_counts(const Tensor& owners, int size) {
    std::vector<int64_t> c(static_cast<size_t>(size), 0);
    const int32_t* o = owners.i32();
    for (int64_t i = 0; i < owners.size(); ++i) {
      if (o[i] < 0 || o[i] >= size || (i > 0 && o[i] < o[i - 1]))
        throw UserError("owners[" + std::to_string(i) + "] = " + std::to_string(o[i]) +
                        ": expected non-decreasing ranks in [0, " + std::to_string(size) + ")");
      ++c[static_cast<size_t>(o[i])];
    }
    return c;
  }

  bool training_ = true;
  std::vector<int64_t> counts_;  // rows per rank in the last distributed forward
  Tensor scratch_;
};

DAGRAD_REGISTER_OP(AllGatherRows, "AllGatherRows",
                   "the rows [B, d] of every rank of a data-parallel run in rank order, [G, d] (owners [G] i32 "
                   "gives each row's rank); the identity in one process; backward reduce-scatters");

}  // namespace dagrad
