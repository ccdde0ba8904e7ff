// TextVectorization: strings -> padded token-id sequences, as Keras's TextVectorization with
// output_mode="int" and no output_sequence_length: id 0 is padding, 1 is out-of-vocabulary,
// vocabulary entry i gets i + 2. By default standardize="lower_and_strip_punctuation" and
// split="whitespace" (Keras's defaults); a Tokenizer can instead split on a literal separator, which
// makes it the lookup of a multi-valued column ("Action|Comedy" split on "|").
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "graph/error.hpp"
#include "graph/tensor.hpp"
#include "models/data/preprocessing/common.hpp"

namespace dagrad::preprocessing {

// Token ids of many texts, stored end to end (row i is ids[offsets[i] .. offsets[i+1])), so a
// column is tokenized once and batches are padded from it without re-tokenizing.
struct EncodedTexts {
  std::vector<int32_t> ids;
  std::vector<int64_t> offsets{0};  // rows() + 1 entries

  int64_t rows() const { return static_cast<int64_t>(offsets.size()) - 1; }
  std::span<const int32_t> row(int64_t i) const {
    return {ids.data() + offsets[static_cast<size_t>(i)],
            static_cast<size_t>(offsets[static_cast<size_t>(i) + 1] - offsets[static_cast<size_t>(i)])};
  }
  // The padded length T of a batch of these rows: the longest row, and at least 1 so the graph
  // always has a token axis.
  int64_t padded_length(std::span<const int64_t> rows) const;
  // Writes the chosen rows as an i32 [rows.size(), T] tensor padded with 0. out's storage is reused
  // when it is an i32 tensor with the capacity (no allocation in the steady state); otherwise out is
  // replaced by a new tensor. Either way out ends with shape [rows.size(), T].
  void pad_rows(std::span<const int64_t> rows, Tensor& out) const;
};

// How a text becomes tokens. With split "whitespace", the text is standardised, then split on runs of
// ASCII whitespace (Keras). With any other split string, a literal separator, the text is split on
// it first, each piece trimmed of ASCII whitespace and then standardised, and empty tokens dropped:
// so "Action|Film-Noir" gives "action", "filmnoir" under the default standardisation, whose
// punctuation stripping would otherwise remove a "|" separator before the split.
struct Tokenizer {
  enum class Standardize { lower_and_strip_punctuation, lower, strip_punctuation, none };
  Standardize standardize = Standardize::lower_and_strip_punctuation;
  std::string split = "whitespace";

  bool on_whitespace() const { return split == "whitespace"; }
  static Standardize standardize_from(std::string_view name);  // UserError for an unknown name
  static std::string_view standardize_name(Standardize s);
};

class TextVectorization {
 public:
  static constexpr int32_t kPadId = 0;
  static constexpr int32_t kOovId = 1;
  static constexpr std::string_view kMaskToken = "";
  static constexpr std::string_view kOovToken = "[UNK]";

  // max_tokens bounds vocabulary_size() (padding and OOV included; Keras requires > 1); nullopt
  // means unbounded. Empty vocabulary until adapted: every token is OOV.
  explicit TextVectorization(std::optional<int64_t> max_tokens = std::nullopt);
  // Rebuilds the layer from its state. As in Keras, a vocabulary that starts with "" then "[UNK]"
  // (the form get_vocabulary() returns) has those two entries dropped. UserError naming the entry
  // for a repeated entry, "" or "[UNK]" elsewhere, or more than max_tokens - 2 entries.
  TextVectorization(std::vector<std::string> vocabulary, std::optional<int64_t> max_tokens);

  // Replaces the vocabulary with the tokens of texts ordered by count descending, ties by token
  // descending in byte order (Keras's lexsort), keeping at most max_tokens - 2.
  void adapt(std::span<const std::string> texts);

  // State: the learned tokens without padding and OOV; token i has id i + 2.
  const std::vector<std::string>& vocabulary() const { return vocabulary_; }
  std::optional<int64_t> max_tokens() const { return max_tokens_; }
  // Number of ids, counting padding and OOV: vocabulary().size() + 2.
  int64_t vocabulary_size() const { return static_cast<int64_t>(vocabulary_.size()) + 2; }

  // The tokens of one text under the default Tokenizer: ASCII letters lowercased (other bytes, UTF-8
  // included, unchanged), every character of !"#$%&()*+,-./:;<=>?@[\]^_`{|}~' removed, then split on
  // runs of ASCII whitespace (space, \t, \n, \v, \f, \r). "..." gives no token; "a.b" gives "ab".
  static std::vector<std::string> tokenize(std::string_view text);
  // The tokens of one text under this layer's tokenizer.
  std::vector<std::string> tokens(std::string_view text) const;

  // The tokenizer applies to adapt, encode and transform; set it before adapting.
  void set_tokenizer(Tokenizer t);
  const Tokenizer& tokenizer() const { return tokenizer_; }

  int32_t lookup(std::string_view token) const {
    auto it = index_.find(token);
    return it == index_.end() ? kOovId : it->second;
  }

  // Tokenizes and looks up every text once (in parallel for big columns).
  EncodedTexts encode(std::span<const std::string> texts) const;
  // encode + pad every row: an i32 [texts.size(), T] tensor, T = max(1, longest text in tokens).
  Tensor transform(std::span<const std::string> texts) const;

 private:
  void set_vocabulary(std::vector<std::string> tokens, size_t index_offset);

  std::optional<int64_t> max_tokens_;
  Tokenizer tokenizer_;
  std::vector<std::string> vocabulary_;
  StringIndex index_;
};

}  // namespace dagrad::preprocessing
