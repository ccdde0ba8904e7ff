// Loading a configuration: files (config/yaml_parse reads their YAML) and their includes with deep
// merge, then --set overrides. Emitting it back as YAML: config/config_emit.cpp.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>

#include "graph/error.hpp"
#include "graph/files.hpp"
#include "graph/limits.hpp"
#include "config/config.hpp"
#include "graph/names.hpp"
#include "config/config_value.hpp"
#include "config/yaml_parse.hpp"

namespace dagrad {

using config_detail::ConfigValue;
using config_detail::MapEntry;
using config_detail::Budget;
using config_detail::child_path;
using config_detail::fail_at;
using config_detail::origin_of;
using config_detail::parse_yaml;
using Kind = ConfigValue::Kind;
namespace fs = std::filesystem;

namespace {

// Parses one file's text; the top level must be a single map.
ConfigValue parse_document(const std::string& text, const std::string& name, Budget& budget) {
  ConfigValue root = parse_yaml(text, name, budget);
  if (root.kind == Kind::null) fail_at({name, 1, 1}, "the file holds no settings; expected a map at the top level");
  if (root.kind != Kind::map)
    fail_at(root.origin, "expected a map of settings at the top level, found " + describe(root));
  return root;
}

// Deep merge: maps merge key by key (new keys keep their order after the old ones), anything else
// in `over` replaces what is in `base`. Each value keeps its own origin.
ConfigValue merge(ConfigValue base, ConfigValue over) {
  if (base.kind != Kind::map || over.kind != Kind::map) return over;
  for (auto& e : over.entries) {
    if (MapEntry* old = base.find(e.key)) {
      old->value = merge(std::move(old->value), std::move(e.value));
      old->key_origin = e.key_origin;
    } else {
      base.entries.push_back(std::move(e));
    }
  }
  base.origin = over.origin;
  return base;
}

// Loads files and their includes, remembering the chain of files being loaded to catch loops. One
// Budget counts the values of every file it loads, so that the limits hold for the whole.
class Loader {
 public:
  ConfigValue load_file(const std::string& name, const Origin* included_at) {
    fs::path canonical = canonical_of(name);
    for (size_t i = 0; i < chain_.size(); ++i) {
      if (chain_[i].first != canonical) continue;
      std::vector<std::string> names;
      for (size_t j = i; j < chain_.size(); ++j) names.push_back(chain_[j].second);
      names.push_back(name);
      std::string loop;
      for (size_t j = 0; j < names.size(); ++j) loop += (j ? " -> " : "") + names[j];
      fail_at(*included_at, "include loop: " + loop);
    }
    if (included_at && static_cast<int>(chain_.size()) >= limits::kIncludeDepth)
      fail_at(*included_at, "include: files included more than " + std::to_string(limits::kIncludeDepth) +
                                " deep (the limit; docs/limits.md)");
    if (included_at && ++included_ > limits::kIncludedFiles)
      fail_at(*included_at, "include: more than " + std::to_string(limits::kIncludedFiles) +
                                " included files in one configuration (the limit; docs/limits.md)");
    return load_text(read(name, included_at), name);
  }

  // Parses `text` (standing for the file `name`) and applies its top-level include.
  ConfigValue load_text(const std::string& text, const std::string& name) {
    if (static_cast<int64_t>(text.size()) > limits::kConfigFileBytes)
      throw UserError(name + ": is " + limits::bytes_text(static_cast<int64_t>(text.size())) + ", more than the " +
                      limits::bytes_text(limits::kConfigFileBytes) + " a YAML file may have (docs/limits.md)");
    fs::path canonical = canonical_of(name);
    chain_.emplace_back(canonical, name);
    ConfigValue v = load_includes(parse_document(text, name, budget_), name);
    chain_.pop_back();
    return v;
  }

 private:
  ConfigValue load_includes(ConfigValue root, const std::string& name) {
    auto inc = std::find_if(root.entries.begin(), root.entries.end(),
                            [](const MapEntry& e) { return e.key == "include"; });
    if (inc == root.entries.end()) return root;
    std::vector<const ConfigValue*> files;
    const ConfigValue& list = inc->value;
    if (list.kind == Kind::scalar) files.push_back(&list);
    if (list.kind == Kind::list)
      for (const auto& item : list.items) files.push_back(&item);
    if (files.empty() && list.kind != Kind::list)
      fail_at(list.origin, "include: expected a file name or a list of file names, found " +
                               describe(list));
    std::optional<ConfigValue> base;
    for (size_t i = 0; i < files.size(); ++i) {
      if (files[i]->kind != Kind::scalar)
        fail_at(files[i]->origin, "include[" + std::to_string(i) + "]: expected a file name, found " +
                                      describe(*files[i]));
      fs::path target = fs::path(name).parent_path() / files[i]->text;
      ConfigValue included = load_file(target.lexically_normal().string(), &files[i]->origin);
      base = base ? merge(std::move(*base), std::move(included)) : std::move(included);
    }
    root.entries.erase(inc);
    return base ? merge(std::move(*base), std::move(root)) : root;
  }

  // The identity of a file for loop detection, whether or not it exists.
  static fs::path canonical_of(const std::string& name) {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(fs::path(name), ec);
    return ec ? fs::absolute(fs::path(name)).lexically_normal() : p;
  }

  // The file's text, read through InputFile: a regular file of at most kConfigFileBytes (a FIFO
  // or a device would block or never end).
  static std::string read(const std::string& name, const Origin* included_at) {
    std::string why;
    try {
      return read_input_file(name, limits::kConfigFileBytes, "YAML file");
    } catch (const UserError& e) {
      why = e.what();
      if (why.rfind(name + ": ", 0) == 0) why = why.substr(name.size() + 2);
      if (why.rfind("cannot open (", 0) == 0 && why.back() == ')') why = why.substr(13, why.size() - 14);
      if (why.rfind("is a directory", 0) == 0) why = "it is a directory";
    }
    if (included_at) fail_at(*included_at, "include: cannot read '" + name + "': " + why);
    throw UserError("cannot read config file '" + name + "': " + why);
  }

  std::vector<std::pair<fs::path, std::string>> chain_;  // canonical path, name as shown
  Budget budget_;
  int included_ = 0;
};

// ---- overrides ----

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  if (path.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    out.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

class OverrideApplier {
 public:
  explicit OverrideApplier(ConfigValue& root) : root_(root) {}

  void apply(const std::string& spec) {
    // Every value of the override carries this origin: a long argument is shown cut short.
    origin_ = Origin{"--set " + (spec.size() > 200 ? spec.substr(0, 200) + "..." : spec), 0, 0};
    if (static_cast<int64_t>(spec.size()) > limits::kSetBytes)
      fail_at(origin_, "an override of " + limits::bytes_text(static_cast<int64_t>(spec.size())) + ", more than the " +
                           limits::bytes_text(limits::kSetBytes) + " one --set may have (docs/limits.md)");
    size_t eq = spec.find('=');
    // The key path is not read by the YAML parser (which refuses bytes that are not UTF-8 in the
    // value): checked here, or to_yaml would write another key than the one set (found by fuzz_set).
    if (size_t bad = first_invalid_utf8(std::string_view(spec).substr(0, eq)); bad != std::string::npos) {
      static const char kHex[] = "0123456789ABCDEF";
      const auto b = static_cast<unsigned char>(spec[bad]);
      fail_at(origin_, std::string("the key path is not UTF-8 text: byte 0x") + kHex[b >> 4] + kHex[b & 15] + " at column " +
                           std::to_string(bad + 1));
    }
    std::vector<std::string> keys = split_path(spec.substr(0, eq));
    if (eq == std::string::npos || keys.empty() ||
        std::any_of(keys.begin(), keys.end(), [](const std::string& k) { return k.empty(); }))
      fail_at(origin_, "expected KEY.PATH=VALUE, as in fit.epochs=5");
    if (static_cast<int>(keys.size()) > limits::kConfigDepth)
      fail_at(origin_, "a key path of " + std::to_string(keys.size()) + " keys, more than the " +
                           std::to_string(limits::kConfigDepth) + " maps may be nested (docs/limits.md)");
    ConfigValue value = parse_value(spec.substr(eq + 1));

    ConfigValue* map = &root_;
    std::vector<std::string> walked;
    for (size_t i = 0; i < keys.size(); ++i) {
      const std::string& key = keys[i];
      if (map->kind != Kind::map)
        fail_at(origin_, "'" + join_path(walked) + "' is " + describe(*map) + " (written at " +
                             map->origin.to_string() + "), not a map with a key '" + key + "'");
      MapEntry* entry = map->find(key);
      bool last = i + 1 == keys.size();
      if (!entry) {
        ConfigValue fresh;
        fresh.kind = Kind::map;
        fresh.origin = origin_;
        map->entries.push_back({key, origin_, last ? std::move(value) : std::move(fresh)});
        entry = &map->entries.back();
        if (last) return;
      } else if (last) {
        walked.push_back(key);
        assign(entry->value, std::move(value), walked);
        return;
      }
      walked.push_back(key);
      map = &entry->value;
    }
  }

 private:
  // The value as YAML, held to the same limits as a file (its own budget).
  ConfigValue parse_value(const std::string& text) const {
    Budget budget;
    ConfigValue v;
    try {
      v = parse_yaml(text, "value", budget);
    } catch (const UserError& e) {
      // "value:1:5: invalid YAML: ..." -> the override, and what is wrong with its value.
      std::string what = e.what();
      if (what.rfind("value:", 0) == 0 && what.find(": ", 6) != std::string::npos) what = what.substr(what.find(": ", 6) + 2);
      const std::string shown = "the value '" + (text.size() > 200 ? text.substr(0, 200) + "..." : text) + "'";
      if (what.rfind("invalid YAML: ", 0) == 0) fail_at(origin_, shown + " is not valid YAML: " + what.substr(14));
      fail_at(origin_, shown + ": " + what);
    }
    set_origin(v);
    return v;
  }

  void set_origin(ConfigValue& v) const {
    v.origin = origin_;
    for (auto& item : v.items) set_origin(item);
    for (auto& e : v.entries) {
      e.key_origin = origin_;
      set_origin(e.value);
    }
  }

  // Puts `value` at `target`: a map merges into a map, checking each new key like a path would
  // be checked; anything else replaces.
  void assign(ConfigValue& target, ConfigValue value, std::vector<std::string>& path) {
    if (target.kind != Kind::map || value.kind != Kind::map) {
      target = std::move(value);
      return;
    }
    for (auto& e : value.entries) {
      if (MapEntry* old = target.find(e.key)) {
        path.push_back(e.key);
        assign(old->value, std::move(e.value), path);
        path.pop_back();
      } else {
        target.entries.push_back(std::move(e));
      }
    }
  }

  static std::string join_path(const std::vector<std::string>& keys) {
    std::string out;
    for (size_t i = 0; i < keys.size(); ++i) out += (i ? "." : "") + keys[i];
    return out;
  }

  ConfigValue& root_;
  Origin origin_;
};

ConfigNode finish(ConfigValue root, const std::vector<std::string>& overrides) {
  OverrideApplier applier(root);
  for (const auto& spec : overrides) applier.apply(spec);
  auto shared = std::make_shared<const ConfigValue>(std::move(root));
  return ConfigNode(shared, shared.get(), "");
}

}  // namespace

ConfigNode load_config(const std::string& path, const std::vector<std::string>& overrides) {
  return finish(Loader().load_file(path, nullptr), overrides);
}

ConfigNode parse_config(const std::string& text, const std::string& name,
                        const std::vector<std::string>& overrides) {
  return finish(Loader().load_text(text, name), overrides);
}

}  // namespace dagrad
