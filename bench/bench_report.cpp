#include "bench/bench_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bench/bench_util.hpp"
#include "ops/kernels/softmax_tiles.hpp"

namespace dagrad::bench {
namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string label(const std::string& config) {
  std::string l = "[";
  for (char c : config) l += c == '_' ? std::string(", ") : std::string(1, c);
  return l + "]";
}

// The top-100 accuracy of a run's FactorizedTopK result.
double top100(const JsonReader& run) {
  JsonReader k(run.raw("top_k"));
  return k.num("factorized_top_k/top_100_categorical_accuracy", NAN);
}

void profile_table(std::ostringstream& os, const JsonReader& run) {
  JsonReader p(run.raw("profile"));
  const double steps = p.num("steps", 1);
  // The median epoch over its steps (full batches and the partial last one).
  const double steps_per_epoch = static_cast<double>(
      (static_cast<int64_t>(run.num("train_examples")) + static_cast<int64_t>(run.num("batch_size")) - 1) /
      static_cast<int64_t>(run.num("batch_size")));
  const double step_ms = 1e3 * run.num("epoch_s") / steps_per_epoch;
  os << "\nPer-step profile, towers " << label(run.str("config")) << " (ms per training step, mean over "
     << fmt("%.0f", steps) << " steps; a step of the median epoch " << fmt("%.2f", step_ms)
     << " ms; nodes that run side by side, graph/schedule.hpp, overlap, so the sum exceeds the step):\n\n";
  os << "| node | op | forward | backward |\n|---|---|---:|---:|\n";
  // The node list is an array of flat objects: split it at "}, {".
  std::string nodes = p.raw("nodes");
  double total = 0;
  size_t pos = 0;
  int shown = 0;
  double rest_f = 0, rest_b = 0;
  while ((pos = nodes.find('{', pos)) != std::string::npos) {
    const size_t end = nodes.find('}', pos);
    JsonReader n(nodes.substr(pos, end - pos + 1));
    const double f = n.num("forward_ms"), b = n.num("backward_ms");
    total += f + b;
    if (shown++ < 14)
      os << "| " << n.str("node") << " | " << n.str("op") << " | " << fmt("%.3f", f) << " | " << fmt("%.3f", b)
         << " |\n";
    else {
      rest_f += f;
      rest_b += b;
    }
    pos = end;
  }
  if (shown > 14) os << "| (" << shown - 14 << " more nodes) | | " << fmt("%.3f", rest_f) << " | " << fmt("%.3f", rest_b) << " |\n";
  const double clear = p.num("clear_grads_ms"), feed = p.num("feed_ms"), opt = p.num("optimizer_ms");
  os << "| clearing gradients | | | " << fmt("%.3f", clear) << " |\n";
  os << "| feeding the batch | | " << fmt("%.3f", feed) << " | |\n";
  os << "| optimizer (Adagrad) | | | " << fmt("%.3f", opt) << " |\n";
  os << "| **all of the above** | | | **" << fmt("%.3f", total + clear + feed + opt) << "** |\n";
}

}  // namespace

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string s;
  std::getline(f, s);
  return s;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2) + cpu_isa();
  return "unknown" + cpu_isa();
}

std::string cpu_isa() {
  std::string s = std::string(", fused softmax loops ") + tiles::isa();
  s += tiles::has_bf16() ? " (AVX512-BF16: yes)" : " (AVX512-BF16: no)";
  const char* env = std::getenv("DAGRAD_ISA");
  if (env && *env) s += " [DAGRAD_ISA=" + std::string(env) + "]";
  return s;
}

std::string Report::table() const {
  std::ostringstream os;
  if (runs.empty()) return "";
  JsonReader first(runs.front());
  os << "\nMovieLens-100k two-tower training and evaluation: " << threads << " threads, batch "
     << fmt("%.0f", first.num("batch_size")) << ", " << fmt("%.0f", first.num("train_examples"))
     << " training examples, Adagrad 0.1. Epoch = median of the timed epochs after a warm-up.\n";
  os << "sgemm peak (" << fmt("%.0f", first.num("peak_n")) << "^3 oneDNN matmul, median per process): "
     << fmt("%.0f", first.num("peak_gflops")) << " GFLOP/s (best " << fmt("%.0f", first.num("peak_gflops_best"))
     << "). CPU: " << cpu_model() << ". Load average before/after: " << load_before << " / " << load_after << "\n\n";
  os << "| towers | epoch s | examples/s | GFLOP/epoch | floor s | x floor | PyTorch epoch s | PyTorch / dagrad |"
        " top-k eval ms | evaluate ms | peak RSS MB | top-100 acc |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    JsonReader r(runs[i]);
    std::string ref_s = "n/a", ratio = "n/a";
    if (i < references.size()) {
      JsonReader ref(references[i]);
      ref_s = fmt("%.3f", ref.num("epoch_s"));
      ratio = fmt("%.2f", ref.num("epoch_s") / r.num("epoch_s"));
    }
    os << "| " << label(r.str("config")) << " | " << fmt("%.3f", r.num("epoch_s")) << " | "
       << fmt("%.0f", r.num("examples_per_s")) << " | " << fmt("%.1f", r.num("epoch_gflop")) << " | "
       << fmt("%.3f", r.num("floor_s")) << " | " << fmt("%.2f", r.num("x_floor")) << " | " << ref_s << " | " << ratio
       << " | " << fmt("%.1f", r.num("eval_topk_ms")) << " | " << fmt("%.1f", r.num("eval_all_ms")) << " | "
       << fmt("%.0f", r.num("peak_rss_mb")) << " | " << fmt("%.4f", top100(r)) << " |\n";
  }
  if (!reference_note.empty()) os << "\nNo PyTorch reference: " << reference_note << "\n";
  for (const auto& ref : references) {
    JsonReader r(ref);
    os << "\nPyTorch " << r.str("torch_version") << " reference [" << r.str("towers") << "]: epoch "
       << fmt("%.3f", r.num("epoch_s")) << " s (" << r.str("variant") << "), top-k eval "
       << fmt("%.1f", r.num("eval_topk_ms")) << " ms, final epoch loss " << fmt("%.1f", r.num("final_loss"));
  }
  if (!references.empty()) os << "\n";
  for (const auto& run : runs) profile_table(os, JsonReader(run));
  if (!scaling.empty()) {
    os << "\nScaling on synthetic data (towers [64, 32], 20,000 test queries):\n\n"
          "| examples x | candidates x | training examples | candidates | epoch s | s per 100k examples |"
          " x floor | top-k eval ms | peak RSS MB |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& s : scaling) {
      JsonReader r(s);
      os << "| " << fmt("%.0f", r.num("example_scale")) << " | " << fmt("%.0f", r.num("candidate_scale")) << " | "
         << fmt("%.0f", r.num("train_examples")) << " | " << fmt("%.0f", r.num("candidates")) << " | "
         << fmt("%.3f", r.num("epoch_s")) << " | " << fmt("%.3f", r.num("epoch_s") * 1e5 / r.num("train_examples"))
         << " | " << fmt("%.2f", r.num("x_floor")) << " | " << fmt("%.1f", r.num("eval_topk_ms")) << " | "
         << fmt("%.0f", r.num("peak_rss_mb")) << " |\n";
    }
  }
  return os.str();
}

std::string Report::json() const {
  return Json()
      .num("threads", threads)
      .str("cpu", cpu_model())
      .str("load_before", load_before)
      .str("load_after", load_after)
      .raw("runs", json_array(runs))
      .raw("reference", json_array(references))
      .str("reference_note", reference_note)
      .raw("scaling", json_array(scaling))
      .text();
}

}  // namespace dagrad::bench
