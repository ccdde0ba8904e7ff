// The op interface: shape inference, forward, backward that ACCUMULATES, and gradient-check samples.
//
// Adding an op (see docs/adding_an_op.md for a worked example):
//   1. Write ops/<snake_case_name>.cpp with a class deriving from dagrad::Op that has
//        explicit MyOp(const Attrs& a)            read attributes here (unknown keys are rejected)
//        static std::vector<Sample> samples();     inputs for the gradient check
//      and implements arity(), infer(), forward(), backward(); end the file with
//        DAGRAD_REGISTER_OP(MyOp, "MyOp", "one-line description");
//   2. Add the file to the op_sources list in ops/meson.build.
//   3. Build; `dagrad gradcheck MyOp` checks it, and the test suite checks it from then on.
//
// Contracts:
//   - infer() sees input types whose dimension 0 may be kBatch; it throws UserError with a short
//     reason, and the graph adds the node name, op name and input shapes to the message.
//   - forward() writes every element of `out`, whose shape is infer()'s answer at run time.
//   - backward() ADDS into din[i] (never overwrites): gradients from several consumers accumulate.
//     din[i] is null when input i needs no gradient (ids, constants, frozen values): skip it.
//     An op may declare writes_fresh_grads(); it must then WRITE every element of din[i] when
//     din.fresh(i) (the first gradient written to that value in a backward pass), and add otherwise.
//   - An op instance belongs to one node, so it may keep scratch buffers and cached oneDNN
//     primitives between calls.
#pragma once
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/attrs.hpp"
#include "graph/error.hpp"
#include "graph/tensor.hpp"

namespace dagrad {

// Where backward puts the gradients of an op's inputs. Non-copyable: made for one backward() call.
class Grads {
 public:
  // Views of per-input arrays that outlive the call (the graph's scratch). `fresh` may be empty;
  // `lent`, when not empty, has a slot per input where lend() records a tensor.
  Grads(std::span<Tensor* const> dense, std::span<std::vector<int32_t>* const> rows, std::span<const char> fresh,
        std::span<const Tensor*> lent = {})
      : dense_(dense), rows_(rows), fresh_(fresh), lent_(lent) {}
  // Owning, for tests and one-off calls: every gradient accumulates.
  Grads(std::vector<Tensor*> dense, std::vector<std::vector<int32_t>*> rows)
      : own_dense_(std::move(dense)), own_rows_(std::move(rows)), dense_(own_dense_), rows_(own_rows_) {}
  Grads(const Grads&) = delete;
  Grads& operator=(const Grads&) = delete;

  // Null when input i needs no gradient.
  Tensor* operator[](size_t i) const {
    DAGRAD_ASSERT(i < dense_.size(), "Grads: input " + std::to_string(i) + " of " + std::to_string(dense_.size()));
    return dense_[i];
  }
  // True when input i's gradient holds nothing yet in this backward pass: its contents are
  // undefined, and the op must WRITE every element of it instead of adding. Only an op whose
  // writes_fresh_grads() is true is ever given a fresh gradient (the graph zeroes it for others).
  bool fresh(size_t i) const { return i < fresh_.size() && fresh_[i]; }
  // True when input i's gradient is fresh and the caller accepts a lent one (see lend()).
  bool can_lend(size_t i) const { return fresh(i) && i < lent_.size(); }
  // Instead of writing a fresh gradient, hands over `t` (input i's shape), which the op keeps
  // unchanged until its next forward(): the graph reads it as input i's gradient without a copy
  // (SoftmaxCrossEntropy lends the logits gradient it computed in forward). Only if can_lend(i).
  void lend(size_t i, const Tensor& t) const {
    DAGRAD_ASSERT(can_lend(i), "Grads::lend on input " + std::to_string(i) + ", which cannot take a lent gradient");
    lent_[i] = &t;
  }
  // For an input the op declares sparse_rows(): the rows it wrote into may be recorded here, so
  // that an optimizer updates and the graph clears only those rows. No-op in dense mode.
  // Duplicates are allowed. A sparse gradient is never fresh.
  void add_rows(size_t i, std::span<const int32_t> rows) const {
    if (auto* r = i < rows_.size() ? rows_[i] : nullptr) r->insert(r->end(), rows.begin(), rows.end());
  }

 private:
  std::vector<Tensor*> own_dense_;
  std::vector<std::vector<int32_t>*> own_rows_;
  std::span<Tensor* const> dense_;
  std::span<std::vector<int32_t>* const> rows_;
  std::span<const char> fresh_;
  std::span<const Tensor*> lent_;
};

using Inputs = std::vector<const Tensor*>;

// One input of a gradient-check sample. f32 values are uniform in [lo, hi]; i32 ids are
// uniform integers in [lo, hi]. Elements within the check's step of a kink are skipped.
struct InputSpec {
  Shape shape;
  DType dtype = DType::f32;
  double lo = -1.0, hi = 1.0;
  std::vector<double> kinks = {};
  bool check_grad = true;  // f32 inputs whose gradient the check compares
};

struct Sample {
  std::string label;
  Attrs attrs;
  std::vector<InputSpec> inputs;
  double step = 1e-2;  // central-difference step
  double rtol = 2e-2;  // |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)
  double atol = 2e-3;
};

class Op {
 public:
  virtual ~Op() = default;
  // Minimum and maximum number of inputs; the graph checks the count before infer().
  virtual std::pair<int, int> arity() const = 0;
  virtual TensorType infer(const std::vector<TensorType>& in) const = 0;
  virtual void forward(const Inputs& in, Tensor& out) = 0;
  virtual void backward(const Inputs& in, const Tensor& out, const Tensor& dout, const Grads& din) = 0;
  // True for an input whose gradient touches only some rows (an embedding table): the graph then
  // keeps that gradient sparse by rows when the input is a parameter.
  virtual bool sparse_rows(int input) const { (void)input; return false; }
  // True when backward() honours Grads::fresh(): it then writes, rather than adds into, a fresh
  // gradient, which saves the graph zeroing it first (a 2048 x 2048 logits gradient is 16 MB).
  virtual bool writes_fresh_grads() const { return false; }
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
  std::function<std::unique_ptr<Op>(const Attrs&)> make;
  std::function<std::vector<Sample>()> samples;
};

class OpRegistry {
 public:
  static OpRegistry& instance();
  bool add(OpInfo info);
  // Throws UserError "unknown op 'X' (registered: A, B, ...)".
  const OpInfo& find(const std::string& name) const;
  bool contains(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  // Builds an op and rejects attributes it does not read.
  std::unique_ptr<Op> make(const std::string& name, const Attrs& attrs) const;

 private:
  std::vector<OpInfo> ops_;
};

template <class T>
bool register_op(const char* name, const char* description) {
  return OpRegistry::instance().add(
      {name, description, [](const Attrs& a) { return std::unique_ptr<Op>(new T(a)); },
       [] { return T::samples(); }});
}

#define DAGRAD_REGISTER_OP(Class, Name, Description) \
  [[maybe_unused]] static const bool dagrad_registered_##Class = ::dagrad::register_op<Class>(Name, Description)

// Shape-inference helpers: each throws UserError with a short reason.
void expect_rank(const TensorType& t, int rank, const char* what);
void expect_dtype(const TensorType& t, DType d, const char* what);
// Dimensions equal, where kBatch matches kBatch only.
void expect_same_shape(const TensorType& a, const TensorType& b, const char* what);

}  // namespace dagrad
