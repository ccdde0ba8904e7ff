// The chart writers: lays out a line chart (axes, grid, bands, lines, markers, legend, text) and
// draws it with cairo on an image surface (PNG) or an SVG surface. See plot.hpp for the contract.
#include "experiments/common/plot.hpp"

#include <cairo-svg.h>
#include <cairo.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "graph/error.hpp"

namespace dagrad::plot {
namespace {

struct Rgb {
  double r, g, b;
};
constexpr Rgb rgb(int r, int g, int b) { return {r / 255.0, g / 255.0, b / 255.0}; }

constexpr Rgb kBackground = rgb(255, 255, 255), kText = rgb(30, 30, 30), kTickText = rgb(80, 80, 80),
              kFrame = rgb(120, 120, 120), kGrid = rgb(230, 230, 230), kLegendEdge = rgb(190, 190, 190),
              kNeutralBand = rgb(110, 110, 110);
// Tableau 10: distinct hues of similar weight; the marker shapes tell series apart in grey print.
constexpr std::array<Rgb, 10> kPalette = {rgb(31, 119, 180), rgb(255, 127, 14), rgb(44, 160, 44), rgb(214, 39, 40),
                                          rgb(148, 103, 189), rgb(140, 86, 75), rgb(227, 119, 194), rgb(127, 127, 127),
                                          rgb(188, 189, 34), rgb(23, 190, 207)};
enum class Marker { Circle, Square, Triangle, Diamond };
constexpr std::array<Marker, 4> kMarkers = {Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond};
constexpr double kBandOpacity = 0.2;
// DejaVu Sans (fonts-dejavu-core): fontconfig resolves it, and falls back to its default sans face.
constexpr const char* kFont = "DejaVu Sans";

bool finite(double v) { return std::isfinite(v); }

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using ContextPtr = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

// Layout reads text metrics from one context and draws on another (PNG or SVG): unhinted metrics
// make them agree, so both files show the same picture.
ContextPtr make_context(cairo_surface_t* surface) {
  ContextPtr cr(cairo_create(surface), &cairo_destroy);
  cairo_font_options_t* fo = cairo_font_options_create();
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  cairo_set_font_options(cr.get(), fo);
  cairo_font_options_destroy(fo);
  return cr;
}

void set_colour(cairo_t* cr, Rgb c, double alpha = 1.0) { cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha); }

void set_font(cairo_t* cr, double size, bool bold = false) {
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double text_width(cairo_t* cr, const std::string& text) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, text.c_str(), &e);
  return e.x_advance;
}

// Draws `text` in the current font with its left end at x and the middle of its digits' height at y.
void text_at(cairo_t* cr, double x, double y, const std::string& text) {
  cairo_text_extents_t digit;
  cairo_text_extents(cr, "0", &digit);
  cairo_move_to(cr, x, y - digit.y_bearing / 2);
  cairo_show_text(cr, text.c_str());
}

// Rectangle [x0, x1) x [y0, y1) in surface units (pixels).
struct Rect {
  double x0, y0, x1, y1;
  double width() const { return x1 - x0; }
  double height() const { return y1 - y0; }
};

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

// Data to surface coordinates. The data range is inset a little from the frame, so that lines at
// the range's ends stay clear of it.
struct Frame {
  Rect area;
  double inset;
  Axis x, y;
  double px(double v) const { return area.x0 + inset + (v - x.lo) / (x.hi - x.lo) * (area.width() - 2 * inset); }
  double py(double v) const { return area.y1 - inset - (v - y.lo) / (y.hi - y.lo) * (area.height() - 2 * inset); }
};

// A 1-unit line on pixel boundaries: through the middle of the pixel at v.
double crisp(double v) { return std::floor(v) + 0.5; }

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

// Sizes in surface units, from the chart size: 1 at the default 900 x 560.
struct Style {
  explicit Style(const Chart& c)
      : k(std::clamp(std::min(c.width / 900.0, c.height / 560.0), 0.5, 4.0)), title(16 * k), label(14 * k),
        tick(12 * k), legend(13 * k), margin(10 * k), tick_len(5 * k), line_width(std::max(1.5, 2 * k)),
        marker_radius(std::max(2.5, 3.5 * k)) {}
  double k, title, label, tick, legend, margin, tick_len, line_width, marker_radius;
};

void marker_path(cairo_t* cr, double x, double y, double r, Marker m) {
  switch (m) {
    case Marker::Circle: cairo_new_sub_path(cr); cairo_arc(cr, x, y, r, 0, 2 * M_PI); break;
    case Marker::Square: cairo_rectangle(cr, x - 0.85 * r, y - 0.85 * r, 1.7 * r, 1.7 * r); break;
    case Marker::Triangle:
      cairo_move_to(cr, x, y - 1.2 * r);
      cairo_line_to(cr, x + 1.1 * r, y + 0.8 * r);
      cairo_line_to(cr, x - 1.1 * r, y + 0.8 * r);
      cairo_close_path(cr);
      break;
    case Marker::Diamond:
      cairo_move_to(cr, x, y - 1.25 * r);
      cairo_line_to(cr, x + 1.0 * r, y);
      cairo_line_to(cr, x, y + 1.25 * r);
      cairo_line_to(cr, x - 1.0 * r, y);
      cairo_close_path(cr);
      break;
  }
}

// Runs [begin, end) of consecutive indices for which ok(i) holds.
template <class Ok>
std::vector<std::pair<std::size_t, std::size_t>> runs(std::size_t n, Ok ok) {
  std::vector<std::pair<std::size_t, std::size_t>> r;
  for (std::size_t i = 0; i < n;) {
    if (!ok(i)) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < n && ok(j)) ++j;
    r.push_back({i, j});
    i = j;
  }
  return r;
}

// How to paint: the real colours, or (for the legend's placement) a grey mask in which a line
// counts fully and a band a little.
struct Paint {
  bool mask = false;
  void band(cairo_t* cr, std::size_t k) const {
    if (mask) cairo_set_source_rgba(cr, 0, 0, 0, 0.1);
    else set_colour(cr, kPalette[k % kPalette.size()], kBandOpacity);
  }
  void line(cairo_t* cr, std::size_t k) const {
    if (mask) cairo_set_source_rgba(cr, 0, 0, 0, 1);
    else set_colour(cr, kPalette[k % kPalette.size()]);
  }
};

// Bands first, then lines and markers, so that no band hides a line; clipped to the plot area.
void draw_data(cairo_t* cr, const Chart& c, const Frame& f, const Style& st, Paint paint) {
  cairo_save(cr);
  cairo_rectangle(cr, f.area.x0, f.area.y0, f.area.width(), f.area.height());
  cairo_clip(cr);
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const Series& se = c.series[k];
    if (!has_band(se)) continue;
    auto ok = [&](std::size_t i) { return finite(se.x[i]) && finite(se.y_low[i]) && finite(se.y_high[i]); };
    for (auto [b, e] : runs(se.y.size(), ok)) {
      if (e - b < 2) continue;
      for (std::size_t i = b; i < e; ++i) cairo_line_to(cr, f.px(se.x[i]), f.py(se.y_high[i]));
      for (std::size_t i = e; i-- > b;) cairo_line_to(cr, f.px(se.x[i]), f.py(se.y_low[i]));
      cairo_close_path(cr);
    }
    paint.band(cr, k);
    cairo_fill(cr);
  }
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_width(cr, st.line_width);
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const Series& se = c.series[k];
    auto ok = [&](std::size_t i) { return finite(se.x[i]) && finite(se.y[i]); };
    std::size_t n_finite = 0;
    for (std::size_t i = 0; i < se.y.size(); ++i) n_finite += ok(i);
    for (auto [b, e] : runs(se.y.size(), ok)) {
      if (e - b < 2) continue;
      for (std::size_t i = b; i < e; ++i) cairo_line_to(cr, f.px(se.x[i]), f.py(se.y[i]));
      cairo_new_sub_path(cr);
    }
    paint.line(cr, k);
    cairo_stroke(cr);
    const std::size_t stride = n_finite <= 40 ? 1 : (n_finite + 24) / 25;
    for (std::size_t i = 0; i < se.y.size(); ++i)
      if (gets_marker(se, i, stride)) marker_path(cr, f.px(se.x[i]), f.py(se.y[i]), st.marker_radius, kMarkers[k % kMarkers.size()]);
    cairo_fill(cr);
  }
  cairo_restore(cr);
}

struct LegendEntry {
  std::string label;
  std::optional<std::size_t> series;  // none: the band_label entry
  bool band = false;
};

struct Layout {
  Frame f;
  std::vector<std::string> xlabels, ylabels;
  std::vector<LegendEntry> legend;
  Rect legend_box{};
  double legend_row = 0, legend_pad = 0, legend_sample = 0;
};

// Axis ranges and the plot area, whose margins make room for the titles and tick labels; then the
// legend, in the plot corner that hides the least data.
Layout lay_out(const Chart& c, const Style& st) {
  SurfacePtr scratch(cairo_image_surface_create(CAIRO_FORMAT_A8, c.width, c.height), &cairo_surface_destroy);
  ContextPtr owner = make_context(scratch.get());
  cairo_t* cr = owner.get();
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
  Layout l{};
  l.f.y = make_axis(yr, c.y_min, c.y_max, 8);
  set_font(cr, st.tick);
  double ylabel_w = 0;
  for (double t : l.f.y.ticks) {
    l.ylabels.push_back(tick_label(t, l.f.y.step));
    ylabel_w = std::max(ylabel_w, text_width(cr, l.ylabels.back()));
  }
  const double left = st.margin + (c.y_label.empty() ? 0 : st.label * 1.2 + 6 * st.k) + ylabel_w + 5 * st.k + st.tick_len;
  const double top = st.margin + (c.title.empty() ? 0 : st.title * 1.2 + 8 * st.k);
  const double bottom = st.margin + (c.x_label.empty() ? 0 : st.label * 1.2 + 4 * st.k) + st.tick * 1.2 + 4 * st.k + st.tick_len;
  // Fewer x ticks when their labels would crowd each other; the last label may overhang the frame.
  double right = 0;
  for (int max_ticks = 8; max_ticks >= 2; --max_ticks) {
    l.f.x = make_axis(xr, std::nullopt, std::nullopt, max_ticks);
    l.xlabels.clear();
    double total = 0;
    for (double t : l.f.x.ticks) {
      l.xlabels.push_back(tick_label(t, l.f.x.step));
      total += text_width(cr, l.xlabels.back()) + 12 * st.k;
    }
    right = std::max(2 * st.margin, text_width(cr, l.xlabels.back()) / 2 + st.margin);
    if (total <= c.width - left - right) break;
  }
  l.f.area = {std::round(left), std::round(top), std::round(c.width - right), std::round(c.height - bottom)};
  l.f.inset = 6 * st.k;

  bool any_band = false;
  for (std::size_t i = 0; i < c.series.size(); ++i) {
    any_band = any_band || has_band(c.series[i]);
    if (!c.series[i].label.empty()) l.legend.push_back({c.series[i].label, i, has_band(c.series[i])});
  }
  if (any_band && !c.band_label.empty()) l.legend.push_back({c.band_label, std::nullopt, true});
  if (l.legend.empty()) return l;
  set_font(cr, st.legend);
  double label_w = 0;
  for (const auto& e : l.legend) label_w = std::max(label_w, text_width(cr, e.label));
  l.legend_pad = 8 * st.k;
  l.legend_sample = 28 * st.k;
  l.legend_row = st.legend * 1.5;
  const double w = std::ceil(2 * l.legend_pad + l.legend_sample + 8 * st.k + label_w);
  const double h = std::ceil(2 * l.legend_pad + l.legend.size() * l.legend_row - 0.5 * st.legend);
  const double gap = 8 * st.k;
  const Rect& a = l.f.area;
  const std::array<Rect, 4> corners = {{{a.x1 - gap - w, a.y0 + gap, a.x1 - gap, a.y0 + gap + h},
                                        {a.x0 + gap, a.y0 + gap, a.x0 + gap + w, a.y0 + gap + h},
                                        {a.x1 - gap - w, a.y1 - gap - h, a.x1 - gap, a.y1 - gap},
                                        {a.x0 + gap, a.y1 - gap - h, a.x0 + gap + w, a.y1 - gap}}};
  // The data drawn as a mask: the corner whose box covers the least of it.
  draw_data(cr, c, l.f, st, Paint{true});
  cairo_surface_flush(scratch.get());
  const unsigned char* px = cairo_image_surface_get_data(scratch.get());
  const int stride = cairo_image_surface_get_stride(scratch.get());
  double best = std::numeric_limits<double>::infinity();
  l.legend_box = corners[0];
  for (const Rect& r : corners) {
    double score = 0;
    for (int y = std::max(0, int(r.y0)); y < std::min(c.height, int(std::ceil(r.y1))); ++y)
      for (int x = std::max(0, int(r.x0)); x < std::min(c.width, int(std::ceil(r.x1))); ++x) score += px[y * stride + x];
    if (score < best - 1e-9) {
      best = score;
      l.legend_box = r;
    }
  }
  return l;
}

void draw_legend(cairo_t* cr, const Chart& c, const Layout& l, const Style& st) {
  if (l.legend.empty()) return;
  const Rect& b = l.legend_box;
  cairo_rectangle(cr, crisp(b.x0), crisp(b.y0), std::round(b.width()), std::round(b.height()));
  set_colour(cr, kBackground, 0.92);
  cairo_fill_preserve(cr);
  set_colour(cr, kLegendEdge);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  set_font(cr, st.legend);
  for (std::size_t k = 0; k < l.legend.size(); ++k) {
    const LegendEntry& e = l.legend[k];
    const double mid = b.y0 + l.legend_pad + (k + 0.5) * l.legend_row - 0.25 * st.legend;
    const double x0 = b.x0 + l.legend_pad, x1 = x0 + l.legend_sample;
    const std::size_t i = e.series.value_or(0);
    if (e.band) {
      const double half = 0.32 * l.legend_row;
      cairo_rectangle(cr, x0, mid - half, x1 - x0, 2 * half);
      set_colour(cr, e.series ? kPalette[i % kPalette.size()] : kNeutralBand, kBandOpacity);
      cairo_fill(cr);
    }
    if (e.series) {
      set_colour(cr, kPalette[i % kPalette.size()]);
      cairo_set_line_width(cr, st.line_width);
      cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
      cairo_move_to(cr, x0, mid);
      cairo_line_to(cr, x1, mid);
      cairo_stroke(cr);
      marker_path(cr, (x0 + x1) / 2, mid, st.marker_radius, kMarkers[i % kMarkers.size()]);
      cairo_fill(cr);
    }
    set_colour(cr, kText);
    text_at(cr, x1 + 8 * st.k, mid, e.label);
  }
  (void)c;
}

// Grid, frame, ticks, tick labels and the three titles.
void draw_axes(cairo_t* cr, const Chart& c, const Layout& l, const Style& st) {
  const Frame& f = l.f;
  const Rect& a = f.area;
  cairo_set_line_width(cr, 1);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
  set_colour(cr, kGrid);
  for (double t : f.y.ticks) {
    cairo_move_to(cr, a.x0, crisp(f.py(t)));
    cairo_line_to(cr, a.x1, crisp(f.py(t)));
  }
  for (double t : f.x.ticks) {
    cairo_move_to(cr, crisp(f.px(t)), a.y0);
    cairo_line_to(cr, crisp(f.px(t)), a.y1);
  }
  cairo_stroke(cr);
  set_colour(cr, kFrame);
  cairo_rectangle(cr, a.x0 - 0.5, a.y0 - 0.5, a.width() + 1, a.height() + 1);
  for (double t : f.y.ticks) {
    cairo_move_to(cr, a.x0 - 0.5, crisp(f.py(t)));
    cairo_line_to(cr, a.x0 - 0.5 - st.tick_len, crisp(f.py(t)));
  }
  for (double t : f.x.ticks) {
    cairo_move_to(cr, crisp(f.px(t)), a.y1 + 0.5);
    cairo_line_to(cr, crisp(f.px(t)), a.y1 + 0.5 + st.tick_len);
  }
  cairo_stroke(cr);

  set_font(cr, st.tick);
  set_colour(cr, kTickText);
  for (std::size_t i = 0; i < f.y.ticks.size(); ++i) {
    const double w = text_width(cr, l.ylabels[i]);
    text_at(cr, a.x0 - st.tick_len - 5 * st.k - w, f.py(f.y.ticks[i]), l.ylabels[i]);
  }
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  for (std::size_t i = 0; i < f.x.ticks.size(); ++i) {
    const double w = text_width(cr, l.xlabels[i]);
    cairo_move_to(cr, f.px(f.x.ticks[i]) - w / 2, a.y1 + st.tick_len + 3 * st.k + fe.ascent);
    cairo_show_text(cr, l.xlabels[i].c_str());
  }
  // The chart's title is centred over the plot area, the axes' titles along their axis.
  const double mid_x = (a.x0 + a.x1) / 2, mid_y = (a.y0 + a.y1) / 2;
  set_colour(cr, kText);
  if (!c.title.empty()) {
    set_font(cr, st.title, true);
    cairo_font_extents(cr, &fe);
    cairo_move_to(cr, mid_x - text_width(cr, c.title) / 2, st.margin + fe.ascent);
    cairo_show_text(cr, c.title.c_str());
  }
  set_font(cr, st.label);
  cairo_font_extents(cr, &fe);
  if (!c.x_label.empty()) {
    cairo_move_to(cr, mid_x - text_width(cr, c.x_label) / 2, c.height - st.margin - fe.descent);
    cairo_show_text(cr, c.x_label.c_str());
  }
  if (!c.y_label.empty()) {
    cairo_save(cr);
    cairo_translate(cr, st.margin + fe.ascent, mid_y + text_width(cr, c.y_label) / 2);
    cairo_rotate(cr, -M_PI / 2);
    cairo_move_to(cr, 0, 0);
    cairo_show_text(cr, c.y_label.c_str());
    cairo_restore(cr);
  }
}

void check(cairo_status_t status, const std::string& path) {
  if (status != CAIRO_STATUS_SUCCESS)
    throw RuntimeFailure("cannot draw plot '" + path + "': cairo: " + cairo_status_to_string(status));
}

// Draws the whole chart on `surface`.
void draw(cairo_surface_t* surface, const Chart& c, const std::string& path) {
  const Style st(c);
  const Layout l = lay_out(c, st);
  ContextPtr owner = make_context(surface);
  cairo_t* cr = owner.get();
  set_colour(cr, kBackground);
  cairo_paint(cr);
  draw_axes(cr, c, l, st);
  draw_data(cr, c, l.f, st, Paint{});
  draw_legend(cr, c, l, st);
  check(cairo_status(cr), path);
}

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string render_png(const Chart& c, const std::string& path) {
  SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, c.width, c.height), &cairo_surface_destroy);
  check(cairo_surface_status(surface.get()), path);
  draw(surface.get(), c, path);
  std::string bytes;
  check(cairo_surface_write_to_png_stream(surface.get(), append, &bytes), path);
  return bytes;
}

std::string render_svg(const Chart& c, const std::string& path) {
  std::string bytes;
  SurfacePtr surface(cairo_svg_surface_create_for_stream(append, &bytes, c.width, c.height), &cairo_surface_destroy);
  check(cairo_surface_status(surface.get()), path);
  cairo_svg_surface_set_document_unit(surface.get(), CAIRO_SVG_UNIT_PX);
  draw(surface.get(), c, path);
  cairo_surface_finish(surface.get());  // writes the document's end
  check(cairo_surface_status(surface.get()), path);
  return bytes;
}

// As graph/files.hpp's write_file_atomic (this library keeps free of the core): a temporary
// file named with the pid, written, fsynced, renamed over `path`, then the folder fsynced.
void write_atomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".dagrad-tmp." + std::to_string(::getpid());
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
  write_atomically(path, render_png(c, path));
}

void write_svg(const Chart& c, const std::string& path) {
  validate(c);
  write_atomically(path, render_svg(c, path));
}

void write_figure(const Chart& c, const std::string& stem) {
  write_png(c, stem + ".png");
  write_svg(c, stem + ".svg");
}

}  // namespace dagrad::plot
