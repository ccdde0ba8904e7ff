// Dense: out = act(x · kernel + bias) for x [B, I], kernel [I, O], bias [O]; act (attribute
// `activation`) is linear or relu. What MatMul, BiasAdd and Relu compute, in one op: the bias and
// the ReLU are one pass over the product while it is in cache, and backward makes one pass for the
// ReLU's mask and the bias gradient instead of three ops' passes (BiasAdd's backward alone copies
// the whole gradient through). The Dense and MLP layers build it.
#include "ops/kernels/kernels.hpp"
#include "graph/op.hpp"

namespace dagrad {

class Dense : public Op {
 public:
  explicit Dense(const Attrs& a) : relu_(a.get_string("activation") == "relu") {}

  static Schema schema() {
    return {Key::choice("activation", {"linear", "relu"}, "applied to the product plus bias (other activations: a separate op)")
                .otherwise("linear")};
  }

  std::pair<int, int> arity() const override { return {3, 3}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_rank(in[0], 2, "x");
    expect_rank(in[1], 2, "kernel");
    expect_rank(in[2], 1, "bias");
    for (int i = 0; i < 3; ++i) expect_dtype(in[i], DType::f32, i == 0 ? "x" : i == 1 ? "kernel" : "bias");
    if (in[0].shape[1] != in[1].shape[0])
      throw UserError("x " + shape_str(in[0].shape) + " · kernel " + shape_str(in[1].shape) + ": inner dimensions differ");
    if (in[2].shape[0] != in[1].shape[1])
      throw UserError("bias " + shape_str(in[2].shape) + " must match the kernel's output width " +
                      shape_str(in[1].shape));
    return {{in[0].shape[0], in[1].shape[1]}, DType::f32};
  }

  void forward(const Inputs& in, Tensor& out) override {
    gemm(*in[0], false, *in[1], false, out, false);
    const int64_t rows = out.dim(0), n = out.dim(1);
    const float* b = in[2]->f32();
    float* y = out.f32();
    if (relu_) {
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMinElements)
      for (int64_t r = 0; r < rows; ++r) {
#pragma omp simd
        for (int64_t c = 0; c < n; ++c) {
          const float v = y[r * n + c] + b[c];
          y[r * n + c] = v > 0.0f ? v : 0.0f;
        }
      }
    } else {
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMinElements)
      for (int64_t r = 0; r < rows; ++r) {
#pragma omp simd
        for (int64_t c = 0; c < n; ++c) y[r * n + c] += b[c];
      }
    }
  }

  // dz = dout, masked by y > 0 for relu (y is the output, after the ReLU); then
  // dbias = column sums of dz, dkernel = xᵀ·dz, dx = dz·kernelᵀ.
  void backward(const Inputs& in, const Tensor& out, const Tensor& dout, const Grads& din) override {
    const int64_t rows = out.dim(0), n = out.dim(1);
    const Tensor* dz = &dout;
    if (relu_) {
      if (!dz_.defined() || dz_.shape() != out.shape()) dz_ = grown_view(dz_, out.shape());
      const float* y = out.f32();
      const float* g = dout.f32();
      float* d = dz_.f32();
      const int64_t size = rows * n;
#pragma omp parallel for simd schedule(static) if (parallel: size >= kParallelMinElements)
      for (int64_t i = 0; i < size; ++i) d[i] = y[i] > 0.0f ? g[i] : 0.0f;
      dz = &dz_;
    }
    if (GradOut db = din.out(2)) sum_middle_axis(*dz, 1, rows, n, 1.0f, !db.overwrite, *db);
    if (GradOut dw = din.out(1)) gemm(*in[0], true, *dz, false, *dw, !dw.overwrite);
    if (GradOut dx = din.out(0)) gemm(*dz, false, *in[1], true, *dx, !dx.overwrite);
  }

  // Forward: the product, the bias add (and the ReLU). Per gradient: a product for x and kernel
  // (x's also the ReLU mask), a sum per output element for the bias.
  double flops(const Inputs& in, const Tensor& out, int input) const override {
    const double prod = 2.0 * static_cast<double>(out.size()) * static_cast<double>(in[0]->dim(1));
    const double elems = static_cast<double>(out.size());
    if (input < 0) return prod + (relu_ ? 2.0 : 1.0) * elems;
    if (input == 2) return elems;
    return prod + (input == 0 && relu_ ? elems : 0.0);
  }

  static std::vector<Sample> samples() {
    return {{"linear", {{"activation", std::string("linear")}}, {{{3, 4}}, {{4, 5}}, {{5}}}},
            {"relu", {{"activation", std::string("relu")}}, {{{3, 4}}, {{4, 5}}, {{5}}}},
            // A batch of 1 and a single output: the edge shapes of the products and the bias sum.
            {"relu 1x1", {{"activation", std::string("relu")}}, {{{1, 3}}, {{3, 1}}, {{1}, DType::f32, 0.5, 1}}}};
  }

 private:
  bool relu_ = false;
  Tensor dz_;  // the masked gradient, grown to the largest batch seen
};

DAGRAD_REGISTER_OP(Dense, "Dense", "act(x [B, I] · kernel [I, O] + bias [O]), act linear or relu (MatMul, BiasAdd and Relu in one op)");

}  // namespace dagrad
