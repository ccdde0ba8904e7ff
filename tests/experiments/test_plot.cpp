// experiments/common/plot.cpp and markdown_table.cpp: tick choice, tables, PNG files read back with
// cairo's PNG reader, and SVG files parsed as XML.
#include <cairo.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>

#include "experiments/common/plot.hpp"
#include "graph/error.hpp"
#include "test_util.hpp"

using namespace dagrad;

namespace {

void check_ticks(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-12));
}

std::filesystem::path temp_path(const std::string& name) { return std::filesystem::temp_directory_path() / name; }

const double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST_CASE("nice_ticks picks 1-2-5 steps covering the range") {
  // [0, 0.27], at most 7 intervals: step 0.02 needs ceil(13.5) = 14, step 0.05 needs ceil(5.4) = 6.
  check_ticks(plot::nice_ticks(0, 0.27), {0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30});
  // [0, 300]: step 20 needs 15 intervals, step 50 needs 6.
  check_ticks(plot::nice_ticks(0, 300), {0, 50, 100, 150, 200, 250, 300});
  // Epochs 1..300 round down to 0: floor(1 / 50) = 0.
  check_ticks(plot::nice_ticks(1, 300), {0, 50, 100, 150, 200, 250, 300});
  // At most 4 ticks: step 50 needs 6 intervals, step 100 needs 3.
  check_ticks(plot::nice_ticks(0, 300, 4), {0, 100, 200, 300});
  // [-0.3, 0.7]: step 0.1 needs 10 intervals; step 0.2 runs from floor(-1.5) = -2 to ceil(3.5) = 4.
  check_ticks(plot::nice_ticks(-0.3, 0.7), {-0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8});
  // A single value 5 is widened by 5% each side to [4.75, 5.25]; step 0.1 runs from 47 to 53.
  check_ticks(plot::nice_ticks(5, 5), {4.7, 4.8, 4.9, 5.0, 5.1, 5.2, 5.3});
  // No finite data: [0, 1] with step 0.2.
  check_ticks(plot::nice_ticks(kNaN, kNaN), {0, 0.2, 0.4, 0.6, 0.8, 1.0});
}

TEST_CASE("tick_label shows as many decimals as the step needs") {
  CHECK(plot::tick_label(3 * 0.05, 0.05) == "0.15");  // 3 * 0.05 is 0.15000000000000002
  CHECK(plot::tick_label(0, 0.05) == "0.00");
  CHECK(plot::tick_label(300, 50) == "300");
  CHECK(plot::tick_label(-0.4, 0.2) == "-0.4");
  CHECK(plot::tick_label(-1e-17, 0.2) == "0.0");  // rounding noise around zero is not "-0.0"
  CHECK(plot::tick_label(2e7, 1e7) == "2e+07");
}

TEST_CASE("markdown_table pads, aligns and escapes") {
  // Column widths: max(6, 1, 8) = 8; max(7, 4, 5) = 7; max(6, 2, 3) = 6.
  const std::string want =
      "| config   | top-100 | epochs |\n"
      "|:---------|--------:|-------:|\n"
      "| a        |    0.25 |     10 |\n"
      "| baseline |   0.125 |    300 |\n";
  CHECK(plot::markdown_table({"config", "top-100", "epochs"}, {{"a", "0.25", "10"}, {"baseline", "0.125", "300"}}) ==
        want);
  // Columns are at least 3 wide; "a|b" is escaped to the 4 characters "a\|b".
  CHECK(plot::markdown_table({"k", "v"}, {{"a|b", "1"}}) ==
        "| k    |   v |\n"
        "|:-----|----:|\n"
        "| a\\|b |   1 |\n");
  CHECK_THROWS_AS(plot::markdown_table({"k", "v"}, {{"only one"}}), InternalError);
}

namespace {

using Px = std::array<int, 3>;
const Px kWhite{255, 255, 255}, kBlue{31, 119, 180}, kOrange{255, 127, 14}, kGreen{44, 160, 44}, kFrame{120, 120, 120};

// A PNG read back with cairo's own reader.
struct Image {
  explicit Image(const std::string& path) {
    cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
    REQUIRE_MESSAGE(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS, path << ": " << cairo_status_to_string(cairo_surface_status(s)));
    format = cairo_image_surface_get_format(s);
    width = cairo_image_surface_get_width(s);
    height = cairo_image_surface_get_height(s);
    const int stride = cairo_image_surface_get_stride(s);
    const unsigned char* data = cairo_image_surface_get_data(s);
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        std::uint32_t v;
        std::memcpy(&v, data + y * stride + 4 * x, 4);  // 0x00RRGGBB in the machine's byte order
        pixels.push_back({int(v >> 16 & 255), int(v >> 8 & 255), int(v & 255)});
      }
    cairo_surface_destroy(s);
  }
  Px at(int x, int y) const { return pixels[std::size_t(y) * width + x]; }
  cairo_format_t format;
  int width = 0, height = 0;
  std::vector<Px> pixels;
};

int distance(Px a, Px b) { return std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]); }

// One element of an SVG document: its name, attributes and children, read with Boost.PropertyTree's
// XML parser (which fails on a malformed document).
using boost::property_tree::ptree;

struct SvgPath {
  std::string style, d;
};

void collect_paths(const ptree& node, std::vector<SvgPath>& out, int& uses) {
  for (const auto& [name, child] : node) {
    if (name == "path") out.push_back({child.get("<xmlattr>.style", ""), child.get("<xmlattr>.d", "")});
    if (name == "use") ++uses;
    if (name != "<xmlattr>") collect_paths(child, out, uses);
  }
}

// The colour of a style property ("stroke" or "fill") given as rgb(R%,G%,B%) by cairo, in 0..255;
// none when the property is absent or not a colour.
std::optional<Px> style_colour(const std::string& style, const std::string& property) {
  const std::string key = property + ":rgb(";
  size_t at = style.find(key);
  if (at == std::string::npos || (at > 0 && style[at - 1] != ';')) return std::nullopt;
  Px c{};
  const char* p = style.c_str() + at + key.size();
  for (int i = 0; i < 3; ++i) {
    char* end = nullptr;
    c[i] = int(std::lround(std::strtod(p, &end) * 2.55));
    p = end + 2;  // past "%," or "%)"
  }
  return c;
}

// The three-series chart of the colour tests: a band around blue, orange above, green with a gap.
plot::Chart three_series() {
  plot::Chart c;
  c.width = 600;
  c.height = 400;
  c.y_min = 0;
  c.y_max = 1;
  // No labels, so no legend: every pixel in a series colour belongs to that series.
  c.series.push_back({"", {0, 1, 2, 3, 4}, {0.25, 0.25, 0.25, 0.25, 0.25}, {0.1, 0.1, 0.1, 0.1, 0.1}, {0.4, 0.4, 0.4, 0.4, 0.4}});
  c.series.push_back({"", {0, 1, 2, 3, 4}, {0.75, 0.75, 0.75, 0.75, 0.75}, {}, {}});
  c.series.push_back({"", {0, 1, 2, 3, 4}, {0.5, 0.5, kNaN, 0.5, 0.5}, {}, {}});
  return c;
}

}  // namespace

TEST_CASE("write_png draws the series in their colours, the band, the gap, through cairo") {
  const auto path = temp_path("dagrad_test_plot.png");
  plot::write_png(three_series(), path.string());
  CHECK(test::temporaries_of(path.string()).empty());
  const Image png(path.string());
  CHECK(png.width == 600);
  CHECK(png.height == 400);
  CHECK(png.format == CAIRO_FORMAT_RGB24);  // no alpha channel: a white background
  CHECK(png.at(0, 0) == kWhite);
  CHECK(png.at(599, 399) == kWhite);

  // The plot area's frame, in the middle row: its left and right sides.
  std::vector<int> frame_columns, frame_rows;
  for (int x = 0; x < 600; ++x)
    if (png.at(x, 200) == kFrame) frame_columns.push_back(x);
  for (int y = 0; y < 400; ++y)
    if (png.at(150, y) == kFrame) frame_rows.push_back(y);
  REQUIRE(frame_columns.size() == 2);
  REQUIRE(frame_rows.size() == 2);
  const int top = frame_rows[0], bottom = frame_rows[1];

  // In the middle column: blue (y = 0.25) lies half the y range below orange (y = 0.75), each a
  // line at least one pixel fully covered (width 2); green has its gap there (x = 2 is NaN).
  const int mid = (frame_columns[0] + frame_columns[1]) / 2;
  std::vector<int> blue_rows, orange_rows;
  int greenish = 0;
  for (int y = 0; y < 400; ++y) {
    if (png.at(mid, y) == kBlue) blue_rows.push_back(y);
    if (png.at(mid, y) == kOrange) orange_rows.push_back(y);
    if (distance(png.at(mid, y), kGreen) < 150) ++greenish;
  }
  REQUIRE(!blue_rows.empty());
  REQUIRE(!orange_rows.empty());
  CHECK(greenish == 0);
  // The data range [0, 1] spans the frame less 6 pixels of inset at each end.
  const double half_range = (bottom - top - 1 - 12) / 2.0;
  CHECK(std::abs((blue_rows.front() - orange_rows.front()) - half_range) <= 1.5);

  // Green is drawn in two pieces, x in [0, 1] and [3, 4], a quarter of the plot width apart.
  std::set<int> green_columns;
  int band_pixels = 0, grey_levels = 0;
  std::set<int> blue_shades;
  for (int y = 0; y < 400; ++y)
    for (int x = 0; x < 600; ++x) {
      const Px p = png.at(x, y);
      if (p == kGreen) green_columns.insert(x);
      // Blue at opacity 0.2 over white: 255 + 0.2 * (31 - 255) = 210.2, 227.8, 240.
      if (distance(p, {210, 228, 240}) <= 3) ++band_pixels;
      // Antialiasing: the blue line's edges blend into the band in many shades.
      if (std::abs(x - mid) < 100 && p[2] > 175 && p[0] < 205 && p[0] > 35) blue_shades.insert(p[0]);
      grey_levels += p[0] == p[1] && p[1] == p[2] && p[0] > 0 && p[0] < 255;
    }
  REQUIRE(green_columns.size() > 100);
  int widest_gap = 0;
  for (auto it = std::next(green_columns.begin()); it != green_columns.end(); ++it)
    widest_gap = std::max(widest_gap, *it - *std::prev(it));
  CHECK(widest_gap > 80);
  // The band covers 0.3 of the y range over the full x range: some 110 x 500 pixels, less the line.
  CHECK(band_pixels > 20000);
  CHECK(blue_shades.size() > 5);
  CHECK(grey_levels > 0);  // frame, grid and tick labels
}

TEST_CASE("write_png centres a single point in both axes") {
  // One point (5, 3): each axis range is widened by 5% of the value either side, to [4.75, 5.25]
  // and [2.85, 3.15], so the marker sits in the middle of the frame.
  plot::Chart c;
  c.series.push_back({"", {5}, {3}, {}, {}});
  const auto path = temp_path("dagrad_test_plot_point.png");
  plot::write_png(c, path.string());
  const Image png(path.string());
  double sx = 0, sy = 0;
  int n = 0;
  for (int y = 0; y < png.height; ++y)
    for (int x = 0; x < png.width; ++x)
      if (png.at(x, y) == kBlue) {
        sx += x;
        sy += y;
        ++n;
      }
  REQUIRE(n > 20);  // a filled circle of radius 3.5: about 38 pixels, the fully covered ones
  const int cx = int(std::lround(sx / n)), cy = int(std::lround(sy / n));
  // The frame's sides, looked for a few pixels off the centre lines, away from the tick marks.
  std::vector<int> columns, rows;
  for (int x = 0; x < png.width; ++x)
    if (png.at(x, cy - 5) == kFrame) columns.push_back(x);
  for (int y = 0; y < png.height; ++y)
    if (png.at(cx - 5, y) == kFrame) rows.push_back(y);
  REQUIRE(columns.size() == 2);
  REQUIRE(rows.size() == 2);
  CHECK(std::abs(sx / n - (columns[0] + columns[1]) / 2.0) <= 0.5);
  CHECK(std::abs(sy / n - (rows[0] + rows[1]) / 2.0) <= 0.5);
}

TEST_CASE("write_svg writes a well-formed SVG of the same chart: paths in the series' colours, text as glyphs") {
  plot::Chart c = three_series();
  c.title = "Top-100";
  c.x_label = "epoch";
  c.y_label = "accuracy";
  c.series[0].label = "blue";
  c.band_label = "min–max over seeds";
  const auto path = temp_path("dagrad_test_plot.svg");
  plot::write_svg(c, path.string());
  CHECK(test::temporaries_of(path.string()).empty());
  ptree doc;
  REQUIRE_NOTHROW(boost::property_tree::read_xml(path.string(), doc));
  const ptree& svg = doc.get_child("svg");
  CHECK(svg.get<std::string>("<xmlattr>.width") == "600px");
  CHECK(svg.get<std::string>("<xmlattr>.height") == "400px");
  CHECK(svg.get<std::string>("<xmlattr>.viewBox") == "0 0 600 400");
  std::vector<SvgPath> paths;
  int uses = 0;
  collect_paths(svg, paths, uses);
  auto count = [&](const std::string& property, Px colour, const std::string& also = "") {
    int n = 0;
    for (const auto& p : paths)
      if (style_colour(p.style, property) == colour && p.style.find(also) != std::string::npos) ++n;
    return n;
  };
  // Each series' line is one stroked path (the legend adds blue's sample); the band a filled path
  // at opacity 0.2 (the legend adds its swatch); green's line has two pieces.
  CHECK(count("stroke", kBlue) == 2);
  CHECK(count("stroke", kOrange) == 1);
  CHECK(count("stroke", kGreen) == 1);
  CHECK(count("fill", kBlue, "fill-opacity:0.2") == 2);
  for (const auto& p : paths)
    if (style_colour(p.style, "stroke") == kGreen) CHECK(std::count(p.d.begin(), p.d.end(), 'M') == 2);
  // Markers: five blue and five orange, and four green (the NaN has none), filled in one path each.
  CHECK(count("fill", kOrange) == 1);
  // The text is drawn as glyphs, one <use> per character that shows: the title, the axis titles,
  // the tick labels, and the two legend entries.
  const int letters = 7 + 5 + 8 + std::string("blue").size() + std::string("min–max over seeds").size() - 2 - 2;
  CHECK(uses > letters);
}

TEST_CASE("write_figure writes the PNG and the SVG; bad input and unwritable paths are reported") {
  plot::Chart c;
  c.series.push_back({"s", {0, 1}, {1}, {}, {}});
  CHECK_THROWS_AS(plot::write_png(c, temp_path("dagrad_never.png").string()), InternalError);
  CHECK_THROWS_AS(plot::write_svg(c, temp_path("dagrad_never.svg").string()), InternalError);
  c.series[0].y = {1, 2};
  c.series[0].y_low = {0, 1};  // y_high missing
  CHECK_THROWS_AS(plot::write_png(c, temp_path("dagrad_never.png").string()), InternalError);
  c.series[0].y_low.clear();
  c.y_min = 1;
  c.y_max = 1;
  CHECK_THROWS_AS(plot::write_svg(c, temp_path("dagrad_never.svg").string()), UserError);
  c.y_max = 2;

  const std::string missing_dir = temp_path("dagrad_no_such_dir").string() + "/chart";
  CHECK_THROWS_WITH_AS(plot::write_png(c, missing_dir + ".png"), doctest::Contains(missing_dir.c_str()), RuntimeFailure);
  CHECK_THROWS_WITH_AS(plot::write_svg(c, missing_dir + ".svg"), doctest::Contains(missing_dir.c_str()), RuntimeFailure);
  // The temporary file is written, but cannot be renamed over a directory; it must not be left behind.
  const auto dir = temp_path("dagrad_plot_dir_target");
  std::filesystem::create_directories(dir);
  CHECK_THROWS_WITH_AS(plot::write_png(c, dir.string()), doctest::Contains(dir.string().c_str()), RuntimeFailure);
  CHECK_THROWS_WITH_AS(plot::write_svg(c, dir.string()), doctest::Contains(dir.string().c_str()), RuntimeFailure);
  CHECK(test::temporaries_of(dir.string()).empty());
  std::filesystem::remove(dir);

  const auto stem = temp_path("dagrad_plot_figure").string();
  plot::write_figure(c, stem);
  CHECK(Image(stem + ".png").width == 900);
  ptree doc;
  CHECK_NOTHROW(boost::property_tree::read_xml(stem + ".svg", doc));
}

TEST_CASE("write_figure renders a sample experiment figure with a legend and antialiased text") {
  // Three configurations over 300 epochs, each with a min..max band over seeds; to look at by eye.
  plot::Chart c;
  c.title = "Top-100 accuracy against epoch";
  c.x_label = "epoch";
  c.y_label = "top-100 accuracy";
  c.band_label = "min–max over seeds";
  const double plateau[] = {0.27, 0.22, 0.16}, rate[] = {45, 80, 30}, spread[] = {0.012, 0.02, 0.008};
  const char* labels[] = {"dim=64, lr=0.01", "dim=32, lr=0.003", "dim=16, lr=0.03"};
  for (int k = 0; k < 3; ++k) {
    plot::Series s{labels[k], {}, {}, {}, {}};
    for (int e = 0; e <= 300; e += 5) {
      const double y = plateau[k] * (1 - std::exp(-e / rate[k])) + 0.004 * std::sin(e * 0.3 + k);
      s.x.push_back(e);
      s.y.push_back(y);
      s.y_low.push_back(std::max(0.0, y - spread[k] * (1 + std::cos(e * 0.05 + k))));
      s.y_high.push_back(y + spread[k] * (1.2 + std::sin(e * 0.07 + 2 * k)));
    }
    c.series.push_back(s);
  }
  const auto stem = temp_path("dagrad_plot_sample").string();
  plot::write_figure(c, stem);
  const Image png(stem + ".png");
  CHECK(png.width == 900);
  CHECK(png.height == 560);
  // The title, above the frame: dark text pixels (30, 30, 30) and, at its edges, the many greys
  // between them and the white that antialiasing gives.
  std::set<int> greys;
  int dark = 0;
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 900; ++x) {
      const Px p = png.at(x, y);
      if (p[0] == p[1] && p[1] == p[2] && p[0] < 250) {
        greys.insert(p[0]);
        dark += p[0] < 60;
      }
    }
  CHECK(dark > 100);
  CHECK(greys.size() > 30);
  // The legend's box edge (190, 190, 190) is drawn in one corner.
  int edge = 0;
  for (const Px& p : png.pixels) edge += p == Px{190, 190, 190};
  CHECK(edge > 200);
  MESSAGE("sample chart: " << stem << ".png and .svg");
}
