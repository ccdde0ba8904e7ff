// ConfigNode's readers. Loading lives in config_load.cpp.
#include "config/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "graph/error.hpp"
#include "config/config_value.hpp"

namespace dagrad {

using config_detail::ConfigValue;
using config_detail::MapEntry;
using config_detail::ScalarType;
using Kind = ConfigValue::Kind;

std::string Origin::to_string() const {
  if (line == 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

namespace {

bool all_digits(const std::string& s, size_t from) {
  if (from >= s.size()) return false;
  for (size_t i = from; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

// YAML 1.2 core float: [-+]? ( . [0-9]+ | [0-9]+ ( . [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool is_decimal_float(const std::string& s) {
  size_t i = 0, n = s.size();
  auto digits = [&] {
    size_t start = i;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i - start;
  };
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  size_t int_digits = digits();
  size_t frac_digits = 0;
  if (i < n && s[i] == '.') {
    ++i;
    frac_digits = digits();
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == n;
}

bool is_special_float(const std::string& s) {
  std::string body = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? s.substr(1) : s;
  if (body == ".inf" || body == ".Inf" || body == ".INF") return true;
  return s == ".nan" || s == ".NaN" || s == ".NAN";
}

// "an integer > 0", or just "an integer" when the range is unbounded.
std::string expected_with_range(const char* noun, const Range& range) {
  std::string out = noun;
  std::string bounds = range.describe();
  if (!bounds.empty()) out.append(" ").append(bounds);
  return out;
}

ScalarType scalar_type(const ConfigValue& v) {
  if (v.kind == Kind::null) return ScalarType::null;
  return v.quoted ? ScalarType::string : config_detail::classify_plain(v.text);
}

}  // namespace

// ---- the tree ----

namespace config_detail {

const MapEntry* ConfigValue::find(const std::string& key) const {
  for (const auto& e : entries)
    if (e.key == key) return &e;
  return nullptr;
}

MapEntry* ConfigValue::find(const std::string& key) {
  for (auto& e : entries)
    if (e.key == key) return &e;
  return nullptr;
}

ScalarType classify_plain(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return ScalarType::null;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE")
    return ScalarType::boolean;
  if (all_digits(s, (s[0] == '+' || s[0] == '-') ? 1 : 0)) return ScalarType::integer;
  if (is_decimal_float(s) || is_special_float(s)) return ScalarType::number;
  return ScalarType::string;
}

std::string describe(const ConfigValue& v) {
  switch (v.kind) {
    case Kind::null: return "null";
    case Kind::list: return "a list";
    case Kind::map: return "a map";
    case Kind::scalar: break;
  }
  switch (scalar_type(v)) {
    case ScalarType::integer: return "integer " + v.text;
    case ScalarType::number: return "number " + v.text;
    case ScalarType::boolean: return "boolean " + v.text;
    default: break;
  }
  std::string shown = v.text.size() > 40 ? v.text.substr(0, 37) + "..." : v.text;
  for (size_t p; (p = shown.find('\n')) != std::string::npos;) shown.replace(p, 1, "\\n");
  return "string '" + shown + "'";
}

}  // namespace config_detail

// ---- ConfigNode ----

ConfigNode::ConfigNode(std::shared_ptr<const ConfigValue> root, const ConfigValue* value,
                       std::string path)
    : root_(std::move(root)), value_(value), path_(std::move(path)) {
  DAGRAD_ASSERT(root_ && value_, "ConfigNode without a value");
}

const Origin& ConfigNode::origin() const { return value_->origin; }
bool ConfigNode::is_map() const { return value_->kind == Kind::map; }
bool ConfigNode::is_list() const { return value_->kind == Kind::list; }
bool ConfigNode::is_scalar() const { return value_->kind == Kind::scalar; }
bool ConfigNode::is_null() const { return value_->kind == Kind::null; }
std::string ConfigNode::describe() const { return config_detail::describe(*value_); }

void ConfigNode::fail(const std::string& message) const {
  std::string where = path_.empty() ? "" : path_ + ": ";
  throw UserError(origin().to_string() + ": " + where + message);
}

std::string ConfigNode::child_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const ConfigValue& ConfigNode::map_value() const {
  if (value_->kind != Kind::map) fail("expected a map, found " + describe());
  return *value_;
}

bool ConfigNode::has(const std::string& key) const { return map_value().find(key) != nullptr; }

std::optional<ConfigNode> ConfigNode::find(const std::string& key) const {
  const MapEntry* e = map_value().find(key);
  if (!e) return std::nullopt;
  return ConfigNode(root_, &e->value, child_path(key));
}

ConfigNode ConfigNode::at(const std::string& key) const {
  auto child = find(key);
  if (!child)
    throw UserError(origin().to_string() + ": missing required key '" + child_path(key) + "'");
  return *child;
}

std::vector<std::string> ConfigNode::keys() const {
  std::vector<std::string> out;
  for (const auto& e : map_value().entries) out.push_back(e.key);
  return out;
}

std::vector<std::pair<std::string, ConfigNode>> ConfigNode::items() const {
  std::vector<std::pair<std::string, ConfigNode>> out;
  for (const auto& e : map_value().entries)
    out.emplace_back(e.key, ConfigNode(root_, &e.value, child_path(e.key)));
  return out;
}

void ConfigNode::check_keys(const std::vector<std::string>& allowed) const {
  for (const auto& e : map_value().entries) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
    std::vector<std::string> known = allowed;
    std::sort(known.begin(), known.end());
    std::string listed = known.empty() ? "this map takes no keys" : "known keys: " + join(known);
    throw UserError(e.key_origin.to_string() + ": " + child_path(e.key) + ": unknown key '" +
                    e.key + "' (" + listed + ")" + did_you_mean(e.key, known));
  }
}

std::vector<ConfigNode> ConfigNode::elements() const {
  if (value_->kind != Kind::list) fail("expected a list, found " + describe());
  std::vector<ConfigNode> out;
  for (size_t i = 0; i < value_->items.size(); ++i)
    out.emplace_back(root_, &value_->items[i], path_ + "[" + std::to_string(i) + "]");
  return out;
}

size_t ConfigNode::size() const {
  if (value_->kind == Kind::list) return value_->items.size();
  return map_value().entries.size();
}

// ---- values ----

std::string ConfigNode::as_string() const {
  if (value_->kind != Kind::scalar) fail("expected a string, found " + describe());
  return value_->text;
}

int64_t ConfigNode::as_int(const Range& range) const {
  std::string expected = expected_with_range("an integer", range);
  if (value_->kind != Kind::scalar || scalar_type(*value_) != ScalarType::integer)
    fail("expected " + expected + ", found " + describe());
  const std::string& s = value_->text;
  int64_t v = 0;
  const char* first = s.data() + (s[0] == '+' ? 1 : 0);
  auto res = std::from_chars(first, s.data() + s.size(), v);
  if (res.ec != std::errc() || res.ptr != s.data() + s.size())
    fail("expected " + expected + ", found " + s + ", which is out of the 64-bit range");
  if (!range.contains(static_cast<double>(v))) fail("expected " + expected + ", found " + s);
  return v;
}

double ConfigNode::as_double(const Range& range) const {
  std::string expected = expected_with_range("a number", range);
  ScalarType t = scalar_type(*value_);
  if (value_->kind != Kind::scalar || (t != ScalarType::integer && t != ScalarType::number))
    fail("expected " + expected + ", found " + describe());
  const std::string& s = value_->text;
  double v = 0;
  bool negative = s[0] == '-';
  std::string body = (s[0] == '+' || s[0] == '-') ? s.substr(1) : s;
  if (is_special_float(s)) {
    v = body[1] == 'n' || body[1] == 'N' ? std::numeric_limits<double>::quiet_NaN()
                                         : std::numeric_limits<double>::infinity();
  } else {
    auto res = std::from_chars(body.data(), body.data() + body.size(), v);
    if (res.ec != std::errc() || res.ptr != body.data() + body.size())
      fail("expected " + expected + ", found " + s + ", which is out of the double range");
  }
  if (negative) v = -v;
  if (!range.contains(v)) fail("expected " + expected + ", found " + s);
  return v;
}

bool ConfigNode::as_bool() const {
  if (value_->kind != Kind::scalar || scalar_type(*value_) != ScalarType::boolean)
    fail("expected a boolean (true or false), found " + describe());
  return value_->text[0] == 't' || value_->text[0] == 'T';
}

std::vector<int64_t> ConfigNode::as_ints(const Range& each) const {
  if (value_->kind != Kind::list) fail("expected a list of integers, found " + describe());
  std::vector<int64_t> out;
  for (const auto& e : elements()) out.push_back(e.as_int(each));
  return out;
}

std::vector<double> ConfigNode::as_doubles(const Range& each) const {
  if (value_->kind != Kind::list) fail("expected a list of numbers, found " + describe());
  std::vector<double> out;
  for (const auto& e : elements()) out.push_back(e.as_double(each));
  return out;
}

std::vector<std::string> ConfigNode::as_strings() const {
  if (value_->kind != Kind::list) fail("expected a list of strings, found " + describe());
  std::vector<std::string> out;
  for (const auto& e : elements()) out.push_back(e.as_string());
  return out;
}

std::string ConfigNode::as_enum(const std::vector<std::string>& allowed) const {
  if (value_->kind == Kind::scalar &&
      std::find(allowed.begin(), allowed.end(), value_->text) != allowed.end())
    return value_->text;
  std::string hint = value_->kind == Kind::scalar ? did_you_mean(value_->text, allowed) : "";
  fail("expected one of " + join(allowed) + ", found " + describe() + hint);
}

// ---- keyed getters ----

std::string ConfigNode::get_string(const std::string& key, const std::string& def) const {
  auto c = find(key);
  return c ? c->as_string() : def;
}
std::string ConfigNode::require_string(const std::string& key) const { return at(key).as_string(); }

int64_t ConfigNode::get_int(const std::string& key, int64_t def, const Range& range) const {
  auto c = find(key);
  return c ? c->as_int(range) : def;
}
int64_t ConfigNode::require_int(const std::string& key, const Range& range) const {
  return at(key).as_int(range);
}

double ConfigNode::get_double(const std::string& key, double def, const Range& range) const {
  auto c = find(key);
  return c ? c->as_double(range) : def;
}
double ConfigNode::require_double(const std::string& key, const Range& range) const {
  return at(key).as_double(range);
}

bool ConfigNode::get_bool(const std::string& key, bool def) const {
  auto c = find(key);
  return c ? c->as_bool() : def;
}
bool ConfigNode::require_bool(const std::string& key) const { return at(key).as_bool(); }

std::vector<int64_t> ConfigNode::require_ints(const std::string& key, const Range& each) const {
  return at(key).as_ints(each);
}

std::vector<double> ConfigNode::require_doubles(const std::string& key, const Range& each) const {
  return at(key).as_doubles(each);
}

std::vector<std::string> ConfigNode::require_strings(const std::string& key) const {
  return at(key).as_strings();
}

std::string ConfigNode::get_enum(const std::string& key, const std::vector<std::string>& allowed,
                                 const std::string& def) const {
  auto c = find(key);
  return c ? c->as_enum(allowed) : def;
}
std::string ConfigNode::require_enum(const std::string& key,
                                     const std::vector<std::string>& allowed) const {
  return at(key).as_enum(allowed);
}

}  // namespace dagrad
