// The candidate indexes of `dagrad serve --index` (cli/candidate_index.hpp) on synthetic catalogues:
// for each size, the exact index and HNSW at each --ef: build time, memory, latency per query on one
// thread (mean, p50, p99), and recall@10 / recall@100 against exact. A benchmark, not a test.
// The catalogue: `clusters` Gaussian centres in d dimensions (unit variance), each candidate a
// centre plus noise of sd 0.5, then L2-normalised (as a normalised two-tower model's vectors are);
// queries are drawn the same way. Usage:
//   index_bench [--sizes 10000,100000,1000000] [--dim 64] [--queries 200] [--clusters 1000]
//               [--m 16] [--ef-construction 200] [--ef 50,100,200,400] [--build-threads N]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "cli/args.hpp"
#include "cli/candidate_index.hpp"
#include "graph/error.hpp"

using namespace dagrad;

namespace {

std::vector<int64_t> list_of(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(cli::parse_int("list", item, 1));
  return out;
}

Tensor catalogue(int64_t n, int64_t d, const std::vector<float>& centres, int64_t clusters, std::mt19937_64& rng) {
  std::normal_distribution<float> noise(0.0f, 0.5f);
  std::uniform_int_distribution<int64_t> pick(0, clusters - 1);
  Tensor t({n, d});
  float* p = t.f32();
  for (int64_t i = 0; i < n; ++i) {
    const float* c = centres.data() + pick(rng) * d;
    double norm = 0;
    for (int64_t j = 0; j < d; ++j) {
      p[i * d + j] = c[j] + noise(rng);
      norm += static_cast<double>(p[i * d + j]) * p[i * d + j];
    }
    const float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (int64_t j = 0; j < d; ++j) p[i * d + j] *= inv;
  }
  return t;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  try {
    cli::Args a(argc, argv, {"sizes", "dim", "queries", "clusters", "m", "ef-construction", "ef", "build-threads"}, {});
    if (a.help()) {
      std::puts("usage: index_bench [--sizes 10000,100000,1000000] [--dim 64] [--queries 200] [--clusters 1000]\n"
                "                   [--m 16] [--ef-construction 200] [--ef 50,100,200,400] [--build-threads N]");
      return 0;
    }
    const auto sizes = list_of(a.get("sizes", "10000,100000,1000000"));
    const int64_t d = a.get_int("dim", 64, 1), nq = a.get_int("queries", 200, 1), clusters = a.get_int("clusters", 1000, 1);
    const auto efs = list_of(a.get("ef", "50,100,200,400"));
    IndexOptions base;
    base.m = a.get_int("m", 16, 2);
    base.ef_construction = a.get_int("ef-construction", 200, 1);
    base.threads = static_cast<int>(a.get_int("build-threads", std::max(1u, std::thread::hardware_concurrency()), 1));
    std::mt19937_64 rng(7);
    std::normal_distribution<float> unit(0.0f, 1.0f);
    std::vector<float> centres(static_cast<size_t>(clusters * d));
    for (float& x : centres) x = unit(rng);
    std::printf("d %lld, %lld queries, %lld clusters, HNSW M %lld, ef_construction %lld, built with %d threads; "
                "search on one thread\n",
                static_cast<long long>(d), static_cast<long long>(nq), static_cast<long long>(clusters),
                static_cast<long long>(base.m), static_cast<long long>(base.ef_construction), base.threads);
    std::printf("| candidates | index | build s | memory MB | ms/query mean | p50 | p99 | recall@10 | recall@100 |\n");
    std::printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int64_t n : sizes) {
      const Tensor cands = catalogue(n, d, centres, clusters, rng);
      const Tensor queries = catalogue(nq, d, centres, clusters, rng);
      const std::vector<char> none;
      // Exact answers, and the exact index's own timing.
      IndexOptions exact_opts;
      auto exact = build_candidate_index(cands, exact_opts);
      std::vector<std::vector<int64_t>> truth(static_cast<size_t>(nq));
      std::vector<double> ms;
      for (int64_t q = 0; q < nq; ++q) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = exact->search(queries.f32() + q * d, 100, none);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        for (const auto& [row, s] : r) truth[q].push_back(row);
      }
      double mean = 0;
      for (double x : ms) mean += x / static_cast<double>(ms.size());
      std::printf("| %lld | exact | 0 | %.1f | %.3f | %.3f | %.3f | 1 | 1 |\n", static_cast<long long>(n),
                  static_cast<double>(exact->memory_bytes()) / 1e6, mean, percentile(ms, 0.5), percentile(ms, 0.99));
      std::fflush(stdout);
      IndexOptions h = base;
      h.kind = "hnsw";
      const auto t0 = std::chrono::steady_clock::now();
      auto hnsw = build_candidate_index(cands, h);
      const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      for (int64_t ef : efs) {
        hnsw->set_search_ef(ef);
        const CandidateIndex* idx = hnsw.get();
        ms.clear();
        double r10 = 0, r100 = 0;
        for (int64_t q = 0; q < nq; ++q) {
          const auto s0 = std::chrono::steady_clock::now();
          auto r = idx->search(queries.f32() + q * d, 100, none);
          ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count());
          std::set<int64_t> got10, got100;
          for (size_t i = 0; i < r.size(); ++i) {
            if (i < 10) got10.insert(r[i].first);
            got100.insert(r[i].first);
          }
          int hit10 = 0, hit100 = 0;
          for (size_t i = 0; i < truth[q].size(); ++i) {
            if (i < 10) hit10 += got10.count(truth[q][i]);
            hit100 += got100.count(truth[q][i]);
          }
          r10 += hit10 / 10.0 / static_cast<double>(nq);
          r100 += hit100 / 100.0 / static_cast<double>(nq);
        }
        mean = 0;
        for (double x : ms) mean += x / static_cast<double>(ms.size());
        std::printf("| %lld | hnsw ef %lld | %.1f | %.1f | %.3f | %.3f | %.3f | %.4f | %.4f |\n", static_cast<long long>(n),
                    static_cast<long long>(ef), build_s, static_cast<double>(idx->memory_bytes()) / 1e6, mean,
                    percentile(ms, 0.5), percentile(ms, 0.99), r10, r100);
        std::fflush(stdout);
      }
    }
    return 0;
  } catch (const UserError& e) {
    std::fprintf(stderr, "index_bench: error: %s\n", e.what());
    return 2;
  }
}
