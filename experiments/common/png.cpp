// PNG encoder: per-row adaptive filtering, then deflate with hash-chain LZ77 and the fixed Huffman
// code. Chart images are mostly runs of identical rows and pixels, which this compresses well.
#include "experiments/common/png.hpp"

#include <array>
#include <cstdlib>
#include <string_view>

#include "graph/error.hpp"

namespace dagrad::plot {
namespace {

// Writes bits least-significant first, as deflate requires.
class BitWriter {
 public:
  explicit BitWriter(std::vector<std::uint8_t>& out) : out_(out) {}

  void put(std::uint32_t bits, int count) {
    acc_ |= std::uint64_t(bits) << n_;
    n_ += count;
    while (n_ >= 8) {
      out_.push_back(std::uint8_t(acc_));
      acc_ >>= 8;
      n_ -= 8;
    }
  }

  // Huffman codes are defined most-significant bit first, so they go out reversed.
  void put_code(std::uint32_t code, int length) {
    std::uint32_t reversed = 0;
    for (int i = 0; i < length; ++i) reversed |= ((code >> i) & 1u) << (length - 1 - i);
    put(reversed, length);
  }

  void flush() {
    if (n_ > 0) out_.push_back(std::uint8_t(acc_));
    acc_ = 0;
    n_ = 0;
  }

 private:
  std::vector<std::uint8_t>& out_;
  std::uint64_t acc_ = 0;
  int n_ = 0;
};

// RFC 1951 section 3.2.5: base values and extra-bit counts of length codes 257..285 and distance
// codes 0..29.
constexpr std::array<int, 29> kLengthBase = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                             31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr std::array<int, 29> kLengthExtra = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                              2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::array<int, 30> kDistBase = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
                                           33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
                                           1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr std::array<int, 30> kDistExtra = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                            6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

// The fixed literal/length code of RFC 1951 section 3.2.6.
void put_symbol(BitWriter& w, int sym) {
  if (sym < 144) w.put_code(0x30 + sym, 8);
  else if (sym < 256) w.put_code(0x190 + (sym - 144), 9);
  else if (sym < 280) w.put_code(sym - 256, 7);
  else w.put_code(0xC0 + (sym - 280), 8);
}

template <std::size_t N>
int code_index(const std::array<int, N>& base, int value) {
  int i = int(N) - 1;
  while (base[i] > value) --i;
  return i;
}

void put_match(BitWriter& w, int length, int distance) {
  int li = code_index(kLengthBase, length);
  put_symbol(w, 257 + li);
  w.put(length - kLengthBase[li], kLengthExtra[li]);
  int di = code_index(kDistBase, distance);
  w.put_code(di, 5);
  w.put(distance - kDistBase[di], kDistExtra[di]);
}

constexpr int kWindow = 32768, kMinMatch = 3, kMaxMatch = 258, kMaxChain = 48, kHashBits = 15;

void deflate_fixed(const std::vector<std::uint8_t>& data, BitWriter& w) {
  const int n = int(data.size());
  std::vector<int> head(1 << kHashBits, -1), prev(kWindow, -1);
  auto hash = [&](int p) {
    std::uint32_t v = data[p] | (data[p + 1] << 8) | (data[p + 2] << 16);
    return int((v * 2654435761u) >> (32 - kHashBits));
  };
  auto insert = [&](int p) {
    if (p + kMinMatch > n) return;
    int h = hash(p);
    prev[p & (kWindow - 1)] = head[h];
    head[h] = p;
  };

  w.put(1, 1);  // BFINAL: this is the only block
  w.put(1, 2);  // BTYPE 01: fixed Huffman codes
  int i = 0;
  while (i < n) {
    int best_len = 0, best_dist = 0;
    if (i + kMinMatch <= n) {
      const int max_len = std::min(kMaxMatch, n - i);
      int cand = head[hash(i)];
      // A candidate older than the window has a recycled prev slot, so the walk stops there.
      for (int chain = kMaxChain; cand >= 0 && i - cand <= kWindow && chain > 0; --chain) {
        int len = 0;
        while (len < max_len && data[cand + len] == data[i + len]) ++len;
        if (len > best_len) {
          best_len = len;
          best_dist = i - cand;
          if (len == max_len) break;
        }
        cand = prev[cand & (kWindow - 1)];
      }
    }
    if (best_len >= kMinMatch) {
      put_match(w, best_len, best_dist);
      for (int k = 0; k < best_len; ++k) insert(i + k);
      i += best_len;
    } else {
      put_symbol(w, data[i]);
      insert(i);
      ++i;
    }
  }
  put_symbol(w, 256);  // end of block
  w.flush();
}

std::uint32_t adler32(const std::vector<std::uint8_t>& data) {
  std::uint32_t a = 1, b = 0;
  std::size_t i = 0;
  while (i < data.size()) {
    // 5552 is the longest run for which b cannot overflow 32 bits before the reduction.
    std::size_t end = std::min(data.size(), i + 5552);
    for (; i < end; ++i) {
      a += data[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return (b << 16) | a;
}

std::uint32_t crc32(const std::uint8_t* p, std::size_t n) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t k = 0; k < 256; ++k) {
      std::uint32_t c = k;
      for (int j = 0; j < 8; ++j) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[k] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(std::uint8_t(v >> shift));
}

void put_chunk(std::vector<std::uint8_t>& out, std::string_view type, const std::vector<std::uint8_t>& body) {
  put_be32(out, std::uint32_t(body.size()));
  const std::size_t start = out.size();
  out.insert(out.end(), type.begin(), type.end());
  out.insert(out.end(), body.begin(), body.end());
  put_be32(out, crc32(out.data() + start, out.size() - start));
}

int paeth(int a, int b, int c) {
  int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

// Each row gets the filter whose output has the smallest sum of absolute (signed) bytes: the
// heuristic the PNG specification recommends.
std::vector<std::uint8_t> filter_rows(int width, int height, const std::vector<std::uint8_t>& rgb) {
  const int stride = width * 3, bpp = 3;
  std::vector<std::uint8_t> out;
  out.reserve(std::size_t(height) * (stride + 1));
  std::vector<std::uint8_t> zero_row(stride, 0), candidate(stride), best(stride);
  for (int y = 0; y < height; ++y) {
    const std::uint8_t* row = rgb.data() + std::size_t(y) * stride;
    const std::uint8_t* up = y > 0 ? row - stride : zero_row.data();
    long best_cost = -1;
    int best_type = 0;
    for (int type = 0; type <= 4; ++type) {
      long cost = 0;
      for (int i = 0; i < stride; ++i) {
        int a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
        int predictor = type == 0 ? 0 : type == 1 ? a : type == 2 ? b : type == 3 ? (a + b) / 2 : paeth(a, b, c);
        candidate[i] = std::uint8_t(row[i] - predictor);
        cost += std::abs(int(std::int8_t(candidate[i])));
      }
      if (best_cost < 0 || cost < best_cost) {
        best_cost = cost;
        best_type = type;
        best.swap(candidate);
      }
    }
    out.push_back(std::uint8_t(best_type));
    out.insert(out.end(), best.begin(), best.end());
  }
  return out;
}

}  // namespace

std::vector<std::uint8_t> zlib_compress(const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> out = {0x78, 0x01};  // deflate, 32 KiB window; (0x78 * 256 + 0x01) % 31 == 0
  BitWriter w(out);
  deflate_fixed(data, w);
  put_be32(out, adler32(data));
  return out;
}

std::vector<std::uint8_t> encode_png(int width, int height, const std::vector<std::uint8_t>& rgb) {
  DAGRAD_ASSERT(width > 0 && height > 0 && rgb.size() == std::size_t(width) * height * 3,
                "encode_png: pixel buffer does not match " + std::to_string(width) + "x" + std::to_string(height));
  std::vector<std::uint8_t> out = {137, 80, 78, 71, 13, 10, 26, 10};
  std::vector<std::uint8_t> ihdr;
  put_be32(ihdr, std::uint32_t(width));
  put_be32(ihdr, std::uint32_t(height));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8 bits, truecolour, deflate, adaptive filters, no interlace
  put_chunk(out, "IHDR", ihdr);
  put_chunk(out, "IDAT", zlib_compress(filter_rows(width, height, rgb)));
  put_chunk(out, "IEND", {});
  return out;
}

}  // namespace dagrad::plot
