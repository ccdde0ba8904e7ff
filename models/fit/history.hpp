// History: one row per evaluation (epoch, seconds, training loss, evaluation metrics), written as
// JSON and CSV atomically; plus the small JSON helpers the fitter's summary uses.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/io/archive.hpp"

namespace dagrad {

using Row = std::vector<std::pair<std::string, double>>;

std::string json_number(double v);   // finite: shortest round-trip; non-finite: null
std::string json_string(const std::string& s);
std::string json_object(const Row& row);

class History {
 public:
  void add(Row row) { rows_.push_back(std::move(row)); }
  const std::vector<Row>& rows() const { return rows_; }
  // The value of `key` in the newest row that has it; NaN when none.
  double last(const std::string& key) const;
  std::string to_json() const;  // {"rows": [{...}, ...]}
  std::string to_csv() const;   // header = union of keys in first-seen order
  void save(const std::string& dir) const;  // history.json and history.csv, atomically
  void write(ArchiveWriter& w) const;       // for checkpoints
  void read(const ArchiveReader& r);

 private:
  std::vector<Row> rows_;
};

}  // namespace dagrad
