// Emitting a configuration back as YAML (to_yaml): what `fit` writes as config.yaml, quoted so
// that it reads back to the same values.
#include <yaml-cpp/yaml.h>

#include <string>

#include <algorithm>

#include "graph/error.hpp"
#include "config/config.hpp"
#include "config/config_value.hpp"

namespace dagrad {

using config_detail::ConfigValue;
using config_detail::MapEntry;
using Kind = ConfigValue::Kind;

namespace {

// Whether `text` holds a control character (tab included), which yaml-cpp writes as it is in
// plain text, where a carriage return then reads back as a line break: such text is written
// double-quoted, with escapes.
bool has_control(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return b < 0x20 || b == 0x7F;
  });
}

// Whether `text` written as a literal block ("|", lines indented) reads back unchanged. yaml-cpp
// writes no chomping or indentation indicator, so the text must end in exactly one line break
// and not start with a space or an empty line; and a block holds no escapes, so every other
// character must be printable. Other multi-line text is written double-quoted, with escapes.
bool literal_reads_back(const std::string& text) {
  if (text.empty() || text.back() != '\n' || (text.size() > 1 && text[text.size() - 2] == '\n')) return false;
  if (text[0] == ' ' || text[0] == '\n') return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return c == '\n' || (b >= 0x20 && b != 0x7F);
  });
}

void emit(YAML::Emitter& out, const ConfigValue& v) {
  switch (v.kind) {
    case Kind::null:
      out << YAML::Null;
      return;
    case Kind::scalar:
      // A quoted "5" or "true" must stay a string when read back; plain text is emitted as it was.
      if (v.text.find('\n') != std::string::npos)
        out << (literal_reads_back(v.text) ? YAML::Literal : YAML::DoubleQuoted) << v.text;
      else if (has_control(v.text) ||
               (v.quoted && config_detail::classify_plain(v.text) != config_detail::ScalarType::string))
        out << YAML::DoubleQuoted << v.text;
      else
        out << v.text;
      return;
    case Kind::list: {
      bool flat = std::all_of(v.items.begin(), v.items.end(),
                              [](const ConfigValue& i) { return i.kind != Kind::list && i.kind != Kind::map; });
      if (flat) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : v.items) emit(out, item);
      out << YAML::EndSeq;
      return;
    }
    case Kind::map:
      if (v.entries.empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& e : v.entries) {
        // YAML limits an implicit ("key: value") key to 1024 characters, and quoting may escape
        // each byte as 4 ("\x05"): a longer key is written as an explicit one ("? key").
        out << YAML::Key;
        if (e.key.size() > 255) out << YAML::LongKey;
        if (has_control(e.key)) out << YAML::DoubleQuoted;
        out << e.key << YAML::Value;
        emit(out, e.value);
      }
      out << YAML::EndMap;
      return;
  }
}

}  // namespace

std::string to_yaml(const ConfigNode& node) {
  YAML::Emitter out;
  emit(out, *node.value_);
  DAGRAD_ASSERT(out.good(), "yaml-cpp could not emit the configuration: " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

}  // namespace dagrad
