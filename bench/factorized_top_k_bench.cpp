// Times FactorizedTopK at the MovieLens evaluation size: 20,000 queries x 1,682 candidates (or the
// CANDIDATES given: the time should grow linearly with them) x D = 32, ks 1..100, both variants.
// A benchmark, not a test: it prints milliseconds (median of repeats).
// Usage: factorized_top_k_bench [repeats] [block_rows] [candidates]; threads from DAGRAD_THREADS.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "cli/args.hpp"
#include "graph/dnnl_context.hpp"
#include "graph/error.hpp"
#include "models/metrics/factorized_top_k.hpp"

using namespace dagrad;

namespace {

struct Timing {
  double median, min;
};

template <class Fn>
Timing time_ms(int repeats, Fn fn) {
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front()};
}

}  // namespace

int run(int argc, char** argv) {
  cli::Args a(argc, argv, {}, {});
  if (a.help() || a.positional().size() > 3) {
    std::fputs("usage: factorized_top_k_bench [REPEATS] [BLOCK_ROWS] [CANDIDATES]\n\nMilliseconds (median of REPEATS, "
               "default 21) of FactorizedTopK on 20,000 queries x CANDIDATES\n(default 1,682, MovieLens' movies) x 32, "
               "scored in tiles of BLOCK_ROWS (default 128) queries. Threads:\nDAGRAD_THREADS.\n",
               a.help() ? stdout : stderr);
    return a.help() ? 0 : 2;
  }
  const auto& pos = a.positional();
  const int threads = init_threads_from_env();
  const int repeats = pos.size() > 0 ? static_cast<int>(cli::parse_int("REPEATS", pos[0], 1)) : 21;
  const int64_t block =
      pos.size() > 1 ? cli::parse_int("BLOCK_ROWS", pos[1], 1) : metrics::FactorizedTopK::kDefaultBlockRows;
  const int64_t nc = pos.size() > 2 ? cli::parse_int("CANDIDATES", pos[2], 1) : 1682;
  const int64_t nq = 20000, d = 32;

  std::mt19937 rng(1);
  std::normal_distribution<float> n01(0.f, 0.3f);
  std::vector<float> qv(nq * d), cv(nc * d);
  for (auto& x : qv) x = n01(rng);
  for (auto& x : cv) x = n01(rng);
  std::uniform_int_distribution<int32_t> pick(0, nc - 1);
  std::vector<int32_t> ti(nq), ids(nc);
  for (auto& x : ti) x = pick(rng);
  for (int64_t j = 0; j < nc; ++j) ids[j] = static_cast<int32_t>(j + 1);
  Tensor q = Tensor::from({nq, d}, qv), c = Tensor::from({nc, d}, cv);
  Tensor true_index = Tensor::from_ids({nq}, ti), candidate_ids = Tensor::from_ids({nc}, ids);

  metrics::FactorizedTopK m({1, 5, 10, 50, 100}, block);
  m.update(q, c, true_index);  // warm-up: primitive creation, buffer allocation
  const Timing score_ms = time_ms(repeats, [&] {
    m.reset();
    m.update(q, c, true_index);
  });
  auto score_acc = m.result();
  m.reset();
  m.update(q, c, candidate_ids, true_index);
  const Timing id_ms = time_ms(repeats, [&] {
    m.reset();
    m.update(q, c, candidate_ids, true_index);
  });
  auto id_acc = m.result();

  std::printf("FactorizedTopK %lld x %lld x %lld, ks 1,5,10,50,100, block %lld, %d threads, %d repeats\n",
              static_cast<long long>(nq), static_cast<long long>(nc), static_cast<long long>(d),
              static_cast<long long>(block), threads, repeats);
  std::printf("  score-based: %.2f ms median, %.2f ms min   (accuracy@100 %.4f)\n", score_ms.median,
              score_ms.min, score_acc.back());
  std::printf("  id-based:    %.2f ms median, %.2f ms min   (accuracy@100 %.4f)\n", id_ms.median, id_ms.min,
              id_acc.back());
  return 0;
}

int main(int argc, char** argv) {
  dagrad::prefer_passive_omp_wait(argv);  // first: it may execute the program again
  try {
    return run(argc, argv);
  } catch (const UserError& e) {
    std::fprintf(stderr, "factorized_top_k_bench: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "factorized_top_k_bench: failure: %s\n", e.what());
    return 1;
  }
}
