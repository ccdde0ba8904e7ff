// Optimizers: one update of every trainable parameter from its gradient, with Keras (tf.keras 2.x)
// semantics. Each optimizer is one file in models/optimizers/, registered by name like an op; its
// options are Attrs, and a misspelt option is a UserError listing the known ones.
#pragma once
#include <omp.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "graph/attrs.hpp"
#include "graph/error.hpp"
#include "graph/registry.hpp"
#include "graph/tensor.hpp"

namespace dagrad {

class Graph;
class Gradients;

// One parameter as an optimizer sees it in one step.
struct ParamGrad {
  std::string_view name;                       // keys the state: "<name>/<slot>"
  Tensor* value = nullptr;                     // f32, updated in place
  const Tensor* grad = nullptr;                // same shape as value
  // Null for a dense gradient. Otherwise value is 2-D and only these rows (sorted, unique) of
  // grad are valid; the other rows hold garbage and are never read.
  const std::vector<int32_t>* rows = nullptr;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every trainable parameter of g from the gradients of the last backward() into
  // `grads`. A parameter that backward did not reach (no gradient) is skipped, as Keras skips None.
  void step(Graph& g, const Gradients& grads);
  // The same for parameters held anywhere; step(Graph&, const Gradients&) is a thin wrapper over this one.
  void step(std::span<const ParamGrad> params);

  // The state for checkpoints: one f32 tensor per trainable parameter and slot, named
  // "<param>/<slot>" (e.g. "query/dense_0/kernel/accumulator"), in graph order. Slots not yet
  // there are allocated with their initial values, so a loader can fill them (copy_from) before
  // the first step. The pointers stay valid for the optimizer's life.
  std::vector<std::pair<std::string, Tensor*>> state(Graph& g);
  // Steps taken (Keras `iterations`); a step uses iterations() + 1 (Adam's bias correction).
  int64_t& iterations() { return iterations_; }

  double learning_rate() const { return learning_rate_; }
  void set_learning_rate(double lr);  // UserError when negative or not finite

 protected:
  // Reads "learning_rate" (declare it with learning_rate_key()); slot_names are the per-parameter
  // state tensors the subclass keeps (Keras names: "accumulator", "momentum", "m", "v").
  Optimizer(const Attrs& a, std::vector<std::string> slot_names);
  static Key learning_rate_key(double def);
  virtual float slot_initial_value(size_t slot) const { (void)slot; return 0.0f; }
  // Updates one parameter; slots are shaped like it, in slot_names order; t = iterations() + 1.
  virtual void update(const ParamGrad& p, std::span<Tensor> slots, int64_t t) = 0;

  // For option checks in constructors: UserError "<key> must be <what>, got <v>" unless ok.
  static void require(bool ok, const char* key, const char* what, double v);

 private:
  std::vector<Tensor>& slots_for(std::string_view name, const Shape& shape);

  double learning_rate_;
  std::vector<std::string> slot_names_;
  int64_t iterations_ = 0;
  std::map<std::string, std::vector<Tensor>, std::less<>> slots_;
  std::vector<ParamGrad> scratch_;  // step(Graph&)'s parameter list, reused
};

struct OptimizerInfo {
  std::string name;
  std::string description;
  Schema schema;  // its options besides `type`
  std::function<std::unique_ptr<Optimizer>(const Attrs&)> make;
};

class OptimizerRegistry : public Registry<OptimizerInfo> {
 public:
  static OptimizerRegistry& instance();
  static const Schema& common();  // `type`
  // Checks the options against the optimizer's schema (filling in defaults) and builds it; errors
  // name the optimizer.
  std::unique_ptr<Optimizer> make(const std::string& name, Attrs options) const;

 private:
  OptimizerRegistry() : Registry("optimizer") {}
};

// Registers an Optimizer class with `static Schema schema()` and a constructor from `const Attrs&`.
template <class T>
bool register_optimizer(const char* name, const char* description) {
  return OptimizerRegistry::instance().add(
      {name, description, T::schema(), [](const Attrs& a) { return std::unique_ptr<Optimizer>(new T(a)); }});
}

#define DAGRAD_REGISTER_OPTIMIZER(Class, Name, Description)                     \
  [[maybe_unused]] static const bool dagrad_registered_optimizer_##Class = \
      ::dagrad::abi_matches(DAGRAD_ABI_VERSION, "optimizer", Name) && ::dagrad::register_optimizer<Class>(Name, Description)

// ---- For optimizer implementations: elementwise sweeps over a parameter, on both cores. ----
// `touched(begin, count)` updates elements [begin, begin + count) from the gradient at the same
// offsets; `untouched(begin, count)` updates elements whose gradient is zero. Updates are
// elementwise, so the result does not depend on the number of threads.

// Elements; below this one thread is faster (waking the second costs more than the sweep). Lower
// than the ops' kParallelMinElements (2^20, ops/kernels/kernels.hpp): an update computes a square root and a
// division per element, so it is less bound by memory than an elementwise op.
inline constexpr int64_t kSweepParallelMin = 1 << 18;

// Dense gradient: touched over every element. Sparse: touched over the gradient's rows only; the
// other rows keep their values (exact for updates that leave a zero-gradient element alone, and
// the "lazy" variant of the others).
template <class Touched>
void sweep_rows(const ParamGrad& p, Touched touched) {
  const int64_t n = p.value->size();
  if (!p.rows) {
#pragma omp parallel if (n >= kSweepParallelMin)
    {
      const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
      // Block edges on 16-float (64-byte) boundaries: no two threads write one cache line.
      const int64_t b = t == 0 ? 0 : (n * t / nt) & ~int64_t{15};
      const int64_t e = t == nt - 1 ? n : (n * (t + 1) / nt) & ~int64_t{15};
      if (b < e) touched(b, e - b);
    }
    return;
  }
  const int64_t width = p.value->dim(1);
  const auto& rows = *p.rows;
  const int64_t nr = static_cast<int64_t>(rows.size());
#pragma omp parallel for schedule(static) if (nr * width >= kSweepParallelMin)
  for (int64_t i = 0; i < nr; ++i) touched(rows[i] * width, width);
}

// As sweep_rows, but with a sparse gradient the rows it does not hold get `untouched`, so the
// result equals the dense update with zero-gradient rows (momentum still moves them).
template <class Touched, class Untouched>
void sweep_all(const ParamGrad& p, Touched touched, Untouched untouched) {
  if (!p.rows) return sweep_rows(p, touched);
  const int64_t n_rows = p.value->dim(0), width = p.value->dim(1);
  const auto& rows = *p.rows;
#pragma omp parallel if (p.value->size() >= kSweepParallelMin)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t end = n_rows * (t + 1) / nt;
    int64_t r = n_rows * t / nt;
    auto it = std::lower_bound(rows.begin(), rows.end(), r);
    while (r < end) {
      if (it != rows.end() && *it == r) {
        touched(r * width, width);
        ++it;
        ++r;
      } else {  // a run of untouched rows up to the next touched one: contiguous memory
        const int64_t next = it != rows.end() ? std::min<int64_t>(*it, end) : end;
        untouched(r * width, (next - r) * width);
        r = next;
      }
    }
  }
}

}  // namespace dagrad
