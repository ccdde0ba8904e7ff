#include "models/data/features.hpp"

#include <algorithm>
#include <cstring>

namespace dagrad {

size_t EncodedColumn::rows() const {
  if (ragged) return offsets.empty() ? 0 : offsets.size() - 1;
  size_t n = dtype == DType::i32 ? ids.size() : values.size();
  return width ? n / static_cast<size_t>(width) : 0;
}

EncodedColumn encode_numeric(const Column& values, const std::string& column) {
  EncodedColumn e;
  e.dtype = DType::f32;
  e.width = 1;
  if (auto* f = std::get_if<FloatColumn>(&values)) e.values = *f;
  else if (auto* i = std::get_if<IntColumn>(&values)) e.values.assign(i->begin(), i->end());
  else throw UserError("column '" + column + "' holds strings; a graph input needs numbers (add a StringLookup)");
  return e;
}

const EncodedColumn& EncodedTable::column(int input) const {
  for (const auto& [id, c] : inputs)
    if (id == input) return c;
  throw InternalError("encoded table '" + name + "' does not feed input " + std::to_string(input));
}

namespace {

bool same_row(const EncodedColumn& a, int64_t ra, const EncodedColumn& b, int64_t rb) {
  if (a.ragged) {
    const int64_t na = a.offsets[ra + 1] - a.offsets[ra], nb = b.offsets[rb + 1] - b.offsets[rb];
    return na == nb && std::equal(a.ids.begin() + a.offsets[ra], a.ids.begin() + a.offsets[ra + 1],
                                  b.ids.begin() + b.offsets[rb]);
  }
  const int64_t w = a.width;
  if (a.dtype == DType::i32)
    return std::equal(a.ids.begin() + ra * w, a.ids.begin() + (ra + 1) * w, b.ids.begin() + rb * w);
  return std::memcmp(a.values.data() + ra * w, b.values.data() + rb * w, static_cast<size_t>(w) * sizeof(float)) == 0;
}

}  // namespace

bool same_encoded_rows(const EncodedTable& a, const EncodedTable& b, std::span<const int32_t> rows_in_b) {
  DAGRAD_ASSERT(rows_in_b.size() == a.rows, "same_encoded_rows: " + std::to_string(rows_in_b.size()) +
                                                " rows of '" + b.name + "' for the " + std::to_string(a.rows) + " of '" + a.name + "'");
  for (const auto& [input, col] : a.inputs) {
    const EncodedColumn& other = b.column(input);
    if (col.dtype != other.dtype || col.width != other.width || col.ragged != other.ragged) return false;
    for (size_t r = 0; r < a.rows; ++r)
      if (!same_row(col, static_cast<int64_t>(r), other, rows_in_b[r])) return false;
  }
  return true;
}

namespace {

// out[i] = row rows[i] of src (rows of `width` values). One value a row (ids, a bucket) is a plain
// gather: a memcpy call per 4 bytes took several times as long.
template <class T>
void gather_rows(const T* src, int64_t width, std::span<const int64_t> rows, T* out) {
  const int64_t b = static_cast<int64_t>(rows.size());
  if (width == 1) {
    for (int64_t i = 0; i < b; ++i) out[i] = src[rows[i]];
    return;
  }
  for (int64_t i = 0; i < b; ++i) std::memcpy(out + i * width, src + rows[i] * width, static_cast<size_t>(width) * sizeof(T));
}

}  // namespace

void Feeder::feed(Graph& g, const EncodedTable& t, std::span<const int64_t> rows) {
  if (buffers_.size() < t.inputs.size()) buffers_.resize(t.inputs.size());
  const int64_t b = static_cast<int64_t>(rows.size());
  for (size_t k = 0; k < t.inputs.size(); ++k) {
    const auto& [id, col] = t.inputs[k];
    int64_t width = col.width;
    if (col.ragged) {
      width = 1;  // at least one token position, so the token axis always exists
      for (int64_t r : rows) width = std::max(width, col.offsets[r + 1] - col.offsets[r]);
    }
    Shape shape = g.node(id).type.shape.size() == 1 ? Shape{b} : Shape{b, width};
    Tensor& buf = buffers_[k];
    Tensor view = grown_view(buf, shape, col.dtype);
    if (col.ragged) {
      int32_t* out = view.i32();
      std::fill_n(out, view.size(), 0);
      for (int64_t i = 0; i < b; ++i) {
        int64_t s = col.offsets[rows[i]], e = col.offsets[rows[i] + 1];
        std::copy(col.ids.begin() + s, col.ids.begin() + e, out + i * width);
      }
    } else if (col.dtype == DType::i32) {
      gather_rows(col.ids.data(), width, rows, view.i32());
    } else {
      gather_rows(col.values.data(), width, rows, view.f32());
    }
    g.set_input(id, view);
  }
}

}  // namespace dagrad
