// StringLookup and IntegerLookup: values -> integer ids, as Keras's StringLookup and IntegerLookup
// with their defaults (num_oov_indices=1, mask_token=None, output_mode="int"): id 0 is
// out-of-vocabulary, vocabulary entry i gets id i + 1. One template, Lookup<V>, serves both; the
// traits below hold what differs (the OOV token: "[UNK]" or -1; the hash index; how a value is
// shown in messages).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "graph/error.hpp"
#include "graph/tensor.hpp"
#include "models/data/preprocessing/common.hpp"

namespace dagrad::preprocessing {

template <class V>
struct LookupTraits;

template <>
struct LookupTraits<std::string> {
  static constexpr const char* kName = "StringLookup";
  using View = std::string_view;  // looked up without a copy
  using Index = StringIndex;
  static constexpr std::string_view kOovToken = "[UNK]";
  static std::string show(std::string_view v) { return "\"" + std::string(v) + "\""; }
};

template <>
struct LookupTraits<int64_t> {
  static constexpr const char* kName = "IntegerLookup";
  using View = int64_t;
  using Index = std::unordered_map<int64_t, int32_t>;
  static constexpr int64_t kOovToken = -1;
  static std::string show(int64_t v) { return "(" + std::to_string(v) + ")"; }
};

template <class V>
class Lookup {
 public:
  using Traits = LookupTraits<V>;
  using View = typename Traits::View;
  static constexpr int32_t kOovId = 0;
  static constexpr auto kOovToken = Traits::kOovToken;

  // Empty vocabulary: every value is out-of-vocabulary.
  Lookup() = default;
  // Rebuilds the layer from its state. As in Keras, a vocabulary that starts with the OOV token
  // (the form Keras's get_vocabulary() returns) has that entry dropped. Throws UserError naming the
  // entry for a repeated entry, or for the OOV token anywhere else (Keras accepts it there but could
  // not round-trip it; we reject it).
  explicit Lookup(std::vector<V> vocabulary);

  // Replaces the vocabulary with the SORTED UNIQUE values (strings in byte order; the project's
  // chosen semantics: what the TFRS example gets by passing np.unique(values) as the vocabulary;
  // Keras's own adapt orders by frequency instead). The OOV token in the data is left out, as
  // Keras's adapt does, so it maps to the OOV id.
  void adapt(std::span<const V> values) { adapt_any(values); }
  void adapt(std::span<const View> values) requires(!std::is_same_v<View, V>) { adapt_any(values); }

  // State: the learned values without the OOV token; value i has id i + 1.
  const std::vector<V>& vocabulary() const { return vocabulary_; }
  // Number of ids, counting the OOV id: vocabulary().size() + 1.
  int64_t vocabulary_size() const { return static_cast<int64_t>(vocabulary_.size()) + 1; }

  int32_t lookup(View value) const {
    auto it = index_.find(value);
    return it == index_.end() ? kOovId : it->second;
  }

  // Writes one id per value into out (i32, any shape with values.size() elements).
  void transform(std::span<const V> values, Tensor& out) const { transform_any(values, out); }
  void transform(std::span<const View> values, Tensor& out) const requires(!std::is_same_v<View, V>) {
    transform_any(values, out);
  }
  // The ids as a new i32 tensor of shape [values.size()].
  Tensor transform(std::span<const V> values) const {
    Tensor out({static_cast<int64_t>(values.size())}, DType::i32);
    transform_any(values, out);
    return out;
  }

 private:
  template <class T>
  void adapt_any(std::span<const T> values);
  template <class T>
  void transform_any(std::span<const T> values, Tensor& out) const;
  void set_vocabulary(std::vector<V> values, size_t index_offset);

  std::vector<V> vocabulary_;
  typename Traits::Index index_;
};

using StringLookup = Lookup<std::string>;
using IntegerLookup = Lookup<int64_t>;

}  // namespace dagrad::preprocessing
