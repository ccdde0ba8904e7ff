#include "models/table.hpp"

#include <atomic>
#include <charconv>
#include <fstream>

#include "graph/error.hpp"

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

}  // namespace

Table read_csv(const std::string& path, const std::map<std::string, ColumnType>& types) {
  std::ifstream f(path);
  if (!f) throw UserError(path + ": cannot open file");
  const char sep = path.size() > 4 && path.compare(path.size() - 4, 4, ".tsv") == 0 ? '\t' : ',';
  std::string line;
  if (!std::getline(f, line)) throw UserError(path + ": empty file (expected a header row)");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> header, fields;
  split_record(line, sep, header);
  std::vector<int> col_of;                       // field index -> wanted column slot, or -1
  std::vector<std::pair<std::string, ColumnType>> wanted(types.begin(), types.end());
  std::vector<Column> cols;
  for (const auto& [name, type] : wanted) {
    if (type == ColumnType::String) cols.emplace_back(StringColumn{});
    else if (type == ColumnType::Int) cols.emplace_back(IntColumn{});
    else cols.emplace_back(FloatColumn{});
  }
  for (const auto& h : header) {
    int slot = -1;
    for (size_t k = 0; k < wanted.size(); ++k)
      if (wanted[k].first == h) slot = static_cast<int>(k);
    col_of.push_back(slot);
  }
  for (const auto& [name, type] : wanted) {
    bool found = false;
    for (const auto& h : header) found = found || h == name;
    if (!found) {
      std::string have;
      for (const auto& h : header) have += (have.empty() ? "" : ", ") + h;
      throw UserError(path + ":1: no column '" + name + "' in the header (columns: " + have + ")");
    }
  }
  int64_t lineno = 1;
  while (std::getline(f, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (!split_record(line, sep, fields))
      throw UserError(path + ":" + std::to_string(lineno) + ": unterminated quoted field");
    if (fields.size() != header.size())
      throw UserError(path + ":" + std::to_string(lineno) + ": expected " + std::to_string(header.size()) +
                      " fields, found " + std::to_string(fields.size()));
    for (size_t i = 0; i < fields.size(); ++i) {
      int slot = col_of[i];
      if (slot < 0) continue;
      const std::string& s = fields[i];
      auto bad = [&](const char* what) {
        return UserError(path + ":" + std::to_string(lineno) + ": column '" + header[i] + "': expected " + what +
                         ", found '" + s + "'");
      };
      Column& c = cols[slot];
      if (auto* sv = std::get_if<StringColumn>(&c)) {
        sv->push_back(s);
      } else if (auto* iv = std::get_if<IntColumn>(&c)) {
        int64_t v;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || p != s.data() + s.size() || s.empty()) throw bad("an integer");
        iv->push_back(v);
      } else {
        auto& fv = std::get<FloatColumn>(c);
        float v;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || p != s.data() + s.size() || s.empty()) throw bad("a number");
        fv.push_back(v);
      }
    }
  }
  Table t(path);
  for (size_t k = 0; k < wanted.size(); ++k) t.add(wanted[k].first, std::move(cols[k]));
  return t;
}

}  // namespace dagrad
