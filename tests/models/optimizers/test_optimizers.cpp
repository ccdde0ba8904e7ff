// models/optimizers/optimizer.cpp and models/optimizers/: Keras update rules checked by hand, sparse-row
// gradients against the dense update, checkpoint state, the registry and its errors.
//
// Sparse gradients are set by hand through step(span<ParamGrad>), the very path step(Graph&)
// takes: a test-only op with sparse_rows() would have to be registered globally, and the registry
// test requires the registered ops to be exactly those defined in ops/.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <set>
#include <sstream>

#include "autodiff/backward.hpp"
#include "graph/graph.hpp"
#include "models/optimizers/optimizer.hpp"
#include "op_test_util.hpp"

using namespace dagrad;

namespace {

std::unique_ptr<Optimizer> make(const std::string& name, const Attrs& options = {}) {
  return OptimizerRegistry::instance().make(name, options);
}

// A parameter "w" held in a graph (so that state() names its slots) and stepped with
// hand-written gradients.
struct Held {
  Graph g;
  int id;
  explicit Held(Tensor value) : id(g.param("w", std::move(value))) {}
  Tensor& w() { return g.param_value(id); }
  void step(Optimizer& o, const std::vector<float>& grad) {
    Tensor gt = Tensor::from(w().shape(), grad);
    ParamGrad p{"w", &w(), &gt};
    o.step(std::span<const ParamGrad>(&p, 1));
  }
  void step_rows(Optimizer& o, const Tensor& grad, const std::vector<int32_t>& rows) {
    ParamGrad p{"w", &w(), &grad, &rows};
    o.step(std::span<const ParamGrad>(&p, 1));
  }
  Tensor& slot(Optimizer& o, const std::string& name) {
    for (auto& [n, t] : o.state(g))
      if (n == "w/" + name) return *t;
    FAIL("no slot w/" << name);
    throw;
  }
};

Tensor vec(std::vector<float> v) { return Tensor::from({static_cast<int64_t>(v.size())}, v); }

}  // namespace

TEST_CASE("Adagrad: two steps by hand, epsilon outside the root") {
  // lr 0.5, acc0 16, eps 1 (large, so that sqrt(acc) + eps is told apart from sqrt(acc + eps)).
  // Step 1, g = [3, -3]: acc = 16 + 9 = [25, 25]; w = 1 - 0.5·3/(5+1) = 0.75, -1 + 0.25 = -0.75.
  // Step 2, g = [12, 0]: acc = [25 + 144 = 169, 25]; w0 = 0.75 - 0.5·12/(13+1) = 0.75 - 3/7 =
  // 0.3214285714; w1 unchanged -0.75.
  auto o = make("Adagrad", {{"learning_rate", 0.5}, {"initial_accumulator_value", 16.0}, {"epsilon", 1.0}});
  Held h(vec({1, -1}));
  test::check_values(h.slot(*o, "accumulator"), {16, 16});
  h.step(*o, {3, -3});
  test::check_values(h.w(), {0.75f, -0.75f});
  test::check_values(h.slot(*o, "accumulator"), {25, 25});
  h.step(*o, {12, 0});
  test::check_values(h.w(), {0.3214285714f, -0.75f});
  test::check_values(h.slot(*o, "accumulator"), {169, 25});
  CHECK(o->iterations() == 2);
}

TEST_CASE("Adagrad: Keras defaults lr 0.001, accumulator 0.1, epsilon 1e-7") {
  // g = 0.3: acc = 0.1 + 0.09 = 0.19, sqrt = 0.4358898944; w = 1 - 0.001·0.3/(0.4358898944 + 1e-7)
  // = 1 - 0.000688247 = 0.999311753.
  auto o = make("Adagrad");
  Held h(vec({1}));
  h.step(*o, {0.3f});
  test::check_values(h.w(), {0.999311753f}, 1e-7);
  test::check_values(h.slot(*o, "accumulator"), {0.19f});
}

TEST_CASE("SGD: two steps by hand, plain, momentum and Nesterov") {
  // lr 0.1, w0 = [1, -1], g1 = [0.5, 2], g2 = [-1, 1].
  SUBCASE("plain: w -= lr·g") {
    // w1 = [1 - 0.05, -1 - 0.2] = [0.95, -1.2]; w2 = [0.95 + 0.1, -1.2 - 0.1] = [1.05, -1.3].
    auto o = make("SGD", {{"learning_rate", 0.1}});
    Held h(vec({1, -1}));
    CHECK(o->state(h.g).empty());  // Keras keeps no slot without momentum
    h.step(*o, {0.5f, 2});
    test::check_values(h.w(), {0.95f, -1.2f});
    h.step(*o, {-1, 1});
    test::check_values(h.w(), {1.05f, -1.3f});
  }
  SUBCASE("momentum 0.9: v = 0.9·v - lr·g; w += v") {
    // v1 = -0.1·g1 = [-0.05, -0.2]; w1 = [0.95, -1.2].
    // v2 = 0.9·v1 - 0.1·g2 = [-0.045 + 0.1, -0.18 - 0.1] = [0.055, -0.28]; w2 = [1.005, -1.48].
    auto o = make("SGD", {{"learning_rate", 0.1}, {"momentum", 0.9}});
    Held h(vec({1, -1}));
    h.step(*o, {0.5f, 2});
    test::check_values(h.w(), {0.95f, -1.2f});
    test::check_values(h.slot(*o, "momentum"), {-0.05f, -0.2f});
    h.step(*o, {-1, 1});
    test::check_values(h.w(), {1.005f, -1.48f});
    test::check_values(h.slot(*o, "momentum"), {0.055f, -0.28f});
  }
  SUBCASE("Nesterov: w += 0.9·v - lr·g") {
    // v as above. w1 = w0 + 0.9·v1 - 0.1·g1 = [1 - 0.045 - 0.05, -1 - 0.18 - 0.2] = [0.905, -1.38].
    // w2 = w1 + 0.9·v2 - 0.1·g2 = [0.905 + 0.0495 + 0.1, -1.38 - 0.252 - 0.1] = [1.0545, -1.732].
    auto o = make("SGD", {{"learning_rate", 0.1}, {"momentum", 0.9}, {"nesterov", true}});
    Held h(vec({1, -1}));
    h.step(*o, {0.5f, 2});
    test::check_values(h.w(), {0.905f, -1.38f});
    h.step(*o, {-1, 1});
    test::check_values(h.w(), {1.0545f, -1.732f});
    test::check_values(h.slot(*o, "momentum"), {0.055f, -0.28f});
  }
  SUBCASE("Keras default lr 0.01") {
    auto o = make("SGD");
    Held h(vec({1}));
    h.step(*o, {0.5f});
    test::check_values(h.w(), {0.995f});  // 1 - 0.01·0.5
  }
}

TEST_CASE("Adam: two steps by hand, bias correction and epsilon outside the root") {
  // lr 0.1, b1 0.5, b2 0.96 (1 - b2 = 0.2², 1 - b2² = 0.28²), eps 0.05; w0 = [1, -1].
  // alpha_t = lr·sqrt(1 - b2^t)/(1 - b1^t): alpha_1 = 0.1·0.2/0.5 = 0.04, alpha_2 = 0.1·0.28/0.75 = 0.0373333.
  // Step 1, g = [1, -2.5]: m = 0.5·g = [0.5, -1.25]; v = 0.04·g² = [0.04, 0.25] (roots 0.2, 0.5);
  //   w = [1 - 0.04·0.5/(0.2 + 0.05), -1 + 0.04·1.25/(0.5 + 0.05)] = [1 - 0.08, -1 + 0.0909091]
  //     = [0.92, -0.9090909].
  // Step 2, g = [0.5, 0.5]: m = [0.25 + 0.25, -0.625 + 0.25] = [0.5, -0.375];
  //   v = [0.96·0.04 + 0.04·0.25, 0.96·0.25 + 0.01] = [0.0484, 0.25] (roots 0.22, 0.5);
  //   w = [0.92 - 0.0373333·0.5/0.27, -0.9090909 + 0.0373333·0.375/0.55]
  //     = [0.92 - 0.0691358, -0.9090909 + 0.0254545] = [0.8508642, -0.8836364].
  auto o = make("Adam", {{"learning_rate", 0.1}, {"beta_1", 0.5}, {"beta_2", 0.96}, {"epsilon", 0.05}});
  Held h(vec({1, -1}));
  h.step(*o, {1, -2.5f});
  test::check_values(h.w(), {0.92f, -0.9090909f});
  test::check_values(h.slot(*o, "m"), {0.5f, -1.25f});
  test::check_values(h.slot(*o, "v"), {0.04f, 0.25f});
  h.step(*o, {0.5f, 0.5f});
  test::check_values(h.w(), {0.8508642f, -0.8836364f});
  test::check_values(h.slot(*o, "m"), {0.5f, -0.375f});
  test::check_values(h.slot(*o, "v"), {0.0484f, 0.25f});
}

TEST_CASE("Adam: Keras defaults lr 0.001, betas 0.9 and 0.999, epsilon 1e-7") {
  // g = 0.5: m = 0.05, v = 0.001·0.25 = 0.00025 (root 0.0158113883);
  // alpha = 0.001·sqrt(0.001)/0.1 = 0.000316227766; w = 1 - 0.000316227766·0.05/(0.0158113883 + 1e-7)
  // = 1 - 0.00099999368 = 0.99900000632.
  auto o = make("Adam");
  Held h(vec({1}));
  h.step(*o, {0.5f});
  test::check_values(h.w(), {0.99900000632f}, 1e-7);
}

namespace {

// Runs one optimizer twice side by side on a rows x width table: once with a sparse gradient
// whose untouched rows hold NaN (so reading one would show), once with the dense gradient whose
// untouched rows are zero; after every step the values and every slot must be bit-identical.
void check_sparse_equals_dense(const std::string& name, const Attrs& options, int64_t rows, int64_t width) {
  INFO(name << " " << options.to_string() << " on " << rows << "x" << width);
  auto sparse_opt = make(name, options), dense_opt = make(name, options);
  std::vector<float> init(rows * width);
  for (size_t i = 0; i < init.size(); ++i) init[i] = std::sin(0.37 * i);
  Held s(Tensor::from({rows, width}, init)), d(Tensor::from({rows, width}, init));
  Tensor sg({rows, width}), dg({rows, width});
  // Row sets per step: a few rows, an overlapping set with the first and last row, none, one;
  // on big tables also every third row (long alternating runs across both threads' halves).
  std::vector<std::vector<int32_t>> steps = {{1, 4}, {0, 1, static_cast<int32_t>(rows - 1)}, {}, {3}};
  if (rows > 100) {
    steps.emplace_back();
    for (int32_t r = 0; r < rows; r += 3) steps.back().push_back(r);
  }
  for (size_t k = 0; k < steps.size(); ++k) {
    sg.fill(std::numeric_limits<float>::quiet_NaN());
    dg.zero();
    for (int32_t r : steps[k])
      for (int64_t j = 0; j < width; ++j) {
        float v = std::cos(1.3 * (k + 1) * (r * width + j + 1));
        sg.f32()[r * width + j] = v;
        dg.f32()[r * width + j] = v;
      }
    s.step_rows(*sparse_opt, sg, steps[k]);
    d.step(*dense_opt, std::vector<float>(dg.values().begin(), dg.values().end()));
    auto ss = sparse_opt->state(s.g), ds = dense_opt->state(d.g);
    REQUIRE(ss.size() == ds.size());
    std::vector<std::pair<std::string, std::pair<Tensor*, Tensor*>>> pairs = {{"w", {&s.w(), &d.w()}}};
    for (size_t i = 0; i < ss.size(); ++i) pairs.push_back({ss[i].first, {ss[i].second, ds[i].second}});
    for (auto& entry : pairs) {  // not a structured binding: clang 14 cannot capture one (INFO does)
      const std::string& what = entry.first;
      auto& t = entry.second;
      int64_t differ = 0;
      for (int64_t i = 0; i < t.first->size(); ++i) differ += t.first->f32()[i] != t.second->f32()[i];
      INFO("step " << k + 1 << ", " << what);
      CHECK(differ == 0);
    }
  }
}

}  // namespace

TEST_CASE("a sparse-row gradient gives exactly the dense update, and its other rows are never read") {
  const std::vector<std::pair<std::string, Attrs>> configs = {
      {"Adagrad", {}},
      {"Adagrad", {{"learning_rate", 0.1}}},
      {"SGD", {{"learning_rate", 0.1}}},
      {"SGD", {{"learning_rate", 0.1}, {"momentum", 0.9}}},
      {"SGD", {{"learning_rate", 0.1}, {"momentum", 0.9}, {"nesterov", true}}},
      {"Adam", {{"learning_rate", 0.01}}},
      {"Adam", {{"learning_rate", 0.01}, {"beta_1", 0.5}, {"beta_2", 0.96}, {"epsilon", 0.05}}},
  };
  for (const auto& [name, options] : configs) {
    check_sparse_equals_dense(name, options, 7, 5);
    check_sparse_equals_dense(name, options, 12000, 24);  // 288,000 elements: the parallel path
  }
}

TEST_CASE("lazy Adam and lazy momentum move only the gradient's rows; the default moves all") {
  // Table [2, 1], w0 = [1, -1]. Step 1 touches row 0 with g = 1, step 2 row 1 with g = -2.5.
  std::vector<int32_t> row0 = {0}, row1 = {1};
  Tensor g1 = Tensor::from({2, 1}, std::vector<float>{1, std::nanf("")});
  Tensor g2 = Tensor::from({2, 1}, std::vector<float>{std::nanf(""), -2.5f});
  SUBCASE("Adam, constants of the hand test above") {
    // Step 1 (alpha 0.04): row 0 as in the hand test: w = 0.92, m = 0.5, v = 0.04. Row 1 has
    // m = v = 0 and gets 0.04·0/(0 + 0.05) = 0 in both modes.
    // Step 2 (alpha 0.0373333), row 1: m = -1.25, v = 0.25; w = -1 + 0.0373333·1.25/0.55 = -0.9151515.
    // Row 0 lazy: unchanged 0.92. Row 0 dense (g = 0): m = 0.25, v = 0.96·0.04 = 0.0384 (root
    // 0.1959592); w = 0.92 - 0.0373333·0.25/0.2459592 = 0.92 - 0.0379467 = 0.8820533.
    Attrs base = {{"learning_rate", 0.1}, {"beta_1", 0.5}, {"beta_2", 0.96}, {"epsilon", 0.05}};
    Attrs lazy_opts = base;
    lazy_opts.set("lazy", true);
    auto lazy = make("Adam", lazy_opts), dense = make("Adam", base);
    Held l(Tensor::from({2, 1}, std::vector<float>{1, -1})), d(Tensor::from({2, 1}, std::vector<float>{1, -1}));
    l.step_rows(*lazy, g1, row0);
    d.step_rows(*dense, g1, row0);
    test::check_values(l.w(), {0.92f, -1});
    test::check_values(d.w(), {0.92f, -1});
    l.step_rows(*lazy, g2, row1);
    d.step_rows(*dense, g2, row1);
    test::check_values(l.w(), {0.92f, -0.9151515f});
    test::check_values(l.slot(*lazy, "m"), {0.5f, -1.25f});
    test::check_values(l.slot(*lazy, "v"), {0.04f, 0.25f});
    test::check_values(d.w(), {0.8820533f, -0.9151515f});
    test::check_values(d.slot(*dense, "m"), {0.25f, -1.25f});
    test::check_values(d.slot(*dense, "v"), {0.0384f, 0.25f});
  }
  SUBCASE("SGD momentum 0.9, lr 0.1") {
    // Step 1, row 0: v = -0.1, w = 0.9. Step 2, row 1: v = 0.25, w = -1 + 0.25 = -0.75.
    // Row 0 at step 2: lazy keeps w = 0.9, v = -0.1; dense: v = -0.09, w = 0.81.
    auto lazy = make("SGD", {{"learning_rate", 0.1}, {"momentum", 0.9}, {"lazy", true}});
    auto dense = make("SGD", {{"learning_rate", 0.1}, {"momentum", 0.9}});
    Held l(Tensor::from({2, 1}, std::vector<float>{1, -1})), d(Tensor::from({2, 1}, std::vector<float>{1, -1}));
    for (auto* o : {lazy.get(), dense.get()}) {
      Held& h = o == lazy.get() ? l : d;
      h.step_rows(*o, g1, row0);
      h.step_rows(*o, g2, row1);
    }
    test::check_values(l.w(), {0.9f, -0.75f});
    test::check_values(l.slot(*lazy, "momentum"), {-0.1f, 0.25f});
    test::check_values(d.w(), {0.81f, -0.75f});
    test::check_values(d.slot(*dense, "momentum"), {-0.09f, 0.25f});
  }
}

namespace {

// y = (x·w)·f with x = [1, 2] fed, w = [[3], [4]] trainable, f = [[2]] frozen, and a trainable
// parameter u that the loss does not use. dy/dw = xᵀ·f = [[2], [4]].
struct SmallModel {
  Graph g;
  Gradients grads;
  int x, w, f, u, y;
  SmallModel() {
    x = g.input("x", {{kBatch, 2}});
    w = g.param("w", Tensor::from({2, 1}, std::vector<float>{3, 4}));
    f = g.param("f", Tensor::from({1, 1}, std::vector<float>{2}), /*trainable=*/false);
    u = g.param("u", Tensor::from({1, 3}, std::vector<float>{5, 6, 7}));
    y = g.add("MatMul", {g.add("MatMul", {x, w}), f}, {}, "y");
    g.set_input(x, Tensor::from({1, 2}, std::vector<float>{1, 2}));
  }
  void forward_backward() {
    g.forward();
    backward(g, y, grads);
  }
};

}  // namespace

TEST_CASE("step(Graph) applies only the gradients the last backward wrote") {
  // Two losses over one graph: y reaches w (dy/dw = [2, 4]), z = sum(u) reaches only u (ones).
  // After backward(y) and a step, backward(z) leaves w's buffer holding [2, 4] from the first
  // pass: the second step must not apply it again. SGD lr 0.1.
  SmallModel m;
  int z = m.g.add("ReduceSum", {m.u}, {}, "z");
  auto o = make("SGD", {{"learning_rate", 0.1}});
  m.forward_backward();
  o->step(m.g, m.grads);
  test::check_values(m.g.param_value(m.w), {2.8f, 3.6f});
  test::check_values(m.g.param_value(m.u), {5, 6, 7});
  m.g.forward();
  backward(m.g, z, m.grads);
  CHECK(m.grads.current(m.u));
  CHECK(!m.grads.current(m.w));
  o->step(m.g, m.grads);
  test::check_values(m.g.param_value(m.w), {2.8f, 3.6f});  // unchanged
  test::check_values(m.g.param_value(m.u), {4.9f, 5.9f, 6.9f});
}

TEST_CASE("step(Graph) updates trainable parameters from backward and leaves the others") {
  // SGD lr 0.1: w = [3 - 0.1·2, 4 - 0.1·4] = [2.8, 3.6]; f is frozen; u has no gradient (skipped).
  SmallModel m;
  auto o = make("SGD", {{"learning_rate", 0.1}});
  m.forward_backward();
  o->step(m.g, m.grads);
  test::check_values(m.g.param_value(m.w), {2.8f, 3.6f});
  test::check_values(m.g.param_value(m.f), {2});
  test::check_values(m.g.param_value(m.u), {5, 6, 7});
  // The learning rate may change between steps (schedules): w -= 0.5·[2, 4].
  o->set_learning_rate(0.5);
  m.forward_backward();
  o->step(m.g, m.grads);
  test::check_values(m.g.param_value(m.w), {1.8f, 1.6f});
  CHECK(o->iterations() == 2);
  CHECK_THROWS_AS(o->set_learning_rate(-1), UserError);
}

TEST_CASE("optimizer state: slot names, and a checkpoint restored before the first step") {
  SmallModel a, b;
  auto oa = make("Adam", {{"learning_rate", 0.1}});
  auto names = [](const std::vector<std::pair<std::string, Tensor*>>& s) {
    std::vector<std::string> n;
    for (const auto& [k, t] : s) n.push_back(k);
    return n;
  };
  // Every trainable parameter in graph order, frozen ones excluded, even before any step.
  CHECK(names(oa->state(a.g)) == std::vector<std::string>{"w/m", "w/v", "u/m", "u/v"});
  for (int i = 0; i < 2; ++i) {
    a.forward_backward();
    oa->step(a.g, a.grads);
  }
  // Restore: the weights, every slot by name and the iteration count into a fresh optimizer.
  auto ob = make("Adam", {{"learning_rate", 0.1}});
  b.g.param_value(b.w).copy_from(a.g.param_value(a.w));
  auto sa = oa->state(a.g);
  for (auto& entry : ob->state(b.g)) {
    const std::string& name = entry.first;
    Tensor* t = entry.second;
    auto it = std::find_if(sa.begin(), sa.end(), [&](const auto& p) { return p.first == name; });
    REQUIRE(it != sa.end());
    t->copy_from(*it->second);
  }
  ob->iterations() = oa->iterations();
  CHECK(ob->iterations() == 2);
  a.forward_backward();
  oa->step(a.g, a.grads);
  b.forward_backward();
  ob->step(b.g, b.grads);
  for (int64_t i = 0; i < 2; ++i) CHECK(b.g.param_value(b.w).f32()[i] == a.g.param_value(a.w).f32()[i]);
  // The iteration count matters (bias correction): restoring without it gives another step.
  SmallModel c;
  auto oc = make("Adam", {{"learning_rate", 0.1}});
  c.g.param_value(c.w).copy_from(b.g.param_value(b.w));
  auto sb = ob->state(b.g);
  auto sc = oc->state(c.g);
  for (size_t i = 0; i < sc.size(); ++i) sc[i].second->copy_from(*sb[i].second);
  b.forward_backward();
  ob->step(b.g, b.grads);
  c.forward_backward();
  oc->step(c.g, c.grads);
  CHECK(c.g.param_value(c.w).f32()[0] != b.g.param_value(b.w).f32()[0]);
}

TEST_CASE("optimizer state of another shape under the same parameter name is a user error") {
  auto o = make("Adagrad");
  Held a(vec({1, 2}));
  a.step(*o, {1, 1});
  Held b(vec({1, 2, 3}));
  try {
    b.step(*o, {1, 1, 1});
    FAIL("no error");
  } catch (const UserError& e) {
    std::string m = e.what();
    CHECK(m.find("'w'") != std::string::npos);
    CHECK(m.find("[2]") != std::string::npos);
    CHECK(m.find("[3]") != std::string::npos);
  }
}

TEST_CASE("unknown optimizers and options are user errors naming the alternatives") {
  try {
    make("Adamm");
    FAIL("no error");
  } catch (const UserError& e) {
    std::string m = e.what();
    CHECK(m.find("unknown optimizer 'Adamm'") != std::string::npos);
    CHECK(m.find("Adagrad, Adam, SGD") != std::string::npos);
  }
  try {
    make("Adam", {{"beta1", 0.8}});
    FAIL("no error");
  } catch (const UserError& e) {
    std::string m = e.what();
    CHECK(m.find("optimizer Adam") != std::string::npos);
    CHECK(m.find("'beta1'") != std::string::npos);
    CHECK(m.find("beta_1") != std::string::npos);
    CHECK(m.find("learning_rate") != std::string::npos);
  }
  // Wrong types and values out of range name the option and the value.
  auto message = [](const std::string& name, const Attrs& options) -> std::string {
    try {
      make(name, options);
    } catch (const UserError& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(message("SGD", {{"learning_rate", std::string("fast")}}).find("learning_rate") != std::string::npos);
  CHECK(message("SGD", {{"momentum", 1.5}}) ==
        "optimizer SGD: attribute 'momentum': expected number in [0, 1], got number 1.5");
  CHECK(message("Adam", {{"beta_2", 1.0}}) == "optimizer Adam: attribute 'beta_2': expected number in [0, 1), got number 1");
  CHECK(message("Adagrad", {{"learning_rate", -0.1}}) ==
        "optimizer Adagrad: attribute 'learning_rate': expected number >= 0, got number -0.1");
  CHECK(message("Adagrad", {{"initial_accumulator_value", -1.0}}).find("initial_accumulator_value") !=
        std::string::npos);
  // Names are exact, as every registry's (Keras' lower-case "adam" is suggested, not taken).
  CHECK(message("adam", {}) == "unknown optimizer 'adam'; did you mean 'Adam'? (optimizers: Adagrad, Adam, SGD)");
  CHECK(message("sgd", {{"momentum", 0.5}}) == "unknown optimizer 'sgd'; did you mean 'SGD'? (optimizers: Adagrad, Adam, SGD)");
}

TEST_CASE("every optimizer defined in models/optimizers/ is registered") {
  std::set<std::string> defined;
  std::regex reg(R"(DAGRAD_REGISTER_OPTIMIZER\(\s*\w+\s*,\s*"([^"]+)\")");
  for (const auto& e : std::filesystem::directory_iterator(std::string(DAGRAD_SOURCE_DIR) + "/models/optimizers")) {
    if (e.path().extension() != ".cpp") continue;
    std::ifstream f(e.path());
    std::stringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    for (std::sregex_iterator it(text.begin(), text.end(), reg), end; it != end; ++it) defined.insert((*it)[1]);
  }
  CHECK(defined == std::set<std::string>{"Adagrad", "Adam", "SGD"});
  auto names = OptimizerRegistry::instance().names();
  CHECK(std::set<std::string>(names.begin(), names.end()) == defined);
}
