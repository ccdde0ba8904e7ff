// The YAML reader under config loading: text to the origin-carrying tree (config_value.hpp),
// straight from yaml-cpp's parse events and held to the limits of graph/limits.hpp (nesting, the
// length of one scalar, the values and bytes of the whole after aliases are expanded). Includes,
// merging and --set overrides are config_load.cpp's.
#pragma once
#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "config/config_value.hpp"

namespace YAML {
class Mark;
}

namespace dagrad::config_detail {

// What one configuration may hold in all (its files, aliases expanded, or one --set value):
// counted while it is built, against the limits of graph/limits.hpp.
struct Budget {
  int64_t values = 0, bytes = 0;
  int64_t kept_values = 0, kept_bytes = 0;  // the copies kept under anchors for their aliases
};

// Parses YAML text (a file's, or a --set value's) into our tree: its one document's value, null
// when it holds none. `name` stands for the file in messages. UserError naming the file, line and
// column for bad syntax, text that is not UTF-8, or a limit passed.
ConfigValue parse_yaml(const std::string& text, const std::string& name, Budget& budget);

// Shared by the reader and the loader.
[[noreturn]] void fail_at(const Origin& o, const std::string& message);
Origin origin_of(const std::string& file, const YAML::Mark& m);  // yaml-cpp's 0-based mark, 1-based
std::string child_path(const std::string& path, const std::string& key);  // "a.b"

}  // namespace dagrad::config_detail
