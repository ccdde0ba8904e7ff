// StringLookup: strings -> integer ids, as Keras's StringLookup with its defaults (num_oov_indices=1,
// mask_token=None, output_mode="int"): id 0 is out-of-vocabulary, vocabulary entry i gets id i + 1.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "graph/error.hpp"
#include "graph/tensor.hpp"
#include "models/data/preprocessing/common.hpp"

namespace dagrad::preprocessing {

class StringLookup {
 public:
  static constexpr int32_t kOovId = 0;
  static constexpr std::string_view kOovToken = "[UNK]";

  // Empty vocabulary: every value is out-of-vocabulary.
  StringLookup() = default;
  // Rebuilds the layer from its state. As in Keras, a vocabulary that starts with the OOV token
  // "[UNK]" (the form Keras's get_vocabulary() returns) has that entry dropped. Throws UserError
  // naming the entry for a repeated entry, or for "[UNK]" anywhere else (Keras accepts it there
  // but could not round-trip it; we reject it).
  explicit StringLookup(std::vector<std::string> vocabulary);

  // Replaces the vocabulary with the SORTED UNIQUE values in byte order (the project's chosen
  // semantics: what the TFRS example gets by passing np.unique(values) as the vocabulary; Keras's
  // own adapt orders by frequency instead). "[UNK]" in the data is left out, as Keras's adapt does,
  // so it maps to the OOV id.
  void adapt(std::span<const std::string> values);
  void adapt(std::span<const std::string_view> values);

  // State: the learned tokens without the OOV token; token i has id i + 1.
  const std::vector<std::string>& vocabulary() const { return vocabulary_; }
  // Number of ids, counting the OOV id: vocabulary().size() + 1.
  int64_t vocabulary_size() const { return static_cast<int64_t>(vocabulary_.size()) + 1; }

  int32_t lookup(std::string_view value) const {
    auto it = index_.find(value);
    return it == index_.end() ? kOovId : it->second;
  }

  // Writes one id per value into out (i32, any shape with values.size() elements).
  void transform(std::span<const std::string> values, Tensor& out) const;
  void transform(std::span<const std::string_view> values, Tensor& out) const;
  // The ids as a new i32 tensor of shape [values.size()].
  Tensor transform(std::span<const std::string> values) const;

 private:
  void set_vocabulary(std::vector<std::string> tokens, size_t index_offset);

  std::vector<std::string> vocabulary_;
  StringIndex index_;
};

}  // namespace dagrad::preprocessing
