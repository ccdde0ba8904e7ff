// Keys: a YAML map read through its Schema (graph/schema.hpp). The constructor checks the whole map
// at once: every key declared (else an error at that key, suggesting the closest declared key and
// listing them all), every value of its declared kind and range, every required key present; then
// the typed readers return a value or its declared default. The defaults, ranges and meanings live
// only in the schema, which `dagrad help` and docs/yaml.md print.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "graph/attrs.hpp"
#include "graph/registry.hpp"
#include "graph/schema.hpp"

namespace dagrad {

class Keys {
 public:
  // `map` must be a map. `what` names it in the messages of the checks ("layer 'query' (MLP)");
  // empty: the key path alone.
  Keys(const ConfigNode& map, const Schema& schema);
  // An absent optional map (e.g. a task without `metrics:`): every read gives the default.
  static Keys absent(const ConfigNode& parent, const std::string& key, const Schema& schema);

  const ConfigNode& node() const { return *where_; }  // the map, or its parent when absent
  const Schema& schema() const { return *schema_; }
  bool has(const std::string& key) const;       // written in the file (or --set)
  ConfigNode at(const std::string& key) const;  // a written key; else an error naming it

  // The value, or the declared default when absent; reading a key not declared as that kind, or
  // absent with neither default nor required, is an InternalError (ask has() first).
  bool boolean(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  double number(const std::string& key) const;
  std::string string(const std::string& key) const;  // string, choice, value and column keys
  std::vector<int64_t> integers(const std::string& key) const;
  std::vector<double> numbers(const std::string& key) const;
  std::vector<std::string> strings(const std::string& key) const;
  // A nested map declared with Key::map: its Keys (absent: all defaults).
  Keys sub(const std::string& key) const;

 private:
  Keys(std::optional<ConfigNode> map, ConfigNode where, const Schema& schema);
  const Key& declared(const std::string& key, std::initializer_list<KeyKind> kinds) const;
  const AttrValue& fallback(const Key& k) const;

  std::optional<ConfigNode> map_;
  std::optional<ConfigNode> where_;
  const Schema* schema_;
};

// Checks `map`'s keys, kinds and ranges against `schema` (what the Keys constructor does).
void check_against(const ConfigNode& map, const Schema& schema);

// The keys of `map` that `schema` declares, as Attrs of the declared kinds (an op's attributes,
// an optimizer's options); other keys are skipped. Values are checked as check_against does.
Attrs attrs_from(const ConfigNode& map, const Schema& schema);

// The registered entry named by the scalar `name`, or an error at that node: unknown name, the
// closest registered one, and the list (Registry::unknown).
template <class Entry>
const Entry& lookup(const Registry<Entry>& registry, const ConfigNode& name) {
  std::string n = name.as_string();
  if (const Entry* e = registry.find(n)) return *e;
  name.fail(registry.unknown(n));
}

}  // namespace dagrad
