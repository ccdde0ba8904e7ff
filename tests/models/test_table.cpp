// models/table.cpp: CSV reading and its errors.
#include <doctest/doctest.h>

#include "graph/error.hpp"
#include "models/table.hpp"
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
