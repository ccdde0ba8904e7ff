#include "models/io/npy.hpp"

#include <bit>
#include <cstring>
#include <regex>

#include "graph/error.hpp"

namespace dagrad {
namespace {

static_assert(std::endian::native == std::endian::little, ".npy files are written as little-endian");

std::string header(const std::string& descr, const Shape& shape) {
  // Python's tuple syntax: (), (n,), (n, d).
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // magic (6) + version (2) + header length (2) + dict + padding + '\n', a multiple of 64.
  const size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(dict.size());
  out.append(reinterpret_cast<const char*>(&len), 2);
  return out + dict;
}

}  // namespace

std::string npy_bytes(const Tensor& t) {
  const char* descr = t.dtype() == DType::f32 ? "<f4" : "<i4";
  std::string out = header(descr, t.shape());
  const size_t bytes = static_cast<size_t>(t.size()) * 4;
  const char* p = t.dtype() == DType::f32 ? reinterpret_cast<const char*>(t.f32()) : reinterpret_cast<const char*>(t.i32());
  out.append(p, bytes);
  return out;
}

std::string npy_bytes(const std::vector<int64_t>& values, const Shape& shape) {
  std::string out = header("<i8", shape);
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(int64_t));
  return out;
}

NpyHeader parse_npy_header(const std::string& bytes) {
  if (bytes.size() < 10 || bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) != 0)
    throw UserError("not a version 1.0 .npy file");
  uint16_t len = 0;
  std::memcpy(&len, bytes.data() + 8, 2);
  if (bytes.size() < 10u + len) throw UserError(".npy header is truncated");
  const std::string dict = bytes.substr(10, len);
  std::smatch m;
  if (!std::regex_search(dict, m, std::regex("'descr': '([<>|][a-z][0-9]+)', 'fortran_order': False, 'shape': \\(([0-9, ]*)\\)")))
    throw UserError(".npy header not understood: " + dict);
  NpyHeader h;
  h.descr = m[1];
  const std::string dims = m[2];
  std::regex num("[0-9]+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it)
    h.shape.push_back(std::stoll(it->str()));
  h.data_offset = 10u + len;
  return h;
}

}  // namespace dagrad
