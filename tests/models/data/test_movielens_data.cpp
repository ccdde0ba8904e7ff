// models/data/sources/movielens_data.cpp: parsing, every error message, latin-1 titles,
// skipping bad rows, checksums and the data directory, on tiny files the tests write themselves.
// The real MovieLens files are read only when DAGRAD_DATA points at them; none of them is copied.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>

#include "test_util.hpp"
#include "models/data/sources/movielens_data.hpp"
#include "models/data/sources/sha256.hpp"
#include "graph/error.hpp"

using namespace dagrad;
using namespace dagrad::movielens;
namespace fs = std::filesystem;

namespace {

// A made-up u.item line: id|title|release date|video release date|URL|19 genre flags.
std::string item_line(int id, const std::string& title, int genre = -1) {
  std::string s = std::to_string(id) + "|" + title + "|01-Jan-2000||http://example.com/m" +
                  std::to_string(id);
  for (int g = 0; g < 19; ++g) s += g == genre ? "|1" : "|0";
  return s + "\n";
}

// Three made-up movies; the second title is latin-1 "Caf\xE9" and the third repeats the first.
std::string tiny_items() {
  return item_line(1, "Alpha (2000)", 1) + item_line(2, "Caf\xE9 (2001)", 0) +
         item_line(3, "Alpha (2000)", 18);
}


// The UserError message `f` throws ("" and a failed check when it throws none).
std::string movielens_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  FAIL_CHECK("no UserError thrown");
  return "";
}

void check_has(const std::string& message, const std::string& part) {
  CHECK_MESSAGE(message.find(part) != std::string::npos, "'" << part << "' not in: " << message);
}

std::string ratings_error(const std::string& data) {
  auto movies = parse_items(tiny_items(), "u.item");
  return movielens_error([&] { parse_ratings(data, "u.data", movies); });
}

std::string items_error(const std::string& items) {
  return movielens_error([&] { parse_items(items, "u.item"); });
}

}  // namespace

TEST_CASE("u.item and u.data parse into TFDS-like ratings") {
  auto movies = parse_items(tiny_items(), "u.item");
  REQUIRE(movies.size() == 3);
  CHECK(movies[0].id == 1);
  CHECK(movies[0].title == "Alpha (2000)");
  CHECK(movies[0].genres == 0b10);  // genre flag 1 set
  CHECK(movies[1].title == "Caf\xC3\xA9 (2001)");  // latin-1 0xE9 -> UTF-8 C3 A9, "é"
  CHECK(movies[1].genres == 0b1);
  CHECK(movies[2].title == movies[0].title);  // duplicate titles are kept, in file order
  CHECK(movies[2].genres == (1u << 18));

  // The last line has no final newline but is complete: fine.
  std::string data = "7\t2\t5\t881250949\n12\t1\t1\t0\n7\t3\t3\t9000000000";
  auto ratings = parse_ratings(data, "u.data", movies);
  REQUIRE(ratings.size() == 3);
  CHECK(ratings[0].user_id == "7");
  CHECK(ratings[0].movie_id == 2);
  CHECK(ratings[0].movie_title == "Caf\xC3\xA9 (2001)");
  CHECK(ratings[0].rating == 5.0f);
  CHECK(ratings[0].timestamp == 881250949);
  CHECK(ratings[1].user_id == "12");
  CHECK(ratings[1].movie_title == "Alpha (2000)");
  CHECK(ratings[1].rating == 1.0f);
  CHECK(ratings[1].timestamp == 0);
  CHECK(ratings[2].movie_id == 3);
  CHECK(ratings[2].timestamp == 9000000000LL);  // past 2^32: kept as int64
}

TEST_CASE("latin-1 converts to UTF-8 byte by byte") {
  CHECK(latin1_to_utf8("plain") == "plain");
  CHECK(latin1_to_utf8("\xE9") == "\xC3\xA9");  // U+00E9 é = 11 101001 -> C3 A9
  CHECK(latin1_to_utf8("\xA0") == "\xC2\xA0");  // U+00A0 = 10 100000 -> C2 A0
  CHECK(latin1_to_utf8("\xFF") == "\xC3\xBF");  // U+00FF ÿ = 11 111111 -> C3 BF
  CHECK(latin1_to_utf8("M\xF6" "bius") == "M\xC3\xB6" "bius");  // ö = U+00F6 -> C3 B6
  CHECK(latin1_to_utf8("") == "");
}

TEST_CASE("u.data errors name the file, the line, the field and what was expected") {
  SUBCASE("empty file") {
    check_has(ratings_error(""), "u.data: the file is empty; expected 4 tab-separated fields");
  }
  SUBCASE("truncated last line") {
    std::string m = ratings_error("7\t2\t5\t881250949\n7\t1\t4");
    check_has(m, "u.data:2: has 3 fields, expected 4 tab-separated fields");
    check_has(m, "truncated?");
  }
  SUBCASE("too many fields") {
    std::string m = ratings_error("7\t2\t5\t881250949\t1\n");
    check_has(m, "u.data:1: has 5 fields, expected 4");
    CHECK(m.find("truncated") == std::string::npos);  // the line ends in a newline
  }
  SUBCASE("empty line") {
    check_has(ratings_error("7\t2\t5\t1\n\n7\t1\t4\t2\n"), "u.data:2: empty line; expected 4");
  }
  SUBCASE("empty field") {
    check_has(ratings_error("7\t\t5\t1\n"),
              "u.data:1: field 2 (item id): expected an integer 1..2147483647, got nothing");
  }
  SUBCASE("non-numeric field") {
    check_has(ratings_error("7\t2\tx\t1\n"),
              "u.data:1: field 3 (rating): byte 0x78 at column 5 ('x') is not a digit or tab");
    check_has(ratings_error("7\t2\t-1\t1\n"), "field 3 (rating): byte 0x2D at column 5");
  }
  SUBCASE("rating out of range") {
    check_has(ratings_error("7\t2\t5\t1\n7\t2\t6\t1\n"),
              "u.data:2: field 3 (rating): expected an integer 1..5, got '6' (out of range)");
    check_has(ratings_error("7\t2\t0\t1\n"), "field 3 (rating): expected an integer 1..5, got '0'");
  }
  SUBCASE("numbers too large") {
    check_has(ratings_error("99999999999\t2\t5\t1\n"),
              "u.data:1: field 1 (user id): expected an integer 1..2147483647, got '99999999999' "
              "(out of range)");
    check_has(ratings_error("7\t2\t5\t99999999999999999999\n"), "field 4 (timestamp)");
    check_has(ratings_error("0\t2\t5\t1\n"), "field 1 (user id): expected an integer 1..");
  }
  SUBCASE("movie id not in u.item") {
    check_has(ratings_error("7\t2\t5\t1\n7\t4\t5\t1\n"),
              "u.data:2: field 2 (item id): movie id 4 is not in u.item (3 movies)");
  }
  SUBCASE("bytes that are not ASCII digits or tabs") {
    check_has(ratings_error("7\t2\t5\t1\n7\t\xE9\t5\t1\n"),
              "u.data:2: field 2 (item id): byte 0xE9 at column 3 is not ASCII");
    // Columns: 7=1 tab=2 2=3 tab=4 5=5 tab=6 1=7 CR=8.
    check_has(ratings_error("7\t2\t5\t1\r\n"),
              "u.data:1: field 4 (timestamp): byte 0x0D at column 8 is a carriage return");
    check_has(ratings_error("7 2 5 1\n"), "u.data:1: field 1 (user id): byte 0x20 at column 2");
  }
}

TEST_CASE("u.item errors name the file, the line, the field and what was expected") {
  SUBCASE("empty file") {
    check_has(items_error(""), "u.item: the file is empty; expected 24 '|'-separated fields");
  }
  SUBCASE("wrong number of fields") {
    std::string line = item_line(2, "Beta");
    line.erase(line.rfind('|'), 2);  // drop the last genre flag
    check_has(items_error(item_line(1, "A") + line), "u.item:2: has 23 fields, expected 24");
  }
  SUBCASE("truncated last line") {
    std::string m = items_error(item_line(1, "A") + "2|Beta|01-Jan-2000");
    check_has(m, "u.item:2: has 3 fields, expected 24");
    check_has(m, "truncated?");
  }
  SUBCASE("non-numeric movie id") {
    check_has(items_error(item_line(1, "A") + "x" + item_line(2, "B")),
              "u.item:2: field 1 (movie id): expected an integer 1..2147483647, got 'x2'");
  }
  SUBCASE("genre flag that is not 0 or 1") {
    std::string line = item_line(1, "A");
    line[line.size() - 2] = '2';  // the last flag
    check_has(items_error(line), "u.item:1: field 24 (genre flag 18): expected 0 or 1, got '2'");
  }
  SUBCASE("duplicate movie id") {
    check_has(items_error(item_line(1, "A") + item_line(2, "B") + item_line(1, "C")),
              "u.item:3: field 1 (movie id): movie id 1 already appeared on line 1");
  }
  SUBCASE("bytes that are not latin-1 text") {
    // UTF-8 "é" is C3 A9 (both latin-1 letters), but UTF-8 "…" is E2 80 A6 and 0x80 is a C1 code.
    std::string m = items_error(item_line(1, "Wait\xE2\x80\xA6"));
    check_has(m, "u.item:1: field 2 (title): byte 0x80 at column 8 is a C1 control code");
    check_has(m, "re-encoded");
    check_has(items_error(item_line(1, "A\x01")), "field 2 (title): byte 0x01 at column 4 is a "
                                                   "control character");
  }
}

TEST_CASE("missing files are named") {
  test::TempDir dir("movielens");
  std::string m = movielens_error([&] { load_movielens(dir.dir()); });
  check_has(m, (dir.dir() / "u.item").string() + ": no such file");
  dir.write("u.item", tiny_items());
  m = movielens_error([&] { load_movielens(dir.dir()); });
  check_has(m, (dir.dir() / "u.data").string() + ": no such file");
  dir.write("u.data", "");
  m = movielens_error([&] { load_movielens(dir.dir()); });
  check_has(m, (dir.dir() / "u.data").string() + ": the file is empty");
}

TEST_CASE("load_movielens reads a directory; errors carry the file's path") {
  test::TempDir dir("movielens");
  dir.write("u.item", tiny_items());
  dir.write("u.data", "1\t1\t4\t10\n2\t3\t2\t20\n");
  Dataset d = load_movielens(dir.dir());
  CHECK(d.movies.size() == 3);
  REQUIRE(d.ratings.size() == 2);
  CHECK(d.ratings[1].user_id == "2");
  CHECK(d.ratings[1].movie_title == "Alpha (2000)");
  CHECK(d.skipped.count == 0);
  CHECK(d.skipped.summary() == "");

  dir.write("u.data", "1\t1\t4\t10\n2\t9\t2\t20\n");
  check_has(movielens_error([&] { load_movielens(dir.dir()); }),
            (dir.dir() / "u.data").string() + ":2: field 2 (item id): movie id 9 is not in u.item");
}

TEST_CASE("skip_bad_rows skips bad rows and reports the first few with file:line") {
  auto movies = parse_items(tiny_items(), "u.item");
  ParseOptions skip;
  skip.skip_bad_rows = true;
  skip.max_reported = 2;
  // Lines 2 (rating 9), 3 (unknown movie 8) and 5 (3 fields) are bad; 1 and 4 are good.
  std::string data = "1\t1\t4\t10\n1\t2\t9\t10\n1\t8\t4\t10\n2\t2\t3\t10\n2\t1\t5";
  SkippedRows skipped;
  auto ratings = parse_ratings(data, "u.data", movies, skip, &skipped);
  REQUIRE(ratings.size() == 2);
  CHECK(ratings[0].movie_id == 1);
  CHECK(ratings[1].user_id == "2");
  CHECK(skipped.count == 3);
  REQUIRE(skipped.first.size() == 2);
  check_has(skipped.first[0], "u.data:2: field 3 (rating)");
  check_has(skipped.first[1], "u.data:3: field 2 (item id): movie id 8");
  std::string s = skipped.summary();
  check_has(s, "skipped 3 bad rows: u.data:2: ");
  check_has(s, "; u.data:3: ");
  check_has(s, "; ...");

  // Without the option the first bad row throws.
  check_has(movielens_error([&] { parse_ratings(data, "u.data", movies); }), "u.data:2:");

  // A bad u.item row is skipped, and so are the ratings of the movie it held.
  test::TempDir dir("movielens");
  std::string bad_movie = item_line(2, "B");
  bad_movie[bad_movie.size() - 2] = 'x';
  dir.write("u.item", item_line(1, "A") + bad_movie);
  dir.write("u.data", "1\t1\t4\t10\n1\t2\t4\t10\n");
  Dataset d = load_movielens(dir.dir(), skip);
  CHECK(d.movies.size() == 1);
  CHECK(d.ratings.size() == 1);
  CHECK(d.skipped.count == 2);
  check_has(d.skipped.summary(), "u.item:2: field 24");
  check_has(d.skipped.summary(), "u.data:2: field 2 (item id): movie id 2 is not in u.item");

  // Skipping never turns a file without a single good row into an empty data set.
  check_has(movielens_error([&] { parse_ratings("x\n1\t1\n", "u.data", movies, skip); }),
            "u.data: no usable row: all 2 skipped; skipped 2 bad rows: u.data:1:");
  check_has(movielens_error([&] { parse_ratings("", "u.data", movies, skip); }), "u.data: the file is empty");
}

TEST_CASE("the expected sums are embedded from models/data/sources/ml-100k.sha256") {
  const auto& sums = expected_sums();
  std::ifstream in(fs::path(DAGRAD_SOURCE_DIR) / "models/data/sources/ml-100k.sha256");
  std::string hash, name;
  std::size_t n = 0;
  while (in >> hash >> name) {
    REQUIRE(n < sums.size());
    CHECK(sums[n].sha256 == hash);
    CHECK(sums[n].file == name);
    CHECK(sums[n].required == (name == "u.data" || name == "u.item"));
    ++n;
  }
  CHECK(n == sums.size());
  CHECK(n == 7);  // README, u.data, u.genre, u.info, u.item, u.occupation, u.user
}

TEST_CASE("verify_movielens names missing required files and mismatching sums") {
  test::TempDir dir("movielens");
  std::string m = movielens_error([&] { verify_movielens(dir.dir()); });
  check_has(m, (dir.dir() / "u.data").string() + ": missing (a required file)");
  check_has(m, (dir.dir() / "u.item").string() + ": missing (a required file)");
  CHECK(m.find("u.genre") == std::string::npos);  // optional files may be absent
  check_has(m, "scripts/get_movielens.sh");

  const std::string fake = "1\t1\t4\t10\n";
  dir.write("u.data", fake);
  dir.write("u.item", tiny_items());
  m = movielens_error([&] { verify_movielens(dir.dir()); });
  std::string want;
  for (const auto& s : expected_sums())
    if (s.file == "u.data") want = s.sha256;
  check_has(m, (dir.dir() / "u.data").string() + ": SHA-256 mismatch: expected " + want +
                   ", got " + sha256_hex(fake));
  check_has(m, (dir.dir() / "u.item").string() + ": SHA-256 mismatch");
}

TEST_CASE("resolve_data_dir: --data, then DAGRAD_DATA, then ./data/ml-100k") {
  test::TempDir a("movielens"), b("movielens");
  a.write("u.data", "x");
  b.write("u.data", "x");
  CHECK(resolve_data_dir(a.dir().string(), b.dir().c_str()) == a.dir());
  CHECK(resolve_data_dir("", b.dir().c_str()) == b.dir());

  std::string m = movielens_error([&] { resolve_data_dir((a.dir() / "nope").string(), b.dir().c_str()); });
  check_has(m, (a.dir() / "nope").string() + " (from --data): no such directory");
  check_has(m, "scripts/get_movielens.sh " + (a.dir() / "nope").string());
  check_has(m, "--data DIR or DAGRAD_DATA=DIR");

  fs::remove(b.dir() / "u.data");
  m = movielens_error([&] { resolve_data_dir("", b.dir().c_str()); });
  check_has(m, b.dir().string() + " (from the DAGRAD_DATA environment variable): the directory "
                                 "has no u.data");

  // The default is relative to the working directory; run it from an empty one, then from one
  // that has data/ml-100k/u.data. The one-argument form reads DAGRAD_DATA itself.
  const char* saved = std::getenv("DAGRAD_DATA");
  std::string saved_value = saved ? saved : "";
  unsetenv("DAGRAD_DATA");
  fs::path cwd = fs::current_path();
  fs::current_path(b.dir());
  m = movielens_error([&] { resolve_data_dir(""); });
  check_has(m, "data/ml-100k (the default, as neither --data nor DAGRAD_DATA was given)");
  fs::create_directories(b.dir() / "data/ml-100k");
  b.write("data/ml-100k/u.data", "x");
  CHECK(resolve_data_dir("") == fs::path("data/ml-100k"));
  setenv("DAGRAD_DATA", a.dir().c_str(), 1);
  CHECK(resolve_data_dir("") == a.dir());
  fs::current_path(cwd);
  if (saved) setenv("DAGRAD_DATA", saved_value.c_str(), 1);
  else unsetenv("DAGRAD_DATA");
}

namespace {
bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n;
  }
  return true;
}
}  // namespace

TEST_CASE("the real MovieLens 100k (when DAGRAD_DATA points at it) parses and verifies") {
  const char* env = std::getenv("DAGRAD_DATA");
  if (env == nullptr || !fs::exists(fs::path(env) / "u.data")) {
    MESSAGE("DAGRAD_DATA does not point at MovieLens 100k: real-data test not run");
    return;
  }
  fs::path dir = env;
  auto checked = verify_movielens(dir);
  CHECK(std::count(checked.begin(), checked.end(), "u.data") == 1);
  CHECK(std::count(checked.begin(), checked.end(), "u.item") == 1);

  Dataset d = load_movielens(dir);
  CHECK(d.ratings.size() == 100000);
  CHECK(d.movies.size() == 1682);
  CHECK(d.skipped.count == 0);
  std::set<std::string> users, titles;
  double sum = 0;
  for (const Rating& r : d.ratings) {
    users.insert(r.user_id);
    sum += r.rating;
  }
  CHECK(users.size() == 943);
  // The README's figures: 943 users, 1682 movies; ids are 1..1682 in file order.
  bool ids_in_order = true, all_utf8 = true;
  std::size_t non_ascii = 0;
  for (std::size_t i = 0; i < d.movies.size(); ++i) {
    ids_in_order &= d.movies[i].id == static_cast<int>(i + 1);
    all_utf8 &= valid_utf8(d.movies[i].title);
    const std::string& t = d.movies[i].title;
    non_ascii += std::any_of(t.begin(), t.end(), [](char c) { return (c & 0x80) != 0; });
    titles.insert(d.movies[i].title);
  }
  CHECK(ids_in_order);
  CHECK(all_utf8);
  CHECK(non_ascii > 0);  // the latin-1 titles came through as UTF-8
  CHECK(titles.size() == 1664);  // 18 titles appear twice, and every movie is kept
  CHECK(sum == 352986.0);        // the sum of all ratings: a mean of 3.52986
}

TEST_CASE("u.user parses into the TFDS user features; its errors name the line and the field") {
  auto users = parse_users("1|24|M|technician|85711\n2|53|F|other|94043\n3|17|M|student|T8H1N\n", "u.user");
  REQUIRE(users.size() == 3);
  CHECK(users[0].id == 1);
  CHECK(users[0].age == 24);
  CHECK(users[0].male);
  CHECK(users[0].occupation == "technician");
  CHECK(users[0].zip_code == "85711");
  CHECK_FALSE(users[1].male);
  CHECK(users[2].zip_code == "T8H1N");  // Canadian codes are kept as written

  auto error_of = [](const std::string& text) {
    try {
      parse_users(text, "u.user");
    } catch (const dagrad::UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(dagrad::test::contains(error_of("1|24|X|writer|1\n"), "u.user:1: field 3 (gender): expected M or F, got 'X'"));
  CHECK(dagrad::test::contains(error_of("1|24|M|writer|1\n2|0|F|other|2\n"), "u.user:2: field 2 (age)"));
  CHECK(dagrad::test::contains(error_of("1|24|M|writer|1\n1|30|F|other|2\n"), "user id 1 already appeared on line 1"));
  CHECK(dagrad::test::contains(error_of("1|24|M|writer\n"), "u.user:1:"));
}

TEST_CASE("bucketized_age: TFDS's buckets' lower bounds") {
  CHECK(bucketized_age(7) == 1);
  CHECK(bucketized_age(17) == 1);
  CHECK(bucketized_age(18) == 18);
  CHECK(bucketized_age(24) == 18);
  CHECK(bucketized_age(25) == 25);
  CHECK(bucketized_age(44) == 35);
  CHECK(bucketized_age(49) == 45);
  CHECK(bucketized_age(50) == 50);
  CHECK(bucketized_age(73) == 56);
  CHECK(std::string(kGenreNames[0]) == "unknown");
  CHECK(std::string(kGenreNames[18]) == "Western");
}

TEST_CASE("the real u.user (when DAGRAD_DATA points at it): 943 users, every rating's user among them") {
  const char* env = std::getenv("DAGRAD_DATA");
  if (env == nullptr || !fs::exists(fs::path(env) / "u.user")) {
    MESSAGE("DAGRAD_DATA does not point at MovieLens 100k: real-data test not run");
    return;
  }
  Dataset d = load_movielens(env);
  REQUIRE(d.users.size() == 943);
  CHECK(d.users[0].age == 24);  // the README's first line: 1|24|M|technician|85711
  int men = 0;
  for (const auto& u : d.users) men += u.male;
  CHECK(men == 670);  // ml-100k: 670 men and 273 women
}
