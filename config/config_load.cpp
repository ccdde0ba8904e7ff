// Loading a configuration: YAML text to the origin-carrying tree, includes with deep merge,
// --set overrides. Emitting it back as YAML: models/config_emit.cpp.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "graph/error.hpp"
#include "config/config.hpp"
#include "config/config_value.hpp"

namespace dagrad {

using config_detail::ConfigValue;
using config_detail::MapEntry;
using Kind = ConfigValue::Kind;
namespace fs = std::filesystem;

namespace {

const char* const kStringTag = "tag:yaml.org,2002:str";

[[noreturn]] void fail_at(const Origin& o, const std::string& message) {
  throw UserError(o.to_string() + ": " + message);
}

Origin origin_of(const std::string& file, const YAML::Mark& m) {
  // yaml-cpp marks are 0-based; a mark it could not place is reported at the file's start.
  if (m.is_null()) return {file, 1, 1};
  return {file, m.line + 1, m.column + 1};
}

std::string child_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// yaml-cpp's node to our tree. `path` is the key path, for messages.
ConfigValue convert(const YAML::Node& n, const std::string& file, const std::string& path) {
  ConfigValue v;
  v.origin = origin_of(file, n.Mark());
  std::string where = path.empty() ? "" : path + ": ";
  const std::string& tag = n.Tag();
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return v;
    case YAML::NodeType::Scalar:
      // "?" is a plain scalar, "!" a quoted or block one; !!str forces a string.
      if (tag != "?" && tag != "!" && tag != kStringTag)
        fail_at(v.origin, where + "unsupported YAML tag '" + tag + "' (a config holds plain values)");
      v.kind = Kind::scalar;
      v.text = n.Scalar();
      v.quoted = tag != "?";
      return v;
    case YAML::NodeType::Sequence:
      v.kind = Kind::list;
      for (size_t i = 0; i < n.size(); ++i)
        v.items.push_back(convert(n[i], file, path + "[" + std::to_string(i) + "]"));
      return v;
    case YAML::NodeType::Map:
      v.kind = Kind::map;
      for (auto it = n.begin(); it != n.end(); ++it) {
        Origin key_origin = origin_of(file, it->first.Mark());
        if (!it->first.IsScalar())
          fail_at(key_origin, where + "a map key must be a name, found a " +
                                  (it->first.IsNull() ? "null" : "list or map"));
        std::string key = it->first.Scalar();
        std::string key_path = child_path(path, key);
        if (const MapEntry* first = v.find(key))
          fail_at(key_origin, key_path + ": duplicate key (first written at line " +
                                  std::to_string(first->key_origin.line) + ")");
        ConfigValue value = convert(it->second, file, key_path);
        // yaml-cpp places an empty value ("epochs:") at the next token, often a later line:
        // the key is what the user wrote there.
        if (value.kind == Kind::null && value.origin.line != key_origin.line) value.origin = key_origin;
        v.entries.push_back({std::move(key), key_origin, std::move(value)});
      }
      return v;
    case YAML::NodeType::Undefined:
      break;
  }
  throw InternalError("yaml-cpp returned an undefined node");
}

// The line and column (in bytes, 1-based) of byte `pos` of `text`.
Origin origin_of_byte(const std::string& text, const std::string& file, size_t pos) {
  size_t line_start = text.rfind('\n', pos);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
  return {file, line, static_cast<int>(pos - line_start) + 1};
}

// Where each document of a YAML stream starts, and where its first value is. parse_document reads
// the stream with it instead of YAML::LoadAll, which in yaml-cpp 0.7 loops forever, allocating
// without bound, on some malformed texts such as a lone ',' (jbeder/yaml-cpp#1040, fixed upstream
// by #1319): its parser then returns the same empty document again and again, consuming nothing.
class DocumentMarks : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts, first_values;

  void OnDocumentStart(const YAML::Mark& m) override {
    starts.push_back(m);
    value_seen_ = false;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { value(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { value(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { value(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    value(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    value(m);
  }
  void OnMapEnd() override {}

 private:
  void value(const YAML::Mark& m) {
    if (!value_seen_) first_values.push_back(m);
    value_seen_ = true;
  }
  bool value_seen_ = false;
};

// Parses one file's text; the top level must be a single map.
ConfigValue parse_document(const std::string& text, const std::string& name) {
  // yaml-cpp takes a leading NUL for UTF-16 and reads binary data as odd text: refuse it first.
  if (size_t nul = text.find('\0'); nul != std::string::npos)
    fail_at(origin_of_byte(text, name, nul), "not a YAML text file (it holds a NUL byte)");
  // Bytes that are not UTF-8 would come back from to_yaml changed (yaml-cpp writes U+FFFD for them).
  if (size_t bad = first_invalid_utf8(text); bad != std::string::npos) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    auto b = static_cast<unsigned char>(text[bad]);
    fail_at(origin_of_byte(text, name, bad), std::string("not UTF-8 text: byte 0x") + kHex[b >> 4] + kHex[b & 15] +
                                                 " here; a YAML file is UTF-8 (save it with that encoding)");
  }
  YAML::Node doc;
  DocumentMarks marks;
  try {
    // Two documents at most are read: a second one is an error whatever follows it.
    std::istringstream in(text);
    YAML::Parser parser(in);
    while (marks.starts.size() < 2 && parser.HandleNextDocument(marks)) {
    }
    if (marks.starts.size() == 2 && marks.starts[1].pos == marks.starts[0].pos) {
      // The parser is stuck on a token that cannot start a value (see DocumentMarks).
      const YAML::Mark& m = marks.starts[0];
      bool shown = m.pos >= 0 && static_cast<size_t>(m.pos) < text.size();
      fail_at(origin_of(name, m), shown ? std::string("invalid YAML: unexpected '") + text[m.pos] + "'"
                                        : std::string("invalid YAML: unexpected text"));
    }
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail_at(origin_of(name, e.mark), "invalid YAML: " + e.msg);
  }
  if (marks.starts.size() == 2)
    fail_at(origin_of(name, marks.first_values.size() == 2 ? marks.first_values[1] : marks.starts[1]),
            "a config file holds one YAML document; a second one starts here");
  if (marks.starts.empty() || doc.IsNull())
    fail_at({name, 1, 1}, "the file holds no settings; expected a map at the top level");
  ConfigValue root = convert(doc, name, "");
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

// Loads files and their includes, remembering the chain of files being loaded to catch loops.
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
    return load_text(read(name, included_at), name);
  }

  // Parses `text` (standing for the file `name`) and applies its top-level include.
  ConfigValue load_text(const std::string& text, const std::string& name) {
    fs::path canonical = canonical_of(name);
    chain_.emplace_back(canonical, name);
    ConfigValue v = load_includes(parse_document(text, name), name);
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

  static std::string read(const std::string& name, const Origin* included_at) {
    std::string why;
    std::error_code ec;
    if (fs::is_directory(name, ec)) {
      why = "it is a directory";
    } else {
      std::ifstream in(name, std::ios::binary);
      if (in) {
        std::ostringstream ss;
        ss << in.rdbuf();
        if (!in.bad()) return ss.str();
      }
      why = std::strerror(errno);
    }
    if (included_at) fail_at(*included_at, "include: cannot read '" + name + "': " + why);
    throw UserError("cannot read config file '" + name + "': " + why);
  }

  std::vector<std::pair<fs::path, std::string>> chain_;  // canonical path, name as shown
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
    origin_ = Origin{"--set " + spec, 0, 0};
    size_t eq = spec.find('=');
    std::vector<std::string> keys = split_path(spec.substr(0, eq));
    if (eq == std::string::npos || keys.empty() ||
        std::any_of(keys.begin(), keys.end(), [](const std::string& k) { return k.empty(); }))
      fail_at(origin_, "expected KEY.PATH=VALUE, as in fit.epochs=5");
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
  ConfigValue parse_value(const std::string& text) const {
    YAML::Node node;
    try {
      node = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      fail_at(origin_, "the value '" + text + "' is not valid YAML: " + e.msg);
    }
    ConfigValue v = convert(node, origin_.file, "");
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
