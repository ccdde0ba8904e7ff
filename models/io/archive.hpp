// Archive: dagrad's one versioned binary file for models and checkpoints — named entries (f32 or
// i32 tensors, string lists, text, integers) with a CRC-32 over the whole file. Written to a
// temporary file, flushed and renamed, so a crash or a full disk never leaves a damaged file
// where a good one was.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "graph/files.hpp"  // write_file_atomic, remove_stale_temporaries
#include "graph/tensor.hpp"

namespace dagrad {

inline constexpr uint32_t kArchiveVersion = 1;

class ArchiveWriter {
 public:
  // A tensor's values are not copied here: they are read when the archive is written (save() or
  // bytes()), so that writing a model takes no second copy of its parameters. The tensor must not
  // change in between (the writer keeps a reference to its storage alive).
  void put_tensor(const std::string& name, const Tensor& t);
  void put_strings(const std::string& name, const std::vector<std::string>& v);
  void put_text(const std::string& name, const std::string& text);
  void put_int(const std::string& name, int64_t v);
  void put_double(const std::string& name, double v);
  // Writes `path` atomically (temporary file in the same folder, fsync, rename), streaming the
  // entries to it: no buffer of the whole file is made. Throws RuntimeFailure naming the path when
  // the disk refuses.
  void save(const std::string& path) const;
  // The file's bytes, as save() writes them.
  std::string bytes() const;

 private:
  // An entry as written: its header and small payloads, then (tensors) the tensor's values.
  struct Piece {
    std::string bytes;
    Tensor values;
  };
  void begin(const std::string& name, uint8_t kind);
  std::string& cur() { return pieces_.back().bytes; }
  // The whole file as consecutive spans: header, the pieces, and `crc` (4 bytes, filled here).
  std::vector<std::string_view> spans(std::string& head, std::string& crc) const;
  std::vector<Piece> pieces_;
  std::map<std::string, int> names_;
};

class ArchiveReader {
 public:
  // Reads and verifies the whole file: a missing, truncated or corrupted file (CRC mismatch), one
  // that is not a dagrad archive, or one from a newer format version is a UserError naming it.
  explicit ArchiveReader(const std::string& path);
  // The same checks on bytes already in memory; `name` stands for the file in messages.
  static ArchiveReader from_bytes(std::string bytes, std::string name);

  bool has(const std::string& name) const { return entries_.count(name) != 0; }
  std::vector<std::string> names() const;
  // Each accessor throws UserError naming the file and the entry when it is absent or of
  // another kind; tensor() also checks the shape when `expect` is non-empty.
  Tensor tensor(const std::string& name, const Shape& expect = {}) const;
  // The same, also requiring the dtype (a parameter or optimizer state of the model).
  Tensor tensor(const std::string& name, const Shape& expect, DType dtype) const;
  std::vector<std::string> strings(const std::string& name) const;
  std::string text(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  const std::string& path() const { return path_; }

 private:
  struct Entry {
    uint8_t kind;
    size_t offset, size;  // payload in data_
  };
  ArchiveReader(std::string bytes, std::string name);
  void parse();  // verifies data_ and fills entries_
  const Entry& entry(const std::string& name, uint8_t kind) const;
  std::string_view payload(const std::string& name, uint8_t kind) const;  // a non-tensor entry's bytes
  std::string path_, data_;
  std::map<std::string, Entry> entries_;
};

}  // namespace dagrad
