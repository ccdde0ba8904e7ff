#include "models/data/preprocessing/text_vectorization.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

namespace dagrad::preprocessing {

namespace {

// What lower_and_strip_punctuation followed by the whitespace split does with each byte.
enum class ByteClass : uint8_t { keep, drop, space };

struct ByteTable {
  std::array<ByteClass, 256> cls{};
  std::array<char, 256> lower{};
};

constexpr ByteTable make_byte_table() {
  ByteTable t;
  for (int c = 0; c < 256; ++c) {
    t.cls[c] = ByteClass::keep;
    t.lower[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  // Keras's DEFAULT_STRIP_REGEX: [!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\'] ("," to "." is a range
  // covering , - .), i.e. all of Python's string.punctuation.
  for (char c : std::string_view("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'")) t.cls[static_cast<unsigned char>(c)] = ByteClass::drop;
  // tf.strings.split with no separator splits on absl::ascii_isspace.
  for (char c : std::string_view(" \t\n\v\f\r")) t.cls[static_cast<unsigned char>(c)] = ByteClass::space;
  return t;
}

constexpr ByteTable kBytes = make_byte_table();

bool is_ascii_space(char c) { return kBytes.cls[static_cast<unsigned char>(c)] == ByteClass::space; }

// Calls emit(std::string_view) for each token of text under tok. token is scratch space the caller
// keeps, so that tokenizing a column allocates only while the longest token grows.
template <typename Emit>
void for_each_token(std::string_view text, const Tokenizer& tok, std::string& token, Emit&& emit) {
  using S = Tokenizer::Standardize;
  const bool lower = tok.standardize == S::lower_and_strip_punctuation || tok.standardize == S::lower;
  const bool strip = tok.standardize == S::lower_and_strip_punctuation || tok.standardize == S::strip_punctuation;
  token.clear();
  if (tok.on_whitespace()) {
    for (char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      switch (kBytes.cls[c]) {
        case ByteClass::space:
          if (!token.empty()) {
            emit(std::string_view(token));
            token.clear();
          }
          break;
        case ByteClass::drop:
          if (!strip) token.push_back(lower ? kBytes.lower[c] : ch);
          break;
        case ByteClass::keep:
          token.push_back(lower ? kBytes.lower[c] : ch);
          break;
      }
    }
    if (!token.empty()) emit(std::string_view(token));
    return;
  }
  const std::string_view sep = tok.split;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(sep, begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view piece = text.substr(begin, end - begin);
    while (!piece.empty() && is_ascii_space(piece.front())) piece.remove_prefix(1);
    while (!piece.empty() && is_ascii_space(piece.back())) piece.remove_suffix(1);
    token.clear();
    for (char ch : piece) {
      const auto c = static_cast<unsigned char>(ch);
      if (strip && kBytes.cls[c] == ByteClass::drop) continue;
      token.push_back(lower ? kBytes.lower[c] : ch);
    }
    if (!token.empty()) emit(std::string_view(token));
    begin = end + sep.size();
  }
}

}  // namespace

Tokenizer::Standardize Tokenizer::standardize_from(std::string_view name) {
  for (Standardize s : {Standardize::lower_and_strip_punctuation, Standardize::lower, Standardize::strip_punctuation,
                        Standardize::none})
    if (standardize_name(s) == name) return s;
  throw UserError("TextVectorization: unknown standardize \"" + std::string(name) +
                  "\" (one of: lower_and_strip_punctuation, lower, strip_punctuation, none)");
}

std::string_view Tokenizer::standardize_name(Standardize s) {
  switch (s) {
    case Standardize::lower_and_strip_punctuation: return "lower_and_strip_punctuation";
    case Standardize::lower: return "lower";
    case Standardize::strip_punctuation: return "strip_punctuation";
    case Standardize::none: return "none";
  }
  return "";
}

void TextVectorization::set_tokenizer(Tokenizer t) {
  if (t.split.empty()) throw UserError("TextVectorization: split must be \"whitespace\" or a non-empty separator");
  tokenizer_ = std::move(t);
}

TextVectorization::TextVectorization(std::optional<int64_t> max_tokens) : max_tokens_(max_tokens) {
  if (max_tokens_ && *max_tokens_ <= 1)
    throw UserError("TextVectorization: max_tokens must be greater than 1 (it counts padding and OOV), got " +
                    std::to_string(*max_tokens_));
}

TextVectorization::TextVectorization(std::vector<std::string> vocabulary, std::optional<int64_t> max_tokens)
    : TextVectorization(max_tokens) {
  size_t skipped = 0;
  if (vocabulary.size() >= 2 && vocabulary[0] == kMaskToken && vocabulary[1] == kOovToken) {
    vocabulary.erase(vocabulary.begin(), vocabulary.begin() + 2);
    skipped = 2;
  }
  set_vocabulary(std::move(vocabulary), skipped);
}

// index_offset: how many leading entries of the user's list were dropped, so that errors name the
// position the user wrote.
void TextVectorization::set_vocabulary(std::vector<std::string> tokens, size_t index_offset) {
  if (max_tokens_ && static_cast<int64_t>(tokens.size()) + 2 > *max_tokens_)
    throw UserError("TextVectorization: a vocabulary of " + std::to_string(tokens.size()) +
                    " tokens plus padding and OOV exceeds max_tokens " + std::to_string(*max_tokens_));
  if (tokens.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max() - 1))
    throw UserError("TextVectorization: vocabulary of " + std::to_string(tokens.size()) +
                    " tokens does not fit 32-bit ids");
  StringIndex index;
  index.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    const size_t at = i + index_offset;
    if (tokens[i] == kMaskToken || tokens[i] == kOovToken)
      throw UserError("TextVectorization: vocabulary entry " + std::to_string(at) + " is the reserved token \"" +
                      tokens[i] + "\"; \"\" and \"[UNK]\" may only appear as the first two entries, in that order");
    auto [it, inserted] = index.emplace(tokens[i], static_cast<int32_t>(i + 2));
    if (!inserted)
      throw UserError("TextVectorization: vocabulary entry " + std::to_string(at) + " \"" + tokens[i] +
                      "\" repeats entry " + std::to_string(it->second - 2 + index_offset) +
                      "; vocabulary entries must be unique");
  }
  vocabulary_ = std::move(tokens);
  index_ = std::move(index);
}

std::vector<std::string> TextVectorization::tokenize(std::string_view text) {
  std::vector<std::string> out;
  std::string scratch;
  for_each_token(text, Tokenizer{}, scratch, [&](std::string_view t) { out.emplace_back(t); });
  return out;
}

std::vector<std::string> TextVectorization::tokens(std::string_view text) const {
  std::vector<std::string> out;
  std::string scratch;
  for_each_token(text, tokenizer_, scratch, [&](std::string_view t) { out.emplace_back(t); });
  return out;
}

void TextVectorization::adapt(std::span<const std::string> texts) {
  std::unordered_map<std::string, int64_t, StringViewHash, std::equal_to<>> counts;
  std::string scratch;
  for (const auto& text : texts)
    for_each_token(text, tokenizer_, scratch, [&](std::string_view t) {
      auto it = counts.find(t);
      if (it == counts.end()) counts.emplace(std::string(t), 1);
      else ++it->second;
    });
  std::vector<std::pair<std::string, int64_t>> sorted(std::make_move_iterator(counts.begin()),
                                                      std::make_move_iterator(counts.end()));
  // np.lexsort((tokens, counts))[::-1]: count descending, ties by token descending.
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    return a.first > b.first;
  });
  if (max_tokens_ && static_cast<int64_t>(sorted.size()) > *max_tokens_ - 2)
    sorted.resize(static_cast<size_t>(*max_tokens_ - 2));
  std::vector<std::string> tokens;
  tokens.reserve(sorted.size());
  for (auto& [token, count] : sorted) tokens.push_back(std::move(token));
  set_vocabulary(std::move(tokens), 0);
}

EncodedTexts TextVectorization::encode(std::span<const std::string> texts) const {
  const int64_t n = static_cast<int64_t>(texts.size());
  // Each thread encodes one contiguous slice of rows into its own part; the parts are joined in
  // order, so the result does not depend on the thread count.
  struct Part {
    std::vector<int32_t> ids;
    std::vector<int64_t> lengths;
  };
  const int max_threads = n >= kParallelMinElements / 8 ? omp_get_max_threads() : 1;
  std::vector<Part> parts(static_cast<size_t>(max_threads));
#pragma omp parallel num_threads(max_threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t begin = n * t / nt, end = n * (t + 1) / nt;
    Part& part = parts[static_cast<size_t>(t)];
    part.lengths.reserve(static_cast<size_t>(end - begin));
    std::string scratch;
    for (int64_t i = begin; i < end; ++i) {
      const size_t before = part.ids.size();
      for_each_token(texts[static_cast<size_t>(i)], tokenizer_, scratch, [&](std::string_view tok) { part.ids.push_back(lookup(tok)); });
      part.lengths.push_back(static_cast<int64_t>(part.ids.size() - before));
    }
  }
  EncodedTexts out;
  size_t total = 0;
  for (const auto& p : parts) total += p.ids.size();
  out.ids.reserve(total);
  out.offsets.reserve(static_cast<size_t>(n) + 1);
  for (const auto& p : parts) {
    out.ids.insert(out.ids.end(), p.ids.begin(), p.ids.end());
    for (int64_t len : p.lengths) out.offsets.push_back(out.offsets.back() + len);
  }
  DAGRAD_ASSERT(out.rows() == n, "TextVectorization::encode lost rows");
  return out;
}

Tensor TextVectorization::transform(std::span<const std::string> texts) const {
  const EncodedTexts enc = encode(texts);
  std::vector<int64_t> all(static_cast<size_t>(enc.rows()));
  for (int64_t i = 0; i < enc.rows(); ++i) all[static_cast<size_t>(i)] = i;
  Tensor out;
  enc.pad_rows(all, out);
  return out;
}

int64_t EncodedTexts::padded_length(std::span<const int64_t> rows) const {
  int64_t t = 1;
  for (int64_t r : rows) {
    DAGRAD_ASSERT(r >= 0 && r < this->rows(),
                  "EncodedTexts: row " + std::to_string(r) + " of " + std::to_string(this->rows()));
    t = std::max(t, offsets[static_cast<size_t>(r) + 1] - offsets[static_cast<size_t>(r)]);
  }
  return t;
}

void EncodedTexts::pad_rows(std::span<const int64_t> rows, Tensor& out) const {
  const int64_t b = static_cast<int64_t>(rows.size());
  const int64_t t = padded_length(rows);
  Tensor view = grown_view(out, {b, t}, DType::i32);
  int32_t* y = view.i32();
#pragma omp parallel for schedule(static) if (b * t >= kParallelMinElements)
  for (int64_t i = 0; i < b; ++i) {
    const auto ids = row(rows[static_cast<size_t>(i)]);
    int32_t* dst = y + i * t;
    if (!ids.empty()) std::memcpy(dst, ids.data(), ids.size() * sizeof(int32_t));
    std::fill(dst + ids.size(), dst + t, TextVectorization::kPadId);
  }
  out = view;
}

}  // namespace dagrad::preprocessing
