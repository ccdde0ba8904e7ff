// layers/cross.cpp: DCN-v2 cross layers, full and low rank, values worked out by hand; parameter
// names and shapes; the initialisers.
#include <doctest/doctest.h>

#include <cmath>

#include "models/model_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

// x0 = [[1, 2], [-1, 0.5]].
Table cross_rows() {
  Table t("interactions");
  t.add("a", FloatColumn{1, -1});
  t.add("b", FloatColumn{2, 0.5});
  return t;
}

std::string cross_model(const std::string& keys) {
  return "name: cross_test\n"
         "inputs: {a: float, b: float}\n"
         "layers:\n"
         "  x: {type: Concat, inputs: [a, b]}\n"
         "  c: {type: Cross, input: x, " + keys + "}\n"
         "task: {type: Retrieval, query: c, candidate: c}\n";
}

}  // namespace

TEST_CASE("Cross, full rank, two layers: x_{l+1} = x0 ⊙ (x_l·W_l + b_l) + x_l by hand") {
  Table t = cross_rows();
  auto m = test::build_model(cross_model("num_layers: 2"), test::tables_of(t));
  CHECK(m->graph().params().size() == 4);
  test::set_param(*m, "c/cross_0/kernel", {1, -1, 0.5f, 2});
  test::set_param(*m, "c/cross_0/bias", {0.1f, -0.2f});
  test::set_param(*m, "c/cross_1/kernel", {0, 1, 1, 0});
  test::set_param(*m, "c/cross_1/bias", {0, 0});
  // Row 1, x0 = [1, 2]: x0·W0 = [1 + 1, -1 + 4] = [2, 3], + b0 = [2.1, 2.8];
  //   x1 = [1·2.1 + 1, 2·2.8 + 2] = [3.1, 7.6]; x1·W1 = [7.6, 3.1]; x2 = [7.6 + 3.1, 6.2 + 7.6].
  // Row 2, x0 = [-1, 0.5]: x0·W0 = [-0.75, 2], + b0 = [-0.65, 1.8];
  //   x1 = [0.65 - 1, 0.9 + 0.5] = [-0.35, 1.4]; x1·W1 = [1.4, -0.35]; x2 = [-1.4 - 0.35, -0.175 + 1.4].
  Tensor y = test::forward(*m, t, "c");
  CHECK(y.shape() == Shape{2, 2});
  check_values(test::values_of(y), {10.7f, 13.8f, -1.75f, 1.225f});
}

TEST_CASE("Cross, low rank: x1 = x0 ⊙ ((x0·U)·V + b) + x0 by hand; no bias when use_bias is false") {
  Table t = cross_rows();
  auto m = test::build_model(cross_model("projection_dim: 1"), test::tables_of(t));
  CHECK(m->graph().node(m->graph().id("c/cross_0/u_kernel")).type.shape == Shape{2, 1});
  CHECK(m->graph().node(m->graph().id("c/cross_0/v_kernel")).type.shape == Shape{1, 2});
  test::set_param(*m, "c/cross_0/u_kernel", {1, 2});
  test::set_param(*m, "c/cross_0/v_kernel", {0.5f, -1});
  test::set_param(*m, "c/cross_0/bias", {0, 0.5f});
  // Row 1: x0·U = 5; ·V = [2.5, -5]; + b = [2.5, -4.5]; x1 = [2.5 + 1, -9 + 2].
  // Row 2: x0·U = 0; ·V = [0, 0]; + b = [0, 0.5]; x1 = [0 - 1, 0.25 + 0.5].
  check_values(test::values_of(test::forward(*m, t, "c")), {3.5f, -7, -1, 0.75f});

  auto nb = test::build_model(cross_model("use_bias: false"), test::tables_of(t));
  CHECK(nb->graph().params().size() == 1);
  test::set_param(*nb, "c/cross_0/kernel", {1, 0, 0, 1});
  // x1 = x0 ⊙ x0 + x0: [1 + 1, 4 + 2], [1 - 1, 0.25 + 0.5]
  check_values(test::values_of(test::forward(*nb, t, "c")), {2, 6, 0, 0.75f});
}

TEST_CASE("Cross initialises kernels truncated-normal (sd 0.05, within 2 sd) or glorot-uniform, biases zero") {
  Table t = cross_rows();
  auto tn = test::build_model(cross_model("num_layers: 1"), test::tables_of(t));
  for (float v : test::param(*tn, "c/cross_0/kernel")) CHECK(std::fabs(v) <= 0.1f);
  for (float v : test::param(*tn, "c/cross_0/bias")) CHECK(v == 0);
  auto gu = test::build_model(cross_model("kernel_initializer: glorot_uniform"), test::tables_of(t));
  const float limit = std::sqrt(6.0f / 4.0f);
  bool beyond_tn = false;
  for (float v : test::param(*gu, "c/cross_0/kernel")) {
    CHECK(std::fabs(v) <= limit);
    beyond_tn = beyond_tn || std::fabs(v) > 0.1f;
  }
  CHECK(beyond_tn);  // 4 draws from U(-1.22, 1.22) with seed 1: not all within 0.1
}

TEST_CASE("Cross needs a [batch, features] input") {
  Table t("interactions");
  t.add("u", StringColumn{"a", "b"});
  const std::string yaml = "name: cross_bad\n"
                           "inputs: {u: string}\n"
                           "layers:\n"
                           "  i: {type: StringLookup, input: u}\n"
                           "  e: {type: Embedding, input: i, output_dim: 2}\n"
                           "  c: {type: Cross, input: i}\n"
                           "task: {type: Retrieval, query: e, candidate: e}\n";
  CHECK(test::contains(test::user_error([&] { test::build_model(yaml, test::tables_of(t)); }),
                       "Cross needs a [batch, features] input"));
}
