#include "models/fit/history.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <sstream>

#include "graph/error.hpp"

namespace dagrad {

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, p);
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') { o += '\\'; o += static_cast<char>(c); }
    else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else o += static_cast<char>(c);
  }
  return o + "\"";
}

std::string json_object(const Row& row) {
  std::string s = "{";
  for (size_t i = 0; i < row.size(); ++i) s += (i ? ", " : "") + json_string(row[i].first) + ": " + json_number(row[i].second);
  return s + "}";
}

double History::last(const std::string& key) const {
  for (auto it = rows_.rbegin(); it != rows_.rend(); ++it)
    for (const auto& [k, v] : *it)
      if (k == key) return v;
  return NAN;
}

std::string History::to_json() const {
  std::string s = "{\"rows\": [";
  for (size_t i = 0; i < rows_.size(); ++i) s += std::string(i ? ",\n  " : "\n  ") + json_object(rows_[i]);
  return s + "\n]}\n";
}

std::string History::to_csv() const {
  std::vector<std::string> keys;
  for (const auto& r : rows_)
    for (const auto& [k, v] : r)
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  std::ostringstream os;
  for (size_t i = 0; i < keys.size(); ++i) os << (i ? "," : "") << keys[i];
  os << "\n";
  for (const auto& r : rows_) {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i) os << ",";
      for (const auto& [k, v] : r)
        if (k == keys[i]) os << json_number(v);
    }
    os << "\n";
  }
  return os.str();
}

void History::save(const std::string& dir) const {
  write_file_atomic(dir + "/history.json", to_json());
  write_file_atomic(dir + "/history.csv", to_csv());
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
