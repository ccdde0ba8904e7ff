// libFuzzer target: `--set KEY=VALUE` values, as dagrad fit reads them. Each line of the input is one
// --set argument; those starting with "model." change the model file, the others the training file
// (config/config_load.cpp's overrides), both small real files written at start. The configuration is
// then read as fit reads it: the training file's fit section (FitOptions), its data section (the
// CSV files beside it), and the model built and adapted on that data. Bad values must end in a
// UserError naming them; anything else (a crash, a sanitizer report, another exception, memory past
// -rss_limit_mb) is a bug. Also checks that to_yaml's output reads back to the same values.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "graph/error.hpp"
#include "models/data/dataset.hpp"
#include "models/fit/fitter.hpp"
#include "models/model.hpp"

namespace fs = std::filesystem;
using namespace dagrad;

namespace {

struct Setup {
  std::string dir, model, train;
};

void write(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "fuzz_set: %s\n", what.c_str());
  std::abort();
}

const Setup& setup() {
  static const Setup s = [] {
    Setup s;
    const fs::path root = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    s.dir = (root / ("dagrad_fuzz_set_" + std::to_string(::getpid()))).string();
    fs::remove_all(s.dir);
    fs::create_directories(s.dir);
    static std::string made;  // removed when the fuzzer exits
    made = s.dir;
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(made, ec);
    });
    std::string inter = "user,item,item_id,age,rating\n", items = "item,item_id\n";
    for (int u = 0; u < 12; ++u)
      inter += "u" + std::to_string(u % 5) + ",item " + std::to_string((3 * u) % 6) + "," + std::to_string((3 * u) % 6) + "," +
               std::to_string(18 + u) + "," + std::to_string(1 + u % 5) + "\n";
    for (int i = 0; i < 6; ++i) items += "item " + std::to_string(i) + "," + std::to_string(i) + "\n";
    write(s.dir + "/interactions.csv", inter);
    write(s.dir + "/items.csv", items);
    s.model = s.dir + "/model.yaml";
    s.train = s.dir + "/train.yaml";
    write(s.model, "name: fuzzed\n"
                   "inputs: {user: string, item: string, item_id: int, age: float}\n"
                   "layers:\n"
                   "  user_index: {type: StringLookup, input: user}\n"
                   "  user_vec: {type: Embedding, input: user_index, output_dim: 4}\n"
                   "  age_norm: {type: Normalization, input: age}\n"
                   "  both: {type: Concat, inputs: [user_vec, age_norm]}\n"
                   "  query: {type: MLP, input: both, units: [8, 4], activation: relu}\n"
                   "  item_index: {type: StringLookup, input: item, adapt: candidates}\n"
                   "  item_vec: {type: Embedding, input: item_index, output_dim: 4}\n"
                   "  candidate: {type: Dense, input: item_vec, units: 4}\n"
                   "task: {type: Retrieval, query: query, candidate: candidate, candidate_id: item_id, metrics: {top_k: [1, 5]}}\n");
    write(s.train, "data:\n  source: csv\n  interactions: interactions.csv\n  candidates: items.csv\n"
                   "  columns: {user: string, item: string, item_id: int, age: float, rating: float}\n"
                   "  candidate_columns: {item: string, item_id: int}\n"
                   "  split: {seed: 1, test: 0.25}\n"
                   "fit:\n  seed: 3\n  epochs: 2\n  batch_size: 4\n  progress: none\n"
                   "  optimizer: {type: Adagrad, learning_rate: 0.1}\n");
    return s;
  }();
  return s;
}

void round_trip(const ConfigNode& cfg) {
  const std::string yaml = to_yaml(cfg);
  std::string again;
  try {
    again = to_yaml(parse_config(yaml, "to_yaml output"));
  } catch (const UserError& e) {
    broken("to_yaml wrote text that does not read back: " + std::string(e.what()) + "\n" + yaml);
  }
  if (again != yaml) broken("to_yaml's output reads back to other values:\n" + yaml + "---\n" + again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const Setup& s = setup();
  std::vector<std::string> model_over, train_over;
  std::stringstream in(std::string(reinterpret_cast<const char*>(bytes), size));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model.", 0) == 0) model_over.push_back(line.substr(6));
    else train_over.push_back(line);
  }
  try {
    ConfigNode train = load_config(s.train, train_over);
    round_trip(train);
    ConfigNode model_cfg = load_config(s.model, model_over);
    round_trip(model_cfg);
    const FitOptions options = FitOptions::from_config(train.at("fit"));
    DataTables data;
    load_data(train.at("data"), "", data);
    std::unique_ptr<Model> m = Model::build(model_cfg, &data, nullptr, options.seed);
    (void)m->summary(options.batch_size);
  } catch (const UserError&) {
  }
  return 0;
}
