// libFuzzer target: models/io/archive.cpp's reader on arbitrary bytes, then every entry read with
// every accessor. Bad bytes must end in UserError; anything else (a crash, a sanitizer report,
// another exception) is a bug.
#include <boost/crc.hpp>
#include <cstdint>
#include <cstring>
#include <string>

#include "graph/error.hpp"
#include "models/io/archive.hpp"

namespace {

void read_everything(std::string bytes) {
  dagrad::ArchiveReader r = dagrad::ArchiveReader::from_bytes(std::move(bytes), "fuzz.dagrad");
  // The reader does not say an entry's kind, so each accessor is tried on each entry; a kind
  // mismatch is a UserError like any other.
  auto attempt = [](auto&& read) {
    try {
      read();
    } catch (const dagrad::UserError&) {
    }
  };
  for (const std::string& name : r.names()) {
    attempt([&] { (void)r.tensor(name); });
    attempt([&] { (void)r.strings(name); });
    attempt([&] { (void)r.text(name); });
    attempt([&] { (void)r.integer(name); });
    attempt([&] { (void)r.number(name); });
  }
}

void read_or_reject(std::string bytes) {
  try {
    read_everything(std::move(bytes));
  } catch (const dagrad::UserError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  read_or_reject(bytes);
  // Almost every mutation breaks the trailing CRC-32, which would stop the reader before its entry
  // table; so the input is also read with its last 4 bytes set to the CRC of the rest.
  if (bytes.size() >= 4) {
    boost::crc_32_type crc;
    crc.process_bytes(bytes.data(), bytes.size() - 4);
    uint32_t sum = crc.checksum();
    std::memcpy(bytes.data() + bytes.size() - 4, &sum, 4);
    read_or_reject(std::move(bytes));
  }
  return 0;
}
