// Streaming estimation of how often each candidate appears in training batches, after Yi et al.,
// "Sampling-bias-corrected neural modeling for large corpus item recommendations" (RecSys 2019),
// Algorithms 2 and 3. It feeds the Retrieval task's logQ correction (logits - log p).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "graph/tensor.hpp"

namespace dagrad {

class FrequencyEstimator {
 public:
  // `buckets` slots per hash function, `hashes` independent hash functions, learning rate alpha.
  FrequencyEstimator(int64_t buckets, int hashes, double alpha);

  // One training step: t += 1, then for each candidate id in batch order, for every hash h:
  //   B[h] <- (1 - alpha) * B[h] + alpha * (t - A[h]);  A[h] <- t.
  // Writes each candidate's estimated probability p = 1 / max over hashes of B (Algorithm 3),
  // clipped to [1e-6, 1] as TFRS clips sampling probabilities.
  void update(std::span<const int64_t> ids, std::span<float> probability);
  // The current estimate without updating (for a candidate never seen: the clip floor's inverse
  // relation gives p = 1).
  float probability(int64_t id) const;

  int64_t step() const { return step_; }
  // State for checkpoints: A (last step seen) and B (estimated gap), each [hashes, buckets].
  Tensor& last_seen() { return a_; }
  Tensor& gap() { return b_; }
  int64_t& step_ref() { return step_; }
  int64_t buckets() const { return buckets_; }
  int hashes() const { return hashes_; }
  double alpha() const { return alpha_; }

 private:
  int64_t slot(int64_t id, int h) const;
  int64_t buckets_;
  int hashes_;
  double alpha_;
  int64_t step_ = 0;
  Tensor a_, b_;  // f32 [hashes, buckets]; steps are exact in f32 up to 2^24
};

}  // namespace dagrad
