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
      : Optimizer(a, 0.001, {"m", "v"}),
        beta_1_(a.get_double("beta_1", 0.9)),
        beta_2_(a.get_double("beta_2", 0.999)),
        epsilon_(a.get_double("epsilon", 1e-7)),
        lazy_(a.get_bool("lazy", false)) {
    require(beta_1_ >= 0 && beta_1_ < 1, "beta_1", "in [0, 1)", beta_1_);
    require(beta_2_ >= 0 && beta_2_ < 1, "beta_2", "in [0, 1)", beta_2_);
    require(epsilon_ >= 0, "epsilon", "a number >= 0", epsilon_);
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
