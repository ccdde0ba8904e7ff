// Names and text in messages: lists joined for display, the closest name to a misspelt word, and
// where text stops being UTF-8.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dagrad {

// "a, b, c" (`empty` when there are none).
std::string join(const std::vector<std::string>& names, const std::string& empty = "none");

// The candidate closest to `word` by edit distance (case-insensitive, a swap of neighbours counts
// one), if it is close enough to be a plausible typo; ties go to the candidate listed first.
std::optional<std::string> closest_match(const std::string& word, const std::vector<std::string>& candidates);

// "; did you mean 'x'?" or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// The offset of the first byte of `s` that does not belong to a well-formed UTF-8 sequence
// (Unicode 15, table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF), or npos.
size_t first_invalid_utf8(std::string_view s);

}  // namespace dagrad
