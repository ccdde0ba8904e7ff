// IntegerLookup: int64 values -> integer ids, as Keras's IntegerLookup with its defaults
// (num_oov_indices=1, mask_token=None, oov_token=-1, output_mode="int"): id 0 is
// out-of-vocabulary, vocabulary entry i gets id i + 1.
#pragma once
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "graph/error.hpp"
#include "graph/tensor.hpp"

namespace dagrad::preprocessing {

class IntegerLookup {
 public:
  static constexpr int32_t kOovId = 0;
  static constexpr int64_t kOovToken = -1;

  // Empty vocabulary: every value is out-of-vocabulary.
  IntegerLookup() = default;
  // Rebuilds the layer from its state. As in Keras, a vocabulary that starts with the OOV token -1
  // (the form Keras's get_vocabulary() returns) has that entry dropped. Throws UserError naming the
  // entry for a repeated entry, or for -1 anywhere else (Keras accepts it there but could not
  // round-trip it; we reject it).
  explicit IntegerLookup(std::vector<int64_t> vocabulary);

  // Replaces the vocabulary with the SORTED UNIQUE values, ascending (the project's chosen
  // semantics, as for StringLookup: np.unique(values) passed as the vocabulary). -1 in the data is
  // left out, as Keras's adapt does, so it maps to the OOV id.
  void adapt(std::span<const int64_t> values);

  // State: the learned values without the OOV token; value i has id i + 1.
  const std::vector<int64_t>& vocabulary() const { return vocabulary_; }
  // Number of ids, counting the OOV id: vocabulary().size() + 1.
  int64_t vocabulary_size() const { return static_cast<int64_t>(vocabulary_.size()) + 1; }

  int32_t lookup(int64_t value) const {
    auto it = index_.find(value);
    return it == index_.end() ? kOovId : it->second;
  }

  // Writes one id per value into out (i32, any shape with values.size() elements).
  void transform(std::span<const int64_t> values, Tensor& out) const;
  // The ids as a new i32 tensor of shape [values.size()].
  Tensor transform(std::span<const int64_t> values) const;

 private:
  void set_vocabulary(std::vector<int64_t> values, size_t index_offset);

  std::vector<int64_t> vocabulary_;
  std::unordered_map<int64_t, int32_t> index_;
};

}  // namespace dagrad::preprocessing
