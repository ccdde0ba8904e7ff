// WeightedSum: out = Σ_k weights[k] · input_k, for one or more f32 tensors of one shape (scalars
// included): how a multi-task model adds its tasks' losses, each with its weight. Tight C++: the
// inputs are usually scalars, where a oneDNN primitive would cost more than the work.
#include <string>

#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

class WeightedSum : public Op {
 public:
  explicit WeightedSum(const Attrs& a) {
    for (double w : a.get_doubles("weights")) weights_.push_back(static_cast<float>(w));
  }

  static Schema schema() {
    return {Key::numbers("weights", "one factor per input, in the order of the inputs").required()};
  }

  std::pair<int, int> arity() const override { return {1, -1}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    if (in.size() != weights_.size())
      throw UserError(std::to_string(in.size()) + " inputs but " + std::to_string(weights_.size()) +
                      " weights: give one weight per input");
    for (size_t k = 0; k < in.size(); ++k) {
      const std::string what = "input " + std::to_string(k);
      expect_dtype(in[k], DType::f32, what.c_str());
      expect_same_shape(in[k], in[0], "all inputs must have the same shape");
    }
    return in[0];
  }

  void forward(const Inputs& in, Tensor& out) override {
    const int64_t n = out.size();
    float* o = out.f32();
    for (int64_t i = 0; i < n; ++i) o[i] = 0.0f;
    for (size_t k = 0; k < in.size(); ++k) {
      const float w = weights_[k];
      const float* x = in[k]->f32();
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] += w * x[i];
    }
  }

  // din[k] += weights[k] · dout.
  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    const int64_t n = dout.size();
    const float* d = dout.f32();
    for (size_t k = 0; k < in.size(); ++k) {
      const GradOut g = din.out(k);
      if (!g) continue;
      const float w = weights_[k];
      float* dst = g->f32();
      if (g.overwrite) {
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) dst[i] = w * d[i];
      } else {
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) dst[i] += w * d[i];
      }
    }
  }

  double flops(const Inputs& in, const Tensor& out, int input) const override {
    return input < 0 ? 2.0 * static_cast<double>(in.size()) * static_cast<double>(out.size())
                     : 2.0 * static_cast<double>(out.size());
  }

  static std::vector<Sample> samples() {
    return {{"two scalars", {{"weights", std::vector<double>{1.0, 0.5}}}, {{{}}, {{}}}},
            {"three vectors, a zero weight", {{"weights", std::vector<double>{2.0, 0.0, -1.5}}}, {{{5}}, {{5}}, {{5}}}},
            {"one matrix", {{"weights", std::vector<double>{3.0}}}, {{{2, 3}}}}};
  }

 private:
  std::vector<float> weights_;
};

DAGRAD_REGISTER_OP(WeightedSum, "WeightedSum", "Σ weights[k] · input k over inputs of one shape (a multi-task loss)");

}  // namespace dagrad
