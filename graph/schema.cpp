#include "graph/schema.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "graph/error.hpp"
#include "graph/names.hpp"

namespace dagrad {
namespace {

std::string format_number(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

}  // namespace

// ---- Range ----

Range Range::greater_than(double v) {
  Range r;
  r.lo_ = v;
  r.lo_open_ = true;
  return r;
}
Range Range::at_least(double v) {
  Range r;
  r.lo_ = v;
  return r;
}
Range Range::less_than(double v) {
  Range r;
  r.hi_ = v;
  r.hi_open_ = true;
  return r;
}
Range Range::at_most(double v) {
  Range r;
  r.hi_ = v;
  return r;
}

Range Range::operator&(const Range& other) const {
  Range r = *this;
  if (other.lo_ && (!r.lo_ || *other.lo_ > *r.lo_ || (*other.lo_ == *r.lo_ && other.lo_open_))) {
    r.lo_ = other.lo_;
    r.lo_open_ = other.lo_open_;
  }
  if (other.hi_ && (!r.hi_ || *other.hi_ < *r.hi_ || (*other.hi_ == *r.hi_ && other.hi_open_))) {
    r.hi_ = other.hi_;
    r.hi_open_ = other.hi_open_;
  }
  return r;
}

bool Range::contains(double v) const {
  if (lo_ && !(lo_open_ ? v > *lo_ : v >= *lo_)) return false;
  if (hi_ && !(hi_open_ ? v < *hi_ : v <= *hi_)) return false;
  return true;
}

std::string Range::describe() const {
  if (lo_ && hi_)
    return std::string("in ") + (lo_open_ ? "(" : "[") + format_number(*lo_) + ", " + format_number(*hi_) +
           (hi_open_ ? ")" : "]");
  if (lo_) return (lo_open_ ? "> " : ">= ") + format_number(*lo_);
  if (hi_) return (hi_open_ ? "< " : "<= ") + format_number(*hi_);
  return "";
}

// ---- values ----

std::string value_str(const AttrValue& v) {
  std::ostringstream os;
  std::visit([&](const auto& x) {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, bool>) os << (x ? "true" : "false");
    else if constexpr (std::is_same_v<T, std::string>) os << x;
    else if constexpr (std::is_same_v<T, int64_t>) os << x;
    else if constexpr (std::is_same_v<T, double>) os << format_number(x);
    else {
      os << '[';
      for (size_t i = 0; i < x.size(); ++i) {
        if (i) os << ", ";
        if constexpr (std::is_same_v<T, std::vector<double>>) os << format_number(x[i]);
        else os << x[i];
      }
      os << ']';
    }
  }, v);
  return os.str();
}

// ---- Key ----

Key Key::choice(std::string name, std::vector<std::string> choices, std::string doc) {
  Key k(std::move(name), KeyKind::Choice, std::move(doc));
  DAGRAD_ASSERT(!choices.empty(), "key '" + k.name_ + "': a choice needs choices");
  k.choices_ = std::move(choices);
  return k;
}

Key Key::any(std::string name, std::string kind_text, std::string doc) {
  Key k(std::move(name), KeyKind::Any, std::move(doc));
  k.any_text_ = std::move(kind_text);
  return k;
}

Key Key::map(std::string name, Schema keys, std::string doc) {
  Key k(std::move(name), KeyKind::Map, std::move(doc));
  k.sub_ = std::make_shared<const Schema>(std::move(keys));
  return k;
}

Key Key::typed_map(std::string name, std::string registry, std::string doc) {
  Key k(std::move(name), KeyKind::Map, std::move(doc));
  k.registry_ = std::move(registry);
  return k;
}

Key& Key::set_default(AttrValue def) {
  // Normalise to the key's kind, so that readers find the type they ask for.
  auto bad = [&] {
    throw InternalError("key '" + name_ + "': default " + value_str(def) + " does not fit " + kind_text());
  };
  switch (kind_) {
    case KeyKind::Bool:
      if (!std::holds_alternative<bool>(def)) bad();
      break;
    case KeyKind::Int:
      if (!std::holds_alternative<int64_t>(def)) bad();
      break;
    case KeyKind::Number:
      if (auto* i = std::get_if<int64_t>(&def)) def = static_cast<double>(*i);
      if (!std::holds_alternative<double>(def)) bad();
      break;
    case KeyKind::String:
    case KeyKind::Column:
    case KeyKind::Value:
      if (!std::holds_alternative<std::string>(def)) bad();
      break;
    case KeyKind::Choice: {
      auto* s = std::get_if<std::string>(&def);
      if (!s || std::find(choices_.begin(), choices_.end(), *s) == choices_.end()) bad();
      break;
    }
    case KeyKind::Ints:
      if (!std::holds_alternative<std::vector<int64_t>>(def)) bad();
      break;
    case KeyKind::Numbers:
      if (auto* v = std::get_if<std::vector<int64_t>>(&def)) def = std::vector<double>(v->begin(), v->end());
      if (!std::holds_alternative<std::vector<double>>(def)) bad();
      break;
    default:
      bad();
  }
  def_ = std::move(def);
  return *this;
}

std::string Key::kind_text() const {
  std::string r = range_.describe();
  auto ranged = [&](std::string noun) { return r.empty() ? noun : noun + " " + r; };
  switch (kind_) {
    case KeyKind::Bool: return "boolean";
    case KeyKind::Int: return ranged("integer");
    case KeyKind::Number: return ranged("number");
    case KeyKind::String: return "string";
    case KeyKind::Choice: return "one of: " + join(choices_);
    case KeyKind::Ints: return r.empty() ? "list of integers" : "list of integers, each " + r;
    case KeyKind::Numbers: return r.empty() ? "list of numbers" : "list of numbers, each " + r;
    case KeyKind::Strings: return "list of strings";
    case KeyKind::Value: return "value name";
    case KeyKind::Values: return "list of value names";
    case KeyKind::Column: return "column name";
    case KeyKind::Map: return registry_.empty() ? "map" : "map: a registered " + registry_ + " (its type and keys)";
    case KeyKind::Any: return any_text_;
  }
  return "";
}

std::string Key::default_text() const {
  if (required_) return "required";
  if (!default_text_.empty()) return default_text_;
  if (def_) {
    std::string s = value_str(*def_);
    return s.empty() ? "\"\"" : s;
  }
  return "";
}

// ---- Schema ----

Schema::Schema(std::initializer_list<Key> keys) {
  for (const auto& k : keys) add(k);
}

Schema& Schema::add(Key k) {
  DAGRAD_ASSERT(!find(k.name()), "key '" + k.name() + "' declared twice in one schema");
  keys_.push_back(std::move(k));
  return *this;
}

Schema& Schema::then(const Schema& more) {
  for (const auto& k : more.keys()) add(k);
  return *this;
}

const Key* Schema::find(std::string_view name) const {
  for (const auto& k : keys_)
    if (k.name() == name) return &k;
  return nullptr;
}

std::vector<std::string> Schema::names() const {
  std::vector<std::string> n;
  for (const auto& k : keys_) n.push_back(k.name());
  return n;
}

}  // namespace dagrad
