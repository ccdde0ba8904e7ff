// Adam (tf.keras 2.x): m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²;
// w -= alpha·m / (sqrt(v) + epsilon) with alpha = lr·sqrt(1-b2^t)/(1-b1^t), epsilon outside the root.
// A sparse gradient still moves every row (m and v decay), exactly as the dense update does,
// unless lazy: true (TF's LazyAdam): then only the gradient's rows change; cheaper, not equal to
// the dense update.
#include <cmath>

#include "models/optimizers/optimizer.hpp"

namespace dagrad {

class Adam : public Optimizer {
 public:
  explicit Adam(const Attrs& a)
      : Optimizer(a, {"m", "v"}),
        beta_1_(a.get_double("beta_1")),
        beta_2_(a.get_double("beta_2")),
        epsilon_(a.get_double("epsilon")),
        lazy_(a.get_bool("lazy")) {}

  static Schema schema() {
    const Range unit = Range::at_least(0) & Range::less_than(1);
    return {learning_rate_key(0.001),
            Key::number("beta_1", "decay of the first moment").in(unit).otherwise(0.9),
            Key::number("beta_2", "decay of the second moment").in(unit).otherwise(0.999),
            Key::number("epsilon", "added to the root, against division by zero").in(Range::at_least(0)).otherwise(1e-7),
            Key::boolean("lazy", "a sparse gradient moves only its rows (TF LazyAdam: cheaper, not the dense update)")
                .otherwise(false)};
  }

 protected:
  void update(const ParamGrad& p, std::span<Tensor> slots, int64_t t) override {
    const auto td = static_cast<double>(t);
    const float alpha = static_cast<float>(learning_rate() * std::sqrt(1.0 - std::pow(beta_2_, td)) /
                                           (1.0 - std::pow(beta_1_, td)));
    Kernel k{p.value->f32(), slots[0].f32(), slots[1].f32(), p.grad->f32(),
             static_cast<float>(beta_1_), static_cast<float>(beta_2_), static_cast<float>(epsilon_), alpha};
    auto touched = [k](int64_t b, int64_t n) { k.run<true>(b, n); };
    auto untouched = [k](int64_t b, int64_t n) { k.run<false>(b, n); };
    if (lazy_) sweep_rows(p, touched);
    else sweep_all(p, touched, untouched);
  }

 private:
  struct Kernel {
    float *w, *m, *v;
    const float* g;
    float b1, b2, eps, alpha;
    // One kernel for rows with and without a gradient, so a row without one is updated exactly
    // as the dense update with a zero gradient would update it.
    template <bool kHasGrad>
    void run(int64_t b, int64_t n) const {
#pragma omp simd
      for (int64_t i = b; i < b + n; ++i) {
        const float gi = kHasGrad ? g[i] : 0.0f;
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        w[i] -= alpha * m[i] / (std::sqrt(v[i]) + eps);
      }
    }
  };

  double beta_1_, beta_2_, epsilon_;
  bool lazy_;
};

DAGRAD_REGISTER_OPTIMIZER(Adam, "Adam", "Keras Adam; lazy: true updates only a sparse gradient's rows (LazyAdam)");

}  // namespace dagrad
