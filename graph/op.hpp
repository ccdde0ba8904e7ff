// The op interface: shape inference, forward, backward, and gradient-check samples.
//
// Adding an op (see docs/adding_an_op.md for a worked example):
//   1. Write ops/<snake_case_name>.cpp with a class deriving from dagrad::Op that has
//        explicit MyOp(const Attrs& a)            read attributes here (a.get_double("alpha"), ...)
//        static Schema schema();                   its attributes, if it has any (defaults, ranges)
//        static std::vector<Sample> samples();     inputs for the gradient check
//      and implements arity(), infer(), forward(), backward(); end the file with
//        DAGRAD_REGISTER_OP(MyOp, "MyOp", "one-line description");
//   2. Add the file to the list in ops/meson.build.
//   3. Build; `dagrad gradcheck MyOp` checks it, and the test suite checks it from then on.
//
// Contracts:
//   - infer() sees input types whose dimension 0 may be kBatch; it throws UserError with a short
//     reason, and the graph adds the node name, op name and input shapes to the message.
//   - forward() writes every element of `out`, whose shape is infer()'s answer at run time.
//   - THE GRADIENT RULE: backward() ADDS its contribution into *din[i] (+=, never =): the buffer
//     already holds what other consumers of input i added (zeros when none did). din[i] is null
//     when input i needs no gradient (ids, constants, frozen values): skip it.
//   - An op instance belongs to one node, so it may keep scratch buffers and cached oneDNN
//     primitives between calls.
// That is all a new op needs. Grads also offers two optional paths for speed, out() and lend(),
// and ops that look up rows of a table declare sparse_rows(); each is described where it is
// declared, and an op that uses none of them is correct and complete.
#pragma once
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/attrs.hpp"
#include "graph/error.hpp"
#include "graph/registry.hpp"
#include "graph/tensor.hpp"

namespace dagrad {

// A gradient destination with its beta: `overwrite` means the buffer holds nothing yet in this
// backward pass (its contents are undefined), so a kernel writes it with beta = 0; otherwise the
// kernel adds into it (beta = 1). See Grads::out().
struct GradOut {
  Tensor* tensor = nullptr;
  bool overwrite = false;
  explicit operator bool() const { return tensor != nullptr; }
  Tensor& operator*() const { return *tensor; }
  Tensor* operator->() const { return tensor; }
};

// Where backward() puts the gradients of an op's inputs, one slot per input. Non-copyable: made
// for one backward() call.
class Grads {
 public:
  // Views of per-input arrays that outlive the call (the differentiator's scratch). pending[i],
  // when not null, points at the flag "input i's gradient holds nothing yet in this pass" (shared
  // by the slots of a value the op reads twice); lent, when not empty, has a slot per input where
  // lend() records a tensor, and is empty when lending is not possible.
  Grads(std::span<Tensor* const> dense, std::span<std::vector<int32_t>* const> rows, std::span<char* const> pending,
        std::span<const Tensor*> lent = {})
      : dense_(dense), rows_(rows), pending_(pending), lent_(lent) {}
  // Owning, for tests and one-off calls: every gradient accumulates into what it holds.
  Grads(std::vector<Tensor*> dense, std::vector<std::vector<int32_t>*> rows)
      : own_dense_(std::move(dense)), own_rows_(std::move(rows)), dense_(own_dense_), rows_(own_rows_) {}
  Grads(const Grads&) = delete;
  Grads& operator=(const Grads&) = delete;

  // The gradient of input i to ADD into; null when input i needs no gradient. A buffer that holds
  // nothing yet is zeroed here, on first use, so that += is always right.
  Tensor* operator[](size_t i) const {
    check(i);
    if (char* p = pending(i); p && *p) {
      dense_[i]->zero();
      *p = 0;
    }
    return dense_[i];
  }

  // For speed, optional: the gradient of input i together with its beta, for kernels that can
  // write instead of add (gemm's accumulate flag, accumulate(out, in, overwrite)). When the
  // result's `overwrite` is true, the op must WRITE every element of it (no zeroing was done);
  // otherwise it adds, as with operator[]. Saves zeroing a buffer before the first writer (the
  // gradient checker verifies every op that uses it).
  GradOut out(size_t i) const {
    check(i);
    GradOut o{dense_[i], false};
    if (char* p = pending(i); p && *p) {
      o.overwrite = true;
      *p = 0;
    }
    return o;
  }

  // For speed, optional: instead of writing input i's gradient, hand over `t` (input i's shape),
  // which the op keeps unchanged until its next forward(); the differentiator reads it as the
  // gradient without a copy (and copies it before another op adds to it). Returns false, and
  // does nothing, when that is not possible now (the gradient already holds something, or the
  // caller does not take lent gradients): the op then writes as usual.
  bool lend(size_t i, const Tensor& t) const {
    check(i);
    char* p = pending(i);
    if (!dense_[i] || !p || !*p || i >= lent_.size()) return false;
    lent_[i] = &t;
    *p = 0;
    return true;
  }

  // For an input the op declares sparse_rows(): the rows it added into may be recorded here, so
  // that an optimizer updates and the differentiator clears only those rows. Duplicates are
  // allowed; a no-op when the gradient is dense.
  void add_rows(size_t i, std::span<const int32_t> rows) const {
    if (auto* r = i < rows_.size() ? rows_[i] : nullptr) r->insert(r->end(), rows.begin(), rows.end());
  }

  // Whether input i needs a gradient at all, without touching the buffer.
  bool needs(size_t i) const {
    check(i);
    return dense_[i] != nullptr;
  }
  size_t size() const { return dense_.size(); }

 private:
  void check(size_t i) const {
    DAGRAD_ASSERT(i < dense_.size(), "Grads: input " + std::to_string(i) + " of " + std::to_string(dense_.size()));
  }
  char* pending(size_t i) const { return i < pending_.size() && dense_[i] ? pending_[i] : nullptr; }

  std::vector<Tensor*> own_dense_;
  std::vector<std::vector<int32_t>*> own_rows_;
  std::span<Tensor* const> dense_;
  std::span<std::vector<int32_t>* const> rows_;
  std::span<char* const> pending_;
  std::span<const Tensor*> lent_;
};

// An op's arguments: one per declared input, null for an optional input that was not given.
using Inputs = std::vector<const Tensor*>;

// One input of a gradient-check sample. f32 values are uniform in [lo, hi]; i32 ids are
// uniform integers in [lo, hi]. Elements within the check's step of a kink are skipped.
// InputSpec::none() stands for an optional input the sample leaves out.
struct InputSpec {
  Shape shape;
  DType dtype = DType::f32;
  double lo = -1.0, hi = 1.0;
  std::vector<double> kinks = {};
  bool check_grad = true;  // f32 inputs whose gradient the check compares
  bool absent = false;
  static InputSpec none() {
    InputSpec s;
    s.absent = true;
    return s;
  }
};

struct Sample {
  std::string label;
  Attrs attrs;
  std::vector<InputSpec> inputs;
  double step = 1e-2;  // central-difference step
  // Per element: |analytic - numeric| <= floor + rtol * max(|analytic|, |numeric|), where floor is
  // atol times the largest numeric gradient element of that input (or the central difference's
  // rounding noise, if larger): atol is relative to the input's gradient, not absolute
  // (autodiff/gradcheck.cpp).
  double rtol = 2e-2;
  double atol = 2e-3;
};

class Op {
 public:
  virtual ~Op() = default;
  // Minimum and maximum number of inputs (-1: any); the graph checks the count before infer().
  virtual std::pair<int, int> arity() const = 0;
  // Optional: the inputs' names, in order, when some may be left out: a name ending in '?' is an
  // optional input (after the required ones). The graph then accepts inputs by name, and passes
  // an absent one as a null Inputs entry, a null Grads slot and a TensorType with absent = true.
  // Empty (the default): inputs are positional only.
  virtual std::vector<std::string> input_names() const { return {}; }
  virtual TensorType infer(const std::vector<TensorType>& in) const = 0;
  virtual void forward(const Inputs& in, Tensor& out) = 0;
  virtual void backward(const Inputs& in, const Tensor& out, const Tensor& dout, const Grads& din) = 0;
  // Optional: told whether the graph runs for training (the default) or for inference only, before
  // the next forward(). An op may then skip work only backward() would need (it must still give
  // right gradients if backward() follows an inference forward) or behave differently (Dropout).
  virtual void set_training(bool on) { (void)on; }
  // Optional, for ops that draw random numbers (Dropout): the number of the training step about to
  // run, set by the fitter before each training forward (the graph starts at step 0). Drawing as a
  // pure function of (seed, step, element) makes runs reproducible, a resumed run identical to an
  // uninterrupted one, and the gradient checker's repeated forwards (one step) one function.
  virtual void set_step(int64_t step) { (void)step; }
  // True for an op whose forward or backward takes part in a collective with the other processes
  // of a data-parallel run (graph/collective.hpp): every rank must run such ops in the same order.
  // With inter-op parallelism the graph runs them alone, on the calling thread, one after another
  // in graph order (forward) or its reverse (backward), whatever the other nodes' costs.
  virtual bool communicates() const { return false; }
  // For lookups: true for an input whose gradient touches only some rows (an embedding table).
  // The differentiator then keeps that gradient sparse by rows when the input is a parameter, and
  // backward() records the rows it added into with din.add_rows().
  virtual bool sparse_rows(int input) const { (void)input; return false; }
  // Floating-point operations (a multiply-add counts 2, an exp or a division 1) of forward() when
  // `input` < 0, else of backward()'s work for input `input`'s gradient, at these shapes. Used for
  // the compute floor of benchmarks. The default suits elementwise ops: one per output element
  // forward, one per element of the input backward.
  virtual double flops(const Inputs& in, const Tensor& out, int input) const {
    return input < 0 ? static_cast<double>(out.size()) : static_cast<double>(in.at(input)->size());
  }
};

struct OpInfo {
  std::string name;
  std::string description;
  Schema schema;  // the attributes
  std::function<std::unique_ptr<Op>(const Attrs&)> make;
  std::function<std::vector<Sample>()> samples;
};

class OpRegistry : public Registry<OpInfo> {
 public:
  static OpRegistry& instance();
  // Checks the attributes against the op's schema (filling in defaults), then builds the op.
  std::unique_ptr<Op> make(const std::string& name, Attrs attrs) const;

 private:
  OpRegistry() : Registry("op") {}
};

template <class T>
bool register_op(const char* name, const char* description) {
  Schema schema;
  if constexpr (requires { T::schema(); }) schema = T::schema();
  return OpRegistry::instance().add(
      {name, description, std::move(schema), [](const Attrs& a) { return std::unique_ptr<Op>(new T(a)); },
       [] { return T::samples(); }});
}

// Registers an op class: `static Schema schema()` declares its attributes (none when absent),
// `static std::vector<Sample> samples()` its gradient-check samples.
#define DAGRAD_REGISTER_OP(Class, Name, Description) \
  [[maybe_unused]] static const bool dagrad_registered_##Class =  \
      ::dagrad::abi_matches(DAGRAD_ABI_VERSION, "op", Name) && ::dagrad::register_op<Class>(Name, Description)

// Shape-inference helpers: each throws UserError with a short reason.
void expect_rank(const TensorType& t, int rank, const char* what);
void expect_dtype(const TensorType& t, DType d, const char* what);
// Dimensions equal, where kBatch matches kBatch only.
void expect_same_shape(const TensorType& a, const TensorType& b, const char* what);

}  // namespace dagrad
