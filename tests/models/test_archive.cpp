// models/archive.cpp: round trip, and every way a file can be bad.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include "graph/error.hpp"
#include "models/archive.hpp"
#include "test_util.hpp"

using namespace dagrad;

namespace {
std::string sample(const test::TempDir& d) {
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
  ArchiveReader r(sample(d));
  Tensor w = r.tensor("w", {2, 2});
  CHECK(w.f32()[3] == 4.0f);
  CHECK(r.tensor("ids").i32()[2] == 9);
  CHECK(r.strings("vocab") == std::vector<std::string>{"a", "", "héllo"});
  CHECK(r.text("config") == "name: x\n");
  CHECK(r.integer("step") == 42);
  CHECK(r.number("lr") == 0.1);
  CHECK(!std::filesystem::exists(d.file("a.dagrad.tmp." + std::to_string(::getpid()))));
}

TEST_CASE("archive errors name the file and what is wrong") {
  test::TempDir d("archive_bad");
  std::string p = sample(d);
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

TEST_CASE("atomic write leaves the old file when the directory is gone") {
  CHECK_THROWS_AS(write_file_atomic("/nonexistent-dir/x", "data"), RuntimeFailure);
}

TEST_CASE("remove_stale_temporaries removes what dead writers left, not what live ones write") {
  test::TempDir d("stale");
  // A pid that is not running: a child that has exited and been reaped.
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  int status = 0;
  ::waitpid(dead, &status, 0);
  d.write("checkpoint.dagrad.tmp." + std::to_string(dead), "half");
  d.write("history.json.tmp." + std::to_string(::getppid()), "live");  // the parent process runs
  d.write("notes.tmp.txt", "not ours");
  d.write("checkpoint.dagrad", "kept");
  CHECK(remove_stale_temporaries(d.str()) == 1);
  CHECK(!std::filesystem::exists(d.file("checkpoint.dagrad.tmp." + std::to_string(dead))));
  CHECK(std::filesystem::exists(d.file("history.json.tmp." + std::to_string(::getppid()))));
  CHECK(std::filesystem::exists(d.file("notes.tmp.txt")));
  CHECK(std::filesystem::exists(d.file("checkpoint.dagrad")));
}
