// Embedding: out[i..., :] = table[ids[i...], :], a row gather from table [V, D] by i32 ids of any
// rank (out shape = ids shape + [D]). The table's gradient is sparse by rows; ids get none.
#include <omp.h>

#include <cstring>

#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

class Embedding : public Op {
 public:
  explicit Embedding(const Attrs&) {}

  std::pair<int, int> arity() const override { return {2, 2}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_rank(in[0], 2, "table");
    expect_dtype(in[0], DType::f32, "table");
    expect_dtype(in[1], DType::i32, "ids");
    Shape out = in[1].shape;
    out.push_back(in[0].shape[1]);
    return {out, DType::f32};
  }

  void forward(const Inputs& in, Tensor& out) override {
    const Tensor& table = *in[0];
    const Tensor& ids = *in[1];
    check_ids(table.dim(0), ids);
    const int64_t n = ids.size(), d = table.dim(1);
    const int32_t* id = ids.i32();
    const float* t = table.f32();
    float* o = out.f32();
#pragma omp parallel for schedule(static) if (n * d >= kParallelMinElements)
    for (int64_t i = 0; i < n; ++i) std::memcpy(o + i * d, t + int64_t{id[i]} * d, d * sizeof(float));
  }

  // A gather does no arithmetic; the table's gradient adds every dout element once.
  double flops(const Inputs&, const Tensor& out, int input) const override {
    return input < 0 ? 0.0 : static_cast<double>(out.size());
  }

  // Each thread owns a fixed range of table rows and scans every id, adding the dout rows of the
  // ids in its range: no atomics, and each row sums its contributions in id order, so the result
  // does not depend on the thread count at all.
  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    Tensor* dtable = din[0];
    if (!dtable) return;
    const Tensor& ids = *in[1];
    const int64_t v = in[0]->dim(0), d = in[0]->dim(1), n = ids.size();
    const int32_t* id = ids.i32();
    const float* g = dout.f32();
    float* dt = dtable->f32();
#pragma omp parallel if (n * d >= kParallelMinElements)
    {
      const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
      const int64_t lo = v * t / nt, hi = v * (t + 1) / nt;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t row = id[i];
        if (row < lo || row >= hi) continue;
        float* dst = dt + row * d;
        const float* src = g + i * d;
#pragma omp simd
        for (int64_t c = 0; c < d; ++c) dst[c] += src[c];
      }
    }
    din.add_rows(0, ids.ids());
  }

  bool sparse_rows(int input) const override { return input == 0; }

  static std::vector<Sample> samples() {
    return {
        // Ids drawn from 0..5 over 7 rows: repeated ids (accumulation) and untouched rows.
        {"ids rank 1", {}, {{{7, 3}}, {{10}, DType::i32, 0, 5}}},
        {"ids rank 2", {}, {{{6, 4}}, {{3, 4}, DType::i32, 0, 5}}},
        {"ids rank 0", {}, {{{5, 2}}, {{}, DType::i32, 0, 4}}},
    };
  }

 private:
  // Throws UserError naming the first id (in row-major order) outside [0, v) and its position.
  static void check_ids(int64_t v, const Tensor& ids) {
    const int64_t n = ids.size();
    const int32_t* id = ids.i32();
    int64_t first_bad = n;
#pragma omp parallel for schedule(static) reduction(min : first_bad) if (n > 65536)
    for (int64_t i = 0; i < n; ++i)
      if ((id[i] < 0 || id[i] >= v) && i < first_bad) first_bad = i;
    if (first_bad == n) return;
    // Row-major flat index -> multi-index.
    std::string pos;
    int64_t rest = first_bad;
    for (int k = ids.rank() - 1; k >= 0; --k) {
      pos = std::to_string(rest % ids.dim(k)) + (pos.empty() ? "" : ", ") + pos;
      rest /= ids.dim(k);
    }
    throw UserError("Embedding: id " + std::to_string(id[first_bad]) + " at ids[" + pos +
                    "] is outside [0, " + std::to_string(v) + "): the table has " + std::to_string(v) +
                    " rows");
  }
};

DAGRAD_REGISTER_OP(Embedding, "Embedding", "row gather table[ids] from table [V, D] and i32 ids of any rank (sparse row gradient)");

}  // namespace dagrad
