// The gradient checker itself: it must fail a wrong gradient, however small the gradient's
// elements. Each registered op is wrapped in an op whose backward tampers with the real one's
// result (all zeros, one element 10% off; on the sample also scaled by 0.9 and a sign
// flipped); the checker passes the untouched wrapper and fails every tampered one, on every
// sample whose gradient is not zero. The issue's
// case: ReduceMean over 600 rows, whose gradient elements are all below 2e-3 (an absolute
// tolerance of 2e-3 let an all-zero gradient pass).
#include <doctest/doctest.h>

#include <cmath>

#include "autodiff/gradcheck.hpp"
#include "graph/op.hpp"

using namespace dagrad;

namespace {

enum class Tamper { none, zero, scale, one_element, flip_sign };

// `inner`'s forward, and its backward changed as `how` says.
class Tampered : public Op {
 public:
  Tampered(std::unique_ptr<Op> inner, Tamper how, double* largest = nullptr)
      : inner_(std::move(inner)), how_(how), largest_(largest) {}
  std::pair<int, int> arity() const override { return inner_->arity(); }
  std::vector<std::string> input_names() const override { return inner_->input_names(); }
  TensorType infer(const std::vector<TensorType>& in) const override { return inner_->infer(in); }
  void forward(const Inputs& in, Tensor& out) override { inner_->forward(in, out); }
  void set_training(bool on) override { inner_->set_training(on); }
  void set_step(int64_t step) override { inner_->set_step(step); }
  bool sparse_rows(int input) const override { return inner_->sparse_rows(input); }
  void backward(const Inputs& in, const Tensor& out, const Tensor& dout, const Grads& din) override {
    std::vector<Tensor> g(in.size());
    std::vector<std::vector<int32_t>> rows(in.size());
    std::vector<Tensor*> d(in.size(), nullptr);
    std::vector<std::vector<int32_t>*> r(in.size(), nullptr);
    for (size_t i = 0; i < in.size(); ++i)
      if (din.needs(i)) {
        g[i] = Tensor::zeros(in[i]->shape());
        d[i] = &g[i];
        r[i] = &rows[i];
      }
    inner_->backward(in, out, dout, Grads(d, r));
    for (size_t i = 0; i < in.size(); ++i) {
      if (!d[i]) continue;
      float* v = g[i].f32();
      const int64_t n = g[i].size();
      int64_t largest = 0;  // the element of largest magnitude
      for (int64_t j = 0; j < n; ++j)
        if (std::fabs(v[j]) > std::fabs(v[largest])) largest = j;
      if (largest_ && n) *largest_ = std::max(*largest_, static_cast<double>(std::fabs(v[largest])));
      switch (how_) {
        case Tamper::none: break;
        case Tamper::zero: g[i].zero(); break;
        case Tamper::scale: for (int64_t j = 0; j < n; ++j) v[j] *= 0.9f; break;
        case Tamper::one_element: v[largest] *= 1.1f; break;
        case Tamper::flip_sign: v[largest] = -v[largest]; break;
      }
      Tensor& into = *din[i];
      for (int64_t j = 0; j < n; ++j) into.f32()[j] += v[j];
      din.add_rows(i, rows[i]);
    }
  }

 private:
  std::unique_ptr<Op> inner_;
  Tamper how_;
  double* largest_;  // the largest |element| of the real gradients, when not null
};

CheckResult check_tampered(const std::string& op, const Sample& s, Tamper how, double* largest = nullptr) {
  Tampered t(OpRegistry::instance().make(op, s.attrs), how, largest);
  return check_op_sample(t, op + " sample '" + s.label + "'", s);
}

}  // namespace

TEST_CASE("gradcheck fails an all-zero gradient of ReduceMean over 600 rows (elements below 2e-3)") {
  const auto samples = OpRegistry::instance().get("ReduceMean").samples();
  const Sample* rows600 = nullptr;
  for (const auto& s : samples)
    if (s.label == "600 rows, axis 0") rows600 = &s;
  REQUIRE(rows600);
  CHECK(check_tampered("ReduceMean", *rows600, Tamper::none).ok);
  const CheckResult zero = check_tampered("ReduceMean", *rows600, Tamper::zero);
  INFO(zero.failure);
  CHECK_FALSE(zero.ok);
  CHECK(zero.failure.find("analytic 0,") != std::string::npos);
  CHECK_FALSE(check_tampered("ReduceMean", *rows600, Tamper::scale).ok);
  CHECK_FALSE(check_tampered("ReduceMean", *rows600, Tamper::one_element).ok);
  CHECK_FALSE(check_tampered("ReduceMean", *rows600, Tamper::flip_sign).ok);
}

TEST_CASE("the tampering wrapper alone changes nothing: dense and sparse-row gradients pass") {
  for (const char* op : {"ReduceMean", "Embedding", "EmbeddingSum", "MatMul"})
    for (const auto& s : OpRegistry::instance().get(op).samples()) {
      const CheckResult honest = check_tampered(op, s, Tamper::none);
      INFO(honest.label << ": " << honest.failure);
      CHECK(honest.ok);
    }
}

TEST_CASE("gradcheck fails a zeroed gradient and a gradient with one element changed, for every op and sample") {
  // (The op itself passes on every sample: ops/test_registry.cpp. A sample whose true gradient is
  // zero everywhere, all padding or everything masked, cannot be told from a zeroed one.)
  int samples = 0, zero_gradient = 0;
  for (const auto& name : OpRegistry::instance().names()) {
    for (const auto& s : OpRegistry::instance().get(name).samples()) {
      double largest = 0;
      const CheckResult zero = check_tampered(name, s, Tamper::zero, &largest);
      if (largest == 0) {
        ++zero_gradient;
        continue;
      }
      ++samples;
      CHECK_FALSE_MESSAGE(zero.ok, zero.label << " passed with an all-zero gradient");
      const CheckResult one = check_tampered(name, s, Tamper::one_element);
      CHECK_FALSE_MESSAGE(one.ok, one.label << " passed with its largest gradient element 10% off");
    }
  }
  MESSAGE(samples << " samples failed both tampered gradients; " << zero_gradient << " have a gradient of zero");
  CHECK(samples > 50);
  CHECK(zero_gradient <= 3);
}
