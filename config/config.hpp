// The YAML configuration layer: load model and training files (with includes and --set overrides)
// and read them through ConfigNode, whose every error is a UserError starting with "FILE:LINE:COL: "
// and naming the key path, what was expected, what was found and the allowed alternatives.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "graph/names.hpp"   // closest_match, did_you_mean, join
#include "graph/schema.hpp"  // Range

namespace dagrad {

namespace config_detail {
struct ConfigValue;
}

// Where a value was written. line and column are 1-based; line == 0 marks a value that came from
// the command line, whose `file` is then the whole override ("--set fit.epochs=5").
struct Origin {
  std::string file;
  int line = 0;
  int column = 0;

  std::string to_string() const;  // "a.yaml:3:11", or "--set fit.epochs=5"
};

// A read-only view of one configuration value, its origin and its key path ("fit.optimizer.lr",
// "model.layers[2].units"; empty for the top level). Cheap to copy; keeps the loaded tree alive.
//
// Contract of the typed readers: the YAML type must match. A quoted scalar is always a string;
// an integer is accepted where a number is asked for; booleans are true/false (any case form of
// YAML 1.2); an explicit null is a value like any other, never "use the default". Getters with a
// default return it only when the key is absent.
class ConfigNode {
 public:
  ConfigNode(std::shared_ptr<const config_detail::ConfigValue> root,
             const config_detail::ConfigValue* value, std::string path);

  const Origin& origin() const;
  const std::string& path() const { return path_; }
  bool is_map() const;
  bool is_list() const;
  bool is_scalar() const;
  bool is_null() const;
  std::string describe() const;  // "integer 5", "string 'adam'", "a map", "null", ...

  // Throws UserError "ORIGIN: PATH: message", for checks only the caller knows how to make.
  [[noreturn]] void fail(const std::string& message) const;

  // Maps. Each throws if this node is not a map.
  bool has(const std::string& key) const;
  std::optional<ConfigNode> find(const std::string& key) const;
  ConfigNode at(const std::string& key) const;  // a missing key is an error at this map
  std::vector<std::string> keys() const;        // file order
  std::vector<std::pair<std::string, ConfigNode>> items() const;  // file order
  // Rejects the first key not in `allowed`, at that key's position, listing the known keys and
  // suggesting the closest one.
  void check_keys(const std::vector<std::string>& allowed) const;

  // Lists. elements() throws if this node is not a list; size() counts a map's or a list's items.
  std::vector<ConfigNode> elements() const;
  size_t size() const;

  // This node as a value.
  std::string as_string() const;  // any scalar, as written
  int64_t as_int(const Range& range = {}) const;
  double as_double(const Range& range = {}) const;
  bool as_bool() const;
  std::vector<int64_t> as_ints(const Range& each = {}) const;
  std::vector<double> as_doubles(const Range& each = {}) const;
  std::vector<std::string> as_strings() const;
  std::string as_enum(const std::vector<std::string>& allowed) const;

  // A key of this map as a value: get_* return `def` when the key is absent, require_* fail.
  std::string get_string(const std::string& key, const std::string& def) const;
  std::string require_string(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t def, const Range& range = {}) const;
  int64_t require_int(const std::string& key, const Range& range = {}) const;
  double get_double(const std::string& key, double def, const Range& range = {}) const;
  double require_double(const std::string& key, const Range& range = {}) const;
  bool get_bool(const std::string& key, bool def) const;
  bool require_bool(const std::string& key) const;
  std::vector<int64_t> require_ints(const std::string& key, const Range& each = {}) const;
  std::vector<double> require_doubles(const std::string& key, const Range& each = {}) const;
  std::vector<std::string> require_strings(const std::string& key) const;
  std::string get_enum(const std::string& key, const std::vector<std::string>& allowed,
                       const std::string& def) const;
  std::string require_enum(const std::string& key, const std::vector<std::string>& allowed) const;

 private:
  friend std::string to_yaml(const ConfigNode& node);
  const config_detail::ConfigValue& map_value() const;  // this value, or fail "expected a map"
  std::string child_path(const std::string& key) const;

  std::shared_ptr<const config_detail::ConfigValue> root_;
  const config_detail::ConfigValue* value_;
  std::string path_;
};

// Loads a configuration file and returns its top-level map.
// - A top-level `include: FILE` (or a list of files), resolved relative to the including file, is
//   loaded first, in order; the including file's keys then deep-merge over it: maps merge key by
//   key, scalars and lists replace. Every value keeps the origin of the file that wrote it.
// - `overrides` are "key.path=value" strings (the CLI's --set), applied in order after merging;
//   the value is read as YAML ("5", "0.1", "[64, 32]", "{units: 8}"). A map value merges into an
//   existing map; a key that does not exist is added (with the override as its origin, so that
//   "--set fit.epochz=3" is what an error about it quotes). Which keys are allowed is the schema's
//   business (config/keys.hpp), checked where each map is read.
ConfigNode load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// The same for text held in memory; `name` stands for the file in messages and includes are
// resolved relative to its directory.
ConfigNode parse_config(const std::string& text, const std::string& name,
                        const std::vector<std::string>& overrides = {});

// The value as YAML text that load_config reads back to the same values and types: the effective
// configuration, for saving next to results.
std::string to_yaml(const ConfigNode& node);

}  // namespace dagrad
