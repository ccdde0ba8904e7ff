// Table: named, typed columns with one row per example — what data sources produce and models
// consume (strings, integers, floats). Plus a CSV/TSV reader with errors naming file and line.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace dagrad {

using StringColumn = std::vector<std::string>;
using IntColumn = std::vector<int64_t>;
using FloatColumn = std::vector<float>;
using Column = std::variant<StringColumn, IntColumn, FloatColumn>;

enum class ColumnType { String, Int, Float };
const char* column_type_name(ColumnType t);
ColumnType column_type(const Column& c);

class Table {
 public:
  explicit Table(std::string name = "table") : name_(std::move(name)), contents_id_(next_contents_id()) {}
  const std::string& name() const { return name_; }
  size_t rows() const { return rows_; }
  // Identifies the columns' contents: a copy keeps it, a new table or any add() gets a fresh one, so
  // caches of encoded tables can key on it (an address and a row count can repeat).
  uint64_t contents_id() const { return contents_id_; }
  bool empty() const { return columns_.empty(); }
  // The first column fixes the row count; later ones must match it (InternalError otherwise).
  void add(const std::string& column, Column values);
  bool has(const std::string& column) const { return columns_.count(column) != 0; }
  std::vector<std::string> column_names() const;
  // Throw UserError naming the table, the column and the columns it has / its actual type.
  const Column& column(const std::string& name) const;
  const StringColumn& strings(const std::string& name) const;
  const IntColumn& ints(const std::string& name) const;
  const FloatColumn& floats(const std::string& name) const;
  // The rows at `index`, in that order.
  Table take(std::span<const int64_t> index, std::string name = "") const;
  // Rows [begin, end).
  Table slice(size_t begin, size_t end, std::string name = "") const;

 private:
  static uint64_t next_contents_id();

  std::string name_;
  size_t rows_ = 0;
  std::map<std::string, Column> columns_;
  uint64_t contents_id_;
};

struct CsvOptions {
  // Skip rows with errors (field count, a field not of its type, bytes that are not UTF-8)
  // instead of throwing; file-level errors (missing, empty, bad header, no usable row) still throw.
  bool skip_bad_rows = false;
  size_t max_reported = 5;  // how many skipped rows CsvReport::first describes
};

struct CsvReport {
  size_t skipped = 0;
  std::vector<std::string> first;  // "file:line: reason" of the first skipped rows
  // "skipped N bad rows: file:line: reason; ..." or "" when nothing was skipped.
  std::string summary() const;
};

// Reads a CSV (or, for a .tsv file, tab-separated) UTF-8 file with a header row. `types` names the
// columns to keep and their types; a missing or repeated column, a wrong field count, a field that
// does not parse as its type (floats must be finite), or a string that is not valid UTF-8 is a
// UserError naming the file, line and column — or, with options.skip_bad_rows, a row counted in
// *report and left out.
Table read_csv(const std::string& path, const std::map<std::string, ColumnType>& types, const CsvOptions& options = {},
               CsvReport* report = nullptr);

}  // namespace dagrad
