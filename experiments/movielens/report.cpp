#include "experiments/movielens/report.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "experiments/common/plot.hpp"
#include "experiments/common/stats.hpp"
#include "graph/error.hpp"
#include "models/fit/history.hpp"
#include "models/io/archive.hpp"

namespace dagrad::movielens {
namespace {

using plot::Stats;
using plot::stats;

std::string fmt(double v, int digits = 3) { return plot::fixed(v, digits); }

// A run's history.json through History::load (null values are NaN); none when the run has no
// history (it never ran), so that it is reported as missing. A history that is there but damaged,
// not a regular file, or without a test evaluation is an error naming the file: good results are
// never replaced from a damaged file.
std::vector<std::map<std::string, double>> read_history(const std::string& run_dir, const std::string& metric) {
  const std::string path = run_dir + "/history.json";
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) return {};
  std::vector<std::map<std::string, double>> rows;
  for (const Row& r : History::load(run_dir).rows()) rows.emplace_back(r.begin(), r.end());
  bool evaluated = false;
  for (const auto& r : rows) evaluated = evaluated || (r.count("epoch") && r.count(metric));
  if (!evaluated) throw UserError(path + ": holds no evaluation row with 'epoch' and '" + metric + "' (an unfinished or another run)");
  return rows;
}

}  // namespace

void write_report(const std::vector<ConfigRuns>& configs, const std::vector<int>& ks, const std::string& results_dir,
                  const std::string& command) {
  auto key = [](int k) { return "test_factorized_top_k/top_" + std::to_string(k) + "_categorical_accuracy"; };
  if (configs.empty()) throw UserError("report: no configuration to report on");
  // Every history is read and checked before the first figure is written.
  std::vector<std::vector<std::vector<std::map<std::string, double>>>> hist(configs.size());
  for (size_t c = 0; c < configs.size(); ++c)
    for (const auto& d : configs[c].run_dirs) hist[c].push_back(read_history(d, key(ks.front())));
  bool any = false;
  for (const auto& runs : hist)
    for (const auto& h : runs) any = any || !h.empty();
  if (!any)
    throw UserError("report: none of the runs has a history (" + configs.front().run_dirs.front() +
                    "/history.json and the others): nothing to report; train them first, or give the --configs, "
                    "--seeds and --out of runs that exist");
  std::error_code ec;
  std::filesystem::create_directories(results_dir, ec);
  if (ec) throw UserError("--results " + results_dir + ": cannot create it (" + ec.message() + ")");

  for (int k : ks) {
    plot::Chart chart;
    chart.title = "MovieLens-100k two-tower retrieval: Top-" + std::to_string(k) + " accuracy (test)";
    chart.x_label = "epoch";
    chart.y_label = "top-" + std::to_string(k) + " accuracy";
    chart.y_min = 0.0;
    chart.band_label = "min–max over seeds";
    for (size_t c = 0; c < configs.size(); ++c) {
      plot::Series s;
      s.label = configs[c].label;
      std::map<double, std::vector<double>> by_epoch;
      for (const auto& rows : hist[c])
        for (const auto& r : rows)
          if (r.count("epoch") && r.count(key(k))) by_epoch[r.at("epoch")].push_back(r.at(key(k)));
      for (const auto& [e, v] : by_epoch) {
        Stats st = stats(v);
        s.x.push_back(e);
        s.y.push_back(st.mean);
        s.y_low.push_back(st.lo);
        s.y_high.push_back(st.hi);
      }
      if (!s.x.empty()) {
        s.label += " (" + std::to_string(hist[c].size()) + " seeds)";
        chart.series.push_back(std::move(s));
      }
    }
    plot::write_figure(chart, results_dir + "/top_" + std::to_string(k));
  }

  std::vector<std::string> header = {"configuration", "seeds"};
  for (int k : ks) header.push_back("Top-" + std::to_string(k));
  header.push_back("epochs");
  header.push_back("wall s / run");
  std::vector<std::vector<std::string>> rows;
  for (size_t c = 0; c < configs.size(); ++c) {
    std::vector<std::string> row = {configs[c].label, std::to_string(hist[c].size())};
    std::vector<double> epochs, seconds;
    for (const auto& h : hist[c])
      if (!h.empty()) {
        epochs.push_back(h.back().count("epoch") ? h.back().at("epoch") : NAN);
        seconds.push_back(h.back().count("seconds") ? h.back().at("seconds") : NAN);
      }
    for (int k : ks) {
      std::vector<double> finals;
      for (const auto& h : hist[c])
        if (!h.empty() && h.back().count(key(k))) finals.push_back(h.back().at(key(k)));
      Stats st = stats(finals);
      row.push_back(st.n ? fmt(st.mean) + " ± " + fmt(st.sd) : "missing");
    }
    row.push_back(fmt(stats(epochs).mean, 0));
    row.push_back(fmt(stats(seconds).mean, 1));
    rows.push_back(row);
  }
  std::string md = "# MovieLens-100k two-tower retrieval: results\n\n"
                   "Final test Top-k accuracy (FactorizedTopK against all 1,682 candidates, score-based), mean ± "
                   "standard deviation over seeds (each seed changes the split and the initialisation). \"wall s / run\" is the wall time of one run (training and evaluation) on the machine it ran on, which may have been shared.\n\n" +
                   plot::markdown_table(header, rows) +
                   "\nReference (TFRS deep_recommenders): Top-100 0.27 / 0.28 / 0.22 for [32] / [64, 32] / [128, 64, 32].\n\n"
                   "Figures: " ;
  for (int k : ks)
    md += "Top-" + std::to_string(k) + " ([PNG](top_" + std::to_string(k) + ".png), [SVG](top_" + std::to_string(k) + ".svg)) ";
  md += "\n\nRegenerate: `" + command + "`\n";
  write_file_atomic(results_dir + "/results.md", md);
}

}  // namespace dagrad::movielens
