// From table columns to graph inputs: columns encoded once per table into model-ready values (ids,
// floats, token sequences; models/data/preprocessing/ does the encoding), and a Feeder that gathers
// a batch of encoded rows into the graph's input tensors, reusing its buffers, so a training step
// touches no strings.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "models/data/table.hpp"

namespace dagrad {

// One column encoded for the graph: fixed `width` values per row (ids or floats), or, when
// `ragged`, a variable number of ids per row (row r is ids[offsets[r] .. offsets[r+1])), padded
// with 0 to the longest row of each batch.
struct EncodedColumn {
  DType dtype = DType::i32;
  int64_t width = 1;
  bool ragged = false;
  std::vector<int32_t> ids;
  std::vector<float> values;
  std::vector<int64_t> offsets;
  size_t rows() const;
};

// Encodes a raw numeric column as f32 [B, 1] (no preprocessing).
EncodedColumn encode_numeric(const Column& values, const std::string& column);

// Calls fn(rows) with the row indices of consecutive batches covering [0, n); the last batch may
// be partial. The index buffer is reused between batches.
template <class F>
void for_each_batch(int64_t n, int64_t batch, F&& fn) {
  std::vector<int64_t> rows;
  for (int64_t s = 0; s < n; s += batch) {
    rows.resize(static_cast<size_t>(std::min(batch, n - s)));
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = s + static_cast<int64_t>(i);
    fn(std::span<const int64_t>(rows));
  }
}

// A table encoded for one graph: one EncodedColumn per graph input it feeds.
struct EncodedTable {
  std::string name;
  size_t rows = 0;
  std::vector<std::pair<int, EncodedColumn>> inputs;  // graph input id -> values
  const EncodedColumn& column(int input) const;
};

// Whether every row r of `a` has, for every input `a` feeds, the same encoded values as row
// rows_in_b[r] of `b` (ids equal, floats bitwise equal, so a NaN feature equals itself); false when
// an input's dtype, width or raggedness differs. `b` must feed every input `a` does.
bool same_encoded_rows(const EncodedTable& a, const EncodedTable& b, std::span<const int32_t> rows_in_b);

// Gathers rows of an EncodedTable into the graph's inputs. Buffers grow to the largest batch
// seen and are reused (a partial last batch is a view of them).
class Feeder {
 public:
  void feed(Graph& g, const EncodedTable& t, std::span<const int64_t> rows);

 private:
  std::vector<Tensor> buffers_;
};

}  // namespace dagrad
