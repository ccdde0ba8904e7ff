// History: one row per evaluation (epoch, training loss, evaluation metrics, seconds). Its one
// writer and one reader are save() and load(): history.json, through nlohmann::json, with
// history.csv beside it for spreadsheets; write() and read() carry it in checkpoints.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "models/io/archive.hpp"

namespace dagrad {

using Row = std::vector<std::pair<std::string, double>>;

// A row as a JSON object in the row's order: a whole number (|v| < 2^53) as a JSON integer, any
// other finite number as a double that reads back bit for bit, a non-finite one as null.
nlohmann::ordered_json row_json(const Row& row);

// The shortest text that reads back as `v`; "null" when it is not finite (history.csv, the
// epoch line).
std::string number_text(double v);

class History {
 public:
  void add(Row row) { rows_.push_back(std::move(row)); }
  const std::vector<Row>& rows() const& { return rows_; }
  // From a temporary (History::load(dir).rows()) the rows themselves, so that a range-for over
  // them does not outlive the History.
  std::vector<Row> rows() && { return std::move(rows_); }
  // The value of `key` in the newest row that has it; NaN when none.
  double last(const std::string& key) const;

  // dir/history.json ({"rows": [{"epoch": 1, "loss": ..., ...}, ...]}) and dir/history.csv
  // (a header of every key in first-seen order, one line per row), each atomically.
  void save(const std::string& dir) const;
  // dir/history.json as save() wrote it, null read as NaN. UserError naming the file when it is
  // missing or is not such a history.
  static History load(const std::string& dir);

  void write(ArchiveWriter& w) const;  // into a checkpoint (fit/history)
  void read(const ArchiveReader& r);

 private:
  std::vector<Row> rows_;
};

}  // namespace dagrad
