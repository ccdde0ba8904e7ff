#include "models/data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>
#include <sstream>
#include <cerrno>
#include <cstdlib>

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
               "how the interactions are cut into train, validation and test"),
      Key::any("derive", "map of new column name to a map",
               "columns computed from others before the split, in order: {from: COLUMN} copies it; with "
               "`at_least: X` it is 1 where the value >= X else 0 (a label from a rating); `cast: int|float|string` "
               "converts it; `bucketize: [b1, b2, ...]` gives the index of the bucket (0 below b1, i where "
               "b_i <= value < b_i+1, as Keras Discretization)")};
  return s;
}

const Schema& DataSourceRegistry::derived_column() {
  static const Schema s{
      Key::column("from", "the column it is computed from").required(),
      Key::number("at_least", "an int column: 1 where from >= this, else 0"),
      Key::choice("cast", {"int", "float", "string"}, "the column converted to this type (floats to int truncate toward 0)"),
      Key::numbers("bucketize", "increasing boundaries: an int column of bucket indices 0..len")};
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

namespace {

std::vector<double> numbers_of(const Column& c) {
  return std::visit(
      [](const auto& v) {
        std::vector<double> out;
        out.reserve(v.size());
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_same_v<T, std::string>) {
          return out;  // callers check the type first
        } else {
          for (const auto& x : v) out.push_back(static_cast<double>(x));
          return out;
        }
      },
      c);
}

std::string text_of(double v, ColumnType t) {
  if (t == ColumnType::Int) return std::to_string(static_cast<int64_t>(v));
  std::ostringstream os;
  os << static_cast<float>(v);
  return os.str();
}

// One derived column of `t` from its spec, or nothing when `t` lacks the source column and is not
// the interactions (candidates get the column only when they hold its source).
void derive_column(Table& t, const std::string& name, const Keys& k, bool required) {
  const std::string from = k.string("from");
  if (!t.has(from)) {
    if (!required) return;
    std::vector<std::string> cols = t.column_names();
    k.at("from").fail("no column '" + from + "' in the " + t.name() + did_you_mean(from, cols) + " (columns: " + join(cols) + ")");
  }
  const Column& src = t.column(from);
  const ColumnType type = column_type(src);
  const int ops = k.has("at_least") + k.has("cast") + k.has("bucketize");
  if (ops > 1) k.node().fail("derived column '" + name + "': give at most one of at_least, cast, bucketize");
  auto need_number = [&](const char* op) {
    if (type == ColumnType::String)
      k.at(op).fail("derived column '" + name + "': " + op + " needs a number column, '" + from + "' holds strings");
  };
  if (k.has("at_least")) {
    need_number("at_least");
    const double x = k.number("at_least");
    IntColumn out;
    for (double v : numbers_of(src)) out.push_back(v >= x ? 1 : 0);
    t.add(name, std::move(out));
  } else if (k.has("bucketize")) {
    need_number("bucketize");
    const std::vector<double> b = k.numbers("bucketize");
    if (b.empty() || !std::is_sorted(b.begin(), b.end()) || std::adjacent_find(b.begin(), b.end()) != b.end())
      k.at("bucketize").fail("expected strictly increasing boundaries");
    IntColumn out;
    for (double v : numbers_of(src)) out.push_back(std::upper_bound(b.begin(), b.end(), v) - b.begin());
    t.add(name, std::move(out));
  } else if (k.has("cast")) {
    const std::string to = k.string("cast");
    if (to == "string") {
      if (type == ColumnType::String) t.add(name, src);
      else {
        StringColumn out;
        for (double v : numbers_of(src)) out.push_back(text_of(v, type));
        t.add(name, std::move(out));
      }
    } else if (type == ColumnType::String) {
      const StringColumn& s = std::get<StringColumn>(src);
      IntColumn ints;
      FloatColumn floats;
      for (size_t i = 0; i < s.size(); ++i) {
        const char* b = s[i].c_str();
        char* e = nullptr;
        errno = 0;
        const double v = to == "int" ? static_cast<double>(std::strtoll(b, &e, 10)) : std::strtod(b, &e);
        if (s[i].empty() || *e != '\0' || errno == ERANGE)
          k.at("cast").fail("derived column '" + name + "': row " + std::to_string(i + 1) + " of '" + from + "' holds '" +
                            s[i].substr(0, 40) + "', not " + (to == "int" ? "an integer" : "a number"));
        if (to == "int") ints.push_back(static_cast<int64_t>(v));
        else floats.push_back(static_cast<float>(v));
      }
      if (to == "int") t.add(name, std::move(ints));
      else t.add(name, std::move(floats));
    } else if (to == "int") {
      IntColumn out;
      for (double v : numbers_of(src)) {
        if (!std::isfinite(v) || std::fabs(v) > 9.2e18)
          k.at("cast").fail("derived column '" + name + "': a value of '" + from + "' does not fit an integer");
        out.push_back(static_cast<int64_t>(v));
      }
      t.add(name, std::move(out));
    } else {
      FloatColumn out;
      for (double v : numbers_of(src)) out.push_back(static_cast<float>(v));
      t.add(name, std::move(out));
    }
  } else {
    t.add(name, src);
  }
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
  if (cfg.has("derive")) {
    ConfigNode derive = cfg.at("derive");
    if (!derive.is_map()) derive.fail("expected a map of new column name to a map, found " + derive.describe());
    for (const auto& [name, spec] : derive.items()) {
      if (!spec.is_map()) spec.fail("derived column '" + name + "': expected a map with `from`, found " + spec.describe());
      if (out.interactions.has(name))
        spec.fail("derived column '" + name + "': the interactions already have a column of that name");
      Keys k(spec, DataSourceRegistry::derived_column());
      derive_column(out.interactions, name, k, true);
      if (out.candidates.rows() > 0 && !out.candidates.has(name)) derive_column(out.candidates, name, k, false);
    }
  }

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
