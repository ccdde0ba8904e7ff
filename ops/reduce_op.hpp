// Base for ReduceSum and ReduceMean: attributes `axis` (integer, may be negative; absent = every
// element) and `keepdims` (bool, default false). Reducing every element without keepdims gives [1].
#pragma once
#include <string>

#include "ops/kernels/kernels.hpp"
#include "graph/op.hpp"

namespace dagrad {

template <bool Mean>
class ReduceOp : public Op {
 public:
  explicit ReduceOp(const Attrs& a)
      : all_(!a.has("axis")), axis_(all_ ? 0 : a.get_int("axis")), keepdims_(a.get_bool("keepdims")) {}

  static Schema schema() {
    return {Key::integer("axis", "the axis to reduce (negative counts from the last)").otherwise_text("every element"),
            Key::boolean("keepdims", "keep the reduced axis with size 1").otherwise(false)};
  }

  std::pair<int, int> arity() const override { return {1, 1}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_dtype(in[0], DType::f32, "input");
    const Shape& s = in[0].shape;
    const int rank = static_cast<int>(s.size());
    Shape out;
    if (all_) {
      out = keepdims_ ? Shape(s.size(), 1) : Shape{};
    } else {
      const int a = axis(rank);
      for (int d = 0; d < rank; ++d)
        if (d != a) out.push_back(s[d]);
        else if (keepdims_) out.push_back(1);
    }
    if (out.empty()) out = {1};
    return {out, DType::f32};
  }

  // The input viewed as [outer, count, inner] with the reduced elements along count.
  // Measured (1 thread): oneDNN's reduction is jit only when inner == 1 (the last axis, or
  // everything): 12-18 µs for [2048, 32] -> [2048] (a loop: 15), 3.6 µs for 65536 elements -> [1].
  // Otherwise it runs its reference kernel: 1.2 ms for [2048, 64] over axis 0 and 0.7 ms for
  // [8, 256, 32] over axis 1, where sum_middle_axis's loop takes 13 and 11 µs. So: oneDNN when
  // inner == 1, the loop otherwise.
  void forward(const Inputs& in, Tensor& out) override {
    const auto [outer, count, inner] = view(*in[0]);
    const float scale = Mean ? 1.0f / static_cast<float>(count) : 1.0f;
    if (inner == 1 && outer > 0 && count > 0)
      reduce_last_axis(Mean ? dnnl::algorithm::reduction_mean : dnnl::algorithm::reduction_sum, *in[0], outer,
                       count, out);
    else
      sum_middle_axis(*in[0], outer, count, inner, scale, false, out);
  }

  // One add per input element, either way.
  double flops(const Inputs& in, const Tensor&, int) const override { return static_cast<double>(in[0]->size()); }

  // dx[o, k, i] += dout[o, i] (divided by count for the mean).
  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    GradOut dx = din.out(0);
    if (!dx) return;
    const auto [outer, count, inner] = view(*in[0]);
    const float scale = Mean ? 1.0f / static_cast<float>(count) : 1.0f;
    broadcast_middle_axis(dout, outer, count, inner, scale, !dx.overwrite, *dx);
  }

  static std::vector<Sample> samples() {
    return {{"vector, all", {}, {{{7}}}},
            // One element per output (a batch of one row): nothing to reduce.
            {"one element, all", {}, {{{1}}}},
            {"matrix, axis -1 of width 1", {{"axis", int64_t{-1}}}, {{{3, 1}}}},
            {"matrix, all, keepdims", {{"keepdims", true}}, {{{3, 4}}}},
            {"matrix, axis 0", {{"axis", int64_t{0}}}, {{{4, 3}}}},
            {"matrix, axis -1, keepdims", {{"axis", int64_t{-1}}, {"keepdims", true}}, {{{4, 3}}}},
            {"rank 3, axis 1", {{"axis", int64_t{1}}}, {{{2, 3, 4}}}},
            {"rank 3, axis -3, keepdims", {{"axis", int64_t{-3}}, {"keepdims", true}}, {{{2, 3, 2}}}},
            {"rank 3, axis 2", {{"axis", int64_t{2}}}, {{{2, 3, 4}, DType::f32, -2, 2}}},
            // More rows than one summation block (256), so block partials are combined.
            {"600 rows, axis 0", {{"axis", int64_t{0}}}, {{{600, 2}}}},
            // Nothing to reduce (one element; an axis of length 1): oneDNN rejects these.
            {"one element, all", {}, {{{1, 1}}}},
            {"axis of length 1", {{"axis", int64_t{1}}}, {{{3, 1}}}}};
  }

 private:
  int axis(int rank) const {
    if (axis_ < -rank || axis_ >= rank)
      throw UserError("axis " + std::to_string(axis_) + " is out of range for rank " + std::to_string(rank) +
                      (rank ? " (allowed " + std::to_string(-rank) + " to " + std::to_string(rank - 1) + ")" : ""));
    return static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
  }

  struct View {
    int64_t outer, count, inner;
  };
  View view(const Tensor& x) const {
    if (all_) return {1, x.size(), 1};
    const int a = axis(x.rank());
    View v{1, x.dim(a), 1};
    for (int d = 0; d < a; ++d) v.outer *= x.dim(d);
    for (int d = a + 1; d < x.rank(); ++d) v.inner *= x.dim(d);
    return v;
  }

  bool all_;
  int64_t axis_;
  bool keepdims_;
};

}  // namespace dagrad
