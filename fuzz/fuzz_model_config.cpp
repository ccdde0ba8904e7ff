// libFuzzer target: a model file's text through parse_config and Model::build, which adapts the
// preprocessing layers on a small generated data set. Bad text must end in UserError; anything
// else (a crash, a sanitizer report, another exception) is a bug. Also checks to_yaml's promise
// that its output reads back to the same values.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "graph/error.hpp"
#include "config/config.hpp"
#include "models/data/dataset.hpp"
#include "models/model.hpp"

namespace {

// Twelve rows with a column of each kind the seed model files read: ids as strings and ints,
// short texts, a float feature, 0/1 labels and star ratings.
dagrad::DataTables make_data() {
  dagrad::DataTables d;
  auto fill = [](dagrad::Table& t, int rows) {
    dagrad::StringColumn user, item, text;
    dagrad::IntColumn item_id, age;
    dagrad::FloatColumn score, label, rating;
    const char* words[] = {"red", "green", "blue", "small", "large", "old"};
    for (int r = 0; r < rows; ++r) {
      user.push_back("u" + std::to_string(r % 5));
      item.push_back("item " + std::to_string((3 * r) % 7));
      item_id.push_back((3 * r) % 7);
      text.push_back(std::string(words[r % 6]) + " " + words[(r + 2) % 6] + (r % 3 ? " box" : ""));
      age.push_back(18 + 3 * r);
      score.push_back(0.25f * static_cast<float>(r) - 1.0f);
      label.push_back(static_cast<float>(r % 2));
      rating.push_back(static_cast<float>(1 + r % 5));
    }
    t.add("user", user);
    t.add("item", item);
    t.add("item_id", item_id);
    t.add("text", text);
    t.add("age", age);
    t.add("score", score);
    t.add("label", label);
    t.add("rating", rating);
  };
  fill(d.interactions, 12);
  fill(d.train, 8);
  fill(d.validation, 2);
  fill(d.test, 2);
  dagrad::StringColumn item;
  dagrad::IntColumn item_id;
  for (int i = 0; i < 7; ++i) {
    item.push_back("item " + std::to_string(i));
    item_id.push_back(i);
  }
  d.candidates.add("item", item);
  d.candidates.add("item_id", item_id);
  return d;
}

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "fuzz_model_config: %s\n", what.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static const dagrad::DataTables data = make_data();
  std::string text(reinterpret_cast<const char*>(bytes), size);
  std::string yaml;
  try {
    // The name's folder does not exist, so a relative include fails like a missing file.
    dagrad::ConfigNode cfg = dagrad::parse_config(text, "/nonexistent-dagrad-fuzz/model.yaml");
    yaml = dagrad::to_yaml(cfg);
    std::unique_ptr<dagrad::Model> m = dagrad::Model::build(cfg, &data, nullptr, 1);
    (void)m->summary(4);
  } catch (const dagrad::UserError&) {
  }
  if (!yaml.empty()) {
    std::string again;
    try {
      again = dagrad::to_yaml(dagrad::parse_config(yaml, "to_yaml output"));
    } catch (const dagrad::UserError& e) {
      broken("to_yaml wrote text that does not read back: " + std::string(e.what()) + "\n" + yaml);
    }
    if (again != yaml) broken("to_yaml's output reads back to other values:\n" + yaml + "---\n" + again);
  }
  return 0;
}
