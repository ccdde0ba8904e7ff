// PNG encoding for the plot writer: 8-bit RGB images, compressed by a small built-in deflate
// (LZ77 with fixed Huffman codes), so that no zlib is needed.
#pragma once
#include <cstdint>
#include <vector>

namespace dagrad::plot {

// A complete PNG file for a width x height image given as row-major RGB bytes (3 per pixel).
std::vector<std::uint8_t> encode_png(int width, int height, const std::vector<std::uint8_t>& rgb);

// A zlib stream (RFC 1950) holding `data` in one fixed-Huffman deflate block (RFC 1951).
std::vector<std::uint8_t> zlib_compress(const std::vector<std::uint8_t>& data);

}  // namespace dagrad::plot
