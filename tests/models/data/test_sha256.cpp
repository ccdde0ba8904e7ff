// models/data/sources/sha256.cpp (nettle behind dagrad::Sha256): FIPS 180-2 test vectors, padding boundaries, incremental input.
#include <doctest/doctest.h>

#include <string>

#include "models/data/sources/sha256.hpp"

using namespace dagrad;

TEST_CASE("SHA-256 of the FIPS 180-2 test vectors") {
  // FIPS 180-2 appendix B.1 ("abc", one block), B.2 (448 bits, two blocks), B.3 (a million 'a').
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // The empty message (one padding block only), as sha256sum /dev/null prints it.
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("SHA-256 around the padding boundaries") {
  // 55 bytes leave room for the 0x80 byte and the 8-byte length in one block; 56..63 need a
  // second padding block; 64 fills a block exactly. Sums from Python's hashlib.sha256(b'a' * n).
  CHECK(sha256_hex(std::string(55, 'a')) ==
        "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  CHECK(sha256_hex(std::string(56, 'a')) ==
        "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  CHECK(sha256_hex(std::string(63, 'a')) ==
        "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
  CHECK(sha256_hex(std::string(64, 'a')) ==
        "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  CHECK(sha256_hex(std::string(65, 'a')) ==
        "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0");
  CHECK(sha256_hex(std::string(119, 'a')) ==
        "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
  CHECK(sha256_hex(std::string(120, 'a')) ==
        "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c");
  // Every byte value 0..255 once (high bytes must not sign-extend).
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  CHECK(sha256_hex(all) == "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880");
}

TEST_CASE("SHA-256 fed in pieces equals SHA-256 of the whole") {
  const std::string million(1000000, 'a');
  for (std::size_t piece : {1, 3, 63, 64, 65, 4096, 999999}) {
    Sha256 h;
    for (std::size_t pos = 0; pos < million.size(); pos += piece)
      h.update(std::string_view(million).substr(pos, piece));
    CAPTURE(piece);
    CHECK(h.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
  Sha256 h;
  h.update("ab");
  h.update("");
  h.update("c");
  auto d = h.digest();
  CHECK(d[0] == 0xba);  // the raw digest is the hex one's bytes: ba 78 ... ad
  CHECK(d[31] == 0xad);
}
