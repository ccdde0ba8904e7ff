// SHA-256, used to check that downloaded data files are the expected ones: nettle's (nettle-dev),
// behind this small interface so that no other file sees the library.
// Incremental: feed bytes with update(), then digest() or hex_digest() once.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct sha256_ctx;  // nettle's

namespace dagrad {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  // Ends the message and returns the 32-byte digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> digest();
  // The digest as 64 lowercase hex characters, as sha256sum prints it.
  std::string hex_digest();

 private:
  std::unique_ptr<sha256_ctx> ctx_;
  bool finished_ = false;
};

// The SHA-256 of `bytes` as lowercase hex.
std::string sha256_hex(std::string_view bytes);

}  // namespace dagrad
