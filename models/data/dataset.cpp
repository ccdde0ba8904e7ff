#include "models/data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>

#include "graph/error.hpp"

namespace dagrad {

const Table& DataTables::by_name(const std::string& name) const {
  if (name == "interactions") return interactions;
  if (name == "train") return train;
  if (name == "validation") return validation;
  if (name == "test") return test;
  if (name == "candidates") return candidates;
  throw InternalError("no table named " + name);
}

DataSourceRegistry& DataSourceRegistry::instance() {
  static DataSourceRegistry r;
  return r;
}

const Schema& DataSourceRegistry::common() {
  static const Schema s{
      Key::string("source", "where the interactions come from (`dagrad list` names the data sources)").otherwise("csv"),
      Key::map("split",
               {Key::integer("seed", "the shuffle's seed").otherwise(42),
                Key::boolean("shuffle", "shuffle before cutting (else the file's order)").otherwise(true),
                Key::number("train", "training rows: a count, or a fraction of all below 1")
                    .in(Range::at_least(0)).otherwise_text("the rest"),
                Key::number("validation", "validation rows (just before the test rows)").in(Range::at_least(0))
                    .otherwise_text("0"),
                Key::number("test", "test rows (the last rows of the shuffled order)").in(Range::at_least(0))
                    .otherwise_text("0")},
               "how the interactions are cut into train, validation and test")};
  return s;
}

namespace {

int64_t count_of(const ConfigNode& split, const std::string& key, size_t total, int64_t def) {
  if (!split.has(key)) return def;
  double v = split.get_double(key, 0, Range::at_least(0));
  if (v < 1 && v > 0) return static_cast<int64_t>(std::llround(v * static_cast<double>(total)));
  if (v != std::floor(v)) split.at(key).fail("expected a row count or a fraction below 1, found " + split.at(key).describe());
  return static_cast<int64_t>(v);
}

}  // namespace

void load_data(const ConfigNode& cfg, const std::string& data_dir, DataTables& out) {
  std::string source = cfg.has("source") ? cfg.at("source").as_string() : "csv";
  const DataSourceInfo* info = DataSourceRegistry::instance().find(source);
  if (!info) (cfg.has("source") ? cfg.at("source") : cfg).fail(DataSourceRegistry::instance().unknown(source));
  Schema schema = Schema(DataSourceRegistry::common()).then(info->schema);
  Keys keys(cfg, schema);
  info->load(keys, data_dir, out);
  const size_t n = out.interactions.rows();
  if (n == 0) cfg.fail("the data source produced no interactions");

  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  int64_t test = 0, validation = 0, train = static_cast<int64_t>(n);
  if (cfg.has("split")) {
    ConfigNode split = cfg.at("split");
    Keys sk = keys.sub("split");
    if (sk.boolean("shuffle")) {
      std::mt19937_64 rng(static_cast<uint64_t>(sk.integer("seed")));
      std::shuffle(order.begin(), order.end(), rng);
    }
    test = count_of(split, "test", n, 0);
    validation = count_of(split, "validation", n, 0);
    if (test + validation > static_cast<int64_t>(n))
      split.fail("validation " + std::to_string(validation) + " + test " + std::to_string(test) + " rows exceed the " +
                 std::to_string(n) + " interactions");
    train = count_of(split, "train", n, static_cast<int64_t>(n) - test - validation);
    if (train + validation + test > static_cast<int64_t>(n))
      split.fail("train " + std::to_string(train) + " + validation " + std::to_string(validation) + " + test " +
                 std::to_string(test) + " rows exceed the " + std::to_string(n) + " interactions");
    if (train <= 0) split.fail("no rows left for training");
  }
  // Test is always the last rows of the shuffled order and validation the rows just before it, so
  // carving a validation split out of training leaves the test set unchanged.
  auto part = [&](int64_t begin, int64_t count, const char* name) {
    return out.interactions.take(std::span<const int64_t>(order.data() + begin, static_cast<size_t>(count)), name);
  };
  out.train = part(0, train, "train");
  out.test = part(static_cast<int64_t>(n) - test, test, "test");
  out.validation = part(static_cast<int64_t>(n) - test - validation, validation, "validation");
}

}  // namespace dagrad
