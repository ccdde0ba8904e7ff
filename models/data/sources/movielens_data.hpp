// MovieLens 100k (GroupLens ml-100k): parses u.data and u.item into ratings shaped like TensorFlow
// Datasets' movielens/100k-ratings, checks the files against their expected SHA-256 sums, and
// finds the data directory. The data may not be redistributed: scripts/get_movielens.sh fetches it.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dagrad::movielens {

struct Movie {
  std::int32_t id = 0;       // u.item field 1
  std::string title;         // u.item field 2, converted from latin-1 to UTF-8
  std::uint32_t genres = 0;  // bit g is set when genre flag g (fields 6..24, g = 0..18) is 1
};

// One line of u.data, joined with u.item's title (TFDS: user_id, movie_title, timestamp, ...).
struct Rating {
  std::string user_id;          // the decimal user id as text, e.g. "196"
  std::string movie_title;      // UTF-8
  std::int64_t timestamp = 0;   // unix seconds
  std::int32_t movie_id = 0;    // u.item id
  float rating = 0;             // 1..5, a float as TFDS's user_rating
};

// One line of u.user (TFDS's user_* features of movielens/100k-ratings).
struct User {
  std::int32_t id = 0;
  std::int32_t age = 0;
  bool male = false;            // gender M (TFDS's user_gender: True for male)
  std::string occupation;       // e.g. "technician" (TFDS's user_occupation_text)
  std::string zip_code;         // as written: 5 digits, or letters for Canadian codes
};

// The names of u.item's 19 genre flags, in field order (u.genre).
extern const char* const kGenreNames[19];

// TFDS's bucketized_user_age: the lower bound of the age's bucket among 1, 18, 25, 35, 45, 50, 56.
std::int32_t bucketized_age(std::int32_t age);

struct ParseOptions {
  // Skip rows with errors (bad fields, unknown movie ids, bad bytes) instead of throwing.
  // File-level errors (missing or empty file, no usable row at all) still throw.
  bool skip_bad_rows = false;
  std::size_t max_reported = 5;  // how many skipped rows SkippedRows::first describes
};

struct SkippedRows {
  std::size_t count = 0;
  std::vector<std::string> first;  // "file:line: reason" for the first max_reported rows
  // "skipped N bad rows: file:line: reason; ..." or "" when nothing was skipped.
  std::string summary() const;
};

struct Dataset {
  std::vector<Movie> movies;    // all of u.item, in file order (titles may repeat)
  std::vector<Rating> ratings;  // u.data, in file order
  std::vector<User> users;      // u.user in file order; empty when the directory has no u.user
  SkippedRows skipped;          // rows skipped in both files
};

// Parsers over in-memory bytes; file_name only names the source in messages. Errors are
// UserError "file:line: field N (name): expected ..., got ...". With options.skip_bad_rows the
// bad rows are counted into *skipped (when given) instead.
std::vector<Movie> parse_items(std::string_view text, const std::string& file_name,
                               const ParseOptions& options = {}, SkippedRows* skipped = nullptr);
// Every rating's movie id must be one of `movies` (from u.item).
std::vector<Rating> parse_ratings(std::string_view text, const std::string& file_name,
                                  std::span<const Movie> movies, const ParseOptions& options = {},
                                  SkippedRows* skipped = nullptr);

// u.user: "id|age|gender|occupation|zip code", gender M or F, ages 1..120.
std::vector<User> parse_users(std::string_view text, const std::string& file_name, const ParseOptions& options = {},
                              SkippedRows* skipped = nullptr);

// Reads u.item and u.data from `dir`, and u.user when present.
Dataset load_movielens(const std::filesystem::path& dir, const ParseOptions& options = {});

// The whole file's bytes; UserError naming the path when it is missing or unreadable.
std::string read_file(const std::filesystem::path& path);

// Each latin-1 byte becomes its code point (U+0000..U+00FF) in UTF-8.
std::string latin1_to_utf8(std::string_view latin1);

struct ExpectedSum {
  std::string file;    // e.g. "u.data"
  std::string sha256;  // 64 lowercase hex digits
  bool required;       // u.data and u.item; the others are checked only when present
};
// From models/data/sources/ml-100k.sha256, embedded at build time (the same file the download
// script checks against).
const std::vector<ExpectedSum>& expected_sums();

// Checks every expected file present in `dir` against its SHA-256; returns the names checked.
// UserError listing each missing required file and each mismatch (file, expected and actual sum).
std::vector<std::string> verify_movielens(const std::filesystem::path& dir);

// The data directory: flag_value (--data) if not empty, else $DAGRAD_DATA if set and not empty,
// else ./data/ml-100k. UserError, saying where the path came from, how to fetch the data
// (scripts/get_movielens.sh) and how to point at a copy, when it holds no u.data.
std::filesystem::path resolve_data_dir(std::string_view flag_value);
// The same with the environment value given (nullptr: unset), for tests.
std::filesystem::path resolve_data_dir(std::string_view flag_value, const char* env_value);

}  // namespace dagrad::movielens
