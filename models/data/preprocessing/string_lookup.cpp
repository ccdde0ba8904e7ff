#include "models/data/preprocessing/string_lookup.hpp"

#include <algorithm>
#include <limits>

namespace dagrad::preprocessing {

StringLookup::StringLookup(std::vector<std::string> vocabulary) {
  size_t skipped = 0;
  if (!vocabulary.empty() && vocabulary.front() == kOovToken) {
    vocabulary.erase(vocabulary.begin());
    skipped = 1;
  }
  set_vocabulary(std::move(vocabulary), skipped);
}

// index_offset: how many leading entries of the user's list were dropped, so that errors name the
// position the user wrote.
void StringLookup::set_vocabulary(std::vector<std::string> tokens, size_t index_offset) {
  if (tokens.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw UserError("StringLookup: vocabulary of " + std::to_string(tokens.size()) +
                    " entries does not fit 32-bit ids");
  StringIndex index;
  index.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    const size_t at = i + index_offset;
    if (tokens[i] == kOovToken)
      throw UserError("StringLookup: vocabulary entry " + std::to_string(at) + " is the OOV token \"" +
                      std::string(kOovToken) + "\", which may only come first");
    auto [it, inserted] = index.emplace(tokens[i], static_cast<int32_t>(i + 1));
    if (!inserted)
      throw UserError("StringLookup: vocabulary entry " + std::to_string(at) + " \"" + tokens[i] +
                      "\" repeats entry " + std::to_string(it->second - 1 + index_offset) +
                      "; vocabulary entries must be unique");
  }
  vocabulary_ = std::move(tokens);
  index_ = std::move(index);
}

namespace {

template <typename Str>
std::vector<std::string> sorted_unique(std::span<const Str> values) {
  std::vector<std::string> tokens;
  tokens.reserve(values.size());
  for (const auto& v : values)
    if (std::string_view(v) != StringLookup::kOovToken) tokens.emplace_back(v);
  std::sort(tokens.begin(), tokens.end());  // char_traits<char> compares as unsigned char: byte order
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  return tokens;
}

template <typename Str>
void lookup_all(const StringLookup& layer, std::span<const Str> values, Tensor& out) {
  const int64_t n = static_cast<int64_t>(values.size());
  check_output(out, DType::i32, n, "StringLookup");
  int32_t* ids = out.i32();
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
  for (int64_t i = 0; i < n; ++i) ids[i] = layer.lookup(values[i]);
}

}  // namespace

void StringLookup::adapt(std::span<const std::string> values) { set_vocabulary(sorted_unique(values), 0); }
void StringLookup::adapt(std::span<const std::string_view> values) { set_vocabulary(sorted_unique(values), 0); }

void StringLookup::transform(std::span<const std::string> values, Tensor& out) const {
  lookup_all(*this, values, out);
}
void StringLookup::transform(std::span<const std::string_view> values, Tensor& out) const {
  lookup_all(*this, values, out);
}

Tensor StringLookup::transform(std::span<const std::string> values) const {
  Tensor out({static_cast<int64_t>(values.size())}, DType::i32);
  transform(values, out);
  return out;
}

}  // namespace dagrad::preprocessing
