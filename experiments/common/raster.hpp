// Pixel drawing for the plot writer: an RGB canvas, antialiased coverage masks for lines, markers
// and bands, and text in the built-in bitmap font.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "experiments/common/font.hpp"

namespace dagrad::plot {

struct Rgb {
  std::uint8_t r, g, b;
  bool operator==(const Rgb&) const = default;
};

// Half-open pixel rectangle [x0, x1) x [y0, y1).
struct Rect {
  int x0, y0, x1, y1;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
};

class Canvas {
 public:
  Canvas(int width, int height, Rgb background);
  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<std::uint8_t>& pixels() const { return rgb_; }
  // Mixes colour c over pixel (x, y) with weight alpha in [0, 1]; pixels off the canvas are ignored.
  void blend(int x, int y, Rgb c, double alpha);
  void fill(Rect r, Rgb c, double alpha = 1.0);

 private:
  int width_, height_;
  std::vector<std::uint8_t> rgb_;
};

enum class Marker { Circle, Square, Triangle, Diamond };

// Coverage in [0, 1] per pixel of a clip rectangle. Shapes are added into the mask and the mask is
// composited once, so that the pieces of one polyline do not darken each other where they overlap.
// Coordinates are continuous: pixel (i, j) covers [i, i+1) x [j, j+1).
class Mask {
 public:
  explicit Mask(Rect clip);
  const Rect& clip() const { return clip_; }
  double at(int x, int y) const { return cover_[std::size_t(y - clip_.y0) * clip_.width() + (x - clip_.x0)]; }
  // A segment with round caps, `width` pixels thick (coverage is the maximum with what is there).
  void add_segment(double x0, double y0, double x1, double y1, double width);
  // A filled marker of the given outer radius centred on (cx, cy).
  void add_marker(double cx, double cy, double radius, Marker shape);
  // The area between two lines over [xa, xb]: at xa it spans ya0..ya1, at xb it spans yb0..yb1,
  // linearly in between. Coverage adds up (clamped to 1), so that neighbouring pieces join seamlessly.
  void add_band(double xa, double ya0, double ya1, double xb, double yb0, double yb1);
  void composite(Canvas& canvas, Rgb c, double opacity) const;

 private:
  void raise(int x, int y, double coverage);
  Rect clip_;
  std::vector<float> cover_;
};

// Text in the bitmap font at an integer scale. Boxes are kGlyphRows * scale high (descenders
// included); (x, y) is the box's top-left corner. Vertical text reads bottom to top, and its box is
// text_height wide and text_width high.
int text_width(std::string_view text, int scale);
inline int text_height(int scale) { return kGlyphRows * scale; }
void draw_text(Canvas& canvas, int x, int y, std::string_view text, int scale, Rgb c, bool vertical = false);

}  // namespace dagrad::plot
