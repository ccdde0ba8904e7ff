// The tree behind ConfigNode: plain values with their origins, built by config_load.cpp (parse,
// include, merge, override) and read by config.cpp. Not for use outside models/config*.
#pragma once
#include <string>
#include <vector>

#include "config/config.hpp"

namespace dagrad::config_detail {

struct MapEntry;

struct ConfigValue {
  enum class Kind { null, scalar, list, map };
  Kind kind = Kind::null;
  std::string text;              // scalar: as written, without quotes
  bool quoted = false;           // scalar written quoted, as a block literal or tagged !!str
  std::vector<ConfigValue> items;  // list
  std::vector<MapEntry> entries;   // map, in file order; keys are unique
  Origin origin;

  const MapEntry* find(const std::string& key) const;
  MapEntry* find(const std::string& key);
};

struct MapEntry {
  std::string key;
  Origin key_origin;
  ConfigValue value;
};

// What a plain (unquoted) scalar means under the YAML 1.2 core schema.
enum class ScalarType { string, integer, number, boolean, null };
ScalarType classify_plain(const std::string& text);

// "integer 5", "number 0.5", "boolean true", "string 'abc'", "null", "a map", "a list".
std::string describe(const ConfigValue& v);

}  // namespace dagrad::config_detail
