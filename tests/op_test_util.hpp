// Helpers for op tests: run one op's forward or backward on given tensors.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "graph/op.hpp"

namespace dagrad::test {

// An op's arguments as the graph passes them: an undefined Tensor() stands for an optional input
// left out, and the optional inputs after the last one given are absent too.
inline void op_arguments(const Op& o, const std::vector<Tensor>& inputs, std::vector<TensorType>& types, Inputs& in) {
  const size_t declared = std::max(inputs.size(), o.input_names().size());
  for (size_t i = 0; i < declared; ++i) {
    const Tensor* t = i < inputs.size() && inputs[i].defined() ? &inputs[i] : nullptr;
    TensorType ty;
    if (t) ty = {t->shape(), t->dtype()};
    else ty.absent = true;
    types.push_back(ty);
    in.push_back(t);
  }
}

inline Tensor run_forward(const std::string& op, const Attrs& attrs, const std::vector<Tensor>& inputs) {
  auto o = OpRegistry::instance().make(op, attrs);
  std::vector<TensorType> types;
  Inputs in;
  op_arguments(*o, inputs, types, in);
  Tensor out(o->infer(types).shape, o->infer(types).dtype);
  o->forward(in, out);
  return out;
}

// Gradients of sum(out * dout) with respect to every f32 input (zeros-initialised).
inline std::vector<Tensor> run_backward(const std::string& op, const Attrs& attrs,
                                        const std::vector<Tensor>& inputs, const Tensor& dout) {
  auto o = OpRegistry::instance().make(op, attrs);
  std::vector<TensorType> types;
  Inputs in;
  op_arguments(*o, inputs, types, in);
  Tensor out(o->infer(types).shape);
  o->forward(in, out);
  std::vector<Tensor> g(in.size());
  std::vector<Tensor*> d(in.size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].dtype() == DType::f32) {
      g[i] = Tensor::zeros(inputs[i].shape());
      d[i] = &g[i];
    }
  o->backward(in, out, dout, Grads(d, std::vector<std::vector<int32_t>*>(in.size(), nullptr)));
  return g;
}

inline void check_values(const Tensor& t, const std::vector<float>& expected, double eps = 1e-5) {
  REQUIRE(t.size() == static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    CHECK(t.f32()[i] == doctest::Approx(expected[i]).epsilon(eps));
  }
}

}  // namespace dagrad::test
