// MaskedMean: out[b] = mean of x[b, t, :] over the tokens t whose id is nonzero, from x [B, T, D]
// and ids [B, T] i32: Keras Embedding(mask_zero=True) followed by GlobalAveragePooling1D.
#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

class MaskedMean : public Op {
 public:
  explicit MaskedMean(const Attrs&) {}

  std::pair<int, int> arity() const override { return {2, 2}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_rank(in[0], 3, "x");
    expect_dtype(in[0], DType::f32, "x");
    expect_rank(in[1], 2, "ids");
    expect_dtype(in[1], DType::i32, "ids");
    const Shape& x = in[0].shape;
    const Shape& ids = in[1].shape;
    if (x[0] != ids[0] || x[1] != ids[1])
      throw UserError("ids " + shape_str(ids) + " must match the first two dimensions of x " + shape_str(x));
    return {{x[0], x[2]}, DType::f32};
  }

  // A row whose ids are all zero gives zeros. Keras divides by a zero count there and gives NaN;
  // zeros keep one empty history from poisoning a whole batch's loss and gradients.
  void forward(const Inputs& in, Tensor& out) override {
    const int64_t b = in[0]->dim(0), t = in[0]->dim(1), d = in[0]->dim(2);
    const float* x = in[0]->f32();
    const int32_t* ids = in[1]->i32();
    float* o = out.f32();
#pragma omp parallel for schedule(static) if (b * t * d >= kParallelMinElements)
    for (int64_t r = 0; r < b; ++r) {
      float* orow = o + r * d;
      for (int64_t c = 0; c < d; ++c) orow[c] = 0.0f;
      const int64_t count = unmasked(ids + r * t, t);
      if (count == 0) continue;
      for (int64_t k = 0; k < t; ++k) {
        if (ids[r * t + k] == 0) continue;
        const float* xrow = x + (r * t + k) * d;
#pragma omp simd
        for (int64_t c = 0; c < d; ++c) orow[c] += xrow[c];
      }
      const float inv = 1.0f / static_cast<float>(count);
#pragma omp simd
      for (int64_t c = 0; c < d; ++c) orow[c] *= inv;
    }
  }

  // Forward adds every x element and scales each output; backward one multiply-add per x element.
  double flops(const Inputs& in, const Tensor& out, int input) const override {
    return input < 0 ? static_cast<double>(in[0]->size() + out.size()) : 2.0 * static_cast<double>(in[0]->size());
  }

  // dx[b, t, :] += dout[b, :] / count for unmasked tokens; masked tokens and empty rows get nothing
  // (zeros when dx held nothing).
  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    GradOut dx = din.out(0);
    if (!dx) return;
    if (dx.overwrite) return backward_rows<false>(*in[0], *in[1], dout, *dx);
    backward_rows<true>(*in[0], *in[1], dout, *dx);
  }

  static std::vector<Sample> samples() {
    return {
        // Ids 0..2: about a third of the tokens masked.
        {"mixed mask", {}, {{{3, 4, 5}}, {{3, 4}, DType::i32, 0, 2}}},
        {"nothing masked", {}, {{{2, 3, 2}}, {{2, 3}, DType::i32, 1, 9}}},
        // Every row empty: zero output and zero gradient.
        {"everything masked", {}, {{{2, 3, 2}}, {{2, 3}, DType::i32, 0, 0}}},
    };
  }

 private:
  template <bool kAdd>
  static void backward_rows(const Tensor& x, const Tensor& id_tensor, const Tensor& dout, Tensor& dx) {
    const int64_t b = x.dim(0), t = x.dim(1), d = x.dim(2);
    const int32_t* ids = id_tensor.i32();
    const float* g = dout.f32();
    float* dxp = dx.f32();
#pragma omp parallel for schedule(static) if (b * t * d >= kParallelMinElements)
    for (int64_t r = 0; r < b; ++r) {
      const int64_t count = unmasked(ids + r * t, t);
      const float inv = count ? 1.0f / static_cast<float>(count) : 0.0f;
      const float* grow = g + r * d;
      for (int64_t k = 0; k < t; ++k) {
        float* drow = dxp + (r * t + k) * d;
        if (ids[r * t + k] == 0) {
          if (!kAdd)
            for (int64_t c = 0; c < d; ++c) drow[c] = 0.0f;
          continue;
        }
#pragma omp simd
        for (int64_t c = 0; c < d; ++c) drow[c] = kAdd ? drow[c] + grow[c] * inv : grow[c] * inv;
      }
    }
  }

  static int64_t unmasked(const int32_t* ids, int64_t t) {
    int64_t n = 0;
    for (int64_t k = 0; k < t; ++k) n += ids[k] != 0;
    return n;
  }
};

DAGRAD_REGISTER_OP(MaskedMean, "MaskedMean", "mean of x [B, T, D] over tokens whose id in ids [B, T] is nonzero (Keras mask_zero + GlobalAveragePooling1D; an empty row gives zeros)");

}  // namespace dagrad
