// libFuzzer target: the MovieLens parsers (parse_items, then parse_ratings against its movies) on
// arbitrary bytes. Input layout: one options byte (bit 0: skip_bad_rows; bits 1-3: max_reported),
// then the u.item text, a form feed (0x0C), and the u.data text. Bad bytes must end in UserError;
// what the parsers return must keep their documented promises, checked here.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <unordered_map>

#include "models/data/sources/movielens_data.hpp"
#include "graph/error.hpp"

namespace ml = dagrad::movielens;

namespace {

[[noreturn]] void broken(const char* promise) {
  std::fprintf(stderr, "fuzz_movielens: broken promise: %s\n", promise);
  std::abort();
}

// True when `s` is well-formed UTF-8 of code points below U+0100 (what latin1_to_utf8 makes).
bool latin1_as_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) continue;
    if ((b != 0xC2 && b != 0xC3) || i + 1 == s.size()) return false;
    auto c = static_cast<unsigned char>(s[++i]);
    if ((c & 0xC0) != 0x80) return false;
  }
  return true;
}

std::size_t line_count(std::string_view text) {
  std::size_t n = 0;
  for (std::size_t pos = 0; pos < text.size(); ++n) {
    std::size_t nl = text.find('\n', pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  return n;
}

void check(std::string_view items, std::string_view data, const ml::ParseOptions& options) {
  ml::SkippedRows skipped;
  std::vector<ml::Movie> movies = ml::parse_items(items, "u.item", options, &skipped);
  std::unordered_map<std::int32_t, const ml::Movie*> by_id;
  for (const ml::Movie& m : movies) {
    if (m.id < 1) broken("movie ids are positive");
    if (!by_id.emplace(m.id, &m).second) broken("movie ids are unique");
    if (m.genres >> 19) broken("only genre bits 0..18 are set");
    if (!latin1_as_utf8(m.title)) broken("titles are latin-1 converted to UTF-8");
  }
  if (!options.skip_bad_rows && skipped.count != 0) broken("nothing is skipped unless asked");
  if (movies.size() + skipped.count != line_count(items)) broken("every u.item line is a movie or skipped");
  if (skipped.first.size() > options.max_reported || skipped.first.size() > skipped.count)
    broken("at most max_reported skipped rows are described");

  ml::SkippedRows skipped_ratings;
  std::vector<ml::Rating> ratings = ml::parse_ratings(data, "u.data", movies, options, &skipped_ratings);
  for (const ml::Rating& r : ratings) {
    auto movie = by_id.find(r.movie_id);
    if (movie == by_id.end()) broken("every rating's movie is in u.item");
    if (r.movie_title != movie->second->title) broken("a rating carries its movie's title");
    if (r.rating < 1 || r.rating > 5 || r.rating != static_cast<float>(static_cast<int>(r.rating)))
      broken("ratings are whole stars 1..5");
    if (r.timestamp < 0) broken("timestamps are not negative");
    if (r.user_id.empty() || r.user_id[0] == '0') broken("user ids are canonical positive decimals");
  }
  if (ratings.size() + skipped_ratings.count != line_count(data)) broken("every u.data line is a rating or skipped");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  ml::ParseOptions options;
  options.skip_bad_rows = bytes[0] & 1;
  options.max_reported = (bytes[0] >> 1) & 7;
  std::string_view rest(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  std::size_t split = rest.find('\f');
  std::string_view items = rest.substr(0, split);
  std::string_view data = split == std::string_view::npos ? std::string_view() : rest.substr(split + 1);
  try {
    check(items, data, options);
  } catch (const dagrad::UserError&) {
  }
  return 0;
}
