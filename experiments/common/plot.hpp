// Line charts drawn by cairo (libcairo2-dev) as PNG and SVG files, with antialiased text in
// DejaVu Sans (fonts-dejavu-core), and GitHub markdown tables, for experiment reports.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace dagrad::plot {

// One line of a chart. x and y have the same length; y_low/y_high are either empty or as long as y,
// and are drawn as a light band (e.g. min..max over seeds). A non-finite value (NaN) in any of them
// leaves a gap: no line segment, marker or band piece touches it.
struct Series {
  std::string label;
  std::vector<double> x, y;
  std::vector<double> y_low, y_high;
};

// A chart; y_min/y_max fix the y range (data outside it is clipped), otherwise it is chosen from the
// data and rounded out to tick values. Series take colours and marker shapes from a fixed palette in
// order; series with an empty label are drawn but left out of the legend. When band_label is set and
// a series has a band, the legend's last entry is a grey band swatch with that label (e.g. "min–max
// over seeds"). The size is in pixels for PNG, in CSS pixels (px) for SVG: both show the same picture.
struct Chart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  int width = 900, height = 560;
  std::optional<double> y_min, y_max;
  std::string band_label;
};

// Render the chart and write it atomically (a temporary file beside it, flushed, then renamed over
// path). Throw RuntimeFailure naming the path when it cannot be written or cairo fails, UserError
// when y_min >= y_max, InternalError when a series' vectors have mismatched lengths or the size is
// below 200 x 150.
void write_png(const Chart& c, const std::string& path);
void write_svg(const Chart& c, const std::string& path);
// Both: stem + ".png" and stem + ".svg".
void write_figure(const Chart& c, const std::string& stem);

// A GitHub pipe table, one line per row with '\n' after each, cells padded to the column width; the
// first column is left-aligned and the others right-aligned. '|' in a cell is escaped as "\|".
// Every row must have as many cells as the header (InternalError otherwise).
std::string markdown_table(const std::vector<std::string>& header,
                           const std::vector<std::vector<std::string>>& rows);

// Tick values for an axis showing [lo, hi]: multiples of one step from the 1-2-5 sequence, the
// smallest step giving at most max_ticks ticks, starting at or below lo and ending at or above hi.
// A degenerate or non-finite range is widened first, so the result always has at least two ticks.
std::vector<double> nice_ticks(double lo, double hi, int max_ticks = 8);

// The label for a tick value on an axis whose ticks are `step` apart: just enough decimals to tell
// neighbouring ticks apart ("0.05", "300"), scientific notation for very large or small values.
std::string tick_label(double value, double step);

}  // namespace dagrad::plot
