// SHA-256 (FIPS 180-4), used to check that downloaded data files are the expected ones.
// Incremental: feed bytes with update(), then hex_digest() once.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace dagrad {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  // Ends the message and returns the 32-byte digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> digest();
  // The digest as 64 lowercase hex characters, as sha256sum prints it.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> block_{};
  std::size_t block_len_ = 0;
  std::uint64_t total_len_ = 0;  // bytes
  bool finished_ = false;
};

// The SHA-256 of `bytes` as lowercase hex.
std::string sha256_hex(std::string_view bytes);

}  // namespace dagrad
