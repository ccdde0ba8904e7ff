// experiments/movielens/report.cpp, through `movielens_two_tower report`: each run's history is
// read with History::load (the writer's own reader) and the final rows are aggregated over seeds;
// a run without a history is missing, a damaged one an error naming the file.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

#include "models/fit/history.hpp"
#include "models/model_test_util.hpp"
#include "test_util.hpp"

using namespace dagrad;

namespace {

std::string report_two_tower_exe() { return std::string(DAGRAD_BUILD_DIR) + "/experiments/movielens_two_tower"; }

// A run's history: Top-1 at epochs 5 and 10.
void write_run(const std::string& dir, double top1_at_5, double top1_at_10, double seconds) {
  const std::string top1 = "test_factorized_top_k/top_1_categorical_accuracy";
  std::filesystem::create_directories(dir);
  History h;
  h.add({{"epoch", 5}, {"loss", 2}, {top1, top1_at_5}, {"seconds", seconds / 2}});
  h.add({{"epoch", 10}, {"loss", 1}, {top1, top1_at_10}, {"seconds", seconds}});
  h.save(dir);
}

// The cells of the table row that starts with `label`, trimmed.
std::vector<std::string> table_row(const std::string& md, const std::string& label) {
  std::istringstream in(md);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| " + label + " ", 0) != 0) continue;
    std::vector<std::string> cells;
    std::istringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) {
      const size_t b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
    }
    return cells;
  }
  FAIL("no row " << label << " in\n" << md);
  return {};
}

}  // namespace

TEST_CASE("movielens_two_tower report aggregates the histories' last rows over seeds; a missing run says so") {
  test::TempDir d("report");
  write_run(d.file("out/32/seed_1"), 0.1, 0.25, 10);
  write_run(d.file("out/32/seed_2"), NAN, 0.45, 20);  // a NaN on the way (null in the file)
  const std::string report = report_two_tower_exe() + " report --configs 32,64_32 --seeds 2 --out " + d.file("out") +
                             " --results " + d.file("results");
  auto p = test::run(report);
  REQUIRE_MESSAGE(p.status == 0, p.output);
  const std::string md = test::read_text(d.file("results/results.md"));
  INFO(md);
  // [32]: two seeds; final Top-1 mean (0.25 + 0.45) / 2 = 0.35, sd sqrt(2 * 0.1^2 / 1) = 0.141;
  // 10 epochs; (10 + 20) / 2 = 15 s. The other top-k were not computed.
  CHECK(table_row(md, "[32]") == std::vector<std::string>{"[32]", "2", "0.350 ± 0.141", "missing", "missing", "missing",
                                                          "missing", "10", "15.0"});
  // [64, 32] never ran.
  CHECK(table_row(md, "[64, 32]") == std::vector<std::string>{"[64, 32]", "2", "missing", "missing", "missing", "missing",
                                                              "missing", "–", "–"});
  CHECK(std::filesystem::exists(d.file("results/top_1.png")));
  CHECK(std::filesystem::exists(d.file("results/top_1.svg")));
  CHECK(test::contains(md, "[SVG](top_100.svg)"));

  d.write("out/32/seed_2/history.json", "{\"rows\": [{\"epoch\": 5, ");
  p = test::run(report);
  CHECK(p.status == 2);
  CHECK_MESSAGE(test::contains(p.output, d.file("out/32/seed_2/history.json") + ": not a dagrad history"), p.output);
}
