#include "graph/attrs.hpp"

#include <sstream>

#include "graph/error.hpp"

namespace dagrad {
namespace {

const char* type_name(const AttrValue& v) {
  switch (v.index()) {
    case 0: return "bool";
    case 1: return "integer";
    case 2: return "number";
    case 3: return "string";
    case 4: return "list of integers";
    default: return "list of numbers";
  }
}

std::string value_str(const AttrValue& v) {
  std::ostringstream os;
  std::visit([&](const auto& x) {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, bool>) os << (x ? "true" : "false");
    else if constexpr (std::is_same_v<T, std::string>) os << x;
    else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>) os << x;
    else {
      os << '[';
      for (size_t i = 0; i < x.size(); ++i) os << (i ? ", " : "") << x[i];
      os << ']';
    }
  }, v);
  return os.str();
}

[[noreturn]] void wrong_type(const std::string& key, const AttrValue& v, const char* expected) {
  throw UserError("attribute '" + key + "': expected " + expected + ", got " + type_name(v) + " " +
                  value_str(v));
}

}  // namespace

bool Attrs::get_bool(const std::string& key, bool def) const {
  used_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return def;
  if (auto* b = std::get_if<bool>(&it->second)) return *b;
  wrong_type(key, it->second, "true or false");
}

int64_t Attrs::get_int(const std::string& key, int64_t def) const {
  used_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return def;
  if (auto* i = std::get_if<int64_t>(&it->second)) return *i;
  wrong_type(key, it->second, "an integer");
}

double Attrs::get_double(const std::string& key, double def) const {
  used_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return def;
  if (auto* d = std::get_if<double>(&it->second)) return *d;
  if (auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  wrong_type(key, it->second, "a number");
}

std::string Attrs::get_string(const std::string& key, const std::string& def) const {
  used_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return def;
  if (auto* s = std::get_if<std::string>(&it->second)) return *s;
  wrong_type(key, it->second, "a string");
}

std::vector<int64_t> Attrs::get_ints(const std::string& key, std::vector<int64_t> def) const {
  used_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return def;
  if (auto* v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
  if (auto* i = std::get_if<int64_t>(&it->second)) return {*i};
  wrong_type(key, it->second, "a list of integers");
}

void Attrs::check_all_used(const std::string& where) const {
  for (const auto& [k, v] : values_) {
    if (used_.count(k)) continue;
    std::string known;
    for (const auto& u : used_) known += (known.empty() ? "" : ", ") + u;
    throw UserError(where + ": unknown attribute '" + k + "' (known: " +
                    (known.empty() ? "none" : known) + ")");
  }
}

std::string Attrs::to_string() const {
  std::string s = "{";
  for (const auto& [k, v] : values_) s += (s.size() > 1 ? ", " : "") + k + ": " + value_str(v);
  return s + "}";
}

}  // namespace dagrad
