// The plot writer's built-in bitmap font (printable ASCII; anything else is drawn as '?').
#pragma once
#include <cstdint>

namespace dagrad::plot {

constexpr int kGlyphColumns = 5, kGlyphRows = 9, kGlyphCapRows = 7;

// A glyph's rows (bit 4 = leftmost column) and the columns [left, left + width) that carry ink.
struct Glyph {
  const std::uint8_t* rows;
  int left, width;
  bool pixel(int column, int row) const { return rows[row] & (0x10 >> column); }
};

Glyph glyph(char ch);

}  // namespace dagrad::plot
