// matmul_bench: GFLOP/s of dagrad::gemm (the path MatMul and the other ops use) against
// dnnl::sgemm and oneDNN matmul primitives, for the flagship model's shapes, each set against a
// large square product measured in the same run as the machine's peak. See bench/README.md.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "cli/args.hpp"
#include "graph/dnnl_context.hpp"
#include "graph/error.hpp"
#include "graph/tensor.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad::bench {
namespace {

using dt = dnnl::memory::data_type;
using Clock = std::chrono::steady_clock;

// c[m, n] = op(a) · op(b) (+ c when acc). a is stored [k, m] when ta, b is stored [n, k] when tb,
// exactly as the MatMul op passes them to gemm.
struct Case {
  std::string name;
  int64_t m, k, n;
  bool ta, tb, acc;
  double gflop() const { return 2.0 * m * k * n * 1e-9; }
};

struct Operands {
  Tensor a, b, c;
};

struct Method {
  const char* name;  // column heading and JSON key
  std::function<void(const Case&, Operands&)> run;
};

// --- The alternatives -------------------------------------------------------------------------

dnnl::memory::desc strided_md(int64_t rows, int64_t cols, bool trans) {
  return {{rows, cols}, dt::f32, trans ? dnnl::memory::dims{1, rows} : dnnl::memory::dims{cols, 1}};
}

dnnl::primitive_attr sum_attr(bool acc) {
  dnnl::primitive_attr attr;
  if (acc) {
    dnnl::post_ops po;
    po.append_sum(1.0f);
    attr.set_post_ops(po);
  }
  return attr;
}

void run_sgemm(const Case& s, Operands& o) {
  // Row-major: lda is the stored row length of a.
  const int64_t lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
  dnnl::sgemm(s.ta ? 'T' : 'N', s.tb ? 'T' : 'N', s.m, s.n, s.k, 1.0f, o.a.f32(), lda, o.b.f32(), ldb,
              s.acc ? 1.0f : 0.0f, o.c.f32(), s.n);
}

// A matmul primitive created for the exact shape (cached per shape, as the original gemm did).
void run_static_matmul(const Case& s, Operands& o) {
  struct Entry {
    dnnl::memory::desc a, b, c;
    dnnl::matmul prim;
  };
  static std::map<std::tuple<int64_t, int64_t, int64_t, bool, bool, bool>, Entry> cache;
  auto key = std::make_tuple(s.m, s.k, s.n, s.ta, s.tb, s.acc);
  auto it = cache.find(key);
  if (it == cache.end()) {
    Entry e{strided_md(s.m, s.k, s.ta), strided_md(s.k, s.n, s.tb), strided_md(s.m, s.n, false), {}};
    e.prim = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(e.a, e.b, e.c), sum_attr(s.acc),
                                                       dnnl_engine()));
    it = cache.emplace(key, std::move(e)).first;
  }
  Entry& e = it->second;
  e.prim.execute(dnnl_stream(), {{DNNL_ARG_SRC, dnnl::memory(e.a, dnnl_engine(), o.a.f32())},
                                 {DNNL_ARG_WEIGHTS, dnnl::memory(e.b, dnnl_engine(), o.b.f32())},
                                 {DNNL_ARG_DST, dnnl::memory(e.c, dnnl_engine(), o.c.f32())}});
  dnnl_stream().wait();
}

// One matmul primitive per transpose/accumulate combination, with every dimension and stride
// given at execution time (DNNL_RUNTIME_DIM_VAL).
void run_runtime_matmul(const Case& s, Operands& o) {
  static std::map<std::tuple<bool, bool, bool>, dnnl::matmul> cache;
  auto key = std::make_tuple(s.ta, s.tb, s.acc);
  auto it = cache.find(key);
  if (it == cache.end()) {
    const int64_t r = DNNL_RUNTIME_DIM_VAL;
    dnnl::memory::desc a = strided_md(r, r, s.ta), b = strided_md(r, r, s.tb), c = strided_md(r, r, false);
    it = cache.emplace(key, dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c),
                                                                       sum_attr(s.acc), dnnl_engine())))
             .first;
  }
  it->second.execute(dnnl_stream(),
                     {{DNNL_ARG_SRC, dnnl::memory(strided_md(s.m, s.k, s.ta), dnnl_engine(), o.a.f32())},
                      {DNNL_ARG_WEIGHTS, dnnl::memory(strided_md(s.k, s.n, s.tb), dnnl_engine(), o.b.f32())},
                      {DNNL_ARG_DST, dnnl::memory(strided_md(s.m, s.n, false), dnnl_engine(), o.c.f32())}});
  dnnl_stream().wait();
}

void run_dagrad(const Case& s, Operands& o) { gemm(o.a, s.ta, o.b, s.tb, o.c, s.acc); }

const std::vector<Method>& methods() {
  static const std::vector<Method> m = {{"dagrad_gemm", run_dagrad},
                                        {"matmul", run_static_matmul},
                                        {"matmul_rt", run_runtime_matmul},
                                        {"sgemm", run_sgemm}};
  return m;
}

// --- The shapes -------------------------------------------------------------------------------

// A dense layer x[B, in] · w[in, out] and its two backward products, as MatMul computes them:
// dx += dy · wᵀ and dw += xᵀ · dy.
void add_dense(std::vector<Case>& cases, int64_t batch, int64_t in, int64_t out) {
  const std::string tag = std::to_string(in) + "->" + std::to_string(out);
  cases.push_back({"dense " + tag + " fwd", batch, in, out, false, false, false});
  cases.push_back({"dense " + tag + " dx", batch, out, in, false, true, true});
  cases.push_back({"dense " + tag + " dw", in, batch, out, true, false, true});
}

std::vector<Case> flagship_cases(int64_t batch, int64_t dim) {
  std::vector<Case> c;
  // In-batch logits q[B, d] · c[B, d]ᵀ, and their backward products for the gradient g[B, B]:
  // dq += g · c and dc += gᵀ · q (transposed a).
  c.push_back({"logits q.cT", batch, dim, batch, false, true, false});
  c.push_back({"logits dq=g.c", batch, batch, dim, false, false, true});
  c.push_back({"logits dc=gT.q", batch, batch, dim, true, false, true});
  // Towers [32], [64, 32] and [128, 64, 32] over a 65-wide input, plus a 64 -> 128 first layer.
  for (auto [in, out] : std::vector<std::pair<int64_t, int64_t>>{
           {65, 32}, {65, 64}, {64, 32}, {65, 128}, {128, 64}, {64, 128}})
    add_dense(c, batch, in, out);
  return c;
}

// --- Measuring --------------------------------------------------------------------------------

struct Options {
  int threads = 0;  // 0: DAGRAD_THREADS or all cores
  int reps = 21;
  double min_sample_ms = 2.0;
  int64_t square = 1024;
  int64_t batch = 2048;
  int64_t dim = 32;
  std::string json;
  std::string filter;
};

Operands make_operands(const Case& s, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Operands o{Tensor(s.ta ? Shape{s.k, s.m} : Shape{s.m, s.k}), Tensor(s.tb ? Shape{s.n, s.k} : Shape{s.k, s.n}),
             Tensor({s.m, s.n})};
  for (float& v : o.a.values()) v = u(rng);
  for (float& v : o.b.values()) v = u(rng);
  o.c.zero();
  return o;
}

// Runs each method once from a known c and compares 64 sampled elements with a double-precision
// dot product, so that a wrongly specified shape or stride cannot be timed unnoticed.
void verify(const Case& s, Operands& o) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> ri(0, s.m - 1), rj(0, s.n - 1);
  auto at_a = [&](int64_t i, int64_t p) { return s.ta ? o.a.f32()[p * s.m + i] : o.a.f32()[i * s.k + p]; };
  auto at_b = [&](int64_t p, int64_t j) { return s.tb ? o.b.f32()[j * s.k + p] : o.b.f32()[p * s.n + j]; };
  const float c0 = 0.5f;  // overwritten unless acc
  for (const auto& m : methods()) {
    o.c.fill(c0);
    m.run(s, o);
    for (int t = 0; t < 64; ++t) {
      int64_t i = ri(rng), j = rj(rng);
      double ref = s.acc ? c0 : 0.0, mag = 0;
      for (int64_t p = 0; p < s.k; ++p) {
        ref += static_cast<double>(at_a(i, p)) * at_b(p, j);
        mag += std::fabs(static_cast<double>(at_a(i, p)) * at_b(p, j));
      }
      double got = o.c.f32()[i * s.n + j];
      if (std::fabs(got - ref) > 1e-4 * (1.0 + mag))
        throw RuntimeFailure(std::string(m.name) + " on '" + s.name + "': c[" + std::to_string(i) + ", " +
                             std::to_string(j) + "] = " + std::to_string(got) + ", expected " +
                             std::to_string(ref));
    }
  }
}

struct Result {
  double median_s = 0;
  double best_s = 0;  // the fastest sample: what the method reaches when nothing else runs
  double gflops = 0;  // from the median
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Each sample times enough calls to last min_sample_ms; the methods take turns sample by sample,
// so that a change in the machine's load falls on all of them alike.
std::vector<Result> measure(const Case& s, Operands& o, const Options& opt) {
  const auto& ms = methods();
  std::vector<int> iters(ms.size(), 1);
  for (size_t i = 0; i < ms.size(); ++i) {
    ms[i].run(s, o);  // creates and caches any primitive
    auto t0 = Clock::now();
    ms[i].run(s, o);
    double once = std::chrono::duration<double>(Clock::now() - t0).count();
    iters[i] = std::max(1, static_cast<int>(std::ceil(opt.min_sample_ms * 1e-3 / std::max(once, 1e-9))));
    for (int r = 0; r < iters[i]; ++r) ms[i].run(s, o);  // warm-up
  }
  std::vector<std::vector<double>> samples(ms.size());
  for (int rep = 0; rep < opt.reps; ++rep)
    for (size_t i = 0; i < ms.size(); ++i) {
      auto t0 = Clock::now();
      for (int r = 0; r < iters[i]; ++r) ms[i].run(s, o);
      samples[i].push_back(std::chrono::duration<double>(Clock::now() - t0).count() / iters[i]);
    }
  std::vector<Result> out;
  for (auto& v : samples) {
    double t = median(v);
    out.push_back({t, *std::min_element(v.begin(), v.end()), s.gflop() / t});
  }
  return out;
}

// --- Reporting --------------------------------------------------------------------------------

struct Row {
  Case c;
  std::vector<Result> r;
};

void print_table(const std::vector<Row>& rows, double peak, const std::string& peak_from) {
  const auto& ms = methods();
  std::printf("%-22s %5s %5s %5s %2s %2s %3s", "shape", "M", "K", "N", "tA", "tB", "acc");
  for (const auto& m : ms) std::printf(" %11s %5s", m.name, "ratio");
  std::printf("\n");
  for (const auto& row : rows) {
    const Case& c = row.c;
    std::printf("%-22s %5lld %5lld %5lld %2d %2d %3d", c.name.c_str(), static_cast<long long>(c.m),
                static_cast<long long>(c.k), static_cast<long long>(c.n), c.ta, c.tb, c.acc);
    for (const auto& r : row.r) std::printf(" %11.1f %5.2f", r.gflops, r.gflops / peak);
    std::printf("\n");
  }
  std::printf("peak: %.1f GFLOP/s (%s); columns are GFLOP/s (median) and its ratio to the peak\n", peak,
              peak_from.c_str());
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') o += '\\';
    o += ch;
  }
  return o;
}

void write_json(const std::string& path, const std::vector<Row>& rows, const Options& opt, double peak,
                const std::string& peak_from) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw UserError("--json " + path + ": cannot open for writing: " + std::strerror(errno));
  const auto& ms = methods();
  std::fprintf(f, "{\n  \"threads\": %d,\n  \"reps\": %d,\n  \"min_sample_ms\": %g,\n", num_threads(), opt.reps,
               opt.min_sample_ms);
  std::fprintf(f, "  \"peak\": {\"gflops\": %.3f, \"from\": \"%s\"},\n  \"rows\": [\n", peak,
               json_escape(peak_from).c_str());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Case& c = rows[i].c;
    std::fprintf(f,
                 "    {\"shape\": \"%s\", \"m\": %lld, \"k\": %lld, \"n\": %lld, \"trans_a\": %s, "
                 "\"trans_b\": %s, \"accumulate\": %s, \"gflop\": %.6f, \"results\": {",
                 json_escape(c.name).c_str(), static_cast<long long>(c.m), static_cast<long long>(c.k),
                 static_cast<long long>(c.n), c.ta ? "true" : "false", c.tb ? "true" : "false",
                 c.acc ? "true" : "false", c.gflop());
    for (size_t j = 0; j < ms.size(); ++j) {
      const Result& r = rows[i].r[j];
      std::fprintf(f,
                   "%s\"%s\": {\"gflops\": %.3f, \"ratio\": %.4f, \"median_us\": %.3f, \"best_us\": %.3f, "
                   "\"best_gflops\": %.3f}",
                   j ? ", " : "", ms[j].name, r.gflops, r.gflops / peak, r.median_s * 1e6, r.best_s * 1e6,
                   c.gflop() / r.best_s);
    }
    std::fprintf(f, "}}%s\n", i + 1 < rows.size() ? "," : "");
  }
  std::fprintf(f, "  ]\n}\n");
  if (std::fclose(f) != 0) throw RuntimeFailure("--json " + path + ": write failed");
}

// --- Command line -----------------------------------------------------------------------------

void usage() {
  std::printf(
      "usage: matmul_bench [--threads N] [--reps N] [--min-ms X] [--square N] [--batch N] [--dim N]\n"
      "                    [--filter TEXT] [--json FILE]\n\n"
      "GFLOP/s of dagrad::gemm, a per-shape oneDNN matmul, a runtime-dimension matmul and dnnl::sgemm\n"
      "on the flagship model's shapes, each with its ratio to the best of them on a square N^3 product\n"
      "measured in the same run (the peak). Medians of --reps samples after warm-up; each sample\n"
      "repeats the call for at least --min-ms milliseconds.\n\n"
      "  --threads N   threads (default: DAGRAD_THREADS, else all cores)\n"
      "  --reps N      timed samples per shape and method (default 21)\n"
      "  --min-ms X    minimum length of one sample in ms (default 2)\n"
      "  --square N    size of the square peak product (default 1024)\n"
      "  --batch N     batch size of the model shapes (default 2048)\n"
      "  --dim N       embedding width of the logits (default 32)\n"
      "  --filter TEXT only model shapes whose name contains TEXT (the peak is always measured)\n"
      "  --json FILE   also write the results as JSON\n");
}

Options parse(int argc, char** argv) {
  cli::Args a(argc, argv, {"threads", "reps", "min-ms", "square", "batch", "dim", "filter", "json"}, {});
  if (a.help()) {
    usage();
    std::exit(0);
  }
  if (!a.positional().empty()) throw UserError("unexpected argument '" + a.positional()[0] + "' (see --help)");
  Options o;
  o.threads = static_cast<int>(a.get_int("threads", o.threads, 1));
  o.reps = static_cast<int>(a.get_int("reps", o.reps, 1));
  o.min_sample_ms = a.get_double("min-ms", o.min_sample_ms, 0);
  o.square = a.get_int("square", o.square, 1);
  o.batch = a.get_int("batch", o.batch, 1);
  o.dim = a.get_int("dim", o.dim, 1);
  o.json = a.get("json");
  o.filter = a.get("filter");
  return o;
}

int run(int argc, char** argv) {
  Options opt = parse(argc, argv);
  init_threads_from_env();
  if (opt.threads > 0) set_num_threads(opt.threads);
  std::printf("matmul_bench: %d threads, %d samples of >= %g ms per shape and method\n", num_threads(), opt.reps,
              opt.min_sample_ms);

  std::vector<Case> cases;
  for (auto& c : flagship_cases(opt.batch, opt.dim))
    if (c.name.find(opt.filter) != std::string::npos) cases.push_back(c);
  const int64_t q = opt.square;
  cases.push_back({"square " + std::to_string(q) + "^3", q, q, q, false, false, false});

  std::mt19937 rng(1);
  std::vector<Row> rows;
  for (const auto& c : cases) {
    Operands o = make_operands(c, rng);
    verify(c, o);
    o.c.zero();
    rows.push_back({c, measure(c, o, opt)});
  }
  // The peak: the best method on the square product.
  const auto& sq = rows.back().r;
  size_t best = std::max_element(sq.begin(), sq.end(), [](auto& x, auto& y) { return x.gflops < y.gflops; }) -
                sq.begin();
  double peak = sq[best].gflops;
  std::string from = rows.back().c.name + " via " + methods()[best].name;
  print_table(rows, peak, from);
  if (!opt.json.empty()) write_json(opt.json, rows, opt, peak, from);
  return 0;
}

}  // namespace
}  // namespace dagrad::bench

int main(int argc, char** argv) {
  dagrad::prefer_passive_omp_wait(argv);  // first: it may execute the program again
  try {
    return dagrad::bench::run(argc, argv);
  } catch (const dagrad::UserError& e) {
    std::fprintf(stderr, "matmul_bench: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "matmul_bench: failure: %s\n", e.what());
    return 1;
  }
}
