#include "models/data/sources/movielens_data.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <unordered_map>

#include "models/data/sources/ml_100k_sums.hpp"
#include "models/data/sources/sha256.hpp"
#include "graph/error.hpp"
#include "graph/files.hpp"
#include "graph/limits.hpp"

namespace dagrad::movielens {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kDataFields = 4;
constexpr std::size_t kItemFields = 24;
constexpr std::size_t kGenreFields = 19;  // fields 6..24 of u.item
constexpr const char* kDataFieldNames[kDataFields] = {"user id", "item id", "rating", "timestamp"};
constexpr const char* kItemFieldNames[5] = {"movie id", "title", "release date",
                                            "video release date", "IMDb URL"};

std::string item_field_name(std::size_t index) {  // index 0-based
  if (index < 5) return kItemFieldNames[index];
  return "genre flag " + std::to_string(index - 5);
}

std::string hex_byte(unsigned char b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("0x") + kHex[b >> 4] + kHex[b & 15];
}

// A field as it appears in a message: printable ASCII as is, other bytes as \xNN, long ones cut.
std::string quoted(std::string_view field) {
  std::string s = "'";
  for (std::size_t i = 0; i < field.size() && i < 40; ++i) {
    auto b = static_cast<unsigned char>(field[i]);
    if (b >= 0x20 && b < 0x7F) s += char(b);
    else s += "\\x" + hex_byte(b).substr(2);
  }
  if (field.size() > 40) s += "...";
  return s + "'";
}

struct Line {
  std::string_view text;
  std::size_t number;  // 1-based
  bool terminated;     // ends with '\n' (only the file's last line may not)
};

// Where a row is, for messages: "file:line".
struct Row {
  const std::string& file;
  const Line& line;

  [[noreturn]] void fail(const std::string& what) const {
    throw UserError(file + ":" + std::to_string(line.number) + ": " + what);
  }
  [[noreturn]] void fail_field(std::size_t index, const std::string& name,
                               const std::string& what) const {
    fail("field " + std::to_string(index + 1) + " (" + name + "): " + what);
  }
};

template <class F>
void for_each_line(std::string_view text, F&& on_line) {
  std::size_t pos = 0, number = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    bool terminated = nl != std::string_view::npos;
    std::size_t end = terminated ? nl : text.size();
    on_line(Line{text.substr(pos, end - pos), ++number, terminated});
    pos = end + 1;
  }
}

// Splits on `sep` into exactly `n` fields, or fails saying how many there were.
template <std::size_t N>
void split_fields(const Row& row, char sep, const char* layout, std::string_view (&out)[N]) {
  std::string_view text = row.line.text;
  if (text.empty()) row.fail("empty line; expected " + std::string(layout));
  std::size_t count = std::count(text.begin(), text.end(), sep) + 1;
  if (count != N) {
    std::string msg = "has " + std::to_string(count) + " field" + (count == 1 ? "" : "s") +
                      ", expected " + layout;
    if (!row.line.terminated && count < N) msg += " (the file ends in this line: truncated?)";
    row.fail(msg);
  }
  std::size_t pos = 0;
  for (std::size_t i = 0; i < N; ++i) {
    std::size_t end = i + 1 < N ? text.find(sep, pos) : text.size();
    out[i] = text.substr(pos, end - pos);
    pos = end + 1;
  }
}

// A decimal integer in [lo, hi], made of ASCII digits only.
template <class Int>
Int parse_int(const Row& row, std::size_t index, const std::string& name, std::string_view field,
              Int lo, Int hi) {
  std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  if (field.empty()) row.fail_field(index, name, "expected an integer " + range + ", got nothing");
  Int value{};
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  bool digits_only = std::all_of(field.begin(), field.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits_only || (ec != std::errc() && ec != std::errc::result_out_of_range) ||
      end != field.data() + field.size())
    row.fail_field(index, name, "expected an integer " + range + ", got " + quoted(field));
  if (ec == std::errc::result_out_of_range || value < lo || value > hi)
    row.fail_field(index, name, "expected an integer " + range + ", got " + quoted(field) +
                                    " (out of range)");
  return value;
}

// Index of the field holding byte `pos` of `text`: the number of separators before it.
std::size_t field_of(std::string_view text, std::size_t pos, char sep) {
  return std::count(text.begin(), text.begin() + pos, sep);
}

// u.data holds ASCII digits, tabs and newlines only.
void check_data_bytes(const Row& row) {
  std::string_view text = row.line.text;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto b = static_cast<unsigned char>(text[i]);
    if ((b >= '0' && b <= '9') || b == '\t') continue;
    std::size_t field = field_of(text, i, '\t');
    std::string name = field < kDataFields ? kDataFieldNames[field] : "extra field";
    std::string what = "byte " + hex_byte(b) + " at column " + std::to_string(i + 1);
    if (b == '\r') what += " is a carriage return (Windows line endings?)";
    else if (b >= 0x80) what += " is not ASCII";
    else what += " (" + quoted(text.substr(i, 1)) + ") is not a digit or tab";
    row.fail_field(field, name, what + "; u.data holds ASCII digits separated by tabs");
  }
}

// u.item is latin-1 text: control characters (C0 but tab, DEL, C1) do not occur in it; C1 bytes
// (0x80..0x9F) usually mean the file was re-encoded (as UTF-8 or Windows-1252).
void check_item_bytes(const Row& row) {
  std::string_view text = row.line.text;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto b = static_cast<unsigned char>(text[i]);
    if ((b >= 0x20 && b < 0x7F) || b >= 0xA0 || b == '\t') continue;
    std::size_t field = field_of(text, i, '|');
    std::string name = field < kItemFields ? item_field_name(field) : "extra field";
    std::string what = "byte " + hex_byte(b) + " at column " + std::to_string(i + 1);
    if (b == '\r') what += " is a carriage return (Windows line endings?)";
    else if (b >= 0x80) what += " is a C1 control code, not a latin-1 character (was the file "
                                "re-encoded, as UTF-8 or Windows-1252?)";
    else what += " is a control character";
    row.fail_field(field, name, what + "; u.item is latin-1 text as GroupLens ships it");
  }
}

// Runs parse_row on every line; a row's UserError is thrown, or counted when skipping.
template <class F>
void parse_rows(std::string_view text, const std::string& file_name, const char* expected,
                const ParseOptions& options, SkippedRows* skipped, F&& parse_row) {
  if (text.empty()) throw UserError(file_name + ": the file is empty; expected " + expected);
  SkippedRows local;
  SkippedRows& skips = skipped ? *skipped : local;
  std::size_t rows = 0, parsed = 0;
  for_each_line(text, [&](const Line& line) {
    ++rows;
    try {
      // Bounded before anything is copied: each rating keeps its movie's title, so one 10 MB
      // title would be copied 100,000 times.
      if (line.text.size() > static_cast<std::size_t>(limits::kMovieLensLineBytes))
        Row{file_name, line}.fail("a line of " + limits::bytes_text(static_cast<int64_t>(line.text.size())) + ", more than the " +
                                  limits::bytes_text(limits::kMovieLensLineBytes) +
                                  " a MovieLens line may have (ml-100k's longest is 265 bytes; the limits are in docs/limits.md)");
      parse_row(Row{file_name, line});
      ++parsed;
    } catch (const UserError& e) {
      if (!options.skip_bad_rows) throw;
      ++skips.count;
      if (skips.first.size() < options.max_reported) skips.first.push_back(e.what());
    }
  });
  if (parsed == 0)
    throw UserError(file_name + ": no usable row: all " + std::to_string(rows) + " skipped; " +
                    skips.summary());
}

}  // namespace

std::string SkippedRows::summary() const {
  if (count == 0) return "";
  std::string s = "skipped " + std::to_string(count) + " bad row" + (count == 1 ? "" : "s");
  for (std::size_t i = 0; i < first.size(); ++i) s += (i == 0 ? ": " : "; ") + first[i];
  if (first.size() < count) s += "; ...";
  return s;
}

std::string latin1_to_utf8(std::string_view latin1) {
  std::string out;
  out.reserve(latin1.size());
  for (char c : latin1) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out += c;
    } else {  // U+0080..U+00FF: two bytes, 110000xx 10xxxxxx
      out += char(0xC0 | (b >> 6));
      out += char(0x80 | (b & 0x3F));
    }
  }
  return out;
}

std::vector<Movie> parse_items(std::string_view text, const std::string& file_name,
                               const ParseOptions& options, SkippedRows* skipped) {
  static constexpr const char* kLayout =
      "24 '|'-separated fields (movie id|title|release date|video release date|IMDb URL|"
      "19 genre flags)";
  std::vector<Movie> movies;
  std::unordered_map<std::int32_t, std::size_t> line_of_id;
  parse_rows(text, file_name, kLayout, options, skipped, [&](const Row& row) {
    check_item_bytes(row);
    std::string_view f[kItemFields];
    split_fields(row, '|', kLayout, f);
    Movie m;
    m.id = parse_int<std::int32_t>(row, 0, kItemFieldNames[0], f[0], 1, INT32_MAX);
    for (std::size_t g = 0; g < kGenreFields; ++g) {
      std::size_t index = 5 + g;
      if (f[index] != "0" && f[index] != "1")
        row.fail_field(index, item_field_name(index), "expected 0 or 1, got " + quoted(f[index]));
      if (f[index] == "1") m.genres |= 1u << g;
    }
    auto [it, inserted] = line_of_id.emplace(m.id, row.line.number);
    if (!inserted)
      row.fail_field(0, kItemFieldNames[0], "movie id " + std::to_string(m.id) +
                                                " already appeared on line " +
                                                std::to_string(it->second));
    m.title = latin1_to_utf8(f[1]);
    movies.push_back(std::move(m));
  });
  return movies;
}

const char* const kGenreNames[19] = {"unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
                                     "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                                     "Romance", "Sci-Fi", "Thriller", "War", "Western"};

std::int32_t bucketized_age(std::int32_t age) {
  static constexpr std::int32_t kLower[] = {56, 50, 45, 35, 25, 18};
  for (std::int32_t b : kLower)
    if (age >= b) return b;
  return 1;
}

std::vector<User> parse_users(std::string_view text, const std::string& file_name, const ParseOptions& options,
                              SkippedRows* skipped) {
  static constexpr const char* kLayout = "5 '|'-separated fields (user id|age|gender|occupation|zip code)";
  static constexpr const char* kNames[5] = {"user id", "age", "gender", "occupation", "zip code"};
  std::vector<User> users;
  std::unordered_map<std::int32_t, std::size_t> line_of_id;
  parse_rows(text, file_name, kLayout, options, skipped, [&](const Row& row) {
    std::string_view text_of_row = row.line.text;
    for (std::size_t i = 0; i < text_of_row.size(); ++i) {
      auto b = static_cast<unsigned char>(text_of_row[i]);
      if (b >= 0x20 && b < 0x7F) continue;
      std::size_t field = field_of(text_of_row, i, '|');
      row.fail_field(field, field < 5 ? kNames[field] : "extra field",
                     "byte " + hex_byte(b) + " at column " + std::to_string(i + 1) +
                         (b == '\r' ? " is a carriage return (Windows line endings?)" : " is not printable ASCII") +
                         "; u.user is ASCII text");
    }
    std::string_view f[5];
    split_fields(row, '|', kLayout, f);
    User u;
    u.id = parse_int<std::int32_t>(row, 0, kNames[0], f[0], 1, INT32_MAX);
    u.age = parse_int<std::int32_t>(row, 1, kNames[1], f[1], 1, 120);
    if (f[2] != "M" && f[2] != "F") row.fail_field(2, kNames[2], "expected M or F, got " + quoted(f[2]));
    u.male = f[2] == "M";
    if (f[3].empty()) row.fail_field(3, kNames[3], "expected an occupation, got nothing");
    u.occupation = std::string(f[3]);
    u.zip_code = std::string(f[4]);
    auto [it, inserted] = line_of_id.emplace(u.id, row.line.number);
    if (!inserted)
      row.fail_field(0, kNames[0], "user id " + std::to_string(u.id) + " already appeared on line " + std::to_string(it->second));
    users.push_back(std::move(u));
  });
  return users;
}

std::vector<Rating> parse_ratings(std::string_view text, const std::string& file_name,
                                  std::span<const Movie> movies, const ParseOptions& options,
                                  SkippedRows* skipped) {
  static constexpr const char* kLayout =
      "4 tab-separated fields (user id, item id, rating, timestamp)";
  std::unordered_map<std::int32_t, const Movie*> movie_of_id;
  for (const Movie& m : movies) movie_of_id.emplace(m.id, &m);
  std::vector<Rating> ratings;
  ratings.reserve(std::count(text.begin(), text.end(), '\n') + 1);
  parse_rows(text, file_name, kLayout, options, skipped, [&](const Row& row) {
    check_data_bytes(row);
    std::string_view f[kDataFields];
    split_fields(row, '\t', kLayout, f);
    auto user = parse_int<std::int32_t>(row, 0, kDataFieldNames[0], f[0], 1, INT32_MAX);
    auto movie_id = parse_int<std::int32_t>(row, 1, kDataFieldNames[1], f[1], 1, INT32_MAX);
    auto stars = parse_int<int>(row, 2, kDataFieldNames[2], f[2], 1, 5);
    auto time = parse_int<std::int64_t>(row, 3, kDataFieldNames[3], f[3], 0, INT64_MAX);
    auto it = movie_of_id.find(movie_id);
    if (it == movie_of_id.end())
      row.fail_field(1, kDataFieldNames[1], "movie id " + std::to_string(movie_id) +
                                                " is not in u.item (" +
                                                std::to_string(movies.size()) + " movies)");
    // TFDS keeps the user id as text; written in canonical decimal, so "007" and "7" are one user.
    ratings.push_back(Rating{std::to_string(user), it->second->title, time, movie_id,
                             static_cast<float>(stars)});
  });
  return ratings;
}

std::string read_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(fs::status(path, ec))) throw UserError(path.string() + ": no such file");
  // A regular file only (a FIFO or a device would block or never end), of a stated size.
  return read_input_file(path.string(), limits::kMovieLensFileBytes, "MovieLens file");
}

Dataset load_movielens(const fs::path& dir, const ParseOptions& options) {
  Dataset d;
  fs::path items = dir / "u.item";
  fs::path data = dir / "u.data";
  d.movies = parse_items(read_file(items), items.string(), options, &d.skipped);
  d.ratings = parse_ratings(read_file(data), data.string(), d.movies, options, &d.skipped);
  fs::path users = dir / "u.user";
  std::error_code ec;
  if (fs::exists(users, ec)) d.users = parse_users(read_file(users), users.string(), options, &d.skipped);
  return d;
}

const std::vector<ExpectedSum>& expected_sums() {
  // Parsed once from the sha256sum-format text that meson embeds: "<64 hex>  <name>" per line.
  static const std::vector<ExpectedSum> sums = [] {
    std::vector<ExpectedSum> out;
    for_each_line(kMl100kSha256Sums, [&](const Line& line) {
      std::string_view t = line.text;
      if (t.empty()) return;
      bool hex = t.size() > 66 && std::all_of(t.begin(), t.begin() + 64, [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      });
      DAGRAD_ASSERT(hex && t[64] == ' ' && (t[65] == ' ' || t[65] == '*'),
                    "malformed line in the embedded ml-100k.sha256: " + std::string(t));
      std::string name(t.substr(66));
      bool required = name == "u.data" || name == "u.item";
      out.push_back({name, std::string(t.substr(0, 64)), required});
    });
    DAGRAD_ASSERT(std::count_if(out.begin(), out.end(), [](auto& s) { return s.required; }) == 2,
                  "ml-100k.sha256 must list u.data and u.item");
    return out;
  }();
  return sums;
}

std::vector<std::string> verify_movielens(const fs::path& dir) {
  std::vector<std::string> checked, problems;
  std::vector<char> buffer(1 << 20);
  for (const ExpectedSum& want : expected_sums()) {
    fs::path path = dir / want.file;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      if (want.required) problems.push_back(path.string() + ": missing (a required file)");
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      problems.push_back(path.string() + ": cannot open for reading");
      continue;
    }
    Sha256 h;
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      h.update(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
    }
    std::string got = h.hex_digest();
    if (got != want.sha256)
      problems.push_back(path.string() + ": SHA-256 mismatch: expected " + want.sha256 +
                         ", got " + got);
    else
      checked.push_back(want.file);
  }
  if (!problems.empty()) {
    std::string msg = "MovieLens 100k in " + dir.string() + " failed verification:";
    for (const auto& p : problems) msg += "\n  " + p;
    msg += "\nThese are not the GroupLens ml-100k files; fetch them again with "
           "scripts/get_movielens.sh " + dir.string();
    throw UserError(msg);
  }
  return checked;
}

fs::path resolve_data_dir(std::string_view flag_value) {
  return resolve_data_dir(flag_value, std::getenv("DAGRAD_DATA"));
}

fs::path resolve_data_dir(std::string_view flag_value, const char* env_value) {
  fs::path dir;
  std::string source;
  if (!flag_value.empty()) {
    dir = fs::path(flag_value);
    source = "from --data";
  } else if (env_value != nullptr && *env_value != '\0') {
    dir = fs::path(env_value);
    source = "from the DAGRAD_DATA environment variable";
  } else {
    dir = fs::path("data") / "ml-100k";
    source = "the default, as neither --data nor DAGRAD_DATA was given";
  }
  std::error_code ec;
  std::string problem;
  if (!fs::is_directory(dir, ec)) problem = "no such directory";
  else if (!fs::exists(dir / "u.data", ec)) problem = "the directory has no u.data";
  else return dir;
  throw UserError("MovieLens 100k not found: " + dir.string() + " (" + source + "): " + problem +
                  ".\n  To download it (and check its SHA-256 sums): scripts/get_movielens.sh " +
                  dir.string() +
                  "\n  To use a copy you already have: --data DIR or DAGRAD_DATA=DIR, where DIR "
                  "holds u.data and u.item");
}

}  // namespace dagrad::movielens
