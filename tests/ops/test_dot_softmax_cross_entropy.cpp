// ops/dot_softmax_cross_entropy.cpp: by hand, and against a double-precision reference on a
// problem large enough for several blocks and both threads, for dout = 1 (the gradients forward
// computed) and for any other dout (recomputed).
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "op_test_util.hpp"
#include "ops/kernels/softmax_tiles.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("DotSoftmaxCrossEntropy by hand") {
  // q = [[ln 3], [0]], c = [[1], [0]]: logits [[ln 3, 0], [0, 0]], labels [0, 1].
  // Row 0: softmax [3/4, 1/4], loss -ln(3/4); row 1: [1/2, 1/2], loss ln 2.
  // dout = 1: D = [[-1/4, 1/4], [1/2, -1/2]]; dq = D·c = [-1/4, 1/2];
  // dc = Dᵀ·q = [-ln3/4 + 0, ln3/4 + 0].
  const float ln3 = std::log(3.0f);
  std::vector<Tensor> in = {Tensor::from({2, 1}, std::vector<float>{ln3, 0}), Tensor::from({2, 1}, std::vector<float>{1, 0}),
                            Tensor::from_ids({2}, std::vector<int32_t>{0, 1})};
  check_values(test::run_forward("DotSoftmaxCrossEntropy", {}, in), {std::log(4.0f / 3.0f), std::log(2.0f)});
  auto g = test::run_backward("DotSoftmaxCrossEntropy", {}, in, Tensor::from({2}, std::vector<float>{1, 1}));
  check_values(g[0], {-0.25f, 0.5f});
  check_values(g[1], {-ln3 / 4, ln3 / 4});
  // dout = [2, 0]: only row 0 counts, twice: dq = [-1/2, 0], dc = [-ln3/2, ln3/2].
  g = test::run_backward("DotSoftmaxCrossEntropy", {}, in, Tensor::from({2}, std::vector<float>{2, 0}));
  check_values(g[0], {-0.5f, 0.0f});
  check_values(g[1], {-ln3 / 2, ln3 / 2});
  // scale 2 doubles the logits: row 0 [2 ln 3, 0] -> softmax [9/10, 1/10], loss ln(10/9).
  check_values(test::run_forward("DotSoftmaxCrossEntropy", {{"scale", 2.0}}, in), {std::log(10.0f / 9.0f), std::log(2.0f)});
}

namespace {

struct Problem {
  int64_t b, n, d;
  Tensor q, c, labels, w, corr, cand;
  Problem(int64_t b_, int64_t n_, int64_t d_, uint32_t seed)
      : b(b_), n(n_), d(d_), q({b_, d_}), c({n_, d_}), labels({b_}, DType::i32), w({b_}), corr({n_}), cand({n_}, DType::i32) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0, 1);
    std::uniform_real_distribution<float> u(0.5f, 2);
    for (float& v : q.values()) v = nd(rng);
    for (float& v : c.values()) v = nd(rng);
    for (float& v : w.values()) v = u(rng);
    for (float& v : corr.values()) v = nd(rng);
    for (int64_t j = 0; j < n; ++j) cand.i32()[j] = static_cast<int32_t>(rng() % (n - n / 8));  // some collisions
    for (int64_t r = 0; r < b; ++r) labels.i32()[r] = static_cast<int32_t>(rng() % n);
  }
};

// out, dq, dc, dweights, dcorrection against double precision, for `dout`.
void check_fused_against_reference(const Problem& p, double scale, const std::vector<float>& dout) {
  const Attrs attrs{{"scale", scale}};
  std::vector<Tensor> in = {p.q, p.c, p.labels, p.w, p.corr, p.cand};
  Tensor out = test::run_forward("DotSoftmaxCrossEntropy", attrs, in);
  auto g = test::run_backward("DotSoftmaxCrossEntropy", attrs, in, Tensor::from({p.b}, dout));
  std::vector<double> dq(p.b * p.d, 0), dc(p.n * p.d, 0), dcorr(p.n, 0), dc_abs(p.n * p.d, 0);
  for (int64_t r = 0; r < p.b; ++r) {
    const int32_t lab = p.labels.i32()[r];
    std::vector<double> z(p.n);
    std::vector<char> keep(p.n);
    double m = -1e300;
    for (int64_t j = 0; j < p.n; ++j) {
      double dot = 0;
      for (int64_t k = 0; k < p.d; ++k) dot += double(p.q.f32()[r * p.d + k]) * p.c.f32()[j * p.d + k];
      z[j] = scale * dot + p.corr.f32()[j];
      keep[j] = j == lab || p.cand.i32()[j] != p.cand.i32()[lab];
      if (keep[j]) m = std::max(m, z[j]);
    }
    double s = 0;
    for (int64_t j = 0; j < p.n; ++j) s += keep[j] ? std::exp(z[j] - m) : 0.0;
    const double loss = std::log(s) + m - z[lab], wr = p.w.f32()[r], gr = dout[r];
    REQUIRE(out.f32()[r] == doctest::Approx(wr * loss).epsilon(1e-4));
    REQUIRE(g[3].f32()[r] == doctest::Approx(gr * loss).epsilon(1e-4));
    for (int64_t j = 0; j < p.n; ++j) {
      const double G = gr * wr * ((keep[j] ? std::exp(z[j] - m) / s : 0.0) - (j == lab ? 1.0 : 0.0));
      dcorr[j] += G;
      for (int64_t k = 0; k < p.d; ++k) {
        dq[r * p.d + k] += scale * G * p.c.f32()[j * p.d + k];
        dc[j * p.d + k] += scale * G * p.q.f32()[r * p.d + k];
        dc_abs[j * p.d + k] += std::abs(scale * G * p.q.f32()[r * p.d + k]);
      }
    }
  }
  // Sums of many terms of either sign in f32: the error is bounded by the terms' magnitudes.
  for (int64_t i = 0; i < p.b * p.d; ++i) REQUIRE(g[0].f32()[i] == doctest::Approx(dq[i]).epsilon(1e-3).scale(1e-3));
  for (int64_t i = 0; i < p.n * p.d; ++i) {
    INFO("dc element " << i);
    REQUIRE(std::abs(g[1].f32()[i] - dc[i]) <= 1e-4 * std::abs(dc[i]) + 1e-5 * dc_abs[i] + 1e-6);
  }
  for (int64_t j = 0; j < p.n; ++j) REQUIRE(g[4].f32()[j] == doctest::Approx(dcorr[j]).epsilon(1e-3).scale(1e-2));
}

}  // namespace

TEST_CASE("DotSoftmaxCrossEntropy matches a double reference over many blocks and both threads") {
  // 1100 x 1000 logits: above the parallel threshold (2^20), 5 blocks of 256 rows, the last partial.
  Problem big(1100, 1000, 8, 21);
  check_fused_against_reference(big, 1.0 / 0.7, std::vector<float>(1100, 1.0f));  // forward's gradients
  std::vector<float> dout(1100);
  for (int64_t r = 0; r < 1100; ++r) dout[r] = 0.5f + 0.001f * static_cast<float>(r);
  check_fused_against_reference(big, 1.0 / 0.7, dout);  // recomputed
  Problem small(3, 50, 4, 22);                     // a smaller problem after a larger one reuses the buffers
  check_fused_against_reference(small, 1.0, std::vector<float>(3, 1.0f));
}

TEST_CASE("DotSoftmaxCrossEntropy errors name the input") {
  TensorType none;
  none.absent = true;
  // The three optional inputs (weights, correction, candidate_ids) are absent unless given.
  auto infer = [&](std::vector<TensorType> t) {
    while (t.size() < 6) t.push_back(none);
    return OpRegistry::instance().make("DotSoftmaxCrossEntropy", {})->infer(t);
  };
  CHECK(infer({{{kBatch, 4}}, {{kBatch, 4}}, {{kBatch}, DType::i32}}).shape == Shape{kBatch});
  CHECK_THROWS_WITH_AS(infer({{{2, 4}}, {{3, 5}}, {{2}, DType::i32}}), doctest::Contains("same width"), UserError);
  CHECK_THROWS_WITH_AS(infer({{{2, 4}}, {{3, 4}}, {{3}, DType::i32}}), doctest::Contains("labels [3] must have one value per row of q"), UserError);
  CHECK_THROWS_WITH_AS(OpRegistry::instance().make("DotSoftmaxCrossEntropy", {})->infer({{{2, 4}}, {{3, 4}}, {{2}, DType::i32}}),
                       doctest::Contains("expects the inputs q, c, labels, weights?, correction?, candidate_ids?"), UserError);
  CHECK_THROWS_WITH_AS(infer({{{2, 4}}, {{3, 4}}, {{2}, DType::i32}, none, {{2}}}),
                       doctest::Contains("correction [2] must have one value per row of c"), UserError);
  // An attribute the op no longer has (the optional inputs are given by name instead).
  CHECK_THROWS_WITH_AS(OpRegistry::instance().make("DotSoftmaxCrossEntropy", {{"correction", true}}),
                       doctest::Contains("unknown attribute 'correction'"), UserError);
  std::vector<Tensor> in = {Tensor({2, 1}), Tensor({2, 1}), Tensor::from_ids({2}, std::vector<int32_t>{0, 2})};
  CHECK_THROWS_WITH_AS(test::run_forward("DotSoftmaxCrossEntropy", {}, in),
                       doctest::Contains("label 2 at labels[1] is outside [0, 2)"), UserError);
}

TEST_CASE("DotSoftmaxCrossEntropy bf16: within bf16 rounding of f32, or refused naming what the CPU lacks") {
  if (!tiles::has_bf16()) {
    MESSAGE("this CPU has no AVX512-BF16: only the refusal is checked");
    CHECK_THROWS_WITH_AS(OpRegistry::instance().make("DotSoftmaxCrossEntropy", {{"bf16", true}}),
                         doctest::Contains("needs a CPU with AVX512-BF16"), UserError);
    return;
  }
  // Odd rows (the last row pair half zeros), odd candidates, a width that is not a multiple of 16,
  // several blocks, weights, correction and accidental hits.
  Problem p(301, 257, 40, 23);
  for (float& v : p.q.values()) v *= 0.4f;
  const std::vector<Tensor> inputs = {p.q, p.c, p.labels, p.w, p.corr, p.cand};
  std::vector<float> dout(301);
  for (int64_t r = 0; r < 301; ++r) dout[r] = 0.5f + 0.002f * static_cast<float>(r);
  // Relative error of a whole output, and that the two differ at all (bf16 really ran).
  auto rel = [](const Tensor& a, const Tensor& b) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < a.size(); ++i) {
      num += std::pow(double(a.f32()[i]) - b.f32()[i], 2);
      den += std::pow(double(b.f32()[i]), 2);
    }
    return std::sqrt(num / den);
  };
  // Candidates sharing a large common part, as trained towers' do: each row of G sums to zero, so
  // the common part must cancel out of dq (it did not while the onehot's -1 went through bf16).
  // Relative errors measured: 0.1-0.3% on the first inputs; on these 1.2% for dq (the rounding of
  // c's common part to bf16), against 9% while the onehot went through bf16.
  Problem shared(301, 257, 40, 24);
  for (float& v : shared.q.values()) v *= 0.1f;
  for (int64_t j = 0; j < 257; ++j)
    for (int64_t k = 0; k < 40; ++k) shared.c.f32()[j * 40 + k] = 0.2f * shared.c.f32()[j * 40 + k] + (k % 2 ? 8.0f : -8.0f);
  const std::vector<Tensor> in_shared = {shared.q, shared.c, shared.labels, shared.w, shared.corr, shared.cand};
  for (bool common : {false, true})
    for (const std::vector<float>& g : {std::vector<float>(301, 1.0f), dout}) {
    const std::vector<Tensor>& in = common ? in_shared : inputs;
    const double tol = common ? 3e-2 : 1e-2;
    const Attrs f32{{"scale", 1.5}, {"block_rows", 64}}, bf{{"scale", 1.5}, {"block_rows", 64}, {"bf16", true}};
    Tensor out32 = test::run_forward("DotSoftmaxCrossEntropy", f32, in), out16 = test::run_forward("DotSoftmaxCrossEntropy", bf, in);
    auto g32 = test::run_backward("DotSoftmaxCrossEntropy", f32, in, Tensor::from({301}, g));
    auto g16 = test::run_backward("DotSoftmaxCrossEntropy", bf, in, Tensor::from({301}, g));
    CHECK(rel(out16, out32) < 5e-3);
    CHECK(rel(out16, out32) > 0);
    for (int i : {0, 1, 4}) {  // dq, dc, dcorrection
      CAPTURE(i);
      CHECK(rel(g16[i], g32[i]) < tol);
      CHECK(rel(g16[i], g32[i]) > 0);
    }
  }
}
