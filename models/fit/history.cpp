#include "models/fit/history.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "graph/error.hpp"
#include "graph/files.hpp"
#include "graph/limits.hpp"

namespace dagrad {
namespace {

using Json = nlohmann::ordered_json;

Json number_json(double v) {
  if (!std::isfinite(v)) return nullptr;
  // Whole numbers (epochs, counts) as integers, as a person writes them; -0 stays a double.
  constexpr double kExact = 9007199254740992.0;  // 2^53: every whole double below is exact
  if (v == std::trunc(v) && std::fabs(v) < kExact && !(v == 0 && std::signbit(v))) return static_cast<int64_t>(v);
  return v;
}

std::string to_csv(const std::vector<Row>& rows) {
  std::vector<std::string> keys;
  for (const auto& r : rows)
    for (const auto& [k, v] : r)
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  std::ostringstream os;
  for (size_t i = 0; i < keys.size(); ++i) os << (i ? "," : "") << keys[i];
  os << "\n";
  for (const auto& r : rows) {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i) os << ",";
      for (const auto& [k, v] : r)
        if (k == keys[i]) os << number_text(v);
    }
    os << "\n";
  }
  return os.str();
}

}  // namespace

Json row_json(const Row& row) {
  Json o = Json::object();
  for (const auto& [k, v] : row) o[k] = number_json(v);
  return o;
}

std::string number_text(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, p);
}

double History::last(const std::string& key) const {
  for (auto it = rows_.rbegin(); it != rows_.rend(); ++it)
    for (const auto& [k, v] : *it)
      if (k == key) return v;
  return NAN;
}

void History::save(const std::string& dir) const {
  Json rows = Json::array();
  for (const Row& r : rows_) rows.push_back(row_json(r));
  const Json doc = {{"rows", rows}};
  write_file_atomic(dir + "/history.json", doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
  write_file_atomic(dir + "/history.csv", to_csv(rows_));
}

History History::load(const std::string& dir) {
  const std::string path = dir + "/history.json";
  // A regular file (never a FIFO) within a stated size (graph/limits.hpp; a real one is kilobytes).
  const std::string text = read_input_file(path, limits::kHistoryBytes, "history file");
  auto fail = [&](const std::string& why) -> UserError { return UserError(path + ": not a dagrad history (" + why + ")"); };
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw fail(e.what());
  }
  if (!doc.is_object() || !doc.contains("rows") || !doc["rows"].is_array()) throw fail("expected {\"rows\": [...]}");
  History h;
  for (const Json& r : doc["rows"]) {
    if (!r.is_object()) throw fail("a row is not an object");
    Row row;
    for (const auto& [k, v] : r.items()) {
      if (v.is_null()) row.push_back({k, NAN});
      else if (v.is_number()) row.push_back({k, v.get<double>()});
      else throw fail("'" + k + "' is not a number or null");
    }
    h.add(std::move(row));
  }
  return h;
}

void History::write(ArchiveWriter& w) const {
  std::vector<std::string> flat;  // key, value pairs per row, rows separated by an empty key
  for (const auto& r : rows_) {
    for (const auto& [k, v] : r) {
      flat.push_back(k);
      char buf[64];
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
      flat.emplace_back(buf, p);
    }
    flat.emplace_back();
  }
  w.put_strings("fit/history", flat);
}

void History::read(const ArchiveReader& r) {
  rows_.clear();
  auto flat = r.strings("fit/history");
  Row row;
  for (size_t i = 0; i < flat.size();) {
    if (flat[i].empty()) {
      rows_.push_back(std::move(row));
      row.clear();
      ++i;
      continue;
    }
    if (i + 1 >= flat.size()) throw UserError(r.path() + ": damaged history");
    double v = 0;
    std::from_chars(flat[i + 1].data(), flat[i + 1].data() + flat[i + 1].size(), v);
    row.push_back({flat[i], v});
    i += 2;
  }
}

}  // namespace dagrad
