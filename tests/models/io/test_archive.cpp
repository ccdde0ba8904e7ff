// models/io/archive.cpp: round trip, and every way a file can be bad.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <boost/crc.hpp>

#include "graph/error.hpp"
#include "models/io/archive.hpp"
#include "test_util.hpp"

using namespace dagrad;

namespace {
std::string archive_sample(const test::TempDir& d) {
  ArchiveWriter w;
  w.put_tensor("w", Tensor::from({2, 2}, std::vector<float>{1, 2, 3, 4}));
  w.put_tensor("ids", Tensor::from_ids({3}, std::vector<int32_t>{7, 8, 9}));
  w.put_strings("vocab", {"a", "", "héllo"});
  w.put_text("config", "name: x\n");
  w.put_int("step", 42);
  w.put_double("lr", 0.1);
  std::string p = d.file("a.dagrad");
  w.save(p);
  return p;
}
}  // namespace

TEST_CASE("archive round trip") {
  test::TempDir d("archive");
  ArchiveReader r(archive_sample(d));
  Tensor w = r.tensor("w", {2, 2});
  CHECK(w.f32()[3] == 4.0f);
  CHECK(r.tensor("ids").i32()[2] == 9);
  CHECK(r.strings("vocab") == std::vector<std::string>{"a", "", "héllo"});
  CHECK(r.text("config") == "name: x\n");
  CHECK(r.integer("step") == 42);
  CHECK(r.number("lr") == 0.1);
  CHECK(!std::filesystem::exists(temporary_path(d.file("a.dagrad"))));
}

TEST_CASE("archive errors name the file and what is wrong") {
  test::TempDir d("archive_bad");
  std::string p = archive_sample(d);
  std::string bytes = test::read_text(p);
  auto expect = [&](const std::string& content, const std::string& part) {
    std::string q = d.write("bad.dagrad", content);
    try {
      ArchiveReader r(q);
      FAIL("no error for " << part);
    } catch (const UserError& e) {
      std::string m = e.what();
      CHECK_MESSAGE(m.find(q) != std::string::npos, m);
      CHECK_MESSAGE(m.find(part) != std::string::npos, m);
    }
  };
  expect(bytes.substr(0, bytes.size() / 2), "checksum");  // truncated
  std::string flipped = bytes;
  flipped[40] ^= 0x5A;
  expect(flipped, "checksum");                            // corrupted
  expect("hello", "truncated");
  expect("not a dagrad file at all, but long enough", "bad magic");
  std::string newer = bytes;
  newer[8] = 99;  // format version 99
  expect(newer, "newer dagrad");
  CHECK_THROWS_WITH_AS(ArchiveReader(d.file("missing.dagrad")), doctest::Contains("cannot open"), UserError);

  ArchiveReader r(p);
  CHECK_THROWS_WITH_AS(r.tensor("nope"), doctest::Contains("no entry 'nope'"), UserError);
  CHECK_THROWS_WITH_AS(r.tensor("w", {4}), doctest::Contains("shape [2, 2], the model expects [4]"), UserError);
  CHECK_THROWS_WITH_AS(r.text("w"), doctest::Contains("expected a text"), UserError);
}

TEST_CASE("atomic write into a folder that does not exist is refused naming it") {
  CHECK_THROWS_WITH_AS(write_file_atomic("/nonexistent-dir/x", "data"),
                       doctest::Contains("the folder /nonexistent-dir does not exist"), UserError);
}

TEST_CASE("remove_stale_temporaries removes what dead writers left, not what live ones write") {
  test::TempDir d("stale");
  // A pid that is not running: a child that has exited and been reaped.
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  int status = 0;
  ::waitpid(dead, &status, 0);
  const std::string dead_tmp = "checkpoint.dagrad.dagrad-tmp." + std::to_string(dead);
  const std::string live_tmp = "history.json.dagrad-tmp." + std::to_string(::getppid());  // the parent process runs
  d.write(dead_tmp, "half");
  d.write(live_tmp, "live");
  d.write("notes.tmp.txt", "not ours");
  // A user's own files named like other programs' temporaries, even of a dead pid, are not ours.
  d.write("notes.tmp." + std::to_string(dead), "the user's");
  d.write("data.csv.tmp.999999999", "the user's");
  d.write("checkpoint.dagrad", "kept");
  CHECK(remove_stale_temporaries(d.str()) == 1);
  CHECK(!std::filesystem::exists(d.file(dead_tmp)));
  CHECK(std::filesystem::exists(d.file(live_tmp)));
  CHECK(std::filesystem::exists(d.file("notes.tmp.txt")));
  CHECK(std::filesystem::exists(d.file("notes.tmp." + std::to_string(dead))));
  CHECK(std::filesystem::exists(d.file("data.csv.tmp.999999999")));
  CHECK(std::filesystem::exists(d.file("checkpoint.dagrad")));
}

namespace {
// Raw bytes for damage a writer cannot produce: a version-1 header claiming `count` entries, the
// entries as given, and a correct CRC-32, so that the reader gets past its checksum.
std::string raw_archive(uint32_t count, const std::string& entries) {
  std::string b = "DAGRADAR";
  uint32_t header[2] = {1, count};
  b.append(reinterpret_cast<const char*>(header), 8);
  b += entries;
  boost::crc_32_type crc;
  crc.process_bytes(b.data(), b.size());
  uint32_t sum = crc.checksum();
  b.append(reinterpret_cast<const char*>(&sum), 4);
  return b;
}
template <class T>
std::string bytes_of(T v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}
// A non-tensor entry: name length, name, kind (3 strings, 5 integer, 6 number), payload length, payload.
std::string raw_entry(const std::string& name, uint8_t kind, const std::string& payload) {
  return bytes_of<uint32_t>(static_cast<uint32_t>(name.size())) + name + char(kind) +
         bytes_of<uint64_t>(payload.size()) + payload;
}
}  // namespace

// Found by fuzz/fuzz_archive.cpp: each of these read past the entry (ASan: heap-buffer-overflow) or
// overflowed int64 (UBSan); each must be a UserError naming the file and the entry instead.
TEST_CASE("archive entries whose payload does not fit their kind are damaged, not read past") {
  auto reader = [](const std::string& entries, uint32_t count = 1) {
    return ArchiveReader::from_bytes(raw_archive(count, entries), "x.dagrad");
  };
  auto damaged = doctest::Contains("x.dagrad: entry 'v' is damaged");
  // A string list of 3 bytes: too short for its 8-byte count.
  CHECK_THROWS_WITH_AS(reader(raw_entry("v", 3, "abc")).strings("v"), damaged, UserError);
  // Count 1, then a string said to be 5 bytes long of which 2 are there.
  CHECK_THROWS_WITH_AS(reader(raw_entry("v", 3, bytes_of<uint64_t>(1) + bytes_of<uint64_t>(5) + "ab")).strings("v"),
                       damaged, UserError);
  // Count 1, one string "ab", and 2 bytes nobody accounts for.
  CHECK_THROWS_WITH_AS(reader(raw_entry("v", 3, bytes_of<uint64_t>(1) + bytes_of<uint64_t>(2) + "ab" + "zz")).strings("v"),
                       damaged, UserError);
  // An integer of 4 bytes and a number of none, each the archive's last entry (the CRC follows).
  CHECK_THROWS_WITH_AS(reader(raw_entry("v", 5, "1234")).integer("v"),
                       doctest::Contains("entry 'v' is damaged (an integer of 4 bytes)"), UserError);
  CHECK_THROWS_WITH_AS(reader(raw_entry("v", 6, "")).number("v"),
                       doctest::Contains("entry 'v' is damaged (a number of 0 bytes)"), UserError);
  // Well-formed ones still read: count 2, "ab" and "" ; 42 ; 0.5.
  CHECK(reader(raw_entry("v", 3, bytes_of<uint64_t>(2) + bytes_of<uint64_t>(2) + "ab" + bytes_of<uint64_t>(0))).strings("v") ==
        std::vector<std::string>{"ab", ""});
  CHECK(reader(raw_entry("v", 5, bytes_of<int64_t>(42))).integer("v") == 42);
  CHECK(reader(raw_entry("v", 6, bytes_of<double>(0.5))).number("v") == 0.5);
}

TEST_CASE("archive tensors: a scalar reads back, a shape whose size overflows is damaged") {
  ArchiveWriter w;
  w.put_tensor("s", Tensor::from({}, std::vector<float>{2.5f}));  // rank 0: one element
  ArchiveReader r = ArchiveReader::from_bytes(w.bytes(), "s.dagrad");
  Tensor s = r.tensor("s");
  CHECK(s.rank() == 0);
  CHECK(s.f32()[0] == 2.5f);

  // f32 tensor (kind 1) of shape [2^62, 8]: 2^65 elements overflow int64; 4 payload bytes.
  std::string t = bytes_of<uint32_t>(1) + "t" + char(1) + bytes_of<uint32_t>(2) + bytes_of<int64_t>(int64_t{1} << 62) +
                  bytes_of<int64_t>(8) + bytes_of<uint64_t>(4) + bytes_of<float>(1.0f);
  ArchiveReader big = ArchiveReader::from_bytes(raw_archive(1, t), "t.dagrad");
  CHECK_THROWS_WITH_AS(big.tensor("t"), doctest::Contains("t.dagrad: entry 't' has a shape too large to exist"), UserError);
}

TEST_CASE("archive from bytes reads what the writer wrote, and the fuzzer's seed archives") {
  test::TempDir d("archive_bytes");
  ArchiveReader from_file(archive_sample(d));
  ArchiveReader from_memory = ArchiveReader::from_bytes(test::read_text(d.file("a.dagrad")), "mem");
  CHECK(from_memory.names() == from_file.names());
  CHECK(from_memory.strings("vocab") == std::vector<std::string>{"a", "", "héllo"});
  CHECK(from_memory.path() == "mem");
  CHECK_THROWS_WITH_AS(ArchiveReader::from_bytes("DAGRADAR", "short"), doctest::Contains("short: truncated"), UserError);
  // fuzz/make_archive_seeds.py writes the seeds independently of ArchiveWriter: they must be valid.
  ArchiveReader seed(std::string(DAGRAD_SOURCE_DIR) + "/fuzz/corpus/archive/model.dagrad");
  CHECK(seed.text("format") == "dagrad model");
  CHECK(seed.tensor("param/y/kernel", {1, 2}).f32()[1] == -0.5f);
  CHECK(seed.strings("preprocessing/u/vocabulary") == std::vector<std::string>{"[UNK]", "u1", "u2"});
  CHECK(seed.integer("preprocessing/t/max_tokens") == -1);
  ArchiveReader tensors(std::string(DAGRAD_SOURCE_DIR) + "/fuzz/corpus/archive/tensors.dagrad");
  CHECK(tensors.tensor("ids", {3}).i32()[2] == 9);
  CHECK(tensors.tensor("scalar", {}).f32()[0] == 0.5f);
  CHECK(tensors.tensor("none", {0, 4}).size() == 0);
}

TEST_CASE("save streams the entries: the file is bytes(), a tensor's values are read when written, empty tensors too") {
  test::TempDir d("archive_stream");
  ArchiveWriter w;
  Tensor t = Tensor::from({3}, std::vector<float>{1, 2, 3});
  w.put_tensor("t", t);
  w.put_tensor("empty", Tensor({0, 4}, DType::f32));
  w.put_text("after", "x");
  t.f32()[1] = 20;  // not copied at put_tensor: the archive holds the value at save()
  const std::string p = d.file("s.dagrad");
  w.save(p);
  CHECK(test::read_text(p) == w.bytes());
  ArchiveReader r(p);
  CHECK(r.tensor("t", {3}).f32()[1] == 20.0f);
  CHECK(r.tensor("empty", {0, 4}).size() == 0);
  CHECK(r.text("after") == "x");
  // An empty archive: header and CRC only.
  ArchiveWriter none;
  none.save(d.file("none.dagrad"));
  CHECK(ArchiveReader(d.file("none.dagrad")).names().empty());
}
