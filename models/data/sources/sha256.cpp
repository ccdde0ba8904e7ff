#include "models/data/sources/sha256.hpp"

#include <nettle/sha2.h>

#include "graph/error.hpp"

namespace dagrad {

Sha256::Sha256() : ctx_(std::make_unique<sha256_ctx>()) { sha256_init(ctx_.get()); }

Sha256::~Sha256() = default;

void Sha256::update(std::string_view bytes) {
  DAGRAD_ASSERT(!finished_, "Sha256::update after digest()");
  sha256_update(ctx_.get(), bytes.size(), reinterpret_cast<const std::uint8_t*>(bytes.data()));
}

std::array<std::uint8_t, 32> Sha256::digest() {
  DAGRAD_ASSERT(!finished_, "Sha256::digest called twice");
  static_assert(SHA256_DIGEST_SIZE == 32);
  std::array<std::uint8_t, 32> out;
  sha256_digest(ctx_.get(), out.size(), out.data());  // also resets the context; finished_ guards misuse
  finished_ = true;
  return out;
}

std::string Sha256::hex_digest() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : digest()) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.hex_digest();
}

}  // namespace dagrad
