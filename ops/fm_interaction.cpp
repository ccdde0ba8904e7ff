// FMInteraction: the second-order term of a factorization machine (Rendle 2010) over n field
// vectors v_1..v_n, each [batch, d] (one embedding per field):
//   y[b] = Σ_{i<j} <v_i[b], v_j[b]> = ½ Σ_k ((Σ_i v_i[b,k])² − Σ_i v_i[b,k]²),   shape [batch, 1]
// in O(n·d) per row, as in RecBole's BaseFactorizationMachine and DeepCTR's FM. The gradient is
// dv_i[b,k] = dy[b] · (Σ_j v_j[b,k] − v_i[b,k]).
#include <vector>

#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

class FMInteraction : public Op {
 public:
  explicit FMInteraction(const Attrs&) {}

  std::pair<int, int> arity() const override { return {2, -1}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    for (size_t i = 0; i < in.size(); ++i) {
      const std::string what = "field " + std::to_string(i);
      expect_dtype(in[i], DType::f32, what.c_str());
      expect_rank(in[i], 2, what.c_str());
      expect_same_shape(in[0], in[i], "every field vector must have field 0's shape [batch, d]");
    }
    TensorType t = in[0];
    t.shape = {in[0].shape[0], 1};
    return t;
  }

  void forward(const Inputs& in, Tensor& out) override {
    const int64_t rows = in[0]->shape()[0], d = in[0]->shape()[1];
    sums(in, rows, d);
    const size_t n = in.size();
    float* y = out.f32();
#pragma omp parallel for schedule(static) if (rows * d * static_cast<int64_t>(n) >= kParallelMinElements)
    for (int64_t r = 0; r < rows; ++r) {
      const float* s = sum_.data() + r * d;
      float sq = 0, total = 0;
      for (size_t i = 0; i < n; ++i) {
        const float* v = in[i]->f32() + r * d;
#pragma omp simd reduction(+ : sq)
        for (int64_t k = 0; k < d; ++k) sq += v[k] * v[k];
      }
#pragma omp simd reduction(+ : total)
      for (int64_t k = 0; k < d; ++k) total += s[k] * s[k];
      y[r] = 0.5f * (total - sq);
    }
  }

  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    const int64_t rows = in[0]->shape()[0], d = in[0]->shape()[1];
    sums(in, rows, d);  // the forward's sums may be stale (another forward of this node since)
    const float* dy = dout.f32();
    for (size_t i = 0; i < in.size(); ++i) {
      GradOut g = din.out(i);
      if (!g) continue;
      const float* v = in[i]->f32();
      float* dv = g->f32();
      const bool overwrite = g.overwrite;
#pragma omp parallel for schedule(static) if (rows * d >= kParallelMinElements)
      for (int64_t r = 0; r < rows; ++r) {
        const float* s = sum_.data() + r * d;
        const float* vr = v + r * d;
        float* o = dv + r * d;
        const float c = dy[r];
        if (overwrite) {
#pragma omp simd
          for (int64_t k = 0; k < d; ++k) o[k] = c * (s[k] - vr[k]);
        } else {
#pragma omp simd
          for (int64_t k = 0; k < d; ++k) o[k] += c * (s[k] - vr[k]);
        }
      }
    }
  }

  double flops(const Inputs& in, const Tensor&, int input) const override {
    const double per_field = static_cast<double>(in[0]->size());
    return input < 0 ? 3.0 * per_field * static_cast<double>(in.size()) : 2.0 * per_field;
  }

  static std::vector<Sample> samples() {
    return {{"two fields", {}, {{{3, 4}}, {{3, 4}}}},
            {"four fields, d 1", {}, {{{5, 1}}, {{5, 1}}, {{5, 1}}, {{5, 1}}}},
            {"three fields", {}, {{{2, 6}, DType::f32, -2, 2}, {{2, 6}}, {{2, 6}}}}};
  }

 private:
  // sum_[r, k] = Σ_i v_i[r, k].
  void sums(const Inputs& in, int64_t rows, int64_t d) {
    sum_.assign(static_cast<size_t>(rows * d), 0.0f);
    for (const Tensor* t : in) {
      const float* v = t->f32();
      float* s = sum_.data();
#pragma omp parallel for simd schedule(static) if (parallel: rows * d >= kParallelMinElements)
      for (int64_t j = 0; j < rows * d; ++j) s[j] += v[j];
    }
  }

  std::vector<float> sum_;
};

DAGRAD_REGISTER_OP(FMInteraction, "FMInteraction",
                   "factorization-machine pairwise term Σ_{i<j} <v_i, v_j> of n [batch, d] field vectors -> [batch, 1]");

}  // namespace dagrad
