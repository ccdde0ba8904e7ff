// The `csv` data source: interactions (and candidates) from CSV or TSV files with a header row.
#include <cstdio>
#include <filesystem>
#include <map>

#include "models/data/dataset.hpp"

namespace dagrad {
namespace {

// The csv source: `interactions: FILE`, optional `candidates: FILE`, and `columns: {name: type}`
// for each table's columns (string, int or float). Paths are relative to the data directory.
// `skip_bad_rows: true` leaves out rows that do not parse and says how many on stderr.
Schema csv_keys() {
  return {Key::string("interactions", "the interactions file (relative: to --data, else to this file's folder)").required(),
          Key::string("candidates", "a file of every candidate (retrieval evaluation)"),
          Key::any("columns", "map of column name to string, int or float", "the interactions file's columns to read")
              .required(),
          Key::any("candidate_columns", "map of column name to string, int or float", "the candidates file's columns")
              .otherwise_text("columns"),
          Key::boolean("skip_bad_rows", "leave out rows that do not parse (and say how many) instead of stopping")
              .otherwise(false)};
}

void load_csv_source(const Keys& keys, const std::string& dir, DataTables& out) {
  const ConfigNode& cfg = keys.node();
  CsvOptions options;
  options.skip_bad_rows = keys.boolean("skip_bad_rows");
  auto types_of = [&](const std::string& key) {
    std::map<std::string, ColumnType> types;
    ConfigNode cols = cfg.at(key);
    for (const auto& [name, node] : cols.items()) {
      std::string t = node.as_enum({"string", "int", "float"});
      types[name] = t == "string" ? ColumnType::String : t == "int" ? ColumnType::Int : ColumnType::Float;
    }
    if (types.empty()) cols.fail("expected at least one column");
    return types;
  };
  // Relative paths: against the data directory when one is given, else against the folder of the
  // file that names them.
  auto path = [&](const std::string& key) {
    std::filesystem::path p = keys.string(key);
    if (p.is_absolute()) return p.string();
    std::filesystem::path base = dir.empty() ? std::filesystem::path(cfg.at(key).origin().file).parent_path()
                                             : std::filesystem::path(dir);
    return (base / p).string();
  };
  CsvReport report;
  out.interactions = read_csv(path("interactions"), types_of("columns"), options, &report);
  if (cfg.has("candidates"))
    out.candidates = read_csv(path("candidates"), types_of(cfg.has("candidate_columns") ? "candidate_columns" : "columns"),
                              options, &report);
  if (report.skipped) std::fprintf(stderr, "csv: %s\n", report.summary().c_str());
}

}  // namespace

DAGRAD_REGISTER_DATA_SOURCE(load_csv_source, "csv", "CSV or TSV files with a header row", csv_keys);

}  // namespace dagrad
