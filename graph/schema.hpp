// Schemas: what every registered thing (op, layer, preprocessing layer, task, optimizer, metric,
// data source) and every section of the model and training files accepts, declared once where it
// is read. A Schema lists Keys: a name, a kind (boolean, integer, number, string, one of several
// words, lists, the name of a model value or of a table column, a nested map), the allowed range,
// the default or "required", and one line of meaning. The YAML readers (config/keys.hpp) and the
// op attributes (graph/attrs.hpp) check values against it and take defaults from it, so code never
// carries a second copy of a default; `dagrad help TYPE` and docs/yaml.md print it.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dagrad {

// The values a number must lie in: Range::greater_than(0), Range::at_least(1) & Range::at_most(10).
// A default Range accepts every value.
class Range {
 public:
  Range() = default;
  static Range greater_than(double v);
  static Range at_least(double v);
  static Range less_than(double v);
  static Range at_most(double v);

  Range operator&(const Range& other) const;  // both must hold
  bool contains(double v) const;
  bool bounded() const { return lo_ || hi_; }
  std::string describe() const;  // "> 0", ">= 1", "in (0, 1]"; empty when unbounded

 private:
  std::optional<double> lo_, hi_;
  bool lo_open_ = false, hi_open_ = false;
};

// A default value (or an op attribute's value).
using AttrValue = std::variant<bool, int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;
std::string value_str(const AttrValue& v);  // "true", "0.1", "relu", "[1, 5]"

enum class KeyKind {
  Bool,
  Int,
  Number,
  String,
  Choice,   // one of the listed words
  Ints,
  Numbers,
  Strings,
  Value,    // the name of a value of the model (an input column or a layer above)
  Values,   // a list of such names
  Column,   // the name of a table column
  Map,      // a nested map: its own schema, or a registered thing named by its `type`
  Any,      // anything: the reader checks it (e.g. a map of column names to types)
};

class Schema;

class Key {
 public:
  static Key boolean(std::string name, std::string doc) { return Key(std::move(name), KeyKind::Bool, std::move(doc)); }
  static Key integer(std::string name, std::string doc) { return Key(std::move(name), KeyKind::Int, std::move(doc)); }
  static Key number(std::string name, std::string doc) { return Key(std::move(name), KeyKind::Number, std::move(doc)); }
  static Key string(std::string name, std::string doc) { return Key(std::move(name), KeyKind::String, std::move(doc)); }
  static Key choice(std::string name, std::vector<std::string> choices, std::string doc);
  static Key integers(std::string name, std::string doc) { return Key(std::move(name), KeyKind::Ints, std::move(doc)); }
  static Key numbers(std::string name, std::string doc) { return Key(std::move(name), KeyKind::Numbers, std::move(doc)); }
  static Key strings(std::string name, std::string doc) { return Key(std::move(name), KeyKind::Strings, std::move(doc)); }
  static Key value(std::string name, std::string doc) { return Key(std::move(name), KeyKind::Value, std::move(doc)); }
  static Key values(std::string name, std::string doc) { return Key(std::move(name), KeyKind::Values, std::move(doc)); }
  static Key column(std::string name, std::string doc) { return Key(std::move(name), KeyKind::Column, std::move(doc)); }
  static Key any(std::string name, std::string kind_text, std::string doc);
  // A nested map with its own keys.
  static Key map(std::string name, Schema keys, std::string doc);
  // A nested map whose keys are those of the registered `registry` thing its `type` names
  // (fit.optimizer: the optimizer's).
  static Key typed_map(std::string name, std::string registry, std::string doc);

  // Modifiers. Without required() or a default, an absent key means "not set" (the reader asks
  // has()); `shown` describes a default computed at run time, for the docs.
  Key& required() { required_ = true; return *this; }
  Key& otherwise(bool def) { return set_default(AttrValue(def)); }
  Key& otherwise(int def) { return set_default(AttrValue(int64_t{def})); }
  Key& otherwise(int64_t def) { return set_default(AttrValue(def)); }
  Key& otherwise(double def) { return set_default(AttrValue(def)); }
  Key& otherwise(const char* def) { return set_default(AttrValue(std::string(def))); }
  Key& otherwise(const std::string& def) { return set_default(AttrValue(def)); }
  Key& otherwise(const std::vector<int64_t>& def) { return set_default(AttrValue(def)); }
  Key& otherwise(const std::vector<double>& def) { return set_default(AttrValue(def)); }
  Key& otherwise_text(std::string shown) { default_text_ = std::move(shown); return *this; }
  Key& in(Range r) { range_ = r; return *this; }  // numbers, and each element of number lists

  const std::string& name() const { return name_; }
  KeyKind kind() const { return kind_; }
  const std::string& doc() const { return doc_; }
  bool is_required() const { return required_; }
  const std::optional<AttrValue>& default_value() const { return def_; }
  const Range& range() const { return range_; }
  const std::vector<std::string>& choices() const { return choices_; }
  const Schema* sub() const { return sub_.get(); }
  const std::string& registry() const { return registry_; }

  std::string kind_text() const;     // "integer > 0", "one of: linear, relu", "list of value names"
  std::string default_text() const;  // "required", "0.1", "" (not set)

 private:
  Key& set_default(AttrValue def);
  Key(std::string name, KeyKind kind, std::string doc) : name_(std::move(name)), kind_(kind), doc_(std::move(doc)) {}
  std::string name_;
  KeyKind kind_;
  std::string doc_;
  bool required_ = false;
  std::optional<AttrValue> def_;
  std::string default_text_;
  Range range_;
  std::vector<std::string> choices_;
  std::shared_ptr<const Schema> sub_;
  std::string registry_;
  std::string any_text_;
};

class Schema {
 public:
  Schema() = default;
  Schema(std::initializer_list<Key> keys);
  // A key may be declared once (InternalError otherwise); `then` appends another schema's keys.
  Schema& add(Key k);
  Schema& then(const Schema& more);
  const Key* find(std::string_view name) const;
  const std::vector<Key>& keys() const { return keys_; }
  std::vector<std::string> names() const;  // declaration order
  bool empty() const { return keys_.empty(); }

 private:
  std::vector<Key> keys_;
};

}  // namespace dagrad
