// models/fit/history.cpp: History::save and History::load are history.json's one writer and one
// reader (numbers round-trip bit for bit, non-finite values are null and read back as NaN);
// history.csv beside it; the checkpoint form (write/read); a damaged file is named.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "models/fit/history.hpp"
#include "models/model_test_util.hpp"
#include "test_util.hpp"

using namespace dagrad;

namespace {

// Bit for bit, NaN equal to NaN.
bool same_rows(const std::vector<Row>& a, const std::vector<Row>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return false;
    for (size_t j = 0; j < a[i].size(); ++j) {
      const auto& [ka, va] = a[i][j];
      const auto& [kb, vb] = b[i][j];
      if (ka != kb) return false;
      if (std::isnan(va) ? !std::isnan(vb) : std::bit_cast<uint64_t>(va) != std::bit_cast<uint64_t>(vb)) return false;
    }
  }
  return true;
}

History sample() {
  History h;
  h.add({{"epoch", 1}, {"loss", 0.1}, {"test_auc", NAN}, {"seconds", 1.0 / 3}});
  h.add({{"epoch", 2}, {"loss", INFINITY}, {"test_auc", -INFINITY}, {"seconds", 123456789.125}});
  h.add({{"epoch", 3}, {"loss", -0.0}, {"test_auc", 1e-310}, {"seconds", 1e300}, {"extra", -9007199254740993.0}});
  return h;
}

}  // namespace

TEST_CASE("History::save then History::load gives the same rows, non-finite values back as NaN") {
  test::TempDir dir("history_round_trip");
  History h = sample();
  h.save(dir.str());
  History back = History::load(dir.str());
  REQUIRE(back.rows().size() == 3);
  // NaN, +infinity and -infinity are all written as null and read back as NaN.
  std::vector<Row> want = h.rows();
  want[1][1].second = NAN;
  want[1][2].second = NAN;
  CHECK(same_rows(back.rows(), want));
  CHECK(std::signbit(back.rows()[2][1].second));  // -0 stays -0

  // The file as JSON: {"rows": [...]}, keys in the row's order, whole numbers as integers, null.
  const auto json = nlohmann::ordered_json::parse(test::read_text(dir.file("history.json")));
  const auto& first = json.at("rows")[0];
  std::vector<std::string> keys;
  for (const auto& [k, v] : first.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"epoch", "loss", "test_auc", "seconds"});
  CHECK(first.at("epoch").is_number_integer());
  CHECK(first.at("test_auc").is_null());
  CHECK(json.at("rows")[1].at("loss").is_null());
}

TEST_CASE("History round-trips any finite double bit for bit, through history.json and a checkpoint") {
  std::mt19937_64 rng(7);
  History h;
  for (int r = 0; r < 200; ++r) {
    Row row = {{"epoch", static_cast<double>(r + 1)}};
    for (int k = 0; k < 5; ++k) {
      double v;
      do v = std::bit_cast<double>(rng());
      while (!std::isfinite(v));
      row.push_back({"m" + std::to_string(k), v});
    }
    row.push_back({"whole", static_cast<double>(static_cast<int64_t>(rng() >> 12) - (int64_t{1} << 51))});
    h.add(row);
  }
  test::TempDir dir("history_bits");
  h.save(dir.str());
  CHECK(same_rows(History::load(dir.str()).rows(), h.rows()));

  ArchiveWriter w;
  h.write(w);
  History from_checkpoint;
  from_checkpoint.read(ArchiveReader::from_bytes(w.bytes(), "checkpoint"));
  CHECK(same_rows(from_checkpoint.rows(), h.rows()));
}

TEST_CASE("history.csv: a header of every key in first-seen order, one line per row, null for non-finite") {
  test::TempDir dir("history_csv");
  sample().save(dir.str());
  CHECK(test::read_text(dir.file("history.csv")) ==
        "epoch,loss,test_auc,seconds,extra\n"
        "1,0.1,null,0.3333333333333333,\n"
        "2,null,null,123456789.125,\n"
        "3,-0,1e-310,1e+300,-9007199254740992\n");
}

TEST_CASE("History::last is the newest row's value of a key, NaN when no row has it") {
  History h = sample();
  CHECK(h.last("epoch") == 3);
  CHECK(h.last("extra") == -9007199254740992.0);
  CHECK(h.last("test_auc") == 1e-310);  // the newest row has it; older rows do not count
  CHECK(std::isnan(h.last("nothing")));
  CHECK(std::isnan(History().last("epoch")));
}

TEST_CASE("History::load names the file when it is missing or not a history") {
  test::TempDir dir("history_bad");
  CHECK(test::contains(test::user_error([&] { History::load(dir.str()); }), dir.file("history.json") + ": cannot open"));
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{\"rows\": [{\"epoch\": 1, \"loss\"", "not a dagrad history"},  // cut short
      {"[1, 2]", "expected {\"rows\": [...]}"},
      {"{\"rows\": [3]}", "a row is not an object"},
      {"{\"rows\": [{\"epoch\": \"one\"}]}", "'epoch' is not a number or null"},
  };
  for (const auto& [text, why] : bad) {
    dir.write("history.json", text);
    std::string e = test::user_error([&] { History::load(dir.str()); });
    CHECK_MESSAGE(test::contains(e, dir.file("history.json") + ": not a dagrad history"), e);
    CHECK_MESSAGE(test::contains(e, why), e);
  }
}
