// models/data/dataset.cpp: derived columns (data.derive) computed before the split, by hand; their
// errors at the YAML node.
#include <doctest/doctest.h>

#include "config/config.hpp"
#include "models/data/dataset.hpp"
#include "test_util.hpp"

using namespace dagrad;

namespace {

DataTables load_derived(const test::TempDir& d, const std::string& derive) {
  d.write("ratings.csv", "user,rating,age,code\nu1,4.5,17,12\nu2,3,25,7\nu3,4,60,x9\n");
  ConfigNode cfg = parse_config("source: csv\ninteractions: ratings.csv\n"
                                "columns: {user: string, rating: float, age: int, code: string}\n" + derive,
                                d.file("train.yaml"));
  DataTables t;
  load_data(cfg, d.str(), t);
  return t;
}

std::string derive_error(const test::TempDir& d, const std::string& derive) {
  try {
    load_derived(d, derive);
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("data.derive: a label from a comparison, buckets, casts and a copy, on every split") {
  test::TempDir d("derive");
  DataTables t = load_derived(d, "derive:\n"
                         "  clicked: {from: rating, at_least: 4}\n"
                         "  age_bucket: {from: age, bucketize: [18, 25, 35]}\n"
                         "  rating_text: {from: rating, cast: string}\n"
                         "  age_float: {from: age, cast: float}\n"
                         "  rating_int: {from: rating, cast: int}\n"
                         "  who: {from: user}\n");
  const Table& i = t.interactions;
  CHECK(i.ints("clicked") == IntColumn{1, 0, 1});
  CHECK(i.ints("age_bucket") == IntColumn{0, 2, 3});  // 17 < 18; 25 in [25, 35); 60 >= 35
  CHECK(i.strings("rating_text") == StringColumn{"4.5", "3", "4"});
  CHECK(i.floats("age_float") == FloatColumn{17, 25, 60});
  CHECK(i.ints("rating_int") == IntColumn{4, 3, 4});  // truncated toward zero
  CHECK(i.strings("who") == StringColumn{"u1", "u2", "u3"});
  CHECK(t.train.ints("clicked").size() == 3);  // the split sees the derived columns
}

TEST_CASE("data.derive errors name the node and what was expected") {
  test::TempDir d("derive_errors");
  std::string e = derive_error(d, "derive:\n  clicked: {from: ratin, at_least: 4}\n");
  CHECK(test::contains(e, "train.yaml:5:"));
  CHECK(test::contains(e, "no column 'ratin'"));
  CHECK(test::contains(e, "did you mean 'rating'?"));
  e = derive_error(d, "derive:\n  c: {from: user, at_least: 4}\n");
  CHECK(test::contains(e, "at_least needs a number column, 'user' holds strings"));
  e = derive_error(d, "derive:\n  c: {from: age, bucketize: [30, 20]}\n");
  CHECK(test::contains(e, "strictly increasing"));
  e = derive_error(d, "derive:\n  c: {from: code, cast: int}\n");
  CHECK(test::contains(e, "row 3 of 'code' holds 'x9', not an integer"));
  e = derive_error(d, "derive:\n  c: {from: age, at_least: 1, cast: int}\n");
  CHECK(test::contains(e, "at most one of"));
  e = derive_error(d, "derive:\n  age: {from: rating}\n");
  CHECK(test::contains(e, "already have a column of that name"));
  e = derive_error(d, "derive:\n  c: {from: age, at_lest: 1}\n");
  CHECK(test::contains(e, "did you mean 'at_least'?"));
}
