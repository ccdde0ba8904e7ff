#include "models/data/table.hpp"

#include <atomic>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "graph/error.hpp"
#include "graph/files.hpp"
#include "graph/limits.hpp"
#include "graph/names.hpp"

namespace dagrad {

const char* column_type_name(ColumnType t) {
  switch (t) {
    case ColumnType::String: return "string";
    case ColumnType::Int: return "int";
    default: return "float";
  }
}

ColumnType column_type(const Column& c) { return static_cast<ColumnType>(c.index()); }

uint64_t Table::next_contents_id() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

void Table::add(const std::string& column, Column values) {
  size_t n = std::visit([](const auto& v) { return v.size(); }, values);
  if (columns_.empty()) rows_ = n;
  DAGRAD_ASSERT(n == rows_, "table '" + name_ + "': column '" + column + "' has " + std::to_string(n) +
                                " rows, the table " + std::to_string(rows_));
  columns_[column] = std::move(values);
  contents_id_ = next_contents_id();
}

std::vector<std::string> Table::column_names() const {
  std::vector<std::string> n;
  for (const auto& [k, v] : columns_) n.push_back(k);
  return n;
}

const Column& Table::column(const std::string& name) const {
  auto it = columns_.find(name);
  if (it == columns_.end()) {
    std::string have;
    for (const auto& n : column_names()) have += (have.empty() ? "" : ", ") + n;
    throw UserError("table '" + name_ + "' has no column '" + name + "' (columns: " + (have.empty() ? "none" : have) + ")");
  }
  return it->second;
}

namespace {
template <class T>
const T& typed(const Table& t, const std::string& name, ColumnType want) {
  const Column& c = t.column(name);
  if (auto* v = std::get_if<T>(&c)) return *v;
  throw UserError("table '" + t.name() + "': column '" + name + "' is " + column_type_name(column_type(c)) +
                  ", expected " + column_type_name(want));
}
}  // namespace

const StringColumn& Table::strings(const std::string& n) const { return typed<StringColumn>(*this, n, ColumnType::String); }
const IntColumn& Table::ints(const std::string& n) const { return typed<IntColumn>(*this, n, ColumnType::Int); }
const FloatColumn& Table::floats(const std::string& n) const { return typed<FloatColumn>(*this, n, ColumnType::Float); }

Table Table::take(std::span<const int64_t> index, std::string name) const {
  Table t(name.empty() ? name_ : std::move(name));
  for (const auto& [k, col] : columns_) {
    t.add(k, std::visit([&](const auto& v) -> Column {
      std::decay_t<decltype(v)> out;
      out.reserve(index.size());
      for (int64_t i : index) out.push_back(v.at(static_cast<size_t>(i)));
      return out;
    }, col));
  }
  return t;
}

Table Table::slice(size_t begin, size_t end, std::string name) const {
  DAGRAD_ASSERT(begin <= end && end <= rows_, "slice out of range");
  std::vector<int64_t> idx;
  for (size_t i = begin; i < end; ++i) idx.push_back(static_cast<int64_t>(i));
  return take(idx, std::move(name));
}

namespace {

// Splits one CSV record (RFC 4180 quoting; a quoted field may not span lines here).
bool split_record(const std::string& line, char sep, std::vector<std::string>& out) {
  out.clear();
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') { field += '"'; ++i; }
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == sep) {
      out.push_back(std::move(field));
      field.clear();
    } else {
      field += c;
    }
  }
  out.push_back(std::move(field));
  return !quoted;
}

std::string hex_byte(unsigned char b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("0x") + kHex[b >> 4] + kHex[b & 15];
}

// A field as it appears in a message: printable ASCII as is, other bytes as \xNN, long ones cut.
std::string shown(const std::string& field) {
  std::string s;
  for (size_t i = 0; i < field.size() && i < 40; ++i) {
    auto b = static_cast<unsigned char>(field[i]);
    s += b >= 0x20 && b < 0x7F ? std::string(1, static_cast<char>(b)) : "\\x" + hex_byte(b).substr(2);
  }
  return field.size() > 40 ? s + "..." : s;
}

}  // namespace

std::string CsvReport::summary() const {
  if (skipped == 0) return "";
  std::string s = "skipped " + std::to_string(skipped) + " bad row" + (skipped == 1 ? "" : "s");
  for (size_t i = 0; i < first.size(); ++i) s += (i == 0 ? ": " : "; ") + first[i];
  if (first.size() < skipped) s += "; ...";
  return s;
}

Table read_csv(const std::string& path, const std::map<std::string, ColumnType>& types, const CsvOptions& options,
               CsvReport* report) {
  // A regular file only (a FIFO or a device would block or never end), and one that fits in memory.
  InputFile f(path, limits::memory_limit(), "CSV file");
  const char sep = path.size() > 4 && path.compare(path.size() - 4, 4, ".tsv") == 0 ? '\t' : ',';
  std::string line;
  if (!f.next_line(line, limits::kLineBytes)) throw UserError(path + ": empty file (expected a header row)");
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // a UTF-8 byte order mark
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> header, fields;
  split_record(line, sep, header);
  std::vector<int> col_of;                       // field index -> wanted column slot, or -1
  std::vector<std::pair<std::string, ColumnType>> wanted(types.begin(), types.end());
  for (const auto& [name, type] : wanted) {
    int seen = 0;
    for (const auto& h : header) seen += h == name;
    if (seen == 0) {
      std::string have;
      for (const auto& h : header) have += (have.empty() ? "" : ", ") + h;
      throw UserError(path + ":1: no column '" + name + "' in the header (columns: " + have + ")");
    }
    if (seen > 1) throw UserError(path + ":1: column '" + name + "' appears " + std::to_string(seen) + " times in the header");
  }
  for (const auto& h : header) {
    int slot = -1;
    for (size_t k = 0; k < wanted.size(); ++k)
      if (wanted[k].first == h) slot = static_cast<int>(k);
    col_of.push_back(slot);
  }
  // One row's parsed values, kept apart until the whole row is good (a skipped row adds nothing).
  using Value = std::variant<std::string, int64_t, float>;
  std::vector<Value> row(wanted.size());
  auto parse_row = [&](int64_t lineno) {
    auto fail = [&](const std::string& what) -> UserError {
      return UserError(path + ":" + std::to_string(lineno) + ": " + what);
    };
    if (!split_record(line, sep, fields)) throw fail("unterminated quoted field");
    if (fields.size() != header.size()) {
      std::string msg = "expected " + std::to_string(header.size()) + " fields, found " +
                        std::to_string(fields.size());
      if (!f.ended_with_newline() && fields.size() < header.size()) msg += " (the file ends in this line: truncated?)";
      throw fail(msg);
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      int slot = col_of[i];
      if (slot < 0) continue;
      const std::string& s = fields[i];
      auto bad = [&](const std::string& what) {
        return fail("column '" + header[i] + "': expected " + what + ", found '" + shown(s) + "'");
      };
      switch (wanted[slot].second) {
        case ColumnType::String:
          if (size_t at = first_invalid_utf8(s); at != std::string::npos)
            throw fail("column '" + header[i] + "': byte " + hex_byte(static_cast<unsigned char>(s[at])) + " at offset " +
                       std::to_string(at + 1) + " of '" + shown(s) +
                       "' is not valid UTF-8 (a latin-1 or Windows-1252 file? convert it with iconv -t UTF-8)");
          row[slot] = s;
          break;
        case ColumnType::Int: {
          int64_t v;
          auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
          if (ec != std::errc() || p != s.data() + s.size() || s.empty()) throw bad("an integer");
          row[slot] = v;
          break;
        }
        case ColumnType::Float: {
          float v;
          auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
          if (ec == std::errc::result_out_of_range) throw bad("a number within float range (about 3.4e38)");
          if (ec != std::errc() || p != s.data() + s.size() || s.empty()) throw bad("a number");
          if (!std::isfinite(v)) throw bad("a finite number");
          row[slot] = v;
          break;
        }
      }
    }
  };
  std::vector<Column> cols;
  for (const auto& [name, type] : wanted) {
    if (type == ColumnType::String) cols.emplace_back(StringColumn{});
    else if (type == ColumnType::Int) cols.emplace_back(IntColumn{});
    else cols.emplace_back(FloatColumn{});
  }
  CsvReport local;
  CsvReport& rep = report ? *report : local;
  const size_t skipped_before = rep.skipped;  // the report may already count another file's rows
  int64_t lineno = 1, rows = 0;
  while (f.next_line(line, limits::kLineBytes)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    ++rows;
    try {
      parse_row(lineno);
    } catch (const UserError& e) {
      if (!options.skip_bad_rows) throw;
      ++rep.skipped;
      if (rep.first.size() < options.max_reported) rep.first.push_back(e.what());
      continue;
    }
    for (size_t k = 0; k < wanted.size(); ++k)
      std::visit([&](auto& col) {
        using T = typename std::decay_t<decltype(col)>::value_type;
        col.push_back(std::get<T>(std::move(row[k])));
      }, cols[k]);
  }
  if (rows > 0 && rows == static_cast<int64_t>(rep.skipped - skipped_before))
    throw UserError(path + ": no usable row: all " + std::to_string(rows) + " skipped; " + rep.summary());
  Table t(path);
  for (size_t k = 0; k < wanted.size(); ++k) t.add(wanted[k].first, std::move(cols[k]));
  return t;
}

}  // namespace dagrad
