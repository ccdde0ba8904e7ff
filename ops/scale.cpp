// Scale: out = scale · x elementwise; `scale` is a required number attribute.
#include "ops/kernels/kernels.hpp"
#include "graph/op.hpp"

namespace dagrad {

class Scale : public Op {
 public:
  explicit Scale(const Attrs& a) : scale_(static_cast<float>(a.get_double("scale"))) {}

  static Schema schema() { return {Key::number("scale", "the factor").required()}; }

  std::pair<int, int> arity() const override { return {1, 1}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_dtype(in[0], DType::f32, "input");
    return in[0];
  }

  void forward(const Inputs& in, Tensor& out) override { scale_into(scale_, *in[0], out); }

  // dx += scale · dout in one loop: oneDNN eltwise with a sum post-op is its reference kernel.
  // A dx that holds nothing yet is written by the forward kernel.
  void backward(const Inputs&, const Tensor&, const Tensor& dout, const Grads& din) override {
    GradOut dx = din.out(0);
    if (!dx) return;
    if (dx.overwrite) scale_into(scale_, dout, *dx);
    else axpy(scale_, dout, *dx);
  }

  static std::vector<Sample> samples() {
    return {{"vector, scale 2.5", {{"scale", 2.5}}, {{{6}}}},
            {"matrix, scale -0.5", {{"scale", -0.5}}, {{{3, 4}}}},
            {"rank 3, integer scale 3", {{"scale", int64_t{3}}}, {{{2, 3, 2}}}}};
  }

 private:
  float scale_;
};

DAGRAD_REGISTER_OP(Scale, "Scale", "scale · x elementwise; attribute scale (required number)");

}  // namespace dagrad
