// Helpers for op tests: run one op's forward or backward on given tensors.
#pragma once
#include <doctest/doctest.h>

#include <vector>

#include "graph/op.hpp"

namespace dagrad::test {

inline Tensor run_forward(const std::string& op, const Attrs& attrs, const std::vector<Tensor>& inputs) {
  auto o = OpRegistry::instance().make(op, attrs);
  std::vector<TensorType> types;
  Inputs in;
  for (const auto& t : inputs) {
    types.push_back({t.shape(), t.dtype()});
    in.push_back(&t);
  }
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
  for (const auto& t : inputs) {
    types.push_back({t.shape(), t.dtype()});
    in.push_back(&t);
  }
  Tensor out(o->infer(types).shape);
  o->forward(in, out);
  std::vector<Tensor> g(inputs.size());
  std::vector<Tensor*> d(inputs.size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].dtype() == DType::f32) {
      g[i] = Tensor::zeros(inputs[i].shape());
      d[i] = &g[i];
    }
  o->backward(in, out, dout, Grads(d, std::vector<std::vector<int32_t>*>(inputs.size(), nullptr)));
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
