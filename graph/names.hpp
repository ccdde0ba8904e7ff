// Lists of names in messages: joined for display, and the closest one to a misspelt word.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace dagrad {

// "a, b, c" (`empty` when there are none).
std::string join(const std::vector<std::string>& names, const std::string& empty = "none");

// The candidate closest to `word` by edit distance (case-insensitive, a swap of neighbours counts
// one), if it is close enough to be a plausible typo; ties go to the candidate listed first.
std::optional<std::string> closest_match(const std::string& word, const std::vector<std::string>& candidates);

// "; did you mean 'x'?" or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace dagrad
