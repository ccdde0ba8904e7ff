#include "models/data/preprocessing/integer_lookup.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "models/data/preprocessing/common.hpp"

namespace dagrad::preprocessing {

IntegerLookup::IntegerLookup(std::vector<int64_t> vocabulary) {
  size_t skipped = 0;
  if (!vocabulary.empty() && vocabulary.front() == kOovToken) {
    vocabulary.erase(vocabulary.begin());
    skipped = 1;
  }
  set_vocabulary(std::move(vocabulary), skipped);
}

// index_offset: how many leading entries of the user's list were dropped, so that errors name the
// position the user wrote.
void IntegerLookup::set_vocabulary(std::vector<int64_t> values, size_t index_offset) {
  if (values.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw UserError("IntegerLookup: vocabulary of " + std::to_string(values.size()) +
                    " entries does not fit 32-bit ids");
  std::unordered_map<int64_t, int32_t> index;
  index.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const size_t at = i + index_offset;
    if (values[i] == kOovToken)
      throw UserError("IntegerLookup: vocabulary entry " + std::to_string(at) +
                      " is the OOV token -1, which may only come first");
    auto [it, inserted] = index.emplace(values[i], static_cast<int32_t>(i + 1));
    if (!inserted)
      throw UserError("IntegerLookup: vocabulary entry " + std::to_string(at) + " (" +
                      std::to_string(values[i]) + ") repeats entry " +
                      std::to_string(it->second - 1 + index_offset) + "; vocabulary entries must be unique");
  }
  vocabulary_ = std::move(values);
  index_ = std::move(index);
}

void IntegerLookup::adapt(std::span<const int64_t> values) {
  std::vector<int64_t> unique;
  unique.reserve(values.size());
  for (int64_t v : values)
    if (v != kOovToken) unique.push_back(v);
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  set_vocabulary(std::move(unique), 0);
}

void IntegerLookup::transform(std::span<const int64_t> values, Tensor& out) const {
  const int64_t n = static_cast<int64_t>(values.size());
  check_output(out, DType::i32, n, "IntegerLookup");
  int32_t* ids = out.i32();
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
  for (int64_t i = 0; i < n; ++i) ids[i] = lookup(values[i]);
}

Tensor IntegerLookup::transform(std::span<const int64_t> values) const {
  Tensor out({static_cast<int64_t>(values.size())}, DType::i32);
  transform(values, out);
  return out;
}

}  // namespace dagrad::preprocessing
