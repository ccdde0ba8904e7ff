// Dropout (Srivastava et al. 2014, inverted as in Keras and PyTorch): in training, each element is
// kept with probability 1 − rate and scaled by 1 / (1 − rate), else zeroed; in inference the
// identity. The mask is a pure function of (seed, training step, element index) drawn through a
// counter-based hash (SplitMix64), so a run is reproducible from its seed, a resumed run draws what
// the uninterrupted one drew, and no mask is stored: backward recomputes it.
#include <cstdint>

#include "graph/op.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad {

namespace {

inline uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

class Dropout : public Op {
 public:
  explicit Dropout(const Attrs& a)
      : rate_(static_cast<float>(a.get_double("rate"))), seed_(static_cast<uint64_t>(a.get_int("seed"))) {
    // Keep element i when its 24-bit draw is at least rate · 2^24 (exact for rates that are
    // multiples of 2^-24, within 6e-8 otherwise).
    threshold_ = static_cast<uint32_t>(static_cast<double>(rate_) * double(1 << 24) + 0.5);
    scale_ = rate_ < 1 ? 1.0f / (1.0f - rate_) : 0.0f;
  }

  static Schema schema() {
    return {Key::number("rate", "the fraction of elements zeroed in training").in(Range::at_least(0) & Range::less_than(1)).required(),
            Key::integer("seed", "the masks' seed (the Dropout layer derives one from the run's seed)").otherwise(0)};
  }

  void set_training(bool on) override { training_ = on; }
  void set_step(int64_t step) override { stream_ = mix(seed_ ^ mix(static_cast<uint64_t>(step) + 0x9e3779b97f4a7c15ULL)); }

  std::pair<int, int> arity() const override { return {1, 1}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_dtype(in[0], DType::f32, "input");
    return in[0];
  }

  void forward(const Inputs& in, Tensor& out) override {
    const float* x = in[0]->f32();
    float* y = out.f32();
    const int64_t n = out.size();
    if (!training_) {
#pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMinElements)
      for (int64_t i = 0; i < n; ++i) y[i] = x[i];
      return;
    }
    apply(x, y, n, false);
  }

  // dx += dy · mask / (1 − rate): the training mask, also after an inference forward (the contract
  // of Op::set_training).
  void backward(const Inputs&, const Tensor&, const Tensor& dout, const Grads& din) override {
    GradOut dx = din.out(0);
    if (!dx) return;
    apply(dout.f32(), dx->f32(), dout.size(), !dx.overwrite);
  }

  static std::vector<Sample> samples() {
    return {{"rate 0.5", {{"rate", 0.5}, {"seed", int64_t{7}}}, {{{4, 6}}}},
            {"rate 0.2, rank 3", {{"rate", 0.2}}, {{{2, 3, 5}}}},
            {"rate 0", {{"rate", int64_t{0}}}, {{{3, 4}}}}};
  }

 private:
  // y = x · mask · scale (y += when add).
  void apply(const float* x, float* y, int64_t n, bool add) const {
    const uint64_t stream = stream_;
    const uint32_t threshold = threshold_;
    const float scale = scale_;
#pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMinElements)
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t draw = static_cast<uint32_t>(mix(stream + static_cast<uint64_t>(i)) >> 40);
      const float v = draw >= threshold ? x[i] * scale : 0.0f;
      y[i] = add ? y[i] + v : v;
    }
  }

  float rate_, scale_;
  uint64_t seed_;
  uint32_t threshold_;
  uint64_t stream_ = mix(seed_ ^ mix(0x9e3779b97f4a7c15ULL));  // step 0
  bool training_ = true;
};

DAGRAD_REGISTER_OP(Dropout, "Dropout", "inverted dropout in training (attribute rate), identity in inference; seeded");

}  // namespace dagrad
