// Relu: max(x, 0), elementwise.
#include "ops/eltwise_op.hpp"

namespace dagrad {

// Plain loops rather than oneDNN's eltwise: the primitive always forks both threads, which for the
// towers' [2048, 64] activations costs more than the whole pass (see kParallelMinElements); the
// loops use both threads from that size on, and vectorise either way.
class Relu : public EltwiseOp<dnnl::algorithm::eltwise_relu_use_dst_for_bwd> {
 public:
  explicit Relu(const Attrs&) {}

  void forward(const Inputs& in, Tensor& out) override {
    const float* x = in[0]->f32();
    float* y = out.f32();
    const int64_t n = out.size();
#pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMinElements)
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
  }

  // dx += dy where y > 0 (written, zero elsewhere, when dx held nothing).
  void backward(const Inputs&, const Tensor& out, const Tensor& dout, const Grads& din) override {
    GradOut dx_t = din.out(0);
    if (!dx_t) return;
    const float* y = out.f32();
    const float* dy = dout.f32();
    float* dx = dx_t->f32();
    const int64_t n = out.size();
    if (dx_t.overwrite) {
#pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMinElements)
      for (int64_t i = 0; i < n; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    } else {
#pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMinElements)
      for (int64_t i = 0; i < n; ++i) dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
    }
  }

  static std::vector<Sample> samples() {
    return {{"matrix", {}, {{{3, 5}, DType::f32, -1, 1, {0.0}}}},
            {"rank 3", {}, {{{2, 3, 4}, DType::f32, -2, 2, {0.0}}}}};
  }
};

DAGRAD_REGISTER_OP(Relu, "Relu", "max(x, 0) elementwise");

}  // namespace dagrad
