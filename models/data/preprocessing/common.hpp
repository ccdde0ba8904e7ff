// Pieces shared by the preprocessing layers: a string -> id hash map searched with string_view (no
// allocation per lookup), the size below which transforms stay on one thread, the output check and
// numbers in error messages.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>

#include "graph/error.hpp"
#include "graph/tensor.hpp"

namespace dagrad::preprocessing {

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

using StringIndex = std::unordered_map<std::string, int32_t, StringViewHash, std::equal_to<>>;

// Below this many elements a transform runs on one thread: starting the team costs more than the work.
inline constexpr int64_t kParallelMinElements = 1 << 14;

// A number in an error message, to 10 significant digits.
inline std::string num_str(double v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

// The caller sizes the output buffer; a mismatch is a bug in dagrad, not in the user's data.
inline void check_output(const Tensor& out, DType dtype, int64_t elements, const char* layer) {
  DAGRAD_ASSERT(out.defined() && out.dtype() == dtype && out.size() == elements,
                std::string(layer) + ": output buffer " + (out.defined() ? shape_str(out.shape()) : "(none)") +
                    " " + (out.defined() ? dtype_name(out.dtype()) : "") + " for " + std::to_string(elements) +
                    " " + dtype_name(dtype) + " values");
}

}  // namespace dagrad::preprocessing
