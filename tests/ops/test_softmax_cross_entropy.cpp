// ops/softmax_cross_entropy.cpp: every optional input with values worked out by
// hand, stability at extreme logits, label errors, buffer reuse across batch sizes, the parallel
// vectorised path against a double-precision reference, and the lent logits gradient in a graph.
#include <cmath>
#include <random>

#include "autodiff/backward.hpp"
#include "graph/graph.hpp"
#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

const float kLn2 = std::log(2.0f), kLn3 = std::log(3.0f), kLn4 = std::log(4.0f);

// Row 0 = [0, ln2, ln3, ln4] (exp: 1, 2, 3, 4); row 1 = [1, 1, 1, 1].
Tensor logits2x4() { return Tensor::from({2, 4}, std::vector<float>{0, kLn2, kLn3, kLn4, 1, 1, 1, 1}); }
Tensor labels(std::vector<int32_t> v) { return Tensor::from_ids({static_cast<int64_t>(v.size())}, v); }
Tensor row_vec(std::vector<float> v) { return Tensor::from({static_cast<int64_t>(v.size())}, v); }

}  // namespace

TEST_CASE("SoftmaxCrossEntropy plain: loss and gradient by hand") {
  // row 0, label 3: log(1+2+3+4) - ln4 = ln 2.5; p = [.1, .2, .3, .4]
  // row 1, label 0: log(4e) - 1 = ln 4; p = [.25, .25, .25, .25]
  std::vector<Tensor> in{logits2x4(), labels({3, 0})};
  check_values(test::run_forward("SoftmaxCrossEntropy", {}, in), {0.9162907f, 1.3862944f});
  // dout = [1, 2]: row 0 = p - onehot(3); row 1 = 2·(p - onehot(0))
  auto g = test::run_backward("SoftmaxCrossEntropy", {}, in, row_vec({1, 2}));
  check_values(g[0], {0.1f, 0.2f, 0.3f, -0.6f, -1.5f, 0.5f, 0.5f, 0.5f});
}

TEST_CASE("SoftmaxCrossEntropy weights: scaled loss, scaled dlogits, dweights = dout · loss") {
  Attrs a;
  std::vector<Tensor> in{logits2x4(), labels({3, 0}), row_vec({2, 0.5f})};
  // [2 · ln 2.5, 0.5 · ln 4]
  check_values(test::run_forward("SoftmaxCrossEntropy", a, in), {2 * 0.9162907f, 0.6931472f});
  auto g = test::run_backward("SoftmaxCrossEntropy", a, in, row_vec({1, 2}));
  // row 0: 1·2·([.1,.2,.3,.4] - [0,0,0,1]) = [.2, .4, .6, -1.2]
  // row 1: 2·0.5·([.25,.25,.25,.25] - [1,0,0,0]) = [-.75, .25, .25, .25]
  check_values(g[0], {0.2f, 0.4f, 0.6f, -1.2f, -0.75f, 0.25f, 0.25f, 0.25f});
  // dweights = dout · unweighted loss = [1 · ln 2.5, 2 · ln 4]
  check_values(g[2], {0.9162907f, 2.7725887f});
}

TEST_CASE("SoftmaxCrossEntropy correction: added to every row, dcorrection = column sums") {
  Attrs a;
  // correction [ln2, 0, -ln3, 0]
  // row 0: z = [ln2, ln2, 0, ln4], exp [2, 2, 1, 4], sum 9, label 3: ln 9 - ln 4 = ln 2.25
  // row 1: z = 1 + [ln2, 0, -ln3, 0], exp/e [2, 1, 1/3, 1], sum 13/3, label 0: ln(13/3) - ln 2 = ln(13/6)
  std::vector<Tensor> in{logits2x4(), labels({3, 0}), Tensor(), row_vec({kLn2, 0, -kLn3, 0})};  // no weights
  check_values(test::run_forward("SoftmaxCrossEntropy", a, in), {0.8109302f, 0.7731899f}, 1e-5);
  auto g = test::run_backward("SoftmaxCrossEntropy", a, in, row_vec({1, 1}));
  // row 0: [2/9, 2/9, 1/9, 4/9 - 1]; row 1: [6/13 - 1, 3/13, 1/13, 3/13]
  check_values(g[0], {2.f / 9, 2.f / 9, 1.f / 9, -5.f / 9, -7.f / 13, 3.f / 13, 1.f / 13, 3.f / 13}, 1e-5);
  check_values(g[3], {2.f / 9 - 7.f / 13, 2.f / 9 + 3.f / 13, 1.f / 9 + 1.f / 13, -5.f / 9 + 3.f / 13}, 1e-5);
}

TEST_CASE("SoftmaxCrossEntropy candidate_ids: same-candidate columns leave the softmax (remove_accidental_hits)") {
  Attrs a;
  // candidates [5, 7, 5, 9]; rows 0 and 2 = [0, ln2, ln3, ln4], row 1 = [1, 1, 1, 1]
  Tensor x = Tensor::from({3, 4}, std::vector<float>{0, kLn2, kLn3, kLn4, 1, 1, 1, 1, 0, kLn2, kLn3, kLn4});
  std::vector<Tensor> in{x, labels({0, 2, 1}), Tensor(), Tensor(), Tensor::from_ids({4}, std::vector<int32_t>{5, 7, 5, 9})};
  // row 0, label 0 (candidate 5): column 2 dropped; exp [1, 2, -, 4], sum 7: ln 7 - 0
  // row 1, label 2 (candidate 5): column 0 dropped; sum 3e: ln 3
  // row 2, label 1 (candidate 7, unique): nothing dropped; sum 10: ln 10 - ln 2 = ln 5
  check_values(test::run_forward("SoftmaxCrossEntropy", a, in), {1.9459101f, 1.0986123f, 1.6094379f});
  auto g = test::run_backward("SoftmaxCrossEntropy", a, in, row_vec({1, 1, 1}));
  // row 0: [1/7 - 1, 2/7, 0, 4/7]; row 1: [0, 1/3, 1/3 - 1, 1/3]; row 2: [.1, .2 - 1, .3, .4]
  check_values(g[0], {1.f / 7 - 1, 2.f / 7, 0, 4.f / 7, 0, 1.f / 3, -2.f / 3, 1.f / 3, 0.1f, -0.8f, 0.3f, 0.4f});
  CHECK(g[0].f32()[2] == 0.0f);  // excluded columns get exactly zero
  CHECK(g[0].f32()[4] == 0.0f);
}

TEST_CASE("SoftmaxCrossEntropy with weights, correction and candidate_ids together") {
  Attrs a;
  // logits [0, ln2, ln3, ln4] + correction [0, 0, 0, -ln2] = [0, ln2, ln3, ln2];
  // candidates [1, 2, 3, 2], label 1 (candidate 2): column 3 dropped; exp [1, 2, 3, -], sum 6;
  // loss = ln 6 - ln 2 = ln 3; weight 3 -> 3 ln 3
  std::vector<Tensor> in{Tensor::from({1, 4}, std::vector<float>{0, kLn2, kLn3, kLn4}), labels({1}), row_vec({3}),
                         row_vec({0, 0, 0, -kLn2}), Tensor::from_ids({4}, std::vector<int32_t>{1, 2, 3, 2})};
  check_values(test::run_forward("SoftmaxCrossEntropy", a, in), {3.2958369f});
  // dout 2: k = 2·3 = 6; dlogits = 6·([1/6, 2/6, 3/6, 0] - [0, 1, 0, 0]) = [1, -4, 3, 0]
  auto g = test::run_backward("SoftmaxCrossEntropy", a, in, row_vec({2}));
  check_values(g[0], {1, -4, 3, 0});
  check_values(g[2], {2.1972246f});  // dweights = 2 · ln 3
  check_values(g[3], {1, -4, 3, 0});  // dcorrection = column sums of dlogits (one row)
}

TEST_CASE("SoftmaxCrossEntropy is stable at extreme logits") {
  // [1000, 0, -1000]: logsumexp = 1000 + log(1 + e^-1000 + e^-2000) = 1000 in float.
  Tensor x = Tensor::from({2, 3}, std::vector<float>{1000, 0, -1000, 1000, 0, -1000});
  std::vector<Tensor> in{x, labels({1, 0})};
  check_values(test::run_forward("SoftmaxCrossEntropy", {}, in), {1000, 0});
  auto g = test::run_backward("SoftmaxCrossEntropy", {}, in, row_vec({1, 1}));
  // p = [1, 0, 0]: row 0 (label 1) [1, -1, 0]; row 1 (label 0) [0, 0, 0]
  check_values(g[0], {1, -1, 0, 0, 0, 0});
}

TEST_CASE("SoftmaxCrossEntropy rejects bad labels and a wrong number of inputs") {
  try {
    test::run_forward("SoftmaxCrossEntropy", {}, {logits2x4(), labels({0, 4})});
    FAIL("no error");
  } catch (const UserError& e) {
    std::string m = e.what();
    INFO(m);
    CHECK(m.find("label 4 at labels[1]") != std::string::npos);
    CHECK(m.find("[0, 4)") != std::string::npos);
  }
  CHECK_THROWS_AS(test::run_forward("SoftmaxCrossEntropy", {}, {logits2x4(), labels({-1, 0})}), UserError);
  auto op = OpRegistry::instance().make("SoftmaxCrossEntropy", {});
  TensorType none;
  none.absent = true;
  try {
    op->infer({{{2, 4}}, {{2}, DType::i32}});
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()).find("logits, labels, weights?, correction?, candidate_ids?") != std::string::npos);
  }
  // correction [3] for 4 columns
  CHECK_THROWS_WITH_AS(op->infer({{{2, 4}}, {{2}, DType::i32}, none, {{3}}, none}),
                       doctest::Contains("correction [3] must have one value per column of logits [2, 4]"), UserError);
  // 3 labels for 2 rows
  CHECK_THROWS_WITH_AS(op->infer({{{2, 4}}, {{3}, DType::i32}, {{2}}, none, none}),
                       doctest::Contains("labels [3] must have one value per row of logits [2, 4]"), UserError);
  CHECK(op->infer({{{kBatch, 4}}, {{kBatch}, DType::i32}, {{kBatch}}, none, none}).shape == Shape{kBatch});
}

namespace {

// Double-precision reference of the whole op (all options on) and a fused run on one op instance.
struct RowCase {
  int64_t b, c;
  Tensor x, lab, w, corr, cand;
  explicit RowCase(int64_t b_, int64_t c_, uint32_t seed) : b(b_), c(c_), x({b_, c_}), lab({b_}, DType::i32), w({b_}), corr({c_}), cand({c_}, DType::i32) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0, 4);
    std::uniform_real_distribution<float> u(0.5f, 2);
    for (float& v : x.values()) v = n(rng);
    for (float& v : w.values()) v = u(rng);
    for (float& v : corr.values()) v = n(rng);
    for (int64_t j = 0; j < c; ++j) cand.i32()[j] = static_cast<int32_t>(rng() % (c - c / 8));  // some collisions
    for (int64_t r = 0; r < b; ++r) lab.i32()[r] = static_cast<int32_t>(rng() % c);
  }
};

void check_against_reference(Op& op, const RowCase& k) {
  const int64_t b = k.b, c = k.c;
  Tensor out({b}), dout({b});
  for (int64_t r = 0; r < b; ++r) dout.f32()[r] = 0.5f + 0.01f * r;
  Inputs in{&k.x, &k.lab, &k.w, &k.corr, &k.cand};
  op.forward(in, out);
  Tensor dx = Tensor::zeros({b, c}), dw = Tensor::zeros({b}), dc = Tensor::zeros({c});
  std::vector<Tensor*> d{&dx, nullptr, &dw, &dc, nullptr};
  op.backward(in, out, dout, Grads(d, std::vector<std::vector<int32_t>*>(5, nullptr)));
  std::vector<double> dc_ref(c, 0.0), dc_abs(c, 0.0);
  for (int64_t r = 0; r < b; ++r) {
    const int32_t lab = k.lab.i32()[r];
    std::vector<double> z(c);
    std::vector<char> keep(c);
    double m = -1e300;
    for (int64_t j = 0; j < c; ++j) {
      z[j] = double(k.x.f32()[r * c + j]) + k.corr.f32()[j];
      keep[j] = j == lab || k.cand.i32()[j] != k.cand.i32()[lab];
      if (keep[j]) m = std::max(m, z[j]);
    }
    double s = 0;
    for (int64_t j = 0; j < c; ++j) s += keep[j] ? std::exp(z[j] - m) : 0.0;
    const double loss = std::log(s) + m - z[lab], wr = k.w.f32()[r], g = dout.f32()[r];
    REQUIRE(out.f32()[r] == doctest::Approx(wr * loss).epsilon(1e-5));
    REQUIRE(dw.f32()[r] == doctest::Approx(g * loss).epsilon(1e-5));
    for (int64_t j = 0; j < c; ++j) {
      const double grad = g * wr * ((keep[j] ? std::exp(z[j] - m) / s : 0.0) - (j == lab ? 1.0 : 0.0));
      dc_ref[j] += grad;
      dc_abs[j] += std::abs(grad);
      REQUIRE(dx.f32()[r * c + j] == doctest::Approx(grad).epsilon(1e-4).scale(1e-3));
    }
  }
  // dc[j] sums b terms of either sign in f32: its rounding error is bounded by the sum of their
  // magnitudes (times n·eps in the worst case, about sqrt(n)·eps = 2e-6 for 1100 rows in practice),
  // not by |dc[j]|, which cancellation can make small. Allow 1e-5 of that sum.
  for (int64_t j = 0; j < c; ++j) {
    INFO("column " << j << ", sum of |terms| " << dc_abs[j]);
    REQUIRE(std::abs(dc.f32()[j] - dc_ref[j]) <= 1e-4 * std::abs(dc_ref[j]) + 1e-5 * dc_abs[j] + 1e-7);
  }
}

}  // namespace

TEST_CASE("SoftmaxCrossEntropy parallel path matches a double reference, and one instance serves any batch") {
  auto op = OpRegistry::instance().make("SoftmaxCrossEntropy", {});
  // 1000 columns: not a multiple of the vector width, so the loop tails are covered too.
  // 1100 x 1000 = 1,100,000 logits: above the parallel threshold (2^20).
  RowCase big(1100, 1000, 11), small(3, 1000, 12);
  check_against_reference(*op, big);
  check_against_reference(*op, small);  // smaller batch after a larger one reuses the buffers
  check_against_reference(*op, big);
}

TEST_CASE("SoftmaxCrossEntropy lends its logits gradient in a graph, and a second reader adds to it") {
  // logits (a parameter) = row 0 [0, ln3] with label 0, row 1 [ln3, 0] with label 1: softmax
  // [1/4, 3/4] and [3/4, 1/4]; loss = sum of -log(1/4) twice = 2 ln 4. With dout = 1 from
  // ReduceSum, d(loss)/d(logits) = softmax - onehot = [[-3/4, 3/4], [3/4, -3/4]]: the op lends
  // the D it kept from forward.
  Graph g;
  int logits = g.param("logits", Tensor::from({2, 2}, std::vector<float>{0, kLn3, kLn3, 0}));
  int lab = g.input("labels", {{2}, DType::i32});
  // A second reader of the logits, before the cross-entropy in graph order, so that backward
  // reaches it after the cross-entropy lent its gradient: sum(logits) adds 1 everywhere.
  int other = g.add("ReduceSum", {logits});
  int ce = g.add("ReduceSum", {g.add("SoftmaxCrossEntropy", {logits, lab})});
  int both = g.add("Add", {ce, other});
  g.set_input(lab, labels({0, 1}));
  g.forward();
  CHECK(g.value(ce).f32()[0] == doctest::Approx(2 * kLn4));
  Gradients grads;
  backward(g, ce, grads);
  check_values(grads.grad(logits), {-0.75f, 0.75f, 0.75f, -0.75f});
  backward(g, both, grads);  // the lent gradient is copied before sum(logits)'s ones are added
  check_values(grads.grad(logits), {0.25f, 1.75f, 1.75f, 0.25f});
  backward(g, ce, grads);  // and the cross-entropy's own D was left unchanged by that addition
  check_values(grads.grad(logits), {-0.75f, 0.75f, 0.75f, -0.75f});
}
