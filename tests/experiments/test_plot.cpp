// experiments/common/plot.cpp, png.cpp, markdown_table.cpp: tick choice, tables, and PNG files read
// back with the independent reader in png_reader.hpp.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include "experiments/common/plot.hpp"
#include "experiments/common/png.hpp"
#include "experiments/png_reader.hpp"
#include "graph/error.hpp"

using namespace dagrad;
using test::Bytes;

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

TEST_CASE("zlib_compress round-trips through an independent inflate") {
  Bytes data;
  std::uint32_t state = 12345;
  auto random_byte = [&] {
    state = state * 1664525u + 1013904223u;
    return std::uint8_t(state >> 24);
  };
  for (int i = 0; i < 1000; ++i) data.push_back(random_byte());
  data.insert(data.end(), 300, 0);                                   // a run: length-258 matches
  for (int i = 0; i < 40000; ++i) data.push_back(random_byte());
  for (int i = 0; i < 500; ++i) data.push_back(data[data.size() - 32768]);  // the farthest distance
  for (int i = 0; i < 1000; ++i) data.push_back("abc"[i % 3]);
  CHECK(test::inflate_zlib(plot::zlib_compress(data)) == data);
  CHECK(test::inflate_zlib(plot::zlib_compress({})).empty());
  // 10^6 zeros: one literal, then ceil(999999 / 258) = 3876 matches of 8 + 5 bits = 6299 bytes,
  // plus 2 header, 4 Adler-32 and a few bits of block header and end code.
  const Bytes zeros(1000000, 0);
  const Bytes z = plot::zlib_compress(zeros);
  CHECK(z.size() < 6320);
  CHECK(test::inflate_zlib(z) == zeros);
}

TEST_CASE("write_png writes a valid PNG with the series drawn in their colours") {
  plot::Chart c;
  c.width = 600;
  c.height = 400;
  c.y_min = 0;
  c.y_max = 1;
  // No labels, so no legend: every pixel in a series colour belongs to that series.
  c.series.push_back({"", {0, 1, 2, 3, 4}, {0.25, 0.25, 0.25, 0.25, 0.25}, {0.1, 0.1, 0.1, 0.1, 0.1}, {0.4, 0.4, 0.4, 0.4, 0.4}});
  c.series.push_back({"", {0, 1, 2, 3, 4}, {0.75, 0.75, 0.75, 0.75, 0.75}, {}, {}});
  c.series.push_back({"", {0, 1, 2, 3, 4}, {0.5, 0.5, kNaN, 0.5, 0.5}, {}, {}});
  const auto path = temp_path("dagrad_test_plot.png");
  plot::write_png(c, path.string());
  CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  const test::Png png = test::decode_png(test::read_bytes(path.string()));
  CHECK(png.width == 600);
  CHECK(png.height == 400);
  CHECK(png.chunks == std::vector<std::string>{"IHDR", "IDAT", "IEND"});

  using Px = std::array<int, 3>;
  const Px white{255, 255, 255}, blue{31, 119, 180}, orange{255, 127, 14}, green{44, 160, 44};
  // The band is blue at opacity 0.2 over white: 255 + 0.2 * (31 - 255) = 210.2,
  // 255 + 0.2 * (119 - 255) = 227.8, 255 + 0.2 * (180 - 255) = 240.
  const Px band{210, 228, 240};
  CHECK(png.at(0, 0) == white);
  CHECK(png.at(599, 399) == white);

  // In the middle column: blue (y = 0.25) lies below orange (y = 0.75), and green has its gap there.
  const int mid = 300;
  int blue_row = -1, orange_row = -1, green_rows = 0;
  for (int y = 0; y < 400; ++y) {
    if (png.at(mid, y) == blue) blue_row = y;
    if (png.at(mid, y) == orange) orange_row = y;
    if (png.at(mid, y) == green) ++green_rows;
  }
  CHECK(blue_row > 0);
  CHECK(orange_row > 0);
  CHECK(blue_row > orange_row + 100);  // half the y range apart on a plot area over 300 pixels high
  CHECK(green_rows == 0);

  // Green is drawn in two pieces, x in [0, 1] and [3, 4], a quarter of the plot width apart.
  std::set<int> green_columns;
  int band_pixels = 0;
  for (int y = 0; y < 400; ++y)
    for (int x = 0; x < 600; ++x) {
      if (png.at(x, y) == green) green_columns.insert(x);
      if (png.at(x, y) == band) ++band_pixels;
    }
  REQUIRE(green_columns.size() > 100);
  int widest_gap = 0;
  for (auto it = std::next(green_columns.begin()); it != green_columns.end(); ++it)
    widest_gap = std::max(widest_gap, *it - *std::prev(it));
  CHECK(widest_gap > 80);
  // The band covers 0.3 of the y range over the full x range: some 100 x 450 pixels, less the line.
  CHECK(band_pixels > 20000);
}

TEST_CASE("write_png centres a single point in both axes") {
  // One point (5, 3): each axis range is widened by 5% of the value either side, to [4.75, 5.25]
  // and [2.85, 3.15], so the marker sits in the middle of the frame.
  plot::Chart c;
  c.series.push_back({"", {5}, {3}, {}, {}});
  const auto path = temp_path("dagrad_test_plot_point.png");
  plot::write_png(c, path.string());
  const test::Png png = test::decode_png(test::read_bytes(path.string()));
  using Px = std::array<int, 3>;
  const Px blue{31, 119, 180}, frame{120, 120, 120};
  double sx = 0, sy = 0;
  int n = 0;
  for (int y = 0; y < int(png.height); ++y)
    for (int x = 0; x < int(png.width); ++x)
      if (png.at(x, y) == blue) {
        sx += x;
        sy += y;
        ++n;
      }
  REQUIRE(n > 20);  // a filled circle of radius 3.5: about 38 pixels
  const int cx = int(std::lround(sx / n)), cy = int(std::lround(sy / n));
  // The frame's sides, looked for a few pixels off the centre lines, away from the tick marks.
  std::vector<int> columns, rows;
  for (int x = 0; x < int(png.width); ++x)
    if (png.at(x, cy - 5) == frame) columns.push_back(x);
  for (int y = 0; y < int(png.height); ++y)
    if (png.at(cx - 5, y) == frame) rows.push_back(y);
  REQUIRE(columns.size() == 2);
  REQUIRE(rows.size() == 2);
  CHECK(std::abs(sx / n - (columns[0] + columns[1]) / 2.0) <= 0.5);
  CHECK(std::abs(sy / n - (rows[0] + rows[1]) / 2.0) <= 0.5);
}

TEST_CASE("write_png reports bad input and unwritable paths") {
  plot::Chart c;
  c.series.push_back({"s", {0, 1}, {1}, {}, {}});
  CHECK_THROWS_AS(plot::write_png(c, temp_path("dagrad_never.png").string()), InternalError);
  c.series[0].y = {1, 2};
  c.series[0].y_low = {0, 1};  // y_high missing
  CHECK_THROWS_AS(plot::write_png(c, temp_path("dagrad_never.png").string()), InternalError);
  c.series[0].y_low.clear();
  c.y_min = 1;
  c.y_max = 1;
  CHECK_THROWS_AS(plot::write_png(c, temp_path("dagrad_never.png").string()), UserError);
  c.y_max = 2;

  const std::string missing_dir = temp_path("dagrad_no_such_dir").string() + "/chart.png";
  CHECK_THROWS_WITH_AS(plot::write_png(c, missing_dir), doctest::Contains(missing_dir.c_str()), RuntimeFailure);
  // The temporary file is written, but cannot be renamed over a directory; it must not be left behind.
  const auto dir = temp_path("dagrad_plot_dir_target");
  std::filesystem::create_directories(dir);
  CHECK_THROWS_WITH_AS(plot::write_png(c, dir.string()), doctest::Contains(dir.string().c_str()), RuntimeFailure);
  CHECK_FALSE(std::filesystem::exists(dir.string() + ".tmp"));
  std::filesystem::remove(dir);
}

TEST_CASE("write_png renders a sample experiment figure") {
  // Three configurations over 300 epochs, each with a min..max band over seeds; to look at by eye.
  plot::Chart c;
  c.title = "Top-100 accuracy against epoch";
  c.x_label = "epoch";
  c.y_label = "top-100 accuracy";
  const double plateau[] = {0.27, 0.22, 0.16}, rate[] = {45, 80, 30}, spread[] = {0.012, 0.02, 0.008};
  const char* labels[] = {"dim=64, lr=0.01", "dim=32, lr=0.003", "dim=16, lr=0.03"};
  for (int k = 0; k < 3; ++k) {
    plot::Series s{labels[k], {}, {}, {}, {}};
    for (int e = 0; e <= 300; e += 5) {
      const double y = plateau[k] * (1 - std::exp(-e / rate[k])) + 0.004 * std::sin(e * 0.3 + k);
      s.x.push_back(e);
      s.y.push_back(y);
      s.y_low.push_back(std::max(0.0, y - spread[k] * (1 + std::cos(e * 0.05 + k)) ));
      s.y_high.push_back(y + spread[k] * (1.2 + std::sin(e * 0.07 + 2 * k)));
    }
    c.series.push_back(s);
  }
  const auto path = temp_path("dagrad_plot_sample.png");
  plot::write_png(c, path.string());
  const test::Png png = test::decode_png(test::read_bytes(path.string()));
  CHECK(png.width == 900);
  CHECK(png.height == 560);
  MESSAGE("sample chart: " << path.string());
}
