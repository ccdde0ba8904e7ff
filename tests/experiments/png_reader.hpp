// A PNG reader for tests, written from the specifications (PNG, RFC 1950/1951) independently of
// experiments/common/png.cpp: checks signature and chunk CRCs, inflates stored and fixed-Huffman
// deflate blocks, undoes the row filters. Other inputs fail the test.
#pragma once
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace dagrad::test {

using Bytes = std::vector<std::uint8_t>;

inline Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// Bit-at-a-time CRC-32 (polynomial 0xEDB88320), deliberately not table-driven like the encoder's.
inline std::uint32_t crc32_bitwise(const std::uint8_t* p, std::size_t n) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

inline std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

class BitReader {
 public:
  explicit BitReader(const Bytes& d, std::size_t pos) : d_(d), pos_(pos) {}
  std::uint32_t bits(int n) {  // least significant bit first
    std::uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      if (pos_ >= d_.size()) FAIL("deflate stream ends early");
      v |= std::uint32_t((d_[pos_] >> bit_) & 1) << i;
      if (++bit_ == 8) {
        bit_ = 0;
        ++pos_;
      }
    }
    return v;
  }
  std::uint32_t code(int n) {  // a Huffman code: most significant bit first
    std::uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 1) | bits(1);
    return v;
  }
  void align() {
    if (bit_ != 0) {
      bit_ = 0;
      ++pos_;
    }
  }
  std::size_t pos() const { return pos_; }
  void skip(std::size_t n) { pos_ += n; }

 private:
  const Bytes& d_;
  std::size_t pos_;
  int bit_ = 0;
};

// Decodes a zlib stream and checks its header and Adler-32.
inline Bytes inflate_zlib(const Bytes& z) {
  REQUIRE(z.size() >= 6);
  CHECK((z[0] & 0x0F) == 8);                 // CM = deflate
  CHECK((z[0] * 256 + z[1]) % 31 == 0);      // FCHECK
  CHECK((z[1] & 0x20) == 0);                 // no preset dictionary
  static const int len_base[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
  static const int len_extra[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
  Bytes out;
  BitReader r(z, 2);
  for (bool last = false; !last;) {
    last = r.bits(1);
    const std::uint32_t type = r.bits(2);
    if (type == 0) {
      r.align();
      const std::size_t p = r.pos();
      const std::uint32_t len = z[p] | (z[p + 1] << 8), nlen = z[p + 2] | (z[p + 3] << 8);
      REQUIRE(len == (~nlen & 0xFFFF));
      out.insert(out.end(), z.begin() + p + 4, z.begin() + p + 4 + len);
      r.skip(4 + len);
      continue;
    }
    REQUIRE_MESSAGE(type == 1, "deflate block type " << type << " is not supported by this reader");
    for (;;) {
      // Fixed literal/length code: 7-bit codes 0..23 -> 256..279, 8-bit 48..191 -> 0..143,
      // 8-bit 192..199 -> 280..287, 9-bit 400..511 -> 144..255.
      int sym;
      std::uint32_t c = r.code(7);
      if (c <= 23) sym = 256 + int(c);
      else {
        c = (c << 1) | r.bits(1);
        if (c >= 48 && c <= 191) sym = int(c) - 48;
        else if (c >= 192 && c <= 199) sym = 280 + int(c) - 192;
        else sym = 144 + int(((c << 1) | r.bits(1)) - 400);
      }
      if (sym < 256) {
        out.push_back(std::uint8_t(sym));
        continue;
      }
      if (sym == 256) break;
      if (sym > 285) FAIL("invalid length symbol " << sym);
      const int length = len_base[sym - 257] + int(r.bits(len_extra[sym - 257]));
      const int dcode = int(r.code(5));
      if (dcode > 29) FAIL("invalid distance code " << dcode);
      // Distance codes: 0..3 -> 1..4; then pairs sharing (dcode / 2 - 1) extra bits.
      const int extra = dcode < 4 ? 0 : dcode / 2 - 1;
      const int base = dcode < 4 ? dcode + 1 : (1 << (extra + 1)) + 1 + (dcode % 2) * (1 << extra);
      const std::size_t distance = std::size_t(base) + r.bits(extra);
      if (distance > out.size()) FAIL("distance " << distance << " reaches before the start");
      for (int k = 0; k < length; ++k) out.push_back(out[out.size() - distance]);
    }
  }
  r.align();
  REQUIRE(r.pos() + 4 == z.size());
  std::uint32_t a = 1, b = 0;
  for (std::uint8_t v : out) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  CHECK(be32(&z[r.pos()]) == ((b << 16) | a));
  return out;
}

struct Png {
  std::uint32_t width = 0, height = 0;
  std::vector<std::string> chunks;  // chunk types in file order
  Bytes rgb;                        // row-major, 3 bytes per pixel
  std::array<int, 3> at(int x, int y) const {
    const std::size_t i = (std::size_t(y) * width + x) * 3;
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

inline Png decode_png(const Bytes& f) {
  const Bytes signature = {137, 80, 78, 71, 13, 10, 26, 10};
  REQUIRE(f.size() > 8);
  REQUIRE(Bytes(f.begin(), f.begin() + 8) == signature);
  Png png;
  Bytes idat;
  std::size_t p = 8;
  while (p + 12 <= f.size()) {
    const std::uint32_t len = be32(&f[p]);
    REQUIRE(p + 12 + len <= f.size());
    const std::string type(f.begin() + p + 4, f.begin() + p + 8);
    CHECK_MESSAGE(crc32_bitwise(&f[p + 4], len + 4) == be32(&f[p + 8 + len]), "bad CRC in chunk " << type);
    png.chunks.push_back(type);
    const std::uint8_t* body = &f[p + 8];
    if (type == "IHDR") {
      REQUIRE(len == 13);
      png.width = be32(body);
      png.height = be32(body + 4);
      CHECK(body[8] == 8);   // bit depth
      CHECK(body[9] == 2);   // truecolour RGB
      CHECK(body[12] == 0);  // not interlaced
    } else if (type == "IDAT") {
      idat.insert(idat.end(), body, body + len);
    }
    p += 12 + len;
  }
  CHECK(p == f.size());
  REQUIRE(!png.chunks.empty());
  CHECK(png.chunks.front() == "IHDR");
  CHECK(png.chunks.back() == "IEND");
  const Bytes raw = inflate_zlib(idat);
  const std::size_t stride = std::size_t(png.width) * 3;
  REQUIRE(raw.size() == png.height * (stride + 1));
  png.rgb.resize(png.height * stride);
  for (std::size_t y = 0; y < png.height; ++y) {
    const std::uint8_t filter = raw[y * (stride + 1)];
    if (filter > 4) FAIL("row " << y << " has filter type " << int(filter));
    for (std::size_t i = 0; i < stride; ++i) {
      const int a = i >= 3 ? png.rgb[y * stride + i - 3] : 0;
      const int b = y > 0 ? png.rgb[(y - 1) * stride + i] : 0;
      const int c = (i >= 3 && y > 0) ? png.rgb[(y - 1) * stride + i - 3] : 0;
      int pred = 0;
      if (filter == 1) pred = a;
      else if (filter == 2) pred = b;
      else if (filter == 3) pred = (a + b) / 2;
      else if (filter == 4) {
        const int q = a + b - c, pa = std::abs(q - a), pb = std::abs(q - b), pc = std::abs(q - c);
        pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
      }
      png.rgb[y * stride + i] = std::uint8_t(raw[y * (stride + 1) + 1 + i] + pred);
    }
  }
  return png;
}

}  // namespace dagrad::test
