#include "graph/attrs.hpp"

#include <algorithm>
#include <cmath>

#include "graph/error.hpp"
#include "graph/names.hpp"

namespace dagrad {
namespace {

const char* type_name(const AttrValue& v) {
  switch (v.index()) {
    case 0: return "boolean";
    case 1: return "integer";
    case 2: return "number";
    case 3: return "string";
    case 4: return "list of integers";
    default: return "list of numbers";
  }
}

}  // namespace

void Attrs::apply(const Schema& schema, const std::string& where) {
  for (auto& entry : values_) {
    // Named references, not a structured binding: clang 14 cannot capture bindings in the lambdas below.
    const std::string& key = entry.first;
    auto& v = entry.second;
    const Key* k = schema.find(key);
    if (!k) {
      std::vector<std::string> known = schema.names();
      throw UserError(where + ": unknown attribute '" + key + "'" + did_you_mean(key, known) +
                      (known.empty() ? " (it takes no attributes)" : " (attributes: " + join(known) + ")"));
    }
    auto wrong = [&]() {
      throw UserError(where + ": attribute '" + key + "': expected " + k->kind_text() + ", got " + type_name(v) +
                      " " + value_str(v));
    };
    auto in_range = [&](double x) {
      if (!std::isfinite(x) || !k->range().contains(x)) wrong();
    };
    switch (k->kind()) {
      case KeyKind::Bool:
        if (!std::holds_alternative<bool>(v)) wrong();
        break;
      case KeyKind::Int:
        if (auto* i = std::get_if<int64_t>(&v)) in_range(static_cast<double>(*i));
        else wrong();
        break;
      case KeyKind::Number:
        if (auto* i = std::get_if<int64_t>(&v)) v = static_cast<double>(*i);
        if (auto* d = std::get_if<double>(&v)) in_range(*d);
        else wrong();
        break;
      case KeyKind::String:
      case KeyKind::Column:
      case KeyKind::Value:
        if (!std::holds_alternative<std::string>(v)) wrong();
        break;
      case KeyKind::Choice: {
        auto* s = std::get_if<std::string>(&v);
        if (!s) wrong();
        const auto& c = k->choices();
        if (std::find(c.begin(), c.end(), *s) == c.end())
          throw UserError(where + ": attribute '" + key + "': expected " + k->kind_text() + ", got '" + *s + "'" +
                          did_you_mean(*s, c));
        break;
      }
      case KeyKind::Ints:
        if (auto* i = std::get_if<int64_t>(&v)) v = std::vector<int64_t>{*i};
        if (auto* l = std::get_if<std::vector<int64_t>>(&v)) {
          for (int64_t x : *l) in_range(static_cast<double>(x));
        } else {
          wrong();
        }
        break;
      case KeyKind::Numbers:
        if (auto* l = std::get_if<std::vector<int64_t>>(&v)) v = std::vector<double>(l->begin(), l->end());
        if (auto* l = std::get_if<std::vector<double>>(&v)) {
          for (double x : *l) in_range(x);
        } else {
          wrong();
        }
        break;
      default:
        throw InternalError(where + ": attribute '" + key + "' is declared as " + k->kind_text() +
                            ", which attributes cannot hold");
    }
  }
  for (const auto& k : schema.keys()) {
    if (has(k.name())) continue;
    if (k.is_required())
      throw UserError(where + " needs the attribute '" + k.name() + "' (" + k.kind_text() + ": " + k.doc() + ")");
    if (k.default_value()) values_[k.name()] = *k.default_value();
  }
}

template <class T>
const T& Attrs::get(const std::string& key, const char* kind) const {
  auto it = values_.find(key);
  DAGRAD_ASSERT(it != values_.end(), "attribute '" + key + "' read but not set (declare it with a default, or ask has())");
  const T* v = std::get_if<T>(&it->second);
  DAGRAD_ASSERT(v, "attribute '" + key + "' read as " + kind + " but holds a " + type_name(it->second));
  return *v;
}

bool Attrs::get_bool(const std::string& key) const { return get<bool>(key, "a boolean"); }
int64_t Attrs::get_int(const std::string& key) const { return get<int64_t>(key, "an integer"); }
double Attrs::get_double(const std::string& key) const {
  auto it = values_.find(key);
  if (it != values_.end())
    if (auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  return get<double>(key, "a number");
}
std::string Attrs::get_string(const std::string& key) const { return get<std::string>(key, "a string"); }
std::vector<int64_t> Attrs::get_ints(const std::string& key) const {
  return get<std::vector<int64_t>>(key, "a list of integers");
}
std::vector<double> Attrs::get_doubles(const std::string& key) const {
  return get<std::vector<double>>(key, "a list of numbers");
}

std::string Attrs::to_string() const {
  std::string s = "{";
  for (const auto& [k, v] : values_) s += (s.size() > 1 ? ", " : "") + k + ": " + value_str(v);
  return s + "}";
}

}  // namespace dagrad
