#include <algorithm>

#include "graph/op.hpp"

namespace dagrad {

OpRegistry& OpRegistry::instance() {
  static OpRegistry registry;
  return registry;
}

std::unique_ptr<Op> OpRegistry::make(const std::string& name, Attrs attrs) const {
  const OpInfo& info = get(name);
  attrs.apply(info.schema, "op " + name);
  return info.make(attrs);
}

void expect_rank(const TensorType& t, int rank, const char* what) {
  if (static_cast<int>(t.shape.size()) != rank)
    throw UserError(std::string(what) + " must have rank " + std::to_string(rank) + ", got " +
                    shape_str(t.shape));
}

void expect_dtype(const TensorType& t, DType d, const char* what) {
  if (t.dtype != d)
    throw UserError(std::string(what) + " must be " + dtype_name(d) + ", got " + dtype_name(t.dtype));
}

void expect_same_shape(const TensorType& a, const TensorType& b, const char* what) {
  if (a.shape != b.shape)
    throw UserError(std::string(what) + ": shapes " + shape_str(a.shape) + " and " +
                    shape_str(b.shape) + " differ");
}

}  // namespace dagrad
