// gemm_bench: the flagship's matrix products through oneDNN's matmul primitive and through
// dnnl_sgemm, side by side in one process, to choose the route ops/kernels/kernels.cpp takes per shape.
// Prints GFLOP/s (median and best of the repeats). Usage: gemm_bench [repeats]; threads from
// OMP_NUM_THREADS / DAGRAD_THREADS. Not a test.
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "cli/args.hpp"
#include "graph/dnnl_context.hpp"
#include "graph/error.hpp"

using namespace dagrad;

namespace {

struct Shape3 {
  const char* what;
  int64_t m, k, n;
  bool ta, tb, accumulate;
};

using dt = dnnl::memory::data_type;

dnnl::memory::desc strided(int64_t rows, int64_t cols, bool trans) {
  return {{rows, cols}, dt::f32, trans ? dnnl::memory::dims{1, rows} : dnnl::memory::dims{cols, 1}};
}

template <class Fn>
std::pair<double, double> seconds(int repeats, Fn fn) {
  fn();
  std::vector<double> s;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(s.begin(), s.end());
  return {s[s.size() / 2], s.front()};
}

}  // namespace

int run(int argc, char** argv) {
  cli::Args a(argc, argv, {}, {});
  if (a.help() || a.positional().size() > 1) {
    std::fputs("usage: gemm_bench [REPEATS]\n\nGFLOP/s (median and best of REPEATS, default 41) of the flagship's matrix\n"
               "products through a oneDNN matmul primitive and through dnnl_sgemm. Threads: DAGRAD_THREADS.\n",
               a.help() ? stdout : stderr);
    return a.help() ? 0 : 2;
  }
  const int threads = init_threads_from_env();
  const int repeats = a.positional().empty() ? 41 : static_cast<int>(cli::parse_int("REPEATS", a.positional()[0], 1));
  const std::vector<Shape3> shapes = {
      {"logits q·cᵀ", 2048, 32, 2048, false, true, false},
      {"dQ = G·C", 2048, 2048, 32, false, false, false},
      {"dC = Gᵀ·Q", 2048, 2048, 32, true, false, false},
      {"dense x·W 2048x65x64", 2048, 65, 64, false, false, false},
      {"dense dX = dY·Wᵀ", 2048, 64, 65, false, true, false},
      {"dense dW = Xᵀ·dY", 65, 2048, 64, true, false, false},
      {"dense dW += Xᵀ·dY", 65, 2048, 64, true, false, true},
      {"dense 2048x64x32", 2048, 64, 32, false, false, false},
      {"dense dW 64x2048x32 (Xᵀ·dY)", 64, 2048, 32, true, false, false},
      {"dense dW 65x2048x32 (Xᵀ·dY)", 65, 2048, 32, true, false, false},
      {"dense dX 2048x32x64 (dY·Wᵀ)", 2048, 32, 64, false, true, false},
      {"eval 4096x32x1682 (Bᵀ)", 4096, 32, 1682, false, true, false},
      {"square 1024", 1024, 1024, 1024, false, false, false},
  };
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::printf("%d threads, %d repeats: GFLOP/s median (best)\n", threads, repeats);
  std::printf("%-26s %22s %22s\n", "shape", "matmul primitive", "dnnl_sgemm");
  for (const auto& s : shapes) {
    std::vector<float> a(s.m * s.k), b(s.k * s.n), c(s.m * s.n, 0.f);
    for (auto& x : a) x = u(rng);
    for (auto& x : b) x = u(rng);
    dnnl::primitive_attr attr;
    if (s.accumulate) {
      dnnl::post_ops po;
      po.append_sum(1.0f);
      attr.set_post_ops(po);
    }
    auto ad = strided(s.m, s.k, s.ta), bd = strided(s.k, s.n, s.tb), cd = strided(s.m, s.n, false);
    dnnl::matmul prim(dnnl::matmul::primitive_desc(dnnl::matmul::desc(ad, bd, cd), attr, dagrad::dnnl_engine()));
    dnnl::memory am(ad, dagrad::dnnl_engine(), a.data()), bm(bd, dagrad::dnnl_engine(), b.data()), cm(cd, dagrad::dnnl_engine(), c.data());
    auto mm = seconds(repeats, [&] {
      prim.execute(dagrad::dnnl_stream(), {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
      dagrad::dnnl_stream().wait();
    });
    const int64_t lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
    auto sg = seconds(repeats, [&] {
      dnnl_sgemm(s.ta ? 'T' : 'N', s.tb ? 'T' : 'N', s.m, s.n, s.k, 1.0f, a.data(), lda, b.data(), ldb,
                 s.accumulate ? 1.0f : 0.0f, c.data(), s.n);
    });
    const double flop = 2.0 * s.m * s.k * s.n * 1e-9;
    std::printf("%-26s %10.0f (%8.0f) %10.0f (%8.0f)\n", s.what, flop / mm.first, flop / mm.second, flop / sg.first,
                flop / sg.second);
  }
  return 0;
}

int main(int argc, char** argv) {
  dagrad::prefer_passive_omp_wait(argv);  // first: it may execute the program again
  try {
    return run(argc, argv);
  } catch (const UserError& e) {
    std::fprintf(stderr, "gemm_bench: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gemm_bench: failure: %s\n", e.what());
    return 1;
  }
}
