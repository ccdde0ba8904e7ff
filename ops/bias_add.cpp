// BiasAdd: out = x + b, x [..., N] and b [N]: the bias row is added to every row of x.
#include "ops/kernels/kernels.hpp"
#include "graph/op.hpp"

namespace dagrad {

class BiasAdd : public Op {
 public:
  explicit BiasAdd(const Attrs&) {}

  std::pair<int, int> arity() const override { return {2, 2}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_dtype(in[0], DType::f32, "x");
    expect_dtype(in[1], DType::f32, "bias");
    expect_rank(in[1], 1, "bias");
    if (in[0].shape.empty()) throw UserError("x must have rank 1 or more, got " + shape_str(in[0].shape));
    if (in[0].shape.back() != in[1].shape[0])
      throw UserError("bias " + shape_str(in[1].shape) + " must match the last dimension of x " +
                      shape_str(in[0].shape));
    return in[0];
  }

  // A plain loop rather than oneDNN's binary primitive, which always forks both threads: for the
  // towers' [2048, 64] that costs more than the pass itself (see kParallelMinElements).
  void forward(const Inputs& in, Tensor& out) override {
    const int64_t n = in[1]->size();
    const int64_t rows = n ? in[0]->size() / n : 0;
    const float* x = in[0]->f32();
    const float* b = in[1]->f32();
    float* y = out.f32();
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMinElements)
    for (int64_t r = 0; r < rows; ++r) {
#pragma omp simd
      for (int64_t c = 0; c < n; ++c) y[r * n + c] = x[r * n + c] + b[c];
    }
  }

  // One add per element forward, and per element of x for either gradient.
  double flops(const Inputs& in, const Tensor&, int) const override { return static_cast<double>(in[0]->size()); }

  // db += column sums of dout with a plain loop: oneDNN's reduction over the rows is its reference
  // kernel (1.2 ms for 2048x64, see the oneDNN notes); the loop takes ~13 µs on 1 thread.
  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    if (GradOut dx = din.out(0)) accumulate(*dx, dout, dx.overwrite);
    if (GradOut db = din.out(1)) {
      const int64_t n = in[1]->size();
      sum_middle_axis(dout, 1, n ? dout.size() / n : 0, n, 1.0f, !db.overwrite, *db);
    }
  }

  static std::vector<Sample> samples() {
    return {{"vector", {}, {{{5}}, {{5}}}},
            {"matrix", {}, {{{4, 3}}, {{3}}}},
            {"rank 3", {}, {{{2, 3, 4}}, {{4}, DType::f32, -2, 2}}},
            // More rows than one summation block (256), so block partials are combined.
            {"600 rows", {}, {{{600, 2}}, {{2}}}}};
  }
};

DAGRAD_REGISTER_OP(BiasAdd, "BiasAdd", "x [..., N] + bias [N], the bias added to every row");

}  // namespace dagrad
