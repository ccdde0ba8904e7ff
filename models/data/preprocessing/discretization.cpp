#include "models/data/preprocessing/discretization.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "models/data/preprocessing/common.hpp"

namespace dagrad::preprocessing {

namespace {

// Index of the first boundary that is NaN or not greater than its predecessor; size() if none.
size_t first_unordered(const std::vector<float>& b) {
  for (size_t i = 0; i < b.size(); ++i)
    if (std::isnan(b[i]) || (i > 0 && !(b[i - 1] < b[i]))) return i;
  return b.size();
}

}  // namespace

Discretization::Discretization(std::vector<float> boundaries) {
  const size_t bad = first_unordered(boundaries);
  if (bad != boundaries.size()) {
    if (std::isnan(boundaries[bad]))
      throw UserError("Discretization: boundary " + std::to_string(bad) + " is NaN");
    throw UserError("Discretization: boundaries must be strictly increasing, but boundary " +
                    std::to_string(bad) + " (" + num_str(boundaries[bad]) + ") is not greater than boundary " +
                    std::to_string(bad - 1) + " (" + num_str(boundaries[bad - 1]) + ")");
  }
  boundaries_ = std::move(boundaries);
}

void Discretization::adapt_range(double lo, double hi, int64_t num_boundaries) {
  if (num_boundaries < 0)
    throw UserError("Discretization: num_boundaries must be >= 0, got " + std::to_string(num_boundaries));
  // numpy.linspace(lo, hi, num) with endpoint=True: y[i] = i * step + lo with step = (hi - lo) /
  // (num - 1), the last point set to hi exactly; step 0 is computed as i / div * delta instead.
  std::vector<float> b(static_cast<size_t>(num_boundaries));
  const int64_t div = num_boundaries - 1;
  const double delta = hi - lo;
  const double step = div > 0 ? delta / static_cast<double>(div) : 0.0;
  for (int64_t i = 0; i < num_boundaries; ++i) {
    // volatile keeps the product rounded on its own: numpy does not fuse it with the addition into
    // an FMA, and GCC would otherwise contract it under -march=native.
    volatile double scaled = div > 0 && step != 0.0 ? static_cast<double>(i) * step
                                                    : static_cast<double>(i) / (div > 0 ? div : 1) * delta;
    b[static_cast<size_t>(i)] = static_cast<float>(scaled + lo);
  }
  if (num_boundaries > 1) b.back() = static_cast<float>(hi);

  const size_t bad = first_unordered(b);
  if (bad != b.size())
    throw UserError("Discretization: adapt_linspace with num_boundaries=" + std::to_string(num_boundaries) +
                    " over [" + num_str(lo) + ", " + num_str(hi) + "] gives float32 boundary " +
                    std::to_string(bad) + " (" + num_str(b[bad]) + ") equal to boundary " + std::to_string(bad - 1) +
                    "; use fewer boundaries");
  boundaries_ = std::move(b);
}

void Discretization::adapt_linspace(std::span<const float> values, int64_t num_boundaries) {
  if (values.empty()) throw UserError("Discretization: adapt_linspace needs at least one value");
  double lo = values[0], hi = values[0];
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i]))
      throw UserError("Discretization: adapt_linspace value " + std::to_string(i) + " is " + num_str(values[i]));
    lo = std::min<double>(lo, values[i]);
    hi = std::max<double>(hi, values[i]);
  }
  adapt_range(lo, hi, num_boundaries);
}

void Discretization::adapt_linspace(std::span<const int64_t> values, int64_t num_boundaries) {
  if (values.empty()) throw UserError("Discretization: adapt_linspace needs at least one value");
  auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  // numpy converts the int64 extremes to float64 (exact below 2^53).
  adapt_range(static_cast<double>(*lo), static_cast<double>(*hi), num_boundaries);
}

int32_t Discretization::bucket(float x) const {
  return static_cast<int32_t>(std::upper_bound(boundaries_.begin(), boundaries_.end(), x) - boundaries_.begin());
}

namespace {

template <typename T>
void bucket_all(const Discretization& layer, std::span<const T> values, Tensor& out) {
  const int64_t n = static_cast<int64_t>(values.size());
  check_output(out, DType::i32, n, "Discretization");
  int32_t* ids = out.i32();
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
  for (int64_t i = 0; i < n; ++i) ids[i] = layer.bucket(values[i]);
}

}  // namespace

void Discretization::transform(std::span<const float> values, Tensor& out) const { bucket_all(*this, values, out); }
void Discretization::transform(std::span<const int64_t> values, Tensor& out) const { bucket_all(*this, values, out); }

Tensor Discretization::transform(std::span<const float> values) const {
  Tensor out({static_cast<int64_t>(values.size())}, DType::i32);
  transform(values, out);
  return out;
}

Tensor Discretization::transform(std::span<const int64_t> values) const {
  Tensor out({static_cast<int64_t>(values.size())}, DType::i32);
  transform(values, out);
  return out;
}

}  // namespace dagrad::preprocessing
