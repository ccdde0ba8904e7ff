// models/data/table.cpp: CSV reading and its errors.
#include <doctest/doctest.h>

#include "graph/error.hpp"
#include "models/data/table.hpp"
#include "test_util.hpp"

using namespace dagrad;

TEST_CASE("read_csv keeps the asked columns with their types, quoted fields included") {
  test::TempDir d("csv");
  std::string p = d.write("t.csv", "user,item,score,extra\nu1,\"Movie, The (1999)\",0.5,x\nu2,\"say \"\"hi\"\"\",-1,y\n");
  Table t = read_csv(p, {{"user", ColumnType::String}, {"item", ColumnType::String}, {"score", ColumnType::Float}});
  REQUIRE(t.rows() == 2);
  CHECK(t.strings("item")[0] == "Movie, The (1999)");
  CHECK(t.strings("item")[1] == "say \"hi\"");
  CHECK(t.floats("score")[1] == -1.0f);
  CHECK(!t.has("extra"));
  std::vector<int64_t> idx = {1};
  CHECK(t.take(idx).strings("user")[0] == "u2");
}

TEST_CASE("read_csv errors name file, line and column") {
  test::TempDir d("csv_bad");
  auto err = [&](const std::string& text, std::map<std::string, ColumnType> types) -> std::string {
    std::string p = d.write("bad.csv", text);
    try {
      read_csv(p, types);
    } catch (const UserError& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(err("a,b\n1,x\n", {{"a", ColumnType::Int}, {"c", ColumnType::Int}}).find("bad.csv:1: no column 'c'") != std::string::npos);
  CHECK(err("a,b\n1,2\nx,3\n", {{"a", ColumnType::Int}}).find("bad.csv:3: column 'a': expected an integer, found 'x'") != std::string::npos);
  CHECK(err("a,b\n1,2,3\n", {{"a", ColumnType::Int}}).find("bad.csv:2: expected 2 fields, found 3") != std::string::npos);
  CHECK(err("", {{"a", ColumnType::Int}}).find("empty file") != std::string::npos);
  CHECK(err("a\n1.5x\n", {{"a", ColumnType::Float}}).find("expected a number") != std::string::npos);
  Table t("t");
  t.add("a", IntColumn{1});
  CHECK_THROWS_WITH_AS(t.strings("a"), doctest::Contains("column 'a' is int, expected string"), UserError);
  CHECK_THROWS_WITH_AS(t.ints("b"), doctest::Contains("no column 'b' (columns: a)"), UserError);
}

TEST_CASE("read_csv: strings must be UTF-8, floats finite, header columns unique") {
  test::TempDir d("csv_strict");
  auto err = [&](const std::string& text, std::map<std::string, ColumnType> types) -> std::string {
    std::string p = d.write("x.csv", text);
    try {
      read_csv(p, types);
    } catch (const UserError& e) {
      return e.what();
    }
    return "no error";
  };
  const std::map<std::string, ColumnType> s = {{"s", ColumnType::String}};
  // Well-formed: 2-byte é (C3 A9), 3-byte € (E2 82 AC), 4-byte 😀 (F0 9F 98 80).
  CHECK(err("s\n\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\n", s) == "no error");
  // Latin-1 é alone (E9 followed by ASCII), an overlong '/' (C0 AF), a UTF-16 surrogate (ED A0 80),
  // above U+10FFFF (F4 90 80 80), a sequence cut by the end of the field (E2 82).
  CHECK(err("s\ncaf\xE9!\n", s).find("x.csv:2: column 's': byte 0xE9 at offset 4") != std::string::npos);
  CHECK(err("s\n\xC0\xAF\n", s).find("byte 0xC0 at offset 1") != std::string::npos);
  CHECK(err("s\nok\xED\xA0\x80\n", s).find("byte 0xED at offset 3") != std::string::npos);
  CHECK(err("s\n\xF4\x90\x80\x80\n", s).find("byte 0xF4 at offset 1") != std::string::npos);
  CHECK(err("s\nab\xE2\x82\n", s).find("byte 0xE2 at offset 3") != std::string::npos);
  // A UTF-8 byte order mark before the header is not part of the first column's name.
  CHECK(err("\xEF\xBB\xBFs\nx\n", s) == "no error");
  const std::map<std::string, ColumnType> f = {{"f", ColumnType::Float}};
  CHECK(err("f\n1\ninf\n", f).find("x.csv:3: column 'f': expected a finite number, found 'inf'") != std::string::npos);
  CHECK(err("f\n-nan\n", f).find("expected a finite number") != std::string::npos);
  CHECK(err("f\n1e39\n", f).find("within float range") != std::string::npos);
  CHECK(err("f,f\n1,2\n", f).find("x.csv:1: column 'f' appears 2 times") != std::string::npos);
}

TEST_CASE("read_csv skip_bad_rows keeps the good rows and reports the bad ones") {
  test::TempDir d("csv_skip");
  std::string p = d.write("x.csv", "a,b\n1,2\nx,3\n4,5\n6\n");
  CsvOptions o;
  o.skip_bad_rows = true;
  o.max_reported = 1;
  CsvReport r;
  Table t = read_csv(p, {{"a", ColumnType::Int}, {"b", ColumnType::Int}}, o, &r);
  // Lines 3 (x) and 5 (one field) are left out: a = [1, 4], b = [2, 5].
  CHECK(t.ints("a") == IntColumn{1, 4});
  CHECK(t.ints("b") == IntColumn{2, 5});
  CHECK(r.skipped == 2);
  CHECK(r.summary().find("skipped 2 bad rows: " + p + ":3: column 'a'") == 0);
  CHECK(r.summary().ends_with("; ..."));
  // Every row bad: an error, not an empty table.
  std::string q = d.write("y.csv", "a\nx\ny\n");
  CHECK_THROWS_WITH_AS(read_csv(q, {{"a", ColumnType::Int}}, o), doctest::Contains("no usable row: all 2 skipped"), UserError);
}
