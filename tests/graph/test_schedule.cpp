// graph/schedule.cpp: phases from dependencies and costs, nodes run side by side (really at once,
// each once, after what it waits for), an exception stopping the pass; and a two-tower graph whose
// forward and backward run side by side giving what one node at a time gives.
#include <doctest/doctest.h>
#include <omp.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "autodiff/backward.hpp"
#include "graph/dnnl_context.hpp"
#include "graph/graph.hpp"
#include "graph/schedule.hpp"

using namespace dagrad;

namespace {

// Sets the thread count for a test and puts it back.
struct SchedThreads {
  int saved = omp_get_max_threads();
  explicit SchedThreads(int n) { set_num_threads(n); }
  ~SchedThreads() { set_num_threads(saved); }
};

// A schedule over nodes 0..n-1 (ids = positions) with these deps, costs and wide flags.
Schedule sched_of(const std::vector<std::vector<int>>& deps, const std::vector<double>& cost,
                  const std::vector<char>& wide, const ScheduleLimits& limits, int threads) {
  std::vector<int> order(deps.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  Schedule s;
  s.build(order, deps, cost, wide, limits, threads);
  return s;
}

}  // namespace

TEST_CASE("schedule: small nodes before a wide one form a phase that runs side by side") {
  // Two chains 0 -> 1 -> 2 and 3 -> 4 meet at the wide node 5; 6 follows it.
  const std::vector<std::vector<int>> deps{{}, {0}, {1}, {}, {3}, {2, 4}, {5}};
  const std::vector<double> cost(7, 1e7);
  const std::vector<char> wide{0, 0, 0, 0, 0, 1, 0};
  Schedule s = sched_of(deps, cost, wide, ScheduleLimits{}, 2);
  REQUIRE(s.phases().size() == 3);
  CHECK(s.phases()[0].nodes == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(s.phases()[0].concurrent);
  CHECK(s.phases()[0].threads == 2);
  CHECK(s.phases()[1].nodes == std::vector<int>{5});
  CHECK_FALSE(s.phases()[1].concurrent);
  CHECK(s.phases()[2].nodes == std::vector<int>{6});
  CHECK(s.slots() == 2);
  // The longer chain goes first: 0's path to the phase's end costs 3 nodes, 3's two.
  CHECK(s.phases()[0].rank[0] == doctest::Approx(3e7));
  CHECK(s.phases()[0].rank[3] == doctest::Approx(2e7));

  SUBCASE("one thread: one phase, one node at a time") {
    Schedule one = sched_of(deps, cost, wide, ScheduleLimits{}, 1);
    REQUIRE(one.phases().size() == 1);
    CHECK_FALSE(one.phases()[0].concurrent);
    CHECK(one.phases()[0].nodes == std::vector<int>{0, 1, 2, 3, 4, 5, 6});
  }
  SUBCASE("too little work off the longest path: one node at a time") {
    Schedule cheap = sched_of(deps, std::vector<double>(7, 1e4), wide, ScheduleLimits{}, 2);
    CHECK_FALSE(cheap.phases()[0].concurrent);
  }
  SUBCASE("a long chain with a small side branch: one node at a time") {
    // 0 -> 1 -> 2 -> 3 costly, 4 beside them: the work off the longest path is under a quarter.
    Schedule chain = sched_of({{}, {0}, {1}, {2}, {}}, {1e7, 1e7, 1e7, 1e7, 2e6}, {0, 0, 0, 0, 0}, ScheduleLimits{}, 2);
    REQUIRE(chain.phases().size() == 1);
    CHECK_FALSE(chain.phases()[0].concurrent);
  }
  SUBCASE("a chain has nothing to run side by side") {
    Schedule chain = sched_of({{}, {0}, {1}}, std::vector<double>(3, 1e9), {0, 0, 0}, ScheduleLimits::always(), 2);
    REQUIRE(chain.phases().size() == 1);
    CHECK_FALSE(chain.phases()[0].concurrent);
  }
}

TEST_CASE("schedule: run() runs each node once, after its dependencies, two at once") {
  SchedThreads threads(2);
  // 0 and 3 start two chains; 0 waits (up to 20 s) until 3 has started too, which only a second
  // thread can do: the phase really runs nodes at once.
  const std::vector<std::vector<int>> deps{{}, {0}, {1, 4}, {}, {3}, {2}};
  Schedule s = sched_of(deps, std::vector<double>(6, 1), std::vector<char>(6, 0), ScheduleLimits::always(), 2);
  REQUIRE(s.phases().size() == 1);
  REQUIRE(s.phases()[0].concurrent);
  for (int round = 0; round < 3; ++round) {
    std::vector<std::atomic<int>> runs(6);
    std::atomic<bool> started3{false};
    std::atomic<bool> met{false}, order_ok{true};
    s.run([&](int id, int slot) {
      if (slot < 0 || slot >= s.slots()) order_ok = false;
      for (int d : deps[static_cast<size_t>(id)])
        if (runs[static_cast<size_t>(d)].load() != 1) order_ok = false;
      if (id == 3) started3 = true;
      if (id == 0) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!started3 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
        met = started3.load();
      }
      runs[static_cast<size_t>(id)]++;
    });
    CHECK(met);
    CHECK(order_ok);
    for (auto& r : runs) CHECK(r.load() == 1);
  }
}

TEST_CASE("schedule: an exception stops the pass and reaches the caller") {
  SchedThreads threads(2);
  // 1 throws; 2 waits for it and must not run; 0 and 3 are independent of it.
  const std::vector<std::vector<int>> deps{{}, {}, {1}, {0}};
  Schedule s = sched_of(deps, std::vector<double>(4, 1), std::vector<char>(4, 0), ScheduleLimits::always(), 2);
  REQUIRE(s.phases()[0].concurrent);
  std::atomic<bool> ran2{false};
  CHECK_THROWS_WITH_AS(s.run([&](int id, int) {
    if (id == 1) throw std::runtime_error("node 1 failed");
    if (id == 2) ran2 = true;
  }),
                       "node 1 failed", std::runtime_error);
  CHECK_FALSE(ran2);
}

namespace {

// Two towers over one shared embedding table, joined by in-batch logits and a softmax
// cross-entropy: sparse rows written by two lookups, a value read twice, and a lent gradient.
struct SchedTwoTowers {
  Graph g;
  int loss = -1, table = -1;
  std::vector<int> params;
  SchedTwoTowers() {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    auto rand = [&](Shape s) {
      Tensor t(s);
      for (int64_t i = 0; i < t.size(); ++i) t.f32()[i] = u(rng);
      return t;
    };
    const int64_t b = 24;
    table = g.param("table", rand({50, 8}));
    int ua = g.input("ids_a", {{kBatch}, DType::i32});
    int ub = g.input("ids_b", {{kBatch}, DType::i32});
    int x = g.input("x", {{kBatch, 5}});
    int labels = g.input("labels", {{kBatch}, DType::i32});
    auto dense = [&](int in, int64_t i, int64_t o, const std::string& name, const char* act) {
      int w = g.param(name + "/w", rand({i, o}));
      int bias = g.param(name + "/b", rand({o}));
      return g.add("Dense", {in, w, bias}, {{"activation", std::string(act)}}, name);
    };
    int ea = g.add("Embedding", {table, ua}, {}, "ea");
    int qa = dense(dense(g.add("Concat", {ea, x}, {}, "ca"), 13, 16, "qa0", "relu"), 16, 6, "qa1", "linear");
    int eb = g.add("Embedding", {table, ub}, {}, "eb");
    int hb = dense(eb, 8, 6, "qb0", "relu");
    int qb = g.add("Mul", {hb, hb}, {}, "qb");  // read twice
    int logits = g.add("MatMul", {qa, qb}, {{"transpose_b", true}}, "logits");
    loss = g.add("ReduceSum", {g.add("SoftmaxCrossEntropy", NamedInputs{{"logits", logits}, {"labels", labels}})},
                 {}, "loss");
    params = g.params();
    std::vector<int32_t> ia(b), ib(b), l(b);
    for (int64_t r = 0; r < b; ++r) {
      ia[r] = static_cast<int32_t>(rng() % 50);
      ib[r] = static_cast<int32_t>(rng() % 50);
      l[r] = static_cast<int32_t>(r);
    }
    g.set_input(ua, Tensor::from_ids({b}, ia));
    g.set_input(ub, Tensor::from_ids({b}, ib));
    g.set_input(x, rand({b, 5}));
    g.set_input(labels, Tensor::from_ids({b}, l));
  }
};

// The loss and every parameter's gradient after `steps` forward and backward passes.
std::vector<std::vector<float>> sched_pass(SchedTwoTowers& t, Gradients& grads, int steps) {
  for (int s = 0; s < steps; ++s) {
    t.g.forward(std::span<const int>(&t.loss, 1));
    backward(t.g, t.loss, grads);
  }
  std::vector<std::vector<float>> out{{t.g.value(t.loss).f32()[0]}};
  for (int p : t.params) {
    const Tensor& gr = grads.grad(p);
    out.emplace_back(gr.f32(), gr.f32() + gr.size());
  }
  return out;
}

}  // namespace

TEST_CASE("a graph's forward and backward side by side give what one node at a time gives") {
  std::vector<std::vector<float>> serial, side1, side2;
  {
    SchedThreads threads(1);
    SchedTwoTowers t;
    Gradients grads;
    serial = sched_pass(t, grads, 2);
  }
  SchedThreads threads(2);
  SchedTwoTowers t;
  t.g.set_schedule_limits(ScheduleLimits::always());
  Gradients grads;
  side1 = sched_pass(t, grads, 2);  // the first pass costs the nodes, the second runs side by side
  const Schedule* s = t.g.forward_schedule(std::span<const int>(&t.loss, 1));
  REQUIRE(s != nullptr);
  bool concurrent = false;
  for (const auto& ph : s->phases()) concurrent = concurrent || ph.concurrent;
  CHECK(concurrent);
  CHECK(grads.sparse(t.table));
  side2 = sched_pass(t, grads, 3);
  // Each node runs on one thread either way: equal up to the products' routes (a primitive alone,
  // dnnl_sgemm side by side), and bitwise equal from one side-by-side pass to the next.
  REQUIRE(serial.size() == side1.size());
  for (size_t i = 0; i < serial.size(); ++i) {
    INFO("output " << i);
    REQUIRE(serial[i].size() == side1[i].size());
    for (size_t k = 0; k < serial[i].size(); ++k)
      CHECK(side1[i][k] == doctest::Approx(serial[i][k]).epsilon(1e-5).scale(1e-6));
    CHECK(side1[i] == side2[i]);
  }

  SUBCASE("turned off, the graph runs one node at a time") {
    t.g.set_inter_op(false);
    sched_pass(t, grads, 1);
    CHECK(t.g.forward_schedule(std::span<const int>(&t.loss, 1)) == nullptr);
  }
}

TEST_CASE("ops that take part in collectives run alone, in graph order, whatever the costs") {
  // Two towers, each with a sharded lookup (Op::communicates): every rank must run them in the same
  // order, so neither runs side by side with anything, and the first in the graph comes first.
  SchedThreads threads(2);
  Graph g;
  int ta = g.param("ta", Tensor::zeros({10, 4}));
  int tb = g.param("tb", Tensor::zeros({10, 4}));
  int ids = g.input("ids", {{kBatch}, DType::i32});
  int x = g.input("x", {{kBatch, 4}});
  int a = g.add("ShardedEmbedding", {ta, ids}, {{"rows", int64_t{10}}}, "a");
  int b = g.add("ShardedEmbedding", {tb, ids}, {{"rows", int64_t{10}}}, "b");
  int left = g.add("Add", {g.add("Mul", {a, x}), x});
  int right = g.add("Add", {g.add("Mul", {b, x}), x});
  int loss = g.add("ReduceSum", {g.add("Add", {left, right})});
  g.set_schedule_limits(ScheduleLimits::always());
  g.set_input(ids, Tensor::from_ids({3}, std::vector<int32_t>{1, 2, 9}));
  g.set_input(x, Tensor::zeros({3, 4}));
  Gradients grads;
  for (int step = 0; step < 2; ++step) {
    g.forward(std::span<const int>(&loss, 1));
    backward(g, loss, grads);
  }
  const Schedule* s = g.forward_schedule(std::span<const int>(&loss, 1));
  REQUIRE(s != nullptr);
  std::vector<int> alone;
  bool concurrent = false;
  for (const auto& ph : s->phases()) {
    concurrent = concurrent || ph.concurrent;
    for (int id : ph.nodes)
      if (id == a || id == b) {
        CHECK_FALSE(ph.concurrent);
        CHECK(ph.nodes.size() == 1);
        alone.push_back(id);
      }
  }
  CHECK(concurrent);  // the rest still runs side by side
  CHECK(alone == std::vector<int>{a, b});
}
