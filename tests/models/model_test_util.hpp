// Helpers for tests that build models the way users do (YAML text -> parse_config -> Model::build
// over small tables the test makes), set parameters by hand and read values and gradients.
#pragma once
#include <doctest/doctest.h>

#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "autodiff/backward.hpp"
#include "graph/error.hpp"
#include "models/model.hpp"
#include "test_util.hpp"

namespace dagrad::test {

inline std::unique_ptr<Model> build_model(const std::string& yaml, const DataTables& data, uint64_t seed = 1) {
  return Model::build(parse_config(yaml, "model.yaml"), &data, nullptr, seed);
}

// The model's interactions table is `t` (preprocessing adapts on it unless told otherwise).
inline DataTables tables_of(const Table& t) {
  DataTables d;
  d.interactions = t;
  d.train = t;
  return d;
}

inline std::vector<int64_t> all_rows(const Table& t) {
  std::vector<int64_t> rows(t.rows());
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

// Sets the parameter `name` to `values` (row-major), which must fill it exactly.
inline void set_param(Model& m, const std::string& name, const std::vector<float>& values) {
  int id = m.graph().find(name);
  REQUIRE_MESSAGE(id >= 0, "no node " << name);
  REQUIRE(m.graph().node(id).kind == NodeKind::Param);
  Tensor& t = m.graph().param_value(id);
  REQUIRE_MESSAGE(t.size() == static_cast<int64_t>(values.size()), name << " has " << t.size() << " values");
  std::copy(values.begin(), values.end(), t.f32());
}

inline std::vector<float> param(Model& m, const std::string& name) {
  const Tensor& t = m.graph().param_value(m.graph().id(name));
  return {t.f32(), t.f32() + t.size()};
}

// Feeds every row of `t` as one batch and computes the value named `value` (a layer name).
inline Tensor forward(Model& m, const Table& t, const std::string& value) {
  int node = m.value(value);
  EncodedTable e = m.encode(t, {node});
  auto rows = all_rows(t);
  m.run(e, rows, std::span<const int>(&node, 1));
  return m.graph().value(node).clone();
}

// The task's loss over `rows` of `t` as one batch (the training path: features, then the task's
// labels and corrections, then forward).
inline double task_loss(Model& m, const Table& t, const std::vector<int64_t>& rows, bool training = true) {
  int loss = m.task().loss();
  EncodedTable e = m.encode(t, {loss});
  m.feeder().feed(m.graph(), e, rows);
  m.task().prepare_batch(m.graph(), t, rows, training);
  m.graph().forward(std::span<const int>(&loss, 1));
  return m.graph().value(loss).f32()[0];
}

inline std::vector<float> values_of(const Tensor& t) { return {t.f32(), t.f32() + t.size()}; }

// Checks `got` against hand-computed values, element by element.
inline void check_values(const std::vector<float>& got, const std::vector<float>& want, double eps = 1e-5) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK_MESSAGE(got[i] == doctest::Approx(want[i]).epsilon(eps), "element " << i);
}

// The message of the UserError `f` throws ("" when it throws none).
inline std::string user_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

// `s` with its first `from` replaced by `to` (which must be there).
inline std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  size_t pos = s.find(from);
  REQUIRE_MESSAGE(pos != std::string::npos, from);
  return s.replace(pos, from.size(), to);
}

}  // namespace dagrad::test
