// models/config_emit.cpp: to_yaml's output loads back to the same values, whatever the keys and
// text (long keys, multi-line text, control characters: the cases the config fuzzer found).
#include <doctest/doctest.h>

#include <string>

#include "graph/error.hpp"
#include "config/config.hpp"
#include "test_util.hpp"

using namespace dagrad;

TEST_CASE("to_yaml emits the effective configuration, which loads back to the same values") {
  test::TempDir t("config_emit");
  t.write("base.yaml", "fit:\n  epochs: 10\n  lr: 1e-3\n  hidden: [1]\n");
  std::string f = t.write("run.yaml",
                          "include: base.yaml\n"
                          "name: \"5\"\n"
                          "flag: \"true\"\n"
                          "nothing: ~\n"
                          "note: |\n"
                          "  two\n"
                          "  lines\n"
                          "layers:\n"
                          "  - {name: d1, units: 8}\n"
                          "  - {name: d2, units: 1}\n"
                          "empty_list: []\n"
                          "empty_map: {}\n");
  ConfigNode root = load_config(f, {"fit.epochs=5", "fit.hidden=[64, 32]"});
  std::string text = to_yaml(root);
  CHECK(text.find("include") == std::string::npos);
  CHECK(text.find("epochs: 5\n") != std::string::npos);
  CHECK(text.find("hidden: [64, 32]\n") != std::string::npos);
  CHECK(text.find("empty_list: []\n") != std::string::npos);
  CHECK(text.find("empty_map: {}\n") != std::string::npos);

  ConfigNode back = load_config(t.write("effective.yaml", text));
  CHECK(back.keys() == std::vector<std::string>{"fit", "name", "flag", "nothing", "note", "layers",
                                                "empty_list", "empty_map"});
  CHECK(back.at("fit").require_int("epochs") == 5);
  CHECK(back.at("fit").require_double("lr") == 1e-3);
  CHECK(back.at("fit").require_ints("hidden") == std::vector<int64_t>{64, 32});
  CHECK(back.require_string("name") == "5");
  CHECK_THROWS_AS(back.require_int("name"), UserError);   // still a string, not an integer
  CHECK_THROWS_AS(back.require_bool("flag"), UserError);  // still a string, not a boolean
  CHECK(back.at("nothing").is_null());
  CHECK(back.require_string("note") == "two\nlines\n");
  auto layers = back.at("layers").elements();
  REQUIRE(layers.size() == 2);
  CHECK(layers[1].require_string("name") == "d2");
  CHECK(layers[1].require_int("units") == 1);
  CHECK(back.at("empty_list").elements().empty());
  CHECK(back.at("empty_map").size() == 0);
  CHECK(to_yaml(back) == text);  // emitting is a fixed point
}

// Found by fuzz/fuzz_model_config.cpp: YAML limits a "key: value" key to 1024 characters, and
// to_yaml wrote longer keys that way, which then did not read back.
TEST_CASE("to_yaml writes keys too long for 'key: value' so that they read back") {
  // 1100 bytes given as an explicit key; 300 control characters, which to_yaml quotes and
  // escapes as 4 bytes each ("\x05"): 1202 bytes with the quotes.
  const std::string plain(1100, 'k'), control(300, '\x05');
  for (const auto& [text, key] : {std::pair{"? " + plain + "\n: 1\n", plain},
                                  std::pair{"\"" + control + "\": 1\n", control}}) {
    ConfigNode c = parse_config(text, "long.yaml");
    REQUIRE(c.keys() == std::vector<std::string>{key});
    std::string yaml = to_yaml(c);
    CHECK(yaml.rfind("? ", 0) == 0);  // an explicit key
    ConfigNode back = parse_config(yaml, "back.yaml");
    CHECK(back.require_int(key) == 1);
    CHECK(to_yaml(back) == yaml);
  }
  const std::string short_key(255, 'k');  // 4 x 255 + 2 quotes = 1022: fits either way
  CHECK(to_yaml(parse_config(short_key + ": 1\n", "short.yaml")) == short_key + ": 1\n");
}

// Found by fuzz/fuzz_model_config.cpp: yaml-cpp writes a literal block without a chomping
// indicator, so "x\ny" came back as "x\ny\n".
TEST_CASE("to_yaml writes multi-line text that a literal block would change double-quoted") {
  // Each YAML double-quoted value and the text it holds.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("line one\nline two")", "line one\nline two"},   // no final line break
      {R"("two breaks\n\n")", "two breaks\n\n"},          // more than one
      {R"("\nleading break\n")", "\nleading break\n"},
      {R"("  indented\nfirst line\n")", "  indented\nfirst line\n"},
      {R"("tab\tinside\n")", "tab\tinside\n"},
      {R"("cr\r\nlf\n")", "cr\r\nlf\n"}};
  for (const auto& [yaml_value, text] : cases) {
    ConfigNode c = parse_config("k: " + yaml_value + "\n", "text.yaml");
    REQUIRE(c.require_string("k") == text);
    std::string yaml = to_yaml(c);
    CHECK_MESSAGE(yaml.rfind("k: \"", 0) == 0, yaml);
    CHECK_MESSAGE(parse_config(yaml, "back.yaml").require_string("k") == text, yaml);
  }
  // Control characters in one-line text and keys: yaml-cpp wrote them raw, and "a\rb" read back
  // as two lines (found by the fuzzer too).
  ConfigNode c = parse_config("k: \"a\\rb\\x05c\"\n\"\\r\\tkey\": \"t\\tt\"\n", "control.yaml");
  std::string yaml = to_yaml(c);
  CHECK(yaml == "k: \"a\\rb\\x05c\"\n\"\\r\\tkey\": \"t\\tt\"\n");
  ConfigNode back = parse_config(yaml, "back.yaml");
  CHECK(back.require_string("k") == "a\rb\x05" "c");
  CHECK(back.require_string("\r\tkey") == "t\tt");
  // Text that a literal block keeps is written as one, for people to read.
  CHECK(to_yaml(parse_config("k: \"a\\n  b\\n\"\n", "text.yaml")) == "k: |\n  a\n    b\n\n");
}
