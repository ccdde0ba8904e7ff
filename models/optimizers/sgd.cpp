// SGD (tf.keras 2.x): w -= lr·g; with momentum v = momentum·v - lr·g, then w += v, or with
// nesterov w += momentum·v - lr·g. Without momentum a sparse gradient updates only its rows
// (exact); with momentum every row moves, as in the dense update, unless lazy: true (then rows
// the gradient does not hold keep w and v as they are: cheaper, not equal to the dense update).
#include "models/optimizers/optimizer.hpp"

namespace dagrad {

class SGD : public Optimizer {
 public:
  explicit SGD(const Attrs& a) : SGD(a, a.get_double("momentum")) {}

  static Schema schema() {
    return {learning_rate_key(0.01),
            Key::number("momentum", "velocity decay; 0 is plain SGD").in(Range::at_least(0) & Range::at_most(1)).otherwise(0.0),
            Key::boolean("nesterov", "Nesterov momentum").otherwise(false),
            Key::boolean("lazy", "with momentum, a sparse gradient moves only its rows (cheaper, not the dense update)")
                .otherwise(false)};
  }

 private:
  // Keras keeps a "momentum" slot only when there is momentum.
  SGD(const Attrs& a, double momentum)
      : Optimizer(a, momentum != 0.0 ? std::vector<std::string>{"momentum"} : std::vector<std::string>{}),
        momentum_(momentum),
        nesterov_(a.get_bool("nesterov")),
        lazy_(a.get_bool("lazy")) {}

 protected:
  void update(const ParamGrad& p, std::span<Tensor> slots, int64_t) override {
    const float lr = static_cast<float>(learning_rate());
    float* w = p.value->f32();
    const float* g = p.grad->f32();
    if (momentum_ == 0.0) {
      sweep_rows(p, [=](int64_t b, int64_t n) {
#pragma omp simd
        for (int64_t i = b; i < b + n; ++i) w[i] -= lr * g[i];
      });
      return;
    }
    float* v = slots[0].f32();
    auto touched = [=, this](int64_t b, int64_t n) { momentum_step<true>(w, v, g, b, n, lr); };
    auto untouched = [=, this](int64_t b, int64_t n) { momentum_step<false>(w, v, g, b, n, lr); };
    if (lazy_) sweep_rows(p, touched);
    else sweep_all(p, touched, untouched);
  }

 private:
  // One kernel for rows with and without a gradient, so a row without one is updated exactly as
  // the dense update with a zero gradient would update it.
  template <bool kHasGrad>
  void momentum_step(float* w, float* v, const float* g, int64_t b, int64_t n, float lr) const {
    const float mu = static_cast<float>(momentum_);
#pragma omp simd
    for (int64_t i = b; i < b + n; ++i) {
      const float gi = kHasGrad ? g[i] : 0.0f;
      v[i] = mu * v[i] - lr * gi;
      if (nesterov_) w[i] += mu * v[i] - lr * gi;
      else w[i] += v[i];
    }
  }

  double momentum_;
  bool nesterov_, lazy_;
};

DAGRAD_REGISTER_OPTIMIZER(SGD, "SGD", "Keras SGD with optional (Nesterov) momentum");

}  // namespace dagrad
