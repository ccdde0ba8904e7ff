#include "models/data/preprocessing/lookup.hpp"

#include <algorithm>
#include <limits>

namespace dagrad::preprocessing {

template <class V>
Lookup<V>::Lookup(std::vector<V> vocabulary) {
  size_t skipped = 0;
  if (!vocabulary.empty() && vocabulary.front() == kOovToken) {
    vocabulary.erase(vocabulary.begin());
    skipped = 1;
  }
  set_vocabulary(std::move(vocabulary), skipped);
}

// index_offset: how many leading entries of the user's list were dropped, so that errors name the
// position the user wrote.
template <class V>
void Lookup<V>::set_vocabulary(std::vector<V> values, size_t index_offset) {
  const std::string name = Traits::kName;
  if (values.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw UserError(name + ": vocabulary of " + std::to_string(values.size()) + " entries does not fit 32-bit ids");
  typename Traits::Index index;
  index.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const size_t at = i + index_offset;
    if (values[i] == kOovToken)
      throw UserError(name + ": vocabulary entry " + std::to_string(at) + " is the OOV token " + Traits::show(kOovToken) +
                      ", which may only come first");
    auto [it, inserted] = index.emplace(values[i], static_cast<int32_t>(i + 1));
    if (!inserted)
      throw UserError(name + ": vocabulary entry " + std::to_string(at) + " " + Traits::show(values[i]) +
                      " repeats entry " + std::to_string(it->second - 1 + index_offset) +
                      "; vocabulary entries must be unique");
  }
  vocabulary_ = std::move(values);
  index_ = std::move(index);
}

template <class V>
template <class T>
void Lookup<V>::adapt_any(std::span<const T> values) {
  std::vector<V> unique;
  unique.reserve(values.size());
  for (const auto& v : values)
    if (View(v) != kOovToken) unique.emplace_back(v);
  std::sort(unique.begin(), unique.end());  // char_traits<char> compares as unsigned char: byte order
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  set_vocabulary(std::move(unique), 0);
}

template <class V>
template <class T>
void Lookup<V>::transform_any(std::span<const T> values, Tensor& out) const {
  const int64_t n = static_cast<int64_t>(values.size());
  check_output(out, DType::i32, n, Traits::kName);
  int32_t* ids = out.i32();
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
  for (int64_t i = 0; i < n; ++i) ids[i] = lookup(View(values[i]));
}

template class Lookup<std::string>;
template void Lookup<std::string>::adapt_any(std::span<const std::string>);
template void Lookup<std::string>::adapt_any(std::span<const std::string_view>);
template void Lookup<std::string>::transform_any(std::span<const std::string>, Tensor&) const;
template void Lookup<std::string>::transform_any(std::span<const std::string_view>, Tensor&) const;

// Member by member, not `template class`: for V = int64_t the View overloads (constrained away since
// View == V) would be emitted under the same mangled names as the V overloads by clang 14.
template Lookup<int64_t>::Lookup(std::vector<int64_t>);
template void Lookup<int64_t>::set_vocabulary(std::vector<int64_t>, size_t);
template void Lookup<int64_t>::adapt_any(std::span<const int64_t>);
template void Lookup<int64_t>::transform_any(std::span<const int64_t>, Tensor&) const;

}  // namespace dagrad::preprocessing
