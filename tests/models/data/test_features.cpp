// models/data/features.cpp: same_encoded_rows, which decides whether the Retrieval task may take
// the evaluation loss from the top-k's scores (every evaluated row's candidate features equal to
// its candidate-table row's).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "models/data/features.hpp"

using namespace dagrad;

namespace {

EncodedColumn float_column(std::vector<float> v) {
  EncodedColumn c;
  c.dtype = DType::f32;
  c.values = std::move(v);
  return c;
}

EncodedColumn ragged_column(std::vector<int32_t> ids, std::vector<int64_t> offsets) {
  EncodedColumn c;
  c.ragged = true;
  c.ids = std::move(ids);
  c.offsets = std::move(offsets);
  return c;
}

}  // namespace

TEST_CASE("same_encoded_rows compares each row with its row of the other table, input by input") {
  // Candidates: 3 rows of (an id, a float, a ragged list of tokens).
  EncodedColumn ids;
  ids.ids = {10, 11, 12};
  EncodedTable cand{"candidates", 3, {{0, ids}, {1, float_column({0.5f, NAN, 2.0f})},
                                      {2, ragged_column({1, 2, 3, 4}, {0, 2, 2, 4})}}};
  // Evaluated rows: candidates 2, 0, 1 (the NaN feature equal to itself, bitwise).
  EncodedColumn eids;
  eids.ids = {12, 10, 11};
  EncodedTable eval{"test", 3, {{0, eids}, {1, float_column({2.0f, 0.5f, NAN})},
                                {2, ragged_column({3, 4, 1, 2}, {0, 2, 4, 4})}}};
  const std::vector<int32_t> rows{2, 0, 1};
  CHECK(same_encoded_rows(eval, cand, rows));
  CHECK_FALSE(same_encoded_rows(eval, cand, std::vector<int32_t>{2, 1, 0}));  // other rows
  eval.inputs[2].second.ids[1] = 5;  // one token differs
  CHECK_FALSE(same_encoded_rows(eval, cand, rows));
  eval.inputs[2].second = ragged_column({3, 4, 1, 2, 7}, {0, 2, 5, 5});  // a row one token longer
  CHECK_FALSE(same_encoded_rows(eval, cand, rows));
  eval.inputs[2].second = ragged_column({3, 4, 1, 2}, {0, 2, 4, 4});
  eval.inputs[1].second.values[1] = 0.25f;  // one float differs
  CHECK_FALSE(same_encoded_rows(eval, cand, rows));
  eval.inputs[1].second.values[1] = 0.5f;
  CHECK(same_encoded_rows(eval, cand, rows));
  eval.inputs[0].second.dtype = DType::f32;  // an input of another type
  eval.inputs[0].second.values = {12, 10, 11};
  CHECK_FALSE(same_encoded_rows(eval, cand, rows));
}
