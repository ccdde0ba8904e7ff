#include "config/keys.hpp"

#include "graph/error.hpp"
#include "graph/names.hpp"

namespace dagrad {

void check_against(const ConfigNode& map, const Schema& schema) {
  if (!map.is_map()) map.fail("expected a map, found " + map.describe());
  map.check_keys(schema.names());
  for (const auto& [name, v] : map.items()) {
    const Key& k = *schema.find(name);
    switch (k.kind()) {
      case KeyKind::Bool: v.as_bool(); break;
      case KeyKind::Int: v.as_int(k.range()); break;
      case KeyKind::Number: v.as_double(k.range()); break;
      case KeyKind::String:
      case KeyKind::Value:
      case KeyKind::Column:
        if (!v.is_scalar() || v.is_null()) v.fail("expected " + k.kind_text() + ", found " + v.describe());
        break;
      case KeyKind::Choice: v.as_enum(k.choices()); break;
      case KeyKind::Ints: v.as_ints(k.range()); break;
      case KeyKind::Numbers: v.as_doubles(k.range()); break;
      case KeyKind::Strings: v.as_strings(); break;
      case KeyKind::Values:
        if (!v.is_list()) v.fail("expected a list of value names, found " + v.describe());
        for (const auto& e : v.elements())
          if (!e.is_scalar() || e.is_null()) e.fail("expected a value name, found " + e.describe());
        break;
      case KeyKind::Map:
        if (!v.is_map()) v.fail("expected a map, found " + v.describe());
        if (k.sub()) check_against(v, *k.sub());
        break;
      case KeyKind::Any: break;
    }
  }
  for (const auto& k : schema.keys())
    if (k.is_required() && !map.has(k.name()))
      map.fail("missing key '" + k.name() + "' (" + k.kind_text() + ": " + k.doc() + ")");
}

Attrs attrs_from(const ConfigNode& map, const Schema& schema) {
  Attrs attrs;
  for (const auto& [key, v] : map.items()) {
    const Key* k = schema.find(key);
    if (!k) continue;
    switch (k->kind()) {
      case KeyKind::Bool: attrs.set(key, v.as_bool()); break;
      case KeyKind::Int: attrs.set(key, v.as_int(k->range())); break;
      case KeyKind::Number: attrs.set(key, v.as_double(k->range())); break;
      case KeyKind::Ints: attrs.set(key, v.as_ints(k->range())); break;
      case KeyKind::Numbers: attrs.set(key, v.as_doubles(k->range())); break;
      case KeyKind::Choice: attrs.set(key, v.as_enum(k->choices())); break;
      case KeyKind::String:
      case KeyKind::Value:
      case KeyKind::Column: attrs.set(key, v.as_string()); break;
      default: v.fail("expected " + k->kind_text() + ", which an attribute cannot hold");
    }
  }
  return attrs;
}

Keys::Keys(const ConfigNode& map, const Schema& schema) : Keys(std::optional<ConfigNode>(map), map, schema) {}

Keys::Keys(std::optional<ConfigNode> map, ConfigNode where, const Schema& schema)
    : map_(std::move(map)), where_(std::move(where)), schema_(&schema) {
  if (map_) check_against(*map_, schema);
}

Keys Keys::absent(const ConfigNode& parent, const std::string& key, const Schema& schema) {
  for (const auto& k : schema.keys())
    if (k.is_required()) parent.fail("missing key '" + key + "' (a map with " + k.name() + ")");
  return Keys(std::nullopt, parent, schema);
}

bool Keys::has(const std::string& key) const {
  DAGRAD_ASSERT(schema_->find(key), "key '" + key + "' is not declared");
  return map_ && map_->has(key);
}

ConfigNode Keys::at(const std::string& key) const {
  DAGRAD_ASSERT(schema_->find(key), "key '" + key + "' is not declared");
  if (!map_) where_->fail("missing key '" + key + "'");
  return map_->at(key);
}

const Key& Keys::declared(const std::string& key, std::initializer_list<KeyKind> kinds) const {
  const Key* k = schema_->find(key);
  DAGRAD_ASSERT(k, "key '" + key + "' is read but not declared in its schema");
  bool ok = false;
  for (KeyKind kind : kinds) ok = ok || k->kind() == kind;
  DAGRAD_ASSERT(ok, "key '" + key + "' is read as another kind than its declared " + k->kind_text());
  return *k;
}

const AttrValue& Keys::fallback(const Key& k) const {
  DAGRAD_ASSERT(k.default_value(), "key '" + k.name() + "' has no default: ask has() before reading it");
  return *k.default_value();
}

bool Keys::boolean(const std::string& key) const {
  const Key& k = declared(key, {KeyKind::Bool});
  return has(key) ? map_->at(key).as_bool() : std::get<bool>(fallback(k));
}

int64_t Keys::integer(const std::string& key) const {
  const Key& k = declared(key, {KeyKind::Int});
  return has(key) ? map_->at(key).as_int(k.range()) : std::get<int64_t>(fallback(k));
}

double Keys::number(const std::string& key) const {
  const Key& k = declared(key, {KeyKind::Number});
  return has(key) ? map_->at(key).as_double(k.range()) : std::get<double>(fallback(k));
}

std::string Keys::string(const std::string& key) const {
  const Key& k = declared(key, {KeyKind::String, KeyKind::Choice, KeyKind::Value, KeyKind::Column});
  if (!has(key)) return std::get<std::string>(fallback(k));
  ConfigNode v = map_->at(key);
  return k.kind() == KeyKind::Choice ? v.as_enum(k.choices()) : v.as_string();
}

std::vector<int64_t> Keys::integers(const std::string& key) const {
  const Key& k = declared(key, {KeyKind::Ints});
  return has(key) ? map_->at(key).as_ints(k.range()) : std::get<std::vector<int64_t>>(fallback(k));
}

std::vector<double> Keys::numbers(const std::string& key) const {
  const Key& k = declared(key, {KeyKind::Numbers});
  return has(key) ? map_->at(key).as_doubles(k.range()) : std::get<std::vector<double>>(fallback(k));
}

std::vector<std::string> Keys::strings(const std::string& key) const {
  declared(key, {KeyKind::Strings, KeyKind::Values});
  DAGRAD_ASSERT(has(key), "key '" + key + "' (a list) read while absent: ask has() first");
  return map_->at(key).as_strings();
}

Keys Keys::sub(const std::string& key) const {
  const Key& k = declared(key, {KeyKind::Map});
  DAGRAD_ASSERT(k.sub(), "key '" + key + "' is a map without a declared schema");
  if (has(key)) return Keys(map_->at(key), *k.sub());
  return absent(*where_, key, *k.sub());
}

}  // namespace dagrad
