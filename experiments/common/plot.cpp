// write_png: lays out and draws a line chart (axes, grid, bands, lines, markers, legend, text) on a
// Canvas and writes it as a PNG file. See plot.hpp for the contract.
#include "experiments/common/plot.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "experiments/common/png.hpp"
#include "experiments/common/raster.hpp"
#include "graph/error.hpp"

namespace dagrad::plot {
namespace {

constexpr Rgb kBackground{255, 255, 255}, kText{30, 30, 30}, kTickText{80, 80, 80}, kFrame{120, 120, 120},
    kGrid{230, 230, 230}, kLegendEdge{190, 190, 190};
// Tableau 10: distinct hues of similar weight; the marker shapes tell series apart in grey print.
constexpr std::array<Rgb, 10> kPalette = {{{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},
                                           {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                           {188, 189, 34}, {23, 190, 207}}};
constexpr std::array<Marker, 4> kMarkers = {Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond};
constexpr double kBandOpacity = 0.2;

bool finite(double v) { return std::isfinite(v); }

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!finite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

struct Axis {
  double lo, hi, step;
  std::vector<double> ticks;
};

// The axis spans the ticks around the data, or exactly the fixed limits when given.
Axis make_axis(Range data, std::optional<double> fixed_lo, std::optional<double> fixed_hi, int max_ticks) {
  double lo = fixed_lo.value_or(data.empty() ? 0.0 : data.lo);
  double hi = fixed_hi.value_or(data.empty() ? 1.0 : data.hi);
  if (hi <= lo && (fixed_lo || fixed_hi)) {  // one limit is fixed, and the data lies on or past it
    if (fixed_lo) hi = lo + std::max(1.0, std::abs(lo));
    else lo = hi - std::max(1.0, std::abs(hi));
  }
  std::vector<double> ticks = nice_ticks(lo, hi, max_ticks);
  Axis a{fixed_lo ? lo : ticks.front(), fixed_hi ? hi : ticks.back(), ticks[1] - ticks[0], {}};
  const double eps = 1e-9 * a.step;
  for (double t : ticks)
    if (t >= a.lo - eps && t <= a.hi + eps) a.ticks.push_back(t);
  return a;
}

// Data to pixel coordinates. The data range is inset a little from the frame, so that lines at the
// range's ends stay clear of it.
struct Frame {
  Rect area;
  double inset;
  Axis x, y;
  double px(double v) const { return area.x0 + inset + (v - x.lo) / (x.hi - x.lo) * (area.width() - 2 * inset); }
  double py(double v) const { return area.y1 - inset - (v - y.lo) / (y.hi - y.lo) * (area.height() - 2 * inset); }
};

void validate(const Chart& c) {
  DAGRAD_ASSERT(c.width >= 200 && c.height >= 150,
                "plot '" + c.title + "': size " + std::to_string(c.width) + "x" + std::to_string(c.height) +
                    " is below the 200x150 minimum");
  for (const Series& s : c.series) {
    const std::string n = std::to_string(s.y.size());
    DAGRAD_ASSERT(s.x.size() == s.y.size(),
                  "plot '" + c.title + "', series '" + s.label + "': " + std::to_string(s.x.size()) + " x values but " + n + " y values");
    DAGRAD_ASSERT((s.y_low.empty() && s.y_high.empty()) || (s.y_low.size() == s.y.size() && s.y_high.size() == s.y.size()),
                  "plot '" + c.title + "', series '" + s.label + "': band has " + std::to_string(s.y_low.size()) +
                      " low and " + std::to_string(s.y_high.size()) + " high values for " + n + " y values");
  }
  if (c.y_min && c.y_max && !(*c.y_min < *c.y_max))
    throw UserError("plot '" + c.title + "': y_min (" + std::to_string(*c.y_min) + ") must be below y_max (" +
                    std::to_string(*c.y_max) + ")");
}

bool has_band(const Series& s) { return !s.y_low.empty(); }

// Points [i] of a series that get a marker: all of them when there are few, otherwise about 25
// evenly spaced ones (counted back from the last point), plus any point with no segment to it.
bool gets_marker(const Series& s, std::size_t i, std::size_t stride) {
  auto ok = [&](std::size_t k) { return finite(s.x[k]) && finite(s.y[k]); };
  if (!ok(i)) return false;
  const bool isolated = (i == 0 || !ok(i - 1)) && (i + 1 == s.y.size() || !ok(i + 1));
  return isolated || (s.y.size() - 1 - i) % stride == 0;
}

// Sizes derived from the chart size. Text scale 2 at the default size; lines stay at least 2 pixels
// wide at any size.
struct Style {
  explicit Style(const Chart& c)
      : s(std::max(1, int(std::lround(std::min(c.width, c.height) / 250.0)))),
        th(text_height(s)), cap(kGlyphCapRows * s), tick_len(3 * s), margin(6 * s),
        line_width(std::max(2.0, 1.0 * s)), marker_radius(std::max(3.5, 1.75 * s)) {}
  int s, th, cap, tick_len, margin;
  double line_width, marker_radius;
};

// One row per labelled series (line sample, marker, label), boxed in the plot corner that hides
// the least data.
void draw_legend(Canvas& canvas, const Chart& c, const Frame& f, const std::vector<float>& clutter, const Style& st) {
  const int s = st.s;
  std::vector<std::size_t> entries;
  int label_w = 0;
  for (std::size_t i = 0; i < c.series.size(); ++i)
    if (!c.series[i].label.empty()) {
      entries.push_back(i);
      label_w = std::max(label_w, text_width(c.series[i].label, s));
    }
  if (entries.empty()) return;
  const int pad = 4 * s, sample = 14 * s, row = text_height(s) + 2 * s;
  const int w = pad + sample + 4 * s + label_w + pad, h = pad + int(entries.size()) * row - 2 * s + pad;
  const int gap = 5 * s;
  // Of the four corners, the one hiding the least data: lines count fully, bands a little.
  const std::array<Rect, 4> corners = {{{f.area.x1 - gap - w, f.area.y0 + gap, f.area.x1 - gap, f.area.y0 + gap + h},
                                        {f.area.x0 + gap, f.area.y0 + gap, f.area.x0 + gap + w, f.area.y0 + gap + h},
                                        {f.area.x1 - gap - w, f.area.y1 - gap - h, f.area.x1 - gap, f.area.y1 - gap},
                                        {f.area.x0 + gap, f.area.y1 - gap - h, f.area.x0 + gap + w, f.area.y1 - gap}}};
  Rect box = corners[0];
  double best = std::numeric_limits<double>::infinity();
  for (const Rect& r : corners) {
    double score = 0;
    for (int y = std::max(r.y0, f.area.y0); y < std::min(r.y1, f.area.y1); ++y)
      for (int x = std::max(r.x0, f.area.x0); x < std::min(r.x1, f.area.x1); ++x)
        score += clutter[std::size_t(y - f.area.y0) * f.area.width() + (x - f.area.x0)];
    if (score < best - 1e-9) {
      best = score;
      box = r;
    }
  }
  canvas.fill(box, kBackground, 0.92);
  canvas.fill({box.x0, box.y0, box.x1, box.y0 + 1}, kLegendEdge);
  canvas.fill({box.x0, box.y1 - 1, box.x1, box.y1}, kLegendEdge);
  canvas.fill({box.x0, box.y0, box.x0 + 1, box.y1}, kLegendEdge);
  canvas.fill({box.x1 - 1, box.y0, box.x1, box.y1}, kLegendEdge);
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const std::size_t i = entries[k];
    const int top = box.y0 + pad + int(k) * row;
    const double mid = top + kGlyphCapRows * s / 2.0;
    Mask m({box.x0, top - s, box.x0 + pad + sample + s, top + row});
    m.add_segment(box.x0 + pad, mid, box.x0 + pad + sample, mid, st.line_width);
    m.add_marker(box.x0 + pad + sample / 2.0, mid, st.marker_radius, kMarkers[i % kMarkers.size()]);
    m.composite(canvas, kPalette[i % kPalette.size()], 1.0);
    draw_text(canvas, box.x0 + pad + sample + 4 * s, top, c.series[i].label, s, kText);
  }
}

struct Layout {
  Frame f;
  std::vector<std::string> xlabels, ylabels;
};

// Axis ranges and the plot area, whose margins make room for the titles and tick labels.
Layout lay_out(const Chart& c, const Style& st) {
  Range xr, yr;
  for (const Series& se : c.series)
    for (std::size_t i = 0; i < se.y.size(); ++i) {
      if (!finite(se.x[i])) continue;
      const bool any = finite(se.y[i]) || (has_band(se) && (finite(se.y_low[i]) || finite(se.y_high[i])));
      if (any) xr.add(se.x[i]);
      yr.add(se.y[i]);
      if (has_band(se)) {
        yr.add(se.y_low[i]);
        yr.add(se.y_high[i]);
      }
    }
  const int s = st.s;
  Layout l{};
  l.f.y = make_axis(yr, c.y_min, c.y_max, 8);
  int ylabel_w = 0;
  for (double t : l.f.y.ticks) {
    l.ylabels.push_back(tick_label(t, l.f.y.step));
    ylabel_w = std::max(ylabel_w, text_width(l.ylabels.back(), s));
  }
  const int left = st.margin + (c.y_label.empty() ? 0 : st.th + 4 * s) + ylabel_w + 2 * s + st.tick_len;
  const int top = st.margin + (c.title.empty() ? 0 : st.th + 4 * s);
  const int bottom = st.margin + (c.x_label.empty() ? 0 : st.th + 3 * s) + st.th + 2 * s + st.tick_len;
  // Fewer x ticks when their labels would crowd each other; the last label may overhang the frame.
  int right = 0;
  for (int max_ticks = 8; max_ticks >= 2; --max_ticks) {
    l.f.x = make_axis(xr, std::nullopt, std::nullopt, max_ticks);
    l.xlabels.clear();
    int total = 0;
    for (double t : l.f.x.ticks) {
      l.xlabels.push_back(tick_label(t, l.f.x.step));
      total += text_width(l.xlabels.back(), s) + 6 * s;
    }
    right = std::max(3 * st.margin, text_width(l.xlabels.back(), s) / 2 + st.margin);
    if (total <= c.width - left - right) break;
  }
  l.f.area = {left, top, c.width - right, c.height - bottom};
  l.f.inset = 4 * s;
  return l;
}

// Grid, then bands, then lines and markers, so that no band hides a line. Adds what it draws to
// `clutter` (one value per plot-area pixel), which the legend placement reads.
void draw_data(Canvas& canvas, const Chart& c, const Frame& f, const Style& st, std::vector<float>& clutter) {
  for (double t : f.y.ticks) {
    const int y = int(std::floor(f.py(t)));
    canvas.fill({f.area.x0, y, f.area.x1, y + 1}, kGrid);
  }
  for (double t : f.x.ticks) {
    const int x = int(std::floor(f.px(t)));
    canvas.fill({x, f.area.y0, x + 1, f.area.y1}, kGrid);
  }
  auto add_clutter = [&](const Mask& m, float weight) {
    for (int y = f.area.y0; y < f.area.y1; ++y)
      for (int x = f.area.x0; x < f.area.x1; ++x)
        clutter[std::size_t(y - f.area.y0) * f.area.width() + (x - f.area.x0)] += weight * float(m.at(x, y));
  };
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const Series& se = c.series[k];
    if (!has_band(se)) continue;
    Mask band(f.area);
    for (std::size_t i = 0; i + 1 < se.y.size(); ++i) {
      const bool ok = finite(se.x[i]) && finite(se.x[i + 1]) && finite(se.y_low[i]) && finite(se.y_high[i]) &&
                      finite(se.y_low[i + 1]) && finite(se.y_high[i + 1]);
      if (ok)
        band.add_band(f.px(se.x[i]), f.py(se.y_low[i]), f.py(se.y_high[i]), f.px(se.x[i + 1]), f.py(se.y_low[i + 1]),
                      f.py(se.y_high[i + 1]));
    }
    band.composite(canvas, kPalette[k % kPalette.size()], kBandOpacity);
    add_clutter(band, 0.1f);
  }
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const Series& se = c.series[k];
    Mask line(f.area);
    std::size_t n_finite = 0;
    for (std::size_t i = 0; i < se.y.size(); ++i) n_finite += finite(se.x[i]) && finite(se.y[i]);
    const std::size_t stride = n_finite <= 40 ? 1 : (n_finite + 24) / 25;
    for (std::size_t i = 0; i < se.y.size(); ++i) {
      if (i + 1 < se.y.size() && finite(se.x[i]) && finite(se.y[i]) && finite(se.x[i + 1]) && finite(se.y[i + 1]))
        line.add_segment(f.px(se.x[i]), f.py(se.y[i]), f.px(se.x[i + 1]), f.py(se.y[i + 1]), st.line_width);
      if (gets_marker(se, i, stride))
        line.add_marker(f.px(se.x[i]), f.py(se.y[i]), st.marker_radius, kMarkers[k % kMarkers.size()]);
    }
    line.composite(canvas, kPalette[k % kPalette.size()], 1.0);
    add_clutter(line, 1.0f);
  }
}

// Frame, ticks, tick labels and the three titles.
void draw_axes(Canvas& canvas, const Chart& c, const Layout& l, const Style& st) {
  const Frame& f = l.f;
  const int s = st.s;
  canvas.fill({f.area.x0 - 1, f.area.y0 - 1, f.area.x1 + 1, f.area.y0}, kFrame);
  canvas.fill({f.area.x0 - 1, f.area.y1, f.area.x1 + 1, f.area.y1 + 1}, kFrame);
  canvas.fill({f.area.x0 - 1, f.area.y0 - 1, f.area.x0, f.area.y1 + 1}, kFrame);
  canvas.fill({f.area.x1, f.area.y0 - 1, f.area.x1 + 1, f.area.y1 + 1}, kFrame);
  for (std::size_t i = 0; i < f.y.ticks.size(); ++i) {
    const int y = int(std::floor(f.py(f.y.ticks[i])));
    canvas.fill({f.area.x0 - 1 - st.tick_len, y, f.area.x0 - 1, y + 1}, kFrame);
    const int w = text_width(l.ylabels[i], s);
    draw_text(canvas, f.area.x0 - 1 - st.tick_len - 2 * s - w, y - st.cap / 2, l.ylabels[i], s, kTickText);
  }
  for (std::size_t i = 0; i < f.x.ticks.size(); ++i) {
    const int x = int(std::floor(f.px(f.x.ticks[i])));
    canvas.fill({x, f.area.y1 + 1, x + 1, f.area.y1 + 1 + st.tick_len}, kFrame);
    draw_text(canvas, x - text_width(l.xlabels[i], s) / 2, f.area.y1 + 1 + st.tick_len + 2 * s, l.xlabels[i], s,
              kTickText);
  }
  // The chart's title is centred over the plot area, the axes' titles along their axis.
  const int mid_x = (f.area.x0 + f.area.x1) / 2, mid_y = (f.area.y0 + f.area.y1) / 2;
  if (!c.title.empty()) {
    const int w = text_width(c.title, s);
    draw_text(canvas, mid_x - w / 2, st.margin, c.title, s, kText);
    draw_text(canvas, mid_x - w / 2 + 1, st.margin, c.title, s, kText);  // doubled one pixel over: bold
  }
  if (!c.x_label.empty())
    draw_text(canvas, mid_x - text_width(c.x_label, s) / 2, c.height - st.margin - st.th, c.x_label, s, kText);
  if (!c.y_label.empty())
    draw_text(canvas, st.margin, mid_y - text_width(c.y_label, s) / 2, c.y_label, s, kText, true);
}

std::vector<std::uint8_t> render(const Chart& c) {
  const Style st(c);
  const Layout l = lay_out(c, st);
  Canvas canvas(c.width, c.height, kBackground);
  std::vector<float> clutter(std::size_t(l.f.area.width()) * l.f.area.height(), 0.0f);
  draw_data(canvas, c, l.f, st, clutter);
  draw_axes(canvas, c, l, st);
  draw_legend(canvas, c, l.f, clutter, st);
  return encode_png(c.width, c.height, canvas.pixels());
}

// As models/io/archive.hpp's write_file_atomic (this library keeps free of the core): a temporary
// file named with the pid, written, fsynced, renamed over `path`, then the folder fsynced.
void write_atomically(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  auto fail = [&](const std::string& what, int err) {
    std::remove(tmp.c_str());
    throw RuntimeFailure("cannot write plot '" + path + "': " + what + ": " + std::strerror(err));
  };
  std::FILE* file = std::fopen(tmp.c_str(), "wb");
  if (!file) fail("cannot create " + tmp, errno);
  int err = 0;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size() || std::fflush(file) != 0 ||
      ::fsync(fileno(file)) != 0)
    err = errno;
  if (std::fclose(file) != 0 && err == 0) err = errno;
  if (err != 0) fail("writing " + tmp, err);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("renaming " + tmp + " over it", errno);
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);  // best effort: the plot is complete and in place whatever this returns
    ::close(dfd);
  }
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
  DAGRAD_ASSERT(max_ticks >= 2, "nice_ticks: max_ticks must be at least 2");
  if (!finite(lo) || !finite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo <= 1e-12 * std::max(1.0, std::abs(lo))) {  // one value: centre it in a small range
    const double d = lo == 0 ? 0.5 : 0.05 * std::abs(lo);
    lo -= d;
    hi += d;
  }
  // Smallest step of the form {1, 2, 5} x 10^k with at most max_ticks - 1 intervals.
  const double raw = (hi - lo) / (max_ticks - 1);
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)) - 1);
  for (;;) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double step = m * magnitude;
      const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
      if (last - first <= max_ticks - 1) {
        std::vector<double> ticks;
        for (double k = first; k <= last; k += 1) ticks.push_back(k * step);
        return ticks;
      }
    }
    magnitude *= 10;
  }
}

std::string tick_label(double value, double step) {
  if (std::abs(value) < 1e-9 * step) value = 0;  // no "-0.00"
  const int decimals = std::max(0, int(std::ceil(-std::log10(step) - 1e-9)));
  const double biggest = std::max(std::abs(value), step);
  char buf[64];
  if (decimals > 6 || biggest >= 1e7) std::snprintf(buf, sizeof buf, "%.3g", value);
  else std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

void write_png(const Chart& c, const std::string& path) {
  validate(c);
  write_atomically(path, render(c));
}

}  // namespace dagrad::plot
