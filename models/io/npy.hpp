// NumPy .npy files (format version 1.0): what `dagrad export` writes so that another program
// (numpy.load, or any reader of the documented format) gets vectors and weights without dagrad.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "graph/tensor.hpp"

namespace dagrad {

// The bytes of a C-order, little-endian .npy array: f32 for an f32 tensor, i32 for an i32 one.
std::string npy_bytes(const Tensor& t);
// The same for 64-bit integers of the given shape.
std::string npy_bytes(const std::vector<int64_t>& values, const Shape& shape);

// Reads the header of .npy bytes: the dtype descriptor ("<f4", "<i8", ...) and the shape, and
// where the data starts. UserError for anything that is not a version 1.0 C-order .npy.
struct NpyHeader {
  std::string descr;
  Shape shape;
  size_t data_offset = 0;
};
NpyHeader parse_npy_header(const std::string& bytes);

}  // namespace dagrad
