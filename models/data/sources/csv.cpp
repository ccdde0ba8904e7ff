// The `csv` data source: interactions (and candidates) from CSV or TSV files with a header row.
#include <cstdio>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "models/data/dataset.hpp"

namespace dagrad {
namespace {

// The csv source: `interactions: FILE`, optional `candidates: FILE`, and `columns: {name: type}`
// for each table's columns (string, int or float); `join:` side tables (items, users) by a key
// column, one of which may be the candidate set. Paths are relative to the data directory.
// `skip_bad_rows: true` leaves out rows that do not parse and says how many on stderr.
Schema csv_keys() {
  return {Key::string("interactions", "the interactions file (relative: to --data, else to this file's folder)").required(),
          Key::string("candidates", "a file of every candidate (retrieval evaluation)"),
          Key::any("columns", "map of column name to string, int or float", "the interactions file's columns to read")
              .required(),
          Key::any("candidate_columns", "map of column name to string, int or float", "the candidates file's columns")
              .otherwise_text("columns"),
          Key::boolean("skip_bad_rows", "leave out rows that do not parse (and say how many) instead of stopping")
              .otherwise(false),
          Key::any("join", "list of maps",
                   "side tables (items, users) joined onto each interaction by a key column, in order; each a map of "
                   "file (required, relative as interactions), columns (required, as `columns`, the key among them), "
                   "on (required: the key column, string or int, one type in both tables, unique in the side table), "
                   "missing (error or drop: an interaction whose key the side table lacks; default error), "
                   "candidates (true: the side table is also the candidate set; default false)")
              .otherwise_text("none")};
}

const Schema& join_keys() {
  static const Schema s{
      Key::string("file", "the side table's file (relative as `interactions`)").required(),
      Key::any("columns", "map of column name to string, int or float", "its columns to read, the key among them").required(),
      Key::string("on", "the key column: in both tables, of one type; unique in the side table").required(),
      Key::choice("missing", {"error", "drop"},
                  "an interaction whose key the side table lacks: an error, or dropped (and counted)").otherwise("error"),
      Key::boolean("candidates", "the side table is also the candidate set (an item table)").otherwise(false)};
  return s;
}

// A key value as text, for both int and string keys.
std::vector<std::string> key_texts(const Table& t, const std::string& column) {
  std::vector<std::string> out;
  const Column& c = t.column(column);
  if (const auto* s = std::get_if<StringColumn>(&c)) return *s;
  for (int64_t v : std::get<IntColumn>(c)) out.push_back(std::to_string(v));
  return out;
}

// Joins `side` onto `inter` by `on` (see join_keys); returns the joined table.
Table join_table(const Table& inter, const Table& side, const Keys& k, const std::string& file) {
  const std::string on = k.string("on");
  const ConfigNode at = k.at("on");
  if (!side.has(on)) at.fail("the key column '" + on + "' is not among the columns read from " + file);
  if (!inter.has(on)) {
    std::vector<std::string> cols = inter.column_names();
    at.fail("the key column '" + on + "' is not a column of the interactions" + did_you_mean(on, cols) + " (columns: " +
            join(cols) + ")");
  }
  const ColumnType ti = column_type(inter.column(on)), ts = column_type(side.column(on));
  if (ti != ts)
    at.fail("the key column '" + on + "' is " + column_type_name(ti) + " in the interactions but " + column_type_name(ts) +
            " in " + file + ": give it one type in both");
  if (ti == ColumnType::Float) at.fail("the key column '" + on + "' is float: join on a string or int column");
  for (const auto& c : side.column_names())
    if (c != on && inter.has(c))
      k.at("columns").fail("column '" + c + "' of " + file + " is already a column of the interactions: read it from one table");

  const std::vector<std::string> side_keys = key_texts(side, on);
  std::unordered_map<std::string, int64_t> row_of;
  for (size_t r = 0; r < side_keys.size(); ++r) {
    auto [it, inserted] = row_of.emplace(side_keys[r], static_cast<int64_t>(r));
    if (!inserted)
      at.fail("key '" + side_keys[r] + "' appears twice in " + file + " (data rows " + std::to_string(it->second + 1) +
              " and " + std::to_string(r + 1) + "); a side table needs one row per key");
  }
  const std::vector<std::string> keys = key_texts(inter, on);
  std::vector<int64_t> kept, side_rows;
  size_t missing = 0;
  std::string first_missing;
  for (size_t r = 0; r < keys.size(); ++r) {
    auto it = row_of.find(keys[r]);
    if (it == row_of.end()) {
      if (missing++ == 0) first_missing = keys[r];
      continue;
    }
    kept.push_back(static_cast<int64_t>(r));
    side_rows.push_back(it->second);
  }
  if (missing && k.string("missing") == "error")
    at.fail(std::to_string(missing) + " interaction(s) have a key '" + on + "' that " + file + " lacks (the first: '" +
            first_missing + "'); add the rows, or write `missing: drop` to leave them out");
  if (missing) std::fprintf(stderr, "csv: join on '%s' with %s dropped %zu interaction(s) whose key it lacks\n", on.c_str(),
                            file.c_str(), missing);
  Table out = missing ? inter.take(kept, inter.name()) : inter;
  const Table matched = side.take(side_rows, side.name());
  for (const auto& c : side.column_names())
    if (c != on) out.add(c, matched.column(c));
  return out;
}

void load_csv_source(const Keys& keys, const std::string& dir, DataTables& out) {
  const ConfigNode& cfg = keys.node();
  CsvOptions options;
  options.skip_bad_rows = keys.boolean("skip_bad_rows");
  auto types_in = [&](const ConfigNode& cols) {
    std::map<std::string, ColumnType> types;
    for (const auto& [name, node] : cols.items()) {
      std::string t = node.as_enum({"string", "int", "float"});
      types[name] = t == "string" ? ColumnType::String : t == "int" ? ColumnType::Int : ColumnType::Float;
    }
    if (types.empty()) cols.fail("expected at least one column");
    return types;
  };
  auto types_of = [&](const std::string& key) { return types_in(cfg.at(key)); };
  // Relative paths: against the data directory when one is given, else against the folder of the
  // file that names them.
  auto path_of = [&](const std::string& file, const ConfigNode& at) {
    std::filesystem::path p = file;
    if (p.is_absolute()) return p.string();
    std::filesystem::path base =
        dir.empty() ? std::filesystem::path(at.origin().file).parent_path() : std::filesystem::path(dir);
    return (base / p).string();
  };
  auto path = [&](const std::string& key) { return path_of(keys.string(key), cfg.at(key)); };
  CsvReport report;
  out.interactions = read_csv(path("interactions"), types_of("columns"), options, &report);
  if (cfg.has("candidates"))
    out.candidates = read_csv(path("candidates"), types_of(cfg.has("candidate_columns") ? "candidate_columns" : "columns"),
                              options, &report);
  if (cfg.has("join")) {
    ConfigNode list = cfg.at("join");
    if (!list.is_list()) list.fail("expected a list of maps ({file, columns, on}), found " + list.describe());
    for (const ConfigNode& j : list.elements()) {
      if (!j.is_map()) j.fail("expected a map with file, columns and on, found " + j.describe());
      Keys k(j, join_keys());
      const std::string file = path_of(k.string("file"), k.at("file"));
      Table side = read_csv(file, types_in(k.at("columns")), options, &report);
      out.interactions = join_table(out.interactions, side, k, file);
      if (k.boolean("candidates")) {
        if (cfg.has("candidates") || out.candidates.rows() > 0)
          k.at("candidates").fail("the candidates are already given (`candidates:` or an earlier join)");
        out.candidates = side.slice(0, side.rows(), "candidates");
      }
    }
  }
  if (report.skipped) std::fprintf(stderr, "csv: %s\n", report.summary().c_str());
}

}  // namespace

DAGRAD_REGISTER_DATA_SOURCE(load_csv_source, "csv", "CSV or TSV files with a header row", csv_keys);

}  // namespace dagrad
