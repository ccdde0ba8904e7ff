// config/config.cpp and config_load.cpp: typed reads, exact error positions and messages,
// includes with deep merge, --set overrides (emitting: test_config_emit.cpp).
// Columns are counted by hand in the comments: "  epochs: 20" puts 20 at column 11 (2 + 8 + 1).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "graph/error.hpp"
#include "config/config.hpp"
#include "config/keys.hpp"
#include "test_util.hpp"

using namespace dagrad;
namespace fs = std::filesystem;

namespace {


// The message of the UserError that f throws; fails the test if it throws nothing or another type.
std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  FAIL("expected a UserError");
  return "";
}

}  // namespace

TEST_CASE("typed getters read strings, numbers, booleans, lists, enums and maps in file order") {
  test::TempDir t("config");
  std::string f = t.write("a.yaml",
                          "name: mf\n"                  // 1
                          "fit:\n"                      // 2
                          "  epochs: 20\n"              // 3
                          "  learning_rate: 1\n"        // 4: an integer where a number is asked
                          "  momentum: -0.9\n"          // 5
                          "  shuffle: True\n"           // 6
                          "  optimizer: adam\n"         // 7
                          "  seeds: [1, +2, -3]\n"      // 8
                          "  decay: [0.5, 1e-3, .5]\n"  // 9
                          "  tags: [a, \"b c\", 7]\n"   // 10
                          "layers:\n"                   // 11
                          "  dense2: 4\n"               // 12
                          "  dense1: 8\n"               // 13
                          "  relu: 0\n");               // 14
  ConfigNode root = load_config(f);
  CHECK(root.path() == "");
  CHECK(root.get_string("name", "") == "mf");
  CHECK(root.get_string("absent", "dflt") == "dflt");
  ConfigNode fit = root.at("fit");
  CHECK(fit.require_int("epochs") == 20);
  CHECK(fit.get_int("batch_size", 256) == 256);
  CHECK(fit.require_double("learning_rate") == 1.0);
  CHECK(fit.get_double("momentum", 0) == -0.9);
  CHECK(fit.require_bool("shuffle") == true);
  CHECK(fit.get_bool("absent", false) == false);
  CHECK(fit.require_enum("optimizer", {"sgd", "adam", "adagrad"}) == "adam");
  CHECK(fit.get_enum("loss", {"mse", "bce"}, "mse") == "mse");
  CHECK(fit.require_ints("seeds") == std::vector<int64_t>{1, 2, -3});
  CHECK(fit.require_doubles("decay") == std::vector<double>{0.5, 0.001, 0.5});
  // Any scalar reads as a string, as written.
  CHECK(fit.require_strings("tags") == std::vector<std::string>{"a", "b c", "7"});

  ConfigNode epochs = fit.at("epochs");
  CHECK(epochs.path() == "fit.epochs");
  CHECK(epochs.origin().file == f);
  CHECK(epochs.origin().line == 3);
  CHECK(epochs.origin().column == 11);
  CHECK(fit.at("seeds").elements()[2].path() == "fit.seeds[2]");
  CHECK(fit.at("seeds").elements()[2].origin().column == 18);  // "  seeds: [1, +2, -3]": '-' at 18

  std::vector<std::string> order;
  for (const auto& [key, value] : root.at("layers").items()) order.push_back(key);
  CHECK(order == std::vector<std::string>{"dense2", "dense1", "relu"});
  CHECK(root.keys() == std::vector<std::string>{"name", "fit", "layers"});
  CHECK(root.at("layers").size() == 3);
  CHECK(root.has("fit"));
  CHECK_FALSE(root.has("model"));
}

TEST_CASE("a wrong type names file:line:col, the key path, what was expected and what was found") {
  test::TempDir t("config");
  std::string f = t.write("w.yaml",
                          "fit:\n"                     // 1
                          "  epochs: ten\n"            // 2: 'ten' at 2 + 8 + 1 = 11
                          "  learning_rate: \"0.1\"\n"  // 3: quote at 2 + 15 + 1 = 18
                          "  shuffle: yes\n"           // 4: 12
                          "  sizes: [64, x, 16]\n"     // 5: '[' 10, '6' 11, 'x' 15
                          "  name: [a]\n"              // 6: '[' at 9
                          "  steps: 2.5\n"             // 7: 10
                          "  big: 9223372036854775808\n"  // 8: 2^63, one past int64: 8
                          "  empty:\n"                 // 9: no value; the key is at 3
                          "  decay: 0.1\n");           // 10
  ConfigNode fit = load_config(f).at("fit");
  CHECK(config_error([&] { fit.require_int("epochs"); }) ==
        f + ":2:11: fit.epochs: expected an integer, found string 'ten'");
  CHECK(config_error([&] { fit.require_double("learning_rate"); }) ==
        f + ":3:18: fit.learning_rate: expected a number, found string '0.1'");
  CHECK(config_error([&] { fit.get_bool("shuffle", false); }) ==
        f + ":4:12: fit.shuffle: expected a boolean (true or false), found string 'yes'");
  CHECK(config_error([&] { fit.require_ints("sizes"); }) ==
        f + ":5:15: fit.sizes[1]: expected an integer, found string 'x'");
  CHECK(config_error([&] { fit.require_string("name"); }) ==
        f + ":6:9: fit.name: expected a string, found a list");
  CHECK(config_error([&] { fit.get_int("steps", 1); }) ==
        f + ":7:10: fit.steps: expected an integer, found number 2.5");
  CHECK(config_error([&] { fit.require_int("big"); }) ==
        f + ":8:8: fit.big: expected an integer, found 9223372036854775808, which is out of the "
            "64-bit range");
  CHECK(config_error([&] { fit.require_int("empty"); }) ==
        f + ":9:3: fit.empty: expected an integer, found null");
  CHECK(config_error([&] { fit.require_ints("decay"); }) ==
        f + ":10:10: fit.decay: expected a list of integers, found number 0.1");
  CHECK(config_error([&] { fit.at("epochs").items(); }) ==
        f + ":2:11: fit.epochs: expected a map, found string 'ten'");
  CHECK(config_error([&] { fit.at("epochs").elements(); }) ==
        f + ":2:11: fit.epochs: expected a list, found string 'ten'");
}

TEST_CASE("a missing required key is reported at the map that lacks it") {
  test::TempDir t("config");
  std::string f = t.write("m.yaml", "# settings\nfit:\n  epochs: 3\n");
  ConfigNode root = load_config(f);
  // The map 'fit' starts at its first key, line 3 column 3; the top-level map at 'fit', 2:1.
  CHECK(config_error([&] { root.at("fit").require_int("batch_size"); }) ==
        f + ":3:3: missing required key 'fit.batch_size'");
  CHECK(config_error([&] { root.require_string("model"); }) == f + ":2:1: missing required key 'model'");
}

TEST_CASE("check_keys rejects an unknown key at its position, lists the known keys, suggests one") {
  test::TempDir t("config");
  std::string f = t.write("k.yaml",
                          "fit:\n"
                          "  learning_rate: 0.1\n"
                          "  epoch: 5\n"  // line 3, key at column 3
                          "zzz: 1\n");
  ConfigNode root = load_config(f);
  CHECK(config_error([&] { root.at("fit").check_keys({"epochs", "learning_rate", "batch_size"}); }) ==
        f + ":3:3: fit.epoch: unknown key 'epoch' (known keys: batch_size, epochs, learning_rate); "
            "did you mean 'epochs'?");
  // Nothing close: no suggestion.
  CHECK(config_error([&] { root.check_keys({"fit", "model"}); }) ==
        f + ":4:1: zzz: unknown key 'zzz' (known keys: fit, model)");
  CHECK_NOTHROW(root.check_keys({"fit", "zzz"}));
}

TEST_CASE("an enum lists the allowed values and suggests the closest") {
  test::TempDir t("config");
  std::string f = t.write("e.yaml", "optimizer: adamw\nloss: 3\n");
  ConfigNode root = load_config(f);
  // "optimizer: " is 11 characters: the value starts at column 12.
  CHECK(config_error([&] { root.require_enum("optimizer", {"sgd", "adam", "adagrad"}); }) ==
        f + ":1:12: optimizer: expected one of sgd, adam, adagrad, found string 'adamw'; "
            "did you mean 'adam'?");
  CHECK(config_error([&] { root.get_enum("loss", {"mse", "bce"}, "mse"); }) ==
        f + ":2:7: loss: expected one of mse, bce, found integer 3");
}

TEST_CASE("ranges: values outside are errors in the same form, naming the bounds") {
  test::TempDir t("config");
  std::string f = t.write("r.yaml",
                          "fit:\n"
                          "  epochs: 0\n"               // 2:11
                          "  learning_rate: -0.5\n"     // 2 + 15 + 1 = 18
                          "  dropout: 1.5\n"            // 2 + 9 + 1 = 12
                          "  sizes: [8, -1]\n"          // '[' 10, '8' 11, '-' 14
                          "  momentum: 0.9\n");
  ConfigNode fit = load_config(f).at("fit");
  CHECK(config_error([&] { fit.require_int("epochs", Range::greater_than(0)); }) ==
        f + ":2:11: fit.epochs: expected an integer > 0, found 0");
  CHECK(config_error([&] { fit.get_double("learning_rate", 0.1, Range::greater_than(0)); }) ==
        f + ":3:18: fit.learning_rate: expected a number > 0, found -0.5");
  CHECK(config_error([&] { fit.require_double("dropout", Range::at_least(0) & Range::less_than(1)); }) ==
        f + ":4:12: fit.dropout: expected a number in [0, 1), found 1.5");
  CHECK(config_error([&] { fit.require_ints("sizes", Range::at_least(1)); }) ==
        f + ":5:14: fit.sizes[1]: expected an integer >= 1, found -1");
  CHECK(fit.require_double("momentum", Range::at_least(0) & Range::at_most(1)) == 0.9);
  // A bound is only checked on a value that was written; the caller's default is trusted.
  CHECK(fit.get_int("batch_size", 64, Range::greater_than(0)) == 64);

  CHECK(Range().describe() == "");
  CHECK((Range::greater_than(0) & Range::at_most(1)).describe() == "in (0, 1]");
  CHECK((Range::at_least(0) & Range::greater_than(0)).describe() == "> 0");  // the tighter bound
  CHECK(Range::less_than(2.5).contains(2.4));
  CHECK_FALSE(Range::less_than(2.5).contains(2.5));
  CHECK(Range::at_most(2.5).contains(2.5));
}

TEST_CASE("a file that is not YAML, not a map, empty, two documents, or missing") {
  test::TempDir t("config");
  // A line indented less than its siblings: yaml-cpp stops where it starts, 3:2.
  std::string bad = t.write("bad.yaml", "fit:\n  epochs: 5\n batch_size: 3\n");
  CHECK(config_error([&] { load_config(bad); }) == bad + ":3:2: invalid YAML: end of map not found");
  std::string unclosed = t.write("unclosed.yaml", "sizes: [1, 2\nlr: 3\n");
  CHECK(config_error([&] { load_config(unclosed); }) ==
        unclosed + ":2:3: invalid YAML: end of sequence flow not found");

  std::string list = t.write("list.yaml", "# a list\n- a\n- b\n");
  CHECK(config_error([&] { load_config(list); }) ==
        list + ":2:1: expected a map of settings at the top level, found a list");
  std::string text = t.write("text.yaml", "just some words\n");
  CHECK(config_error([&] { load_config(text); }) ==
        text + ":1:1: expected a map of settings at the top level, found string 'just some words'");
  std::string empty = t.write("empty.yaml", "# nothing here\n");
  CHECK(config_error([&] { load_config(empty); }) ==
        empty + ":1:1: the file holds no settings; expected a map at the top level");
  std::string two = t.write("two.yaml", "a: 1\n---\nb: 2\n");
  CHECK(config_error([&] { load_config(two); }) ==
        two + ":3:1: a config file holds one YAML document; a second one starts here");
  // yaml-cpp 0.7's LoadAll never returns on a stray ',' where a value starts (found by
  // fuzz/fuzz_model_config.cpp): the loader must stop and say where.
  CHECK(config_error([&] { parse_config(",", "comma.yaml"); }) == "comma.yaml:1:1: invalid YAML: unexpected ','");
  CHECK(config_error([&] { parse_config("\n  ,a: 1\n", "comma.yaml"); }) ==
        "comma.yaml:2:3: invalid YAML: unexpected ','");
  CHECK(config_error([&] { parse_config("a: 1\n---\n,\n", "comma.yaml"); }) ==
        "comma.yaml:3:1: a config file holds one YAML document; a second one starts here");
  // Bytes that are not UTF-8 would not survive to_yaml (found by fuzz/fuzz_model_config.cpp).
  CHECK(config_error([&] { parse_config("a: 1\nname: caf\xe9\n", "latin1.yaml"); }) ==
        "latin1.yaml:2:10: not UTF-8 text: byte 0xE9 here; a YAML file is UTF-8 (save it with that encoding)");
  CHECK(parse_config("name: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n", "utf8.yaml").require_string("name") ==
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");  // 2, 3 and 4 bytes: é € 😀
  for (const char* bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80"})
    CHECK_MESSAGE(config_error([&] { parse_config(std::string("a: ") + bad + "\n", "bad.yaml"); }).find("bad.yaml:1:4: not UTF-8") == 0,
                  "overlong, surrogate, above U+10FFFF, cut short or stray: " << bad);
  std::string binary = t.write("binary.yaml", std::string("a: 1\nb: \x01\x00\x02", 11));
  CHECK(config_error([&] { load_config(binary); }) ==
        binary + ":2:5: not a YAML text file (it holds a NUL byte)");
  std::string dup = t.write("dup.yaml", "fit:\n  epochs: 1\n  epochs: 2\n");
  CHECK(config_error([&] { load_config(dup); }) ==
        dup + ":3:3: fit.epochs: duplicate key (first written at line 2)");

  std::string missing = t.file("missing.yaml");
  CHECK(config_error([&] { load_config(missing); }) ==
        "cannot read config file '" + missing + "': No such file or directory");
  CHECK(config_error([&] { load_config(t.str()); }) ==
        "cannot read config file '" + t.str() + "': it is a directory");
}

TEST_CASE("includes resolve relative to the including file and deep-merge, keeping origins") {
  test::TempDir t("config");
  std::string defaults = t.write("base/defaults.yaml",
                                 "fit:\n"
                                 "  batch_size: 256\n"
                                 "  epochs: 1\n");
  std::string common = t.write("base/common.yaml",
                               "include: defaults.yaml\n"  // 1: relative to base/
                               "model:\n"                  // 2
                               "  hidden: [64, 32]\n"      // 3
                               "  activation: gelu\n"      // 4: value at 2 + 12 + 1 = 15
                               "fit:\n"                    // 5
                               "  epochs: 10\n"            // 6
                               "  learning_rate: 0.1\n"    // 7
                               "  optimizer:\n"            // 8
                               "    name: adagrad\n"       // 9
                               "    eps: 1e-8\n");         // 10
  std::string run = t.write("runs/a.yaml",
                            "include: ../base/common.yaml\n"  // 1
                            "fit:\n"                          // 2
                            "  epochs: ten\n"                 // 3: value at 11
                            "  optimizer:\n"                  // 4
                            "    eps: 1e-6\n"                 // 5: value at 10
                            "seed: 7\n");                     // 6
  ConfigNode root = load_config(run);
  // The include key is consumed; included keys come first, in their order.
  CHECK(root.keys() == std::vector<std::string>{"fit", "model", "seed"});
  ConfigNode fit = root.at("fit");
  CHECK(fit.keys() == std::vector<std::string>{"batch_size", "epochs", "learning_rate", "optimizer"});
  CHECK(fit.require_int("batch_size") == 256);       // from defaults.yaml, two levels down
  CHECK(fit.require_double("learning_rate") == 0.1);  // from common.yaml
  CHECK(fit.at("optimizer").require_string("name") == "adagrad");  // maps merge key by key
  CHECK(fit.at("optimizer").require_double("eps") == 1e-6);        // scalars replace
  CHECK(root.at("model").require_ints("hidden") == std::vector<int64_t>{64, 32});
  CHECK(root.require_int("seed") == 7);

  // Each error points at the file and line that wrote the value.
  CHECK(config_error([&] { fit.require_int("epochs"); }) ==
        run + ":3:11: fit.epochs: expected an integer, found string 'ten'");
  CHECK(config_error([&] { root.at("model").require_enum("activation", {"relu", "tanh"}); }) ==
        common + ":4:15: model.activation: expected one of relu, tanh, found string 'gelu'; "
                      "did you mean 'relu'?");
  CHECK(fit.at("batch_size").origin().to_string() == defaults + ":2:15");
  CHECK(fit.at("optimizer").at("eps").origin().to_string() == run + ":5:10");
  CHECK(fit.at("optimizer").at("name").origin().to_string() == common + ":9:11");
}

TEST_CASE("a list of includes merges in order, later files over earlier ones") {
  test::TempDir t("config");
  std::string one = t.write("one.yaml", "x: 1\ny: 1\nlist: [1, 2, 3]\n");
  std::string two = t.write("two.yaml", "y: 2\nz: 2\nlist: [9]\n");
  std::string top = t.write("top.yaml", "include: [one.yaml, two.yaml]\nz: 3\n");
  ConfigNode root = load_config(top);
  CHECK(root.require_int("x") == 1);
  CHECK(root.require_int("y") == 2);
  CHECK(root.require_int("z") == 3);
  CHECK(root.require_ints("list") == std::vector<int64_t>{9});  // lists replace, never append
  CHECK(root.at("y").origin().to_string() == two + ":1:4");
  CHECK(root.at("z").origin().to_string() == top + ":2:4");
}

TEST_CASE("include errors: a loop names the chain, a missing file and a bad value name the include") {
  test::TempDir t("config");
  std::string a = t.write("a.yaml", "include: b.yaml\nx: 1\n");
  std::string b = t.write("b.yaml", "include: a.yaml\ny: 1\n");
  // "include: " is 9 characters: the file name starts at column 10.
  CHECK(config_error([&] { load_config(a); }) == b + ":1:10: include loop: " + a + " -> " + b + " -> " + a);
  std::string self = t.write("self.yaml", "include: [./self.yaml]\n");
  CHECK(config_error([&] { load_config(self); }) == self + ":1:11: include loop: " + self + " -> " + self);

  std::string lost = t.write("lost.yaml", "include: nothere.yaml\n");
  CHECK(config_error([&] { load_config(lost); }) ==
        lost + ":1:10: include: cannot read '" + t.file("nothere.yaml") +
            "': No such file or directory");
  std::string map = t.write("map.yaml", "include: {a: 1}\n");
  CHECK(config_error([&] { load_config(map); }) ==
        map + ":1:10: include: expected a file name or a list of file names, found a map");
  // An error inside an included file is reported in that file.
  t.write("broken.yaml", "a: [1\n");
  std::string uses = t.write("uses.yaml", "include: broken.yaml\n");
  CHECK(config_error([&] { load_config(uses); }).rfind(t.file("broken.yaml") + ":", 0) == 0);
}

TEST_CASE("overrides replace scalars and lists, and errors about them name the --set") {
  test::TempDir t("config");
  std::string f = t.write("o.yaml",
                          "model:\n"
                          "  layers:\n"
                          "    dense1: {units: 8}\n"
                          "fit:\n"
                          "  epochs: 10\n"  // 5:11
                          "  hidden: [64, 32]\n"
                          "  optimizer: adam\n");
  ConfigNode root = load_config(f, {"fit.epochs=5", "fit.hidden=[128, 64, 32]", "fit.optimizer=adagrad",
                                    "model.layers.dense1.units=16"});
  ConfigNode fit = root.at("fit");
  CHECK(fit.require_int("epochs") == 5);
  CHECK(fit.at("epochs").origin().to_string() == "--set fit.epochs=5");
  CHECK(fit.require_ints("hidden") == std::vector<int64_t>{128, 64, 32});
  CHECK(fit.require_enum("optimizer", {"sgd", "adagrad"}) == "adagrad");
  CHECK(root.at("model").at("layers").at("dense1").require_int("units") == 16);
  CHECK(fit.keys() == std::vector<std::string>{"epochs", "hidden", "optimizer"});  // order kept

  CHECK(config_error([&] { load_config(f, {"fit.epochs=0"}).at("fit").require_int("epochs", Range::greater_than(0)); }) ==
        "--set fit.epochs=0: fit.epochs: expected an integer > 0, found 0");
  CHECK(config_error([&] { load_config(f, {"fit.hidden=[1, x]"}).at("fit").require_ints("hidden"); }) ==
        "--set fit.hidden=[1, x]: fit.hidden[1]: expected an integer, found string 'x'");
  // Later overrides win; a quoted value stays a string.
  ConfigNode twice = load_config(f, {"fit.epochs=5", "fit.epochs=\"7\""});
  CHECK(config_error([&] { twice.at("fit").require_int("epochs"); }) ==
        "--set fit.epochs=\"7\": fit.epochs: expected an integer, found string '7'");
  // An override reaches keys written in an included file.
  std::string child = t.write("child.yaml", "include: o.yaml\nseed: 1\n");
  CHECK(load_config(child, {"fit.epochs=3"}).at("fit").require_int("epochs") == 3);
}

TEST_CASE("an override adds an absent key, whose schema check quotes the override and suggests a key") {
  test::TempDir t("config");
  std::string f = t.write("u.yaml",
                          "model:\n"
                          "  layers:\n"
                          "    dense1: {units: 8}\n"
                          "fit:\n"
                          "  epochs: 10\n"
                          "  hidden: [64, 32]\n"
                          "  optimizer: adam\n");
  const Schema fit_keys{Key::integer("epochs", "e"), Key::integers("hidden", "h"), Key::string("optimizer", "o")};
  // The loader takes any key; the schema of the map that reads it rejects it, quoting the --set.
  CHECK(config_error([&] { check_against(load_config(f, {"fit.epoch=5"}).at("fit"), fit_keys); }) ==
        "--set fit.epoch=5: fit.epoch: unknown key 'epoch' (known keys: epochs, hidden, optimizer); "
        "did you mean 'epochs'?");
  CHECK(config_error([&] { check_against(load_config(f, {"fit={epoch: 3}"}).at("fit"), fit_keys); }) ==
        "--set fit={epoch: 3}: fit.epoch: unknown key 'epoch' (known keys: epochs, hidden, optimizer); "
        "did you mean 'epochs'?");
  const Schema top{Key::any("model", "map", "m"), Key::map("fit", fit_keys, "f")};
  CHECK(config_error([&] { check_against(load_config(f, {"fitt.epochs=5"}), top); }) ==
        "--set fitt.epochs=5: fitt: unknown key 'fitt' (known keys: fit, model); did you mean 'fit'?");
  // A declared key that is absent from the file is accepted, with the override as its origin.
  const Schema wider{Key::integer("epochs", "e"), Key::integers("hidden", "h"), Key::string("optimizer", "o"),
                     Key::integer("seed", "s")};
  ConfigNode seeded = load_config(f, {"fit.seed=7"});
  CHECK_NOTHROW(check_against(seeded.at("fit"), wider));
  CHECK(Keys(seeded.at("fit"), wider).integer("seed") == 7);
  CHECK(seeded.at("fit").at("seed").origin().to_string() == "--set fit.seed=7");

  CHECK(config_error([&] { load_config(f, {"fit.epochs.max=5"}); }) ==
        "--set fit.epochs.max=5: 'fit.epochs' is integer 10 (written at " + f +
            ":5:11), not a map with a key 'max'");
  CHECK(config_error([&] { load_config(f, {"fit.epochs"}); }) ==
        "--set fit.epochs: expected KEY.PATH=VALUE, as in fit.epochs=5");
  CHECK(config_error([&] { load_config(f, {"fit..epochs=1"}); }) ==
        "--set fit..epochs=1: expected KEY.PATH=VALUE, as in fit.epochs=5");
  CHECK(config_error([&] { load_config(f, {"fit.hidden=[1, 2"}); }) ==
        "--set fit.hidden=[1, 2: the value '[1, 2' is not valid YAML: end of sequence flow not found");

  // New keys anywhere, and everything below a key the override created.
  ConfigNode open = load_config(f, {"model.layers.dense2.units=4", "model.layers={dense3: {units: 2}}"});
  ConfigNode layers = open.at("model").at("layers");
  CHECK(layers.keys() == std::vector<std::string>{"dense1", "dense2", "dense3"});
  CHECK(layers.at("dense2").require_int("units") == 4);
  CHECK(layers.at("dense2").origin().to_string() == "--set model.layers.dense2.units=4");
  CHECK(layers.at("dense3").require_int("units") == 2);
  CHECK(layers.at("dense1").require_int("units") == 8);  // a map value merges, it does not replace
  const Schema dense_keys{Key::integer("units", "u")};
  CHECK(config_error([&] { check_against(load_config(f, {"model.layers.dense1.unitz=4"}).at("model").at("layers").at("dense1"),
                                     dense_keys); }) ==
        "--set model.layers.dense1.unitz=4: model.layers.dense1.unitz: unknown key 'unitz' (known keys: units); "
        "did you mean 'units'?");
}

TEST_CASE("closest_match suggests plausible typos only") {
  std::vector<std::string> keys = {"batch_size", "epochs", "learning_rate", "optimizer"};
  CHECK(closest_match("epoch", keys) == "epochs");
  CHECK(closest_match("Epochs", keys) == "epochs");          // case is ignored
  CHECK(closest_match("learnign_rate", keys) == "learning_rate");  // a swap counts one
  CHECK(closest_match("optimiser", keys) == "optimizer");
  CHECK(closest_match("lr", keys) == std::nullopt);          // an abbreviation is not a typo
  CHECK(closest_match("anything", {}) == std::nullopt);
}
