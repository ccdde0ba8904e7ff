// Adagrad (tf.keras 2.x): acc += g²; w -= lr·g / (sqrt(acc) + epsilon), epsilon outside the root.
// A sparse gradient updates only its rows: a zero-gradient element is left exactly as it is.
#include <cmath>

#include "models/optimizers/optimizer.hpp"

namespace dagrad {

class Adagrad : public Optimizer {
 public:
  explicit Adagrad(const Attrs& a)
      : Optimizer(a, {"accumulator"}),
        initial_accumulator_value_(a.get_double("initial_accumulator_value")),
        epsilon_(a.get_double("epsilon")) {}

  static Schema schema() {
    return {learning_rate_key(0.001),
            Key::number("initial_accumulator_value", "the accumulator's starting value").in(Range::at_least(0)).otherwise(0.1),
            Key::number("epsilon", "added to the root, against division by zero").in(Range::at_least(0)).otherwise(1e-7)};
  }

 protected:
  float slot_initial_value(size_t) const override { return static_cast<float>(initial_accumulator_value_); }

  void update(const ParamGrad& p, std::span<Tensor> slots, int64_t) override {
    const float lr = static_cast<float>(learning_rate()), eps = static_cast<float>(epsilon_);
    float* w = p.value->f32();
    float* acc = slots[0].f32();
    const float* g = p.grad->f32();
    sweep_rows(p, [=](int64_t b, int64_t n) {
#pragma omp simd
      for (int64_t i = b; i < b + n; ++i) {
        acc[i] += g[i] * g[i];
        w[i] -= lr * g[i] / (std::sqrt(acc[i]) + eps);
      }
    });
  }

 private:
  double initial_accumulator_value_, epsilon_;
};

DAGRAD_REGISTER_OPTIMIZER(Adagrad, "Adagrad", "Keras Adagrad: per-element rate lr/(sqrt(sum g²)+eps); a sparse gradient updates its rows only");

}  // namespace dagrad
