#include "models/tasks/frequency_estimator.hpp"

#include <algorithm>

#include "graph/error.hpp"

namespace dagrad {

FrequencyEstimator::FrequencyEstimator(int64_t buckets, int hashes, double alpha)
    : buckets_(buckets), hashes_(hashes), alpha_(alpha) {
  if (buckets < 1) throw UserError("frequency estimation: buckets must be positive, got " + std::to_string(buckets));
  if (hashes < 1) throw UserError("frequency estimation: hashes must be positive, got " + std::to_string(hashes));
  if (!(alpha > 0 && alpha <= 1))
    throw UserError("frequency estimation: alpha must be in (0, 1], got " + std::to_string(alpha));
  a_ = Tensor::zeros({hashes, buckets});
  b_ = Tensor::zeros({hashes, buckets});
}

int64_t FrequencyEstimator::slot(int64_t id, int h) const {
  // Multiply-shift style mixing (splitmix64 finaliser) with a different constant per hash.
  uint64_t x = static_cast<uint64_t>(id) + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(h + 1);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  return static_cast<int64_t>(x % static_cast<uint64_t>(buckets_));
}

void FrequencyEstimator::update(std::span<const int64_t> ids, std::span<float> probability) {
  DAGRAD_ASSERT(ids.size() == probability.size(), "frequency estimator: ids and output differ in size");
  ++step_;
  const float t = static_cast<float>(step_);
  const float alpha = static_cast<float>(alpha_);
  float* a = a_.f32();
  float* b = b_.f32();
  for (size_t i = 0; i < ids.size(); ++i) {
    float best = 0;
    for (int h = 0; h < hashes_; ++h) {
      int64_t s = h * buckets_ + slot(ids[i], h);
      b[s] = (1 - alpha) * b[s] + alpha * (t - a[s]);
      a[s] = t;
      best = std::max(best, b[s]);
    }
    probability[i] = std::clamp(best > 0 ? 1.0f / best : 1.0f, 1e-6f, 1.0f);
  }
}

float FrequencyEstimator::probability(int64_t id) const {
  float best = 0;
  for (int h = 0; h < hashes_; ++h) best = std::max(best, b_.f32()[h * buckets_ + slot(id, h)]);
  return std::clamp(best > 0 ? 1.0f / best : 1.0f, 1e-6f, 1.0f);
}

}  // namespace dagrad
