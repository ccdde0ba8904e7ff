#include "models/io/archive.hpp"

#include <boost/crc.hpp>
#include <cerrno>
#include <cstring>

#include "graph/error.hpp"
#include "graph/limits.hpp"

namespace dagrad {
namespace {

constexpr char kMagic[8] = {'D', 'A', 'G', 'R', 'A', 'D', 'A', 'R'};
enum Kind : uint8_t { kF32 = 1, kI32 = 2, kStrings = 3, kText = 4, kInt = 5, kDouble = 6 };

const char* kind_name(uint8_t k) {
  switch (k) {
    case kF32: return "f32 tensor";
    case kI32: return "i32 tensor";
    case kStrings: return "string list";
    case kText: return "text";
    case kInt: return "integer";
    case kDouble: return "number";
    default: return "unknown";
  }
}

template <class T>
void put(std::string& b, T v) {
  b.append(reinterpret_cast<const char*>(&v), sizeof v);
}

uint32_t crc32(const char* p, size_t n) {
  boost::crc_32_type c;
  c.process_bytes(p, n);
  return c.checksum();
}

}  // namespace

void ArchiveWriter::begin(const std::string& name, uint8_t kind) {
  DAGRAD_ASSERT(!names_.count(name), "archive entry '" + name + "' written twice");
  names_[name] = 1;
  pieces_.emplace_back();
  put<uint32_t>(cur(), static_cast<uint32_t>(name.size()));
  cur() += name;
  put<uint8_t>(cur(), kind);
}

void ArchiveWriter::put_tensor(const std::string& name, const Tensor& t) {
  begin(name, t.dtype() == DType::f32 ? kF32 : kI32);
  put<uint32_t>(cur(), static_cast<uint32_t>(t.rank()));
  for (int i = 0; i < t.rank(); ++i) put<int64_t>(cur(), t.dim(i));
  put<uint64_t>(cur(), static_cast<uint64_t>(t.size()) * 4);
  if (t.size() > 0) pieces_.back().values = t;  // read when written
}

void ArchiveWriter::put_strings(const std::string& name, const std::vector<std::string>& v) {
  begin(name, kStrings);
  std::string payload;
  put<uint64_t>(payload, v.size());
  for (const auto& s : v) {
    put<uint64_t>(payload, s.size());
    payload += s;
  }
  put<uint64_t>(cur(), payload.size());
  cur() += payload;
}

void ArchiveWriter::put_text(const std::string& name, const std::string& text) {
  begin(name, kText);
  put<uint64_t>(cur(), text.size());
  cur() += text;
}

void ArchiveWriter::put_int(const std::string& name, int64_t v) {
  begin(name, kInt);
  put<uint64_t>(cur(), 8);
  put<int64_t>(cur(), v);
}

void ArchiveWriter::put_double(const std::string& name, double v) {
  begin(name, kDouble);
  put<uint64_t>(cur(), 8);
  put<double>(cur(), v);
}

std::vector<std::string_view> ArchiveWriter::spans(std::string& head, std::string& crc) const {
  head.assign(kMagic, 8);
  put<uint32_t>(head, kArchiveVersion);
  put<uint32_t>(head, static_cast<uint32_t>(names_.size()));
  std::vector<std::string_view> out{head};
  for (const Piece& p : pieces_) {
    out.emplace_back(p.bytes);
    if (p.values.defined()) {
      const Tensor& t = p.values;
      const char* v = t.dtype() == DType::f32 ? reinterpret_cast<const char*>(t.f32()) : reinterpret_cast<const char*>(t.i32());
      out.emplace_back(v, static_cast<size_t>(t.size()) * 4);
    }
  }
  boost::crc_32_type c;
  for (std::string_view v : out) c.process_bytes(v.data(), v.size());
  crc.clear();
  put<uint32_t>(crc, c.checksum());
  out.emplace_back(crc);
  return out;
}

std::string ArchiveWriter::bytes() const {
  std::string head, crc;
  const std::vector<std::string_view> parts = spans(head, crc);
  size_t total = 0;
  for (std::string_view v : parts) total += v.size();
  std::string out;
  out.reserve(total);
  for (std::string_view v : parts) out += v;
  return out;
}

void ArchiveWriter::save(const std::string& path) const {
  std::string head, crc;
  write_file_atomic(path, spans(head, crc));
}

ArchiveReader::ArchiveReader(const std::string& path) : path_(path) {
  // Its contents must fit in memory: a file larger than the memory limit is refused unread.
  data_ = read_input_file(path, limits::memory_limit(), "model or checkpoint file");
  parse();
}

ArchiveReader::ArchiveReader(std::string bytes, std::string name) : path_(std::move(name)), data_(std::move(bytes)) {
  parse();
}

ArchiveReader ArchiveReader::from_bytes(std::string bytes, std::string name) {
  return ArchiveReader(std::move(bytes), std::move(name));
}

void ArchiveReader::parse() {
  auto bad = [&](const std::string& why) { return UserError(path_ + ": " + why); };
  // Magic, version and entry count (16 bytes), then the CRC (4): anything shorter is cut off.
  bool magic = data_.size() >= 8 && std::memcmp(data_.data(), kMagic, 8) == 0;
  if (data_.size() < 8 || (magic && data_.size() < 20))
    throw bad("truncated: " + std::to_string(data_.size()) + " bytes, not a complete dagrad file");
  if (!magic) throw bad("not a dagrad model or checkpoint file (bad magic)");
  uint32_t version;
  std::memcpy(&version, data_.data() + 8, 4);
  if (version > kArchiveVersion)
    throw bad("written by a newer dagrad (format version " + std::to_string(version) + "; this build reads up to " +
              std::to_string(kArchiveVersion) + ")");
  uint32_t stored;
  std::memcpy(&stored, data_.data() + data_.size() - 4, 4);
  if (crc32(data_.data(), data_.size() - 4) != stored)
    throw bad("corrupted or truncated (checksum mismatch); the file cannot be trusted");
  uint32_t count;
  std::memcpy(&count, data_.data() + 12, 4);
  size_t pos = 16, end = data_.size() - 4;
  auto need = [&](uint64_t n) {
    if (pos > end || n > end - pos) throw bad("truncated or damaged entry table");
  };
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t len;
    need(4);
    std::memcpy(&len, data_.data() + pos, 4);
    pos += 4;
    need(static_cast<uint64_t>(len) + 1);
    std::string name = data_.substr(pos, len);
    pos += len;
    uint8_t kind = static_cast<uint8_t>(data_[pos++]);
    size_t start = pos;
    if (kind == kF32 || kind == kI32) {
      uint32_t rank;
      need(4);
      std::memcpy(&rank, data_.data() + pos, 4);
      pos += 4;
      need(static_cast<uint64_t>(rank) * 8);
      pos += static_cast<size_t>(rank) * 8;
    }
    uint64_t size;
    need(8);
    std::memcpy(&size, data_.data() + pos, 8);
    pos += 8;
    need(size);
    pos += size;
    entries_[name] = {kind, start, pos - start};
  }
}

std::vector<std::string> ArchiveReader::names() const {
  std::vector<std::string> n;
  for (const auto& [k, v] : entries_) n.push_back(k);
  return n;
}

const ArchiveReader::Entry& ArchiveReader::entry(const std::string& name, uint8_t kind) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw UserError(path_ + ": has no entry '" + name + "'");
  bool tensor_ok = (kind == kF32 || kind == kI32) && (it->second.kind == kF32 || it->second.kind == kI32);
  if (it->second.kind != kind && !tensor_ok)
    throw UserError(path_ + ": entry '" + name + "' is a " + kind_name(it->second.kind) + ", expected a " +
                    kind_name(kind));
  return it->second;
}

Tensor ArchiveReader::tensor(const std::string& name, const Shape& expect, DType dtype) const {
  Tensor t = tensor(name, expect);
  if (t.dtype() != dtype)
    throw UserError(path_ + ": entry '" + name + "' holds " + dtype_name(t.dtype()) + " values, the model expects " +
                    dtype_name(dtype));
  return t;
}

Tensor ArchiveReader::tensor(const std::string& name, const Shape& expect) const {
  const Entry& e = entry(name, kF32);
  const char* p = data_.data() + e.offset;
  uint32_t rank;
  std::memcpy(&rank, p, 4);
  Shape shape(rank);
  if (rank) std::memcpy(shape.data(), p + 4, static_cast<size_t>(rank) * 8);  // data() may be null
  // The element count as numel() computes it (left to right), refusing a product that overflows:
  // only a damaged file can hold one, and numel() on it would be undefined behaviour.
  int64_t elements = 1;
  for (auto d : shape) {
    if (d < 0) throw UserError(path_ + ": entry '" + name + "' has a negative dimension");
    if (__builtin_mul_overflow(elements, d, &elements))
      throw UserError(path_ + ": entry '" + name + "' has a shape too large to exist");
  }
  if (!expect.empty() && shape != expect)
    throw UserError(path_ + ": entry '" + name + "' has shape " + shape_str(shape) + ", the model expects " +
                    shape_str(expect));
  uint64_t bytes;
  std::memcpy(&bytes, p + 4 + rank * 8, 8);
  if (bytes / 4 != static_cast<uint64_t>(elements) || bytes % 4 != 0)
    throw UserError(path_ + ": entry '" + name + "' size does not match its shape");
  Tensor t(shape, e.kind == kF32 ? DType::f32 : DType::i32);
  if (bytes) std::memcpy(e.kind == kF32 ? static_cast<void*>(t.f32()) : static_cast<void*>(t.i32()), p + 12 + rank * 8, bytes);
  return t;
}

std::string_view ArchiveReader::payload(const std::string& name, uint8_t kind) const {
  const Entry& e = entry(name, kind);
  return std::string_view(data_).substr(e.offset + 8, e.size - 8);  // after the 8-byte length
}

std::vector<std::string> ArchiveReader::strings(const std::string& name) const {
  // A count, then each string as its length and bytes; lengths are checked against what is left,
  // so a damaged entry is reported instead of read past.
  std::string_view rest = payload(name, kStrings);
  auto damaged = [&] { return UserError(path_ + ": entry '" + name + "' is damaged"); };
  auto take_u64 = [&] {
    if (rest.size() < 8) throw damaged();
    uint64_t v;
    std::memcpy(&v, rest.data(), 8);
    rest.remove_prefix(8);
    return v;
  };
  uint64_t n = take_u64();
  std::vector<std::string> v;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t len = take_u64();
    if (len > rest.size()) throw damaged();
    v.emplace_back(rest.substr(0, len));
    rest.remove_prefix(len);
  }
  if (!rest.empty()) throw damaged();
  return v;
}

std::string ArchiveReader::text(const std::string& name) const { return std::string(payload(name, kText)); }

int64_t ArchiveReader::integer(const std::string& name) const {
  std::string_view p = payload(name, kInt);
  if (p.size() != 8)
    throw UserError(path_ + ": entry '" + name + "' is damaged (an integer of " + std::to_string(p.size()) + " bytes)");
  int64_t v;
  std::memcpy(&v, p.data(), 8);
  return v;
}

double ArchiveReader::number(const std::string& name) const {
  std::string_view p = payload(name, kDouble);
  if (p.size() != 8)
    throw UserError(path_ + ": entry '" + name + "' is damaged (a number of " + std::to_string(p.size()) + " bytes)");
  double v;
  std::memcpy(&v, p.data(), 8);
  return v;
}

}  // namespace dagrad
