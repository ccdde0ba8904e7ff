// markdown_table: GitHub pipe tables for experiment reports (declared in plot.hpp).
#include <algorithm>

#include "experiments/common/plot.hpp"
#include "graph/error.hpp"

namespace dagrad::plot {
namespace {

// A cell as it must appear in the table: pipes escaped, line breaks flattened to spaces.
std::string escape_cell(const std::string& cell) {
  std::string out;
  for (char ch : cell) {
    if (ch == '|') out += "\\|";
    else if (ch == '\n' || ch == '\r') out += ' ';
    else out += ch;
  }
  return out;
}

// Width as a reader sees it: UTF-8 continuation bytes take no column.
std::size_t display_width(const std::string& s) {
  return std::size_t(std::count_if(s.begin(), s.end(), [](char ch) { return (ch & 0xC0) != 0x80; }));
}

std::string padded(const std::string& cell, std::size_t width, bool left) {
  const std::string fill(width - display_width(cell), ' ');
  return left ? cell + fill : fill + cell;
}

}  // namespace

std::string markdown_table(const std::vector<std::string>& header,
                           const std::vector<std::vector<std::string>>& rows) {
  DAGRAD_ASSERT(!header.empty(), "markdown_table: the header has no columns");
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size() + 1);
  cells.emplace_back();
  for (const auto& h : header) cells.back().push_back(escape_cell(h));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    DAGRAD_ASSERT(rows[r].size() == header.size(),
                  "markdown_table: row " + std::to_string(r) + " has " + std::to_string(rows[r].size()) +
                      " cells but the header has " + std::to_string(header.size()));
    cells.emplace_back();
    for (const auto& c : rows[r]) cells.back().push_back(escape_cell(c));
  }
  // Three characters is the narrowest column whose alignment marker (":--" or "--:") still fits.
  std::vector<std::size_t> width(header.size(), 3);
  for (const auto& row : cells)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], display_width(row[c]));

  auto line = [&](const std::vector<std::string>& row) {
    std::string s = "|";
    for (std::size_t c = 0; c < row.size(); ++c) {
      s += ' ';
      s += padded(row[c], width[c], c == 0);
      s += " |";
    }
    return s + "\n";
  };
  std::string out = line(cells[0]) + "|";
  for (std::size_t c = 0; c < width.size(); ++c) {
    if (c == 0) out += ':';
    out.append(width[c] + 1, '-');
    out += c == 0 ? "|" : ":|";
  }
  out += '\n';
  for (std::size_t r = 1; r < cells.size(); ++r) out += line(cells[r]);
  return out;
}

}  // namespace dagrad::plot
