// Antialiasing here is analytic: a pixel's coverage is estimated from the signed distance of its
// centre to the shape's edge (lines, markers) or from exact overlaps of its extent (bands).
#include "experiments/common/raster.hpp"

#include <algorithm>
#include <cmath>

namespace dagrad::plot {

Canvas::Canvas(int width, int height, Rgb background)
    : width_(width), height_(height), rgb_(std::size_t(width) * height * 3) {
  for (std::size_t i = 0; i < rgb_.size(); i += 3) {
    rgb_[i] = background.r;
    rgb_[i + 1] = background.g;
    rgb_[i + 2] = background.b;
  }
}

void Canvas::blend(int x, int y, Rgb c, double alpha) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_ || alpha <= 0) return;
  alpha = std::min(alpha, 1.0);
  std::uint8_t* p = rgb_.data() + (std::size_t(y) * width_ + x) * 3;
  const std::uint8_t src[3] = {c.r, c.g, c.b};
  for (int k = 0; k < 3; ++k) p[k] = std::uint8_t(std::lround(p[k] + (src[k] - p[k]) * alpha));
}

void Canvas::fill(Rect r, Rgb c, double alpha) {
  for (int y = std::max(r.y0, 0); y < std::min(r.y1, height_); ++y)
    for (int x = std::max(r.x0, 0); x < std::min(r.x1, width_); ++x) blend(x, y, c, alpha);
}

Mask::Mask(Rect clip) : clip_(clip), cover_(std::size_t(std::max(clip.width(), 0)) * std::max(clip.height(), 0), 0.0f) {}

void Mask::raise(int x, int y, double coverage) {
  float& v = cover_[std::size_t(y - clip_.y0) * clip_.width() + (x - clip_.x0)];
  v = std::max(v, float(coverage));
}

namespace {

// Pixel ranges [lo, hi) of the box [a - margin, b + margin] restricted to [clip_lo, clip_hi).
void pixel_span(double a, double b, double margin, int clip_lo, int clip_hi, int& lo, int& hi) {
  lo = std::max(clip_lo, int(std::floor(std::min(a, b) - margin)));
  hi = std::min(clip_hi, int(std::ceil(std::max(a, b) + margin)) + 1);
}

double overlap(double a0, double a1, double b0, double b1) {
  return std::max(0.0, std::min(a1, b1) - std::max(a0, b0));
}

}  // namespace

void Mask::add_segment(double x0, double y0, double x1, double y1, double width) {
  const double half = width / 2, dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
  int xa, xb, ya, yb;
  pixel_span(x0, x1, half + 1, clip_.x0, clip_.x1, xa, xb);
  pixel_span(y0, y1, half + 1, clip_.y0, clip_.y1, ya, yb);
  for (int y = ya; y < yb; ++y) {
    for (int x = xa; x < xb; ++x) {
      const double px = x + 0.5 - x0, py = y + 0.5 - y0;
      const double t = len2 > 0 ? std::clamp((px * dx + py * dy) / len2, 0.0, 1.0) : 0.0;
      const double d = std::hypot(px - t * dx, py - t * dy);
      const double c = std::clamp(half + 0.5 - d, 0.0, 1.0);
      if (c > 0) raise(x, y, c);
    }
  }
}

void Mask::add_marker(double cx, double cy, double radius, Marker shape) {
  int xa, xb, ya, yb;
  pixel_span(cx, cx, radius * 1.3 + 1, clip_.x0, clip_.x1, xa, xb);
  pixel_span(cy, cy, radius * 1.3 + 1, clip_.y0, clip_.y1, ya, yb);
  for (int y = ya; y < yb; ++y) {
    for (int x = xa; x < xb; ++x) {
      const double px = x + 0.5 - cx, py = y + 0.5 - cy;
      double d = 0;  // signed distance to the edge, negative inside
      switch (shape) {
        case Marker::Circle: d = std::hypot(px, py) - radius; break;
        case Marker::Square: d = std::max(std::abs(px), std::abs(py)) - radius * 0.85; break;
        case Marker::Diamond: d = (std::abs(px) + std::abs(py) - radius * 1.25) / std::sqrt(2.0); break;
        case Marker::Triangle: {
          // Equilateral, pointing up, circumradius R: the edges lie R/2 from the centre.
          const double r = radius * 1.3, s = std::sqrt(3.0) / 2;
          d = std::max({py, s * px - 0.5 * py, -s * px - 0.5 * py}) - r / 2;
          break;
        }
      }
      const double c = std::clamp(0.5 - d, 0.0, 1.0);
      if (c > 0) raise(x, y, c);
    }
  }
}

void Mask::add_band(double xa, double ya0, double ya1, double xb, double yb0, double yb1) {
  if (!(xb != xa)) return;
  const double xlo = std::min(xa, xb), xhi = std::max(xa, xb);
  const int c0 = std::max(clip_.x0, int(std::floor(xlo))), c1 = std::min(clip_.x1, int(std::ceil(xhi)));
  for (int x = c0; x < c1; ++x) {
    const double hc = overlap(x, x + 1, xlo, xhi);
    const double t = (std::clamp(x + 0.5, xlo, xhi) - xa) / (xb - xa);
    const double e0 = ya0 + t * (yb0 - ya0), e1 = ya1 + t * (yb1 - ya1);
    const double top = std::min(e0, e1), bottom = std::max(e0, e1);
    const int r0 = std::max(clip_.y0, int(std::floor(top))), r1 = std::min(clip_.y1, int(std::ceil(bottom)));
    for (int y = r0; y < r1; ++y) {
      float& v = cover_[std::size_t(y - clip_.y0) * clip_.width() + (x - clip_.x0)];
      v = std::min(1.0f, v + float(hc * overlap(y, y + 1, top, bottom)));
    }
  }
}

void Mask::composite(Canvas& canvas, Rgb c, double opacity) const {
  for (int y = clip_.y0; y < clip_.y1; ++y)
    for (int x = clip_.x0; x < clip_.x1; ++x) {
      const double a = at(x, y);
      if (a > 0) canvas.blend(x, y, c, a * opacity);
    }
}

namespace {

// Calls f(glyph, pen) for each character, pen being the glyph's offset in font units. UTF-8
// sequences become one '?' each.
template <class F>
int layout(std::string_view text, F&& f) {
  int pen = 0;
  bool first = true;
  for (char ch : text) {
    const unsigned char b = static_cast<unsigned char>(ch);
    if ((b & 0xC0) == 0x80) continue;
    const Glyph g = glyph(b < 0x80 ? ch : '?');
    if (!first) pen += 1;
    first = false;
    f(g, pen);
    pen += g.width;
  }
  return pen;
}

}  // namespace

int text_width(std::string_view text, int scale) {
  return layout(text, [](const Glyph&, int) {}) * scale;
}

void draw_text(Canvas& canvas, int x, int y, std::string_view text, int scale, Rgb c, bool vertical) {
  const int w = text_width(text, scale);
  layout(text, [&](const Glyph& g, int pen) {
    for (int row = 0; row < kGlyphRows; ++row)
      for (int col = 0; col < g.width; ++col) {
        if (!g.pixel(g.left + col, row)) continue;
        const int u = (pen + col) * scale, v = row * scale;  // position along and across the text
        const Rect block = vertical ? Rect{x + v, y + w - u - scale, x + v + scale, y + w - u}
                                    : Rect{x + u, y + v, x + u + scale, y + v + scale};
        canvas.fill(block, c);
      }
  });
}

}  // namespace dagrad::plot
