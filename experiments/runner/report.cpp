#include "experiments/runner/report.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "experiments/common/plot.hpp"
#include "experiments/common/stats.hpp"
#include "models/fit/history.hpp"
#include "models/io/archive.hpp"

namespace dagrad::experiment {

namespace fs = std::filesystem;

namespace {

using History_ = std::vector<std::map<std::string, double>>;

History_ read_history(const std::string& dir) {
  if (!fs::exists(dir + "/history.json")) return {};
  History_ rows;
  for (const Row& r : History::load(dir).rows()) rows.emplace_back(r.begin(), r.end());
  return rows;
}

// The last value of `key` in a history (NaN when absent).
double last(const History_& h, const std::string& key) {
  for (auto it = h.rbegin(); it != h.rend(); ++it)
    if (auto f = it->find(key); f != it->end()) return f->second;
  return NAN;
}

std::vector<double> finals(const std::vector<History_>& seeds, const std::string& key) {
  std::vector<double> v;
  for (const auto& h : seeds)
    if (!h.empty()) v.push_back(last(h, key));
  return v;
}

std::string file_stem(const std::string& key) {
  std::string s = key;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) c = '_';
  return s;
}

std::string pm(const plot::Stats& s, int digits) {
  return s.n ? plot::fixed(s.mean, digits) + " ± " + plot::fixed(s.sd, digits) : "missing";
}

}  // namespace

std::string run_dir(const std::string& out, const ExperimentFile& e, const RunEntry& r, int seed) {
  return out + "/" + e.name + "/" + r.name + "/seed_" + std::to_string(seed);
}

std::vector<Verdict> write_report(const ExperimentFile& e, const std::vector<const RunEntry*>& runs, const std::string& out,
                                  const std::string& results, const std::string& command) {
  // Every history is read (and a damaged one refused) before anything is created or written.
  std::map<std::string, std::vector<History_>> hist;
  for (const RunEntry* r : runs)
    for (int s = 1; s <= e.seeds; ++s) hist[r->name].push_back(read_history(run_dir(out, e, *r, s)));
  const std::string dir = results + "/" + e.name;
  fs::create_directories(dir);
  auto seeds_with_history = [&](const std::string& run) {
    int n = 0;
    for (const auto& h : hist.at(run)) n += !h.empty();
    return n;
  };

  // The results table.
  std::vector<std::string> header = {"run", "seeds"};
  for (const auto& m : e.metrics) header.push_back(m.label);
  header.push_back("epochs");
  header.push_back("wall s / run");
  std::vector<std::vector<std::string>> rows;
  for (const RunEntry* r : runs) {
    std::vector<std::string> row = {r->label, std::to_string(seeds_with_history(r->name)) + " of " + std::to_string(e.seeds)};
    for (const auto& m : e.metrics) row.push_back(pm(plot::stats(finals(hist.at(r->name), m.key)), m.digits));
    row.push_back(plot::fixed(plot::stats(finals(hist.at(r->name), "epoch")).mean, 0));
    row.push_back(plot::fixed(plot::stats(finals(hist.at(r->name), "seconds")).mean, 1));
    rows.push_back(std::move(row));
  }

  // The anchors.
  std::vector<Verdict> verdicts;
  std::vector<std::vector<std::string>> anchor_rows;
  for (const auto& a : e.anchors) {
    if (!hist.count(a.run) || (!a.beats.empty() && !hist.count(a.beats))) continue;
    const MetricEntry& m = *e.metric(a.metric);
    plot::Stats s = plot::stats(finals(hist.at(a.run), a.metric));
    Verdict v{&a, s.mean, s.sd, NAN, s.n, false, ""};
    std::string anchor;
    if (a.value) {
      v.met = s.n > 0 && std::fabs(s.mean - *a.value) <= a.tolerance + 1e-12;
      anchor = plot::fixed(*a.value, m.digits) + " ± " + plot::fixed(a.tolerance, m.digits);
    } else {
      plot::Stats o = plot::stats(finals(hist.at(a.beats), a.metric));
      v.other = o.mean;
      v.met = s.n > 0 && o.n > 0 && (m.higher_is_better ? s.mean > o.mean : s.mean < o.mean);
      anchor = std::string(m.higher_is_better ? "higher" : "lower") + " than " + e.run(a.beats)->label + " (" +
               pm(o, m.digits) + ")";
    }
    const std::string verdict = s.n == 0 ? "missing" : v.met ? (a.value ? "reproduced" : "beaten") : "NOT met";
    v.text = e.run(a.run)->label + ", " + m.label + ": " + pm(s, m.digits) + " vs " + anchor + ": " + verdict;
    anchor_rows.push_back({e.run(a.run)->label, m.label, pm(s, m.digits), anchor, a.source, verdict});
    verdicts.push_back(std::move(v));
  }

  // The figures.
  std::string figure_links;
  for (const auto& f : e.figures) {
    const MetricEntry& m = *e.metric(f.metric);
    plot::Chart chart;
    chart.title = f.title;
    chart.x_label = "epoch";
    chart.y_label = m.label;
    chart.band_label = "min–max over seeds";
    for (const RunEntry* r : runs) {
      plot::Series s;
      std::map<double, std::vector<double>> by_epoch;
      for (const auto& h : hist.at(r->name))
        for (const auto& row : h)
          if (row.count("epoch") && row.count(f.metric)) by_epoch[row.at("epoch")].push_back(row.at(f.metric));
      for (const auto& [epoch, values] : by_epoch) {
        plot::Stats st = plot::stats(values);
        s.x.push_back(epoch);
        s.y.push_back(st.mean);
        s.y_low.push_back(st.lo);
        s.y_high.push_back(st.hi);
      }
      if (s.x.empty()) continue;
      s.label = r->label + " (" + std::to_string(seeds_with_history(r->name)) + " seeds)";
      chart.series.push_back(std::move(s));
    }
    if (chart.series.empty()) continue;
    const std::string stem = file_stem(f.metric);
    plot::write_figure(chart, dir + "/" + stem);
    figure_links += "- " + m.label + ": [PNG](" + stem + ".png), [SVG](" + stem + ".svg)\n";
  }

  std::string md = "# " + e.title + "\n\n";
  if (!e.about.empty()) md += e.about + (e.about.back() == '\n' ? "\n" : "\n\n");
  md += "## Results\n\nThe last evaluation of each run, mean ± sample standard deviation over seeds (seed s sets " +
        join(e.seed_keys) + " to " + std::to_string(e.seed_base) + " + s). \"wall s / run\" is one run's training and "
        "evaluation time on the machine it ran on, which may have been shared.\n\n" +
        plot::markdown_table(header, rows);
  if (!anchor_rows.empty())
    md += "\n## Anchors\n\n" +
          plot::markdown_table({"run", "metric", "ours", "anchor", "source", "verdict"}, anchor_rows);
  if (!figure_links.empty()) md += "\n## Figures\n\n" + figure_links;
  md += "\nRegenerate: `" + command + "`\n";
  write_file_atomic(dir + "/results.md", md);
  return verdicts;
}

}  // namespace dagrad::experiment
