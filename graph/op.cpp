#include <algorithm>

#include "graph/op.hpp"

namespace dagrad {

OpRegistry& OpRegistry::instance() {
  static OpRegistry registry;
  return registry;
}

bool OpRegistry::add(OpInfo info) {
  DAGRAD_ASSERT(!contains(info.name), "op '" + info.name + "' registered twice");
  ops_.push_back(std::move(info));
  return true;
}

bool OpRegistry::contains(const std::string& name) const {
  return std::any_of(ops_.begin(), ops_.end(), [&](const OpInfo& o) { return o.name == name; });
}

const OpInfo& OpRegistry::find(const std::string& name) const {
  for (const auto& o : ops_)
    if (o.name == name) return o;
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw UserError("unknown op '" + name + "' (registered: " + known + ")");
}

std::vector<std::string> OpRegistry::names() const {
  std::vector<std::string> n;
  for (const auto& o : ops_) n.push_back(o.name);
  std::sort(n.begin(), n.end());
  return n;
}

std::unique_ptr<Op> OpRegistry::make(const std::string& name, const Attrs& attrs) const {
  auto op = find(name).make(attrs);
  attrs.check_all_used("op " + name);
  return op;
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
