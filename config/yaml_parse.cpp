#include "config/yaml_parse.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "graph/error.hpp"
#include "graph/limits.hpp"
#include "graph/names.hpp"

namespace dagrad::config_detail {

using Kind = ConfigValue::Kind;

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

namespace {

const char* const kStringTag = "tag:yaml.org,2002:str";




// Builds our tree straight from yaml-cpp's parse events, holding the text to the limits of
// graph/limits.hpp as it goes: nesting depth, the length of one scalar, and the values and bytes
// of the whole after aliases are expanded. (yaml-cpp's own YAML::Load would build a node graph
// first: a self-referencing alias makes it a cycle that a recursive walk never leaves, and a few
// hundred bytes of nested anchors stand for billions of values.) An alias copies its anchored
// value, which must be complete: an alias inside the value it names is an error.
//
// Only the first document is built: an event of a second one throws SecondDocument. yaml-cpp 0.7
// loops forever, returning the same empty document again and again, on some malformed texts such
// as a lone ',' (jbeder/yaml-cpp#1040, fixed upstream by #1319); its second document then starts
// where the first did, which the caller reports as the unexpected character it is.
class TreeBuilder : public YAML::EventHandler {
 public:
  struct SecondDocument {
    YAML::Mark mark;  // its first value, or its start when it holds none
  };

  // Thrown by a handler at the first error in the text's meaning (a bad key, a tag, a limit), which
  // is kept in `error`: the caller then checks the rest of the text for a YAML syntax error, which
  // comes first.
  struct Stop {};

  // With `build` false only the documents are followed (a syntax check).
  TreeBuilder(std::string file, Budget& budget, bool build = true)
      : file_(std::move(file)), budget_(budget), build_(build) {}

  std::vector<YAML::Mark> starts;  // of the documents seen
  std::optional<ConfigValue> root;  // the first document's value
  std::string error;                // the error that stopped the building

  void OnDocumentStart(const YAML::Mark& m) override { starts.push_back(m); }
  void OnDocumentEnd() override {
    if (starts.size() > 1) throw SecondDocument{starts.back()};
  }
  void OnNull(const YAML::Mark& m, YAML::anchor_t anchor) override {
    if (!begin(m, false)) return;
    ConfigValue v;
    v.origin = origin_of(file_, m);
    count(1, 0, m, false);
    finish(std::move(v), anchor, 1, 0);
  }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t anchor) override {
    if (!begin(m, false)) return;
    auto it = anchors_.find(anchor);
    if (it == anchors_.end())  // yaml-cpp registers an anchor when its value starts
      stop(origin_of(file_, m), where() + "this alias is inside the value its anchor names: a value cannot contain itself");
    const Anchored& a = it->second;
    count(a.values, a.bytes, m, true);
    finish(ConfigValue(a.value), YAML::NullAnchor, a.values, a.bytes);
  }
  void OnScalar(const YAML::Mark& m, const std::string& tag, YAML::anchor_t anchor, const std::string& value) override {
    if (!begin(m, false)) return;
    ConfigValue v;
    v.origin = origin_of(file_, m);
    // "?" is a plain scalar, "!" a quoted or block one; !!str forces a string.
    if (tag != "?" && tag != "!" && tag != kStringTag)
      stop(v.origin, where() + "unsupported YAML tag '" + tag + "' (a config holds plain values)");
    if (static_cast<int64_t>(value.size()) > limits::kConfigScalarBytes)
      stop(v.origin, where() + "a value of " + limits::bytes_text(static_cast<int64_t>(value.size())) + ", more than the " +
                            limits::bytes_text(limits::kConfigScalarBytes) + " one value may have (docs/limits.md)");
    v.kind = Kind::scalar;
    v.text = value;
    v.quoted = tag != "?";
    const auto bytes = static_cast<int64_t>(value.size());
    count(1, bytes, m, false);
    finish(std::move(v), anchor, 1, bytes);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(Kind::list, m, anchor);
  }
  void OnSequenceEnd() override {
    if (build_) close();
  }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(Kind::map, m, anchor);
  }
  void OnMapEnd() override {
    if (build_) close();
  }

 private:
  struct Frame {
    ConfigValue value;
    YAML::anchor_t anchor = YAML::NullAnchor;
    std::string path;
    int64_t values_at_start = 0, bytes_at_start = 0;  // the budget when it opened: its size when it closes
    bool has_key = false;                     // a map between a key and its value
    std::string key;
    Origin key_origin;
  };
  struct Anchored {
    ConfigValue value;
    int64_t values, bytes;
  };

  // The key path of the value about to start, for messages.
  std::string path_of_next() const {
    if (frames_.empty()) return "";
    const Frame& f = frames_.back();
    if (f.value.kind == Kind::list) return f.path + "[" + std::to_string(f.value.items.size()) + "]";
    return f.has_key ? child_path(f.path, f.key) : f.path;
  }
  std::string where() const {
    std::string p = path_of_next();
    return p.empty() ? "" : p + ": ";
  }

  [[noreturn]] void stop(const Origin& o, const std::string& message) {
    error = o.to_string() + ": " + message;
    throw Stop{};
  }

  // Every value's first event: a second document stops here; a map key must be a scalar. False
  // when only checking the syntax.
  bool begin(const YAML::Mark& m, bool collection) {
    if (starts.size() > 1) throw SecondDocument{m};
    if (!build_) return false;
    if (!frames_.empty() && frames_.back().value.kind == Kind::map && !frames_.back().has_key && collection) {
      const std::string& p = frames_.back().path;
      stop(origin_of(file_, m), (p.empty() ? "" : p + ": ") + "a map key must be a name, found a list or map");
    }
    return true;
  }

  void count(int64_t values, int64_t bytes, const YAML::Mark& m, bool alias) {
    budget_.values += values;
    budget_.bytes += bytes;
    const std::string by = alias ? "this alias expands the configuration to" : "the configuration holds";
    const std::string rest = " (aliases expanded; the limits are in docs/limits.md)";
    if (budget_.values > limits::kConfigValues)
      stop(origin_of(file_, m), where() + by + " more than " + std::to_string(limits::kConfigValues) + " values" + rest);
    if (budget_.bytes > limits::kConfigTextBytes)
      stop(origin_of(file_, m), where() + by + " more than " + limits::bytes_text(limits::kConfigTextBytes) +
                                       " of text" + rest);
  }

  void open(Kind kind, const YAML::Mark& m, YAML::anchor_t anchor) {
    if (!begin(m, true)) return;
    if (static_cast<int>(frames_.size()) >= limits::kConfigDepth)
      stop(origin_of(file_, m), where() + "maps and lists nested more than " + std::to_string(limits::kConfigDepth) +
                                       " deep (the limit; docs/limits.md)");
    count(1, 0, m, false);
    Frame f;
    f.anchor = anchor;
    f.path = path_of_next();
    f.values_at_start = budget_.values - 1;
    f.bytes_at_start = budget_.bytes;
    f.value.kind = kind;
    f.value.origin = origin_of(file_, m);
    frames_.push_back(std::move(f));
  }

  void close() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    finish(std::move(f.value), f.anchor, budget_.values - f.values_at_start, budget_.bytes - f.bytes_at_start);
  }

  // A complete value: remembered under its anchor, then put in its list or map (or made the root).
  void finish(ConfigValue v, YAML::anchor_t anchor, int64_t values, int64_t bytes) {
    if (anchor != YAML::NullAnchor) {
      // The copy kept for the aliases counts too: anchors nested in anchors would otherwise keep
      // a copy per level of what the budget counted once.
      budget_.kept_values += values;
      budget_.kept_bytes += bytes;
      if (budget_.kept_values > limits::kConfigValues || budget_.kept_bytes > limits::kConfigTextBytes)
        stop(v.origin, where() + "the anchored values of the configuration hold more than " +
                           std::to_string(limits::kConfigValues) + " values or " +
                           limits::bytes_text(limits::kConfigTextBytes) + " of text (the limits are in docs/limits.md)");
      anchors_[anchor] = Anchored{v, values, bytes};
    }
    if (frames_.empty()) {
      root = std::move(v);
      return;
    }
    Frame& f = frames_.back();
    if (f.value.kind == Kind::list) {
      f.value.items.push_back(std::move(v));
      return;
    }
    if (!f.has_key) {
      const std::string where_map = f.path.empty() ? "" : f.path + ": ";
      if (v.kind != Kind::scalar)
        stop(v.origin, where_map + "a map key must be a name, found a " + (v.kind == Kind::null ? "null" : "list or map"));
      if (const MapEntry* first = f.value.find(v.text))
        stop(v.origin, child_path(f.path, v.text) + ": duplicate key (first written at line " +
                              std::to_string(first->key_origin.line) + ")");
      f.key = std::move(v.text);
      f.key_origin = v.origin;
      f.has_key = true;
      return;
    }
    // yaml-cpp places an empty value ("epochs:") at the next token, often a later line: the key
    // is what the user wrote there.
    if (v.kind == Kind::null && v.origin.line != f.key_origin.line) v.origin = f.key_origin;
    f.value.entries.push_back({std::move(f.key), f.key_origin, std::move(v)});
    f.key.clear();
    f.has_key = false;
  }

  std::string file_;
  Budget& budget_;
  bool build_;
  std::vector<Frame> frames_;
  std::map<YAML::anchor_t, Anchored> anchors_;
};

// The line and column (in bytes, 1-based) of byte `pos` of `text`.
Origin origin_of_byte(const std::string& text, const std::string& file, size_t pos) {
  size_t line_start = text.rfind('\n', pos);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
  return {file, line, static_cast<int>(pos - line_start) + 1};
}

}  // namespace

// Parses YAML text (a file's, or a --set value's) into our tree: its one document's value, null
// when it holds none. `name` stands for the file in messages.
ConfigValue parse_yaml(const std::string& text, const std::string& name, Budget& budget) {
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
  // Reads the text with `handler`; a syntax error is reported here, as is a second document.
  auto read = [&](TreeBuilder& handler) {
    try {
      std::istringstream in(text);
      YAML::Parser parser(in);
      while (parser.HandleNextDocument(handler)) {
      }
    } catch (const TreeBuilder::SecondDocument& second) {
      if (handler.starts.size() == 2 && handler.starts[1].pos == handler.starts[0].pos) {
        // The parser is stuck on a token that cannot start a value (see TreeBuilder).
        const YAML::Mark& m = handler.starts[0];
        bool shown = m.pos >= 0 && static_cast<size_t>(m.pos) < text.size();
        fail_at(origin_of(name, m), shown ? std::string("invalid YAML: unexpected '") + text[m.pos] + "'"
                                          : std::string("invalid YAML: unexpected text"));
      }
      fail_at(origin_of(name, second.mark), "a config file holds one YAML document; a second one starts here");
    } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's own guard, far past ours
      fail_at(origin_of(name, e.mark), "maps and lists nested more than " + std::to_string(limits::kConfigDepth) +
                                           " deep (the limit; docs/limits.md)");
    } catch (const YAML::Exception& e) {
      fail_at(origin_of(name, e.mark), "invalid YAML: " + e.msg);
    }
  };
  TreeBuilder builder(name, budget);
  try {
    read(builder);
  } catch (const TreeBuilder::Stop&) {
    // An error in what the text means; one in its syntax, anywhere in it, is reported first.
    Budget unused;
    TreeBuilder syntax(name, unused, false);
    read(syntax);
    throw UserError(builder.error);
  }
  return builder.root ? std::move(*builder.root) : ConfigValue{};
}

}  // namespace dagrad::config_detail
