// graph/files.cpp: reading only regular files within a size, writing only over regular files, the
// output-folder lock; and config_load's limits on aliases and nesting (graph/limits.hpp).
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "graph/error.hpp"
#include "graph/files.hpp"
#include "graph/limits.hpp"
#include "graph/tensor.hpp"
#include "test_util.hpp"

using namespace dagrad;

namespace {

std::string file_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  FAIL("expected a UserError");
  return "";
}

}  // namespace

TEST_CASE("InputFile refuses what is not a regular file, and files past their limit, naming the path") {
  test::TempDir d("input_file");
  const std::string fifo = d.file("pipe");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  CHECK(file_error([&] { read_input_file(fifo, 100, "YAML file"); }) ==
        fifo + ": is a FIFO (named pipe), not a regular file; a YAML file must be a regular file");
  CHECK(file_error([&] { read_input_file("/dev/zero", 100, "CSV file"); }) ==
        "/dev/zero: is a character device, not a regular file; a CSV file must be a regular file");
  CHECK(test::contains(file_error([&] { read_input_file(d.str(), 100, "CSV file"); }), ": is a directory, not a regular file"));
  CHECK(test::contains(file_error([&] { read_input_file(d.file("none"), 100, "CSV file"); }), "cannot open (No such file"));
  const std::string f = d.write("f.txt", std::string(101, 'x'));
  CHECK(file_error([&] { read_input_file(f, 100, "CSV file"); }) ==
        f + ": is 101 bytes, more than the 100 bytes a CSV file may have (the limits are in docs/limits.md)");
  CHECK(read_input_file(f, 101, "CSV file") == std::string(101, 'x'));
}

TEST_CASE("InputFile::next_line: lines, a last line without a newline, a line past the limit") {
  test::TempDir d("lines");
  InputFile a(d.write("a.csv", "h1,h2\n\n1,2\nlast"), 1000, "CSV file");
  std::string line;
  REQUIRE(a.next_line(line, 10));
  CHECK(line == "h1,h2");
  CHECK(a.ended_with_newline());
  REQUIRE(a.next_line(line, 10));
  CHECK(line == "");
  REQUIRE(a.next_line(line, 10));
  CHECK(line == "1,2");
  REQUIRE(a.next_line(line, 10));
  CHECK(line == "last");
  CHECK(!a.ended_with_newline());
  CHECK(a.line_number() == 4);
  CHECK(!a.next_line(line, 10));
  // A long line across several of the reader's 64 KiB buffers, then one past the limit.
  const std::string big(200000, 'y');
  const std::string path = d.write("b.csv", "x\n" + big + "\n" + big + "z\n");
  InputFile b(path, 1 << 20, "CSV file");
  REQUIRE(b.next_line(line, 200000));
  REQUIRE(b.next_line(line, 200000));
  CHECK(line == big);
  CHECK(file_error([&] { b.next_line(line, 200000); }) ==
        path + ":3: a line of more than 195.3 KiB (the limit on one line of a CSV file; is this the right file?)");
}

TEST_CASE("check_output_file and write_file_atomic replace only regular files") {
  test::TempDir d("output_file");
  const std::string fifo = d.file("pipe");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  // Checked without writing: /dev/null must never be replaced, whoever runs this.
  CHECK(file_error([] { check_output_file("/dev/null"); }) == "/dev/null: is a character device; dagrad replaces only regular files");
  CHECK(file_error([&] { write_file_atomic(fifo, "x"); }) == fifo + ": is a FIFO (named pipe); dagrad replaces only regular files");
  struct stat st{};
  CHECK((::lstat(fifo.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)));
  const std::string target = d.write("target.txt", "kept");
  std::filesystem::create_symlink(target, d.file("link"));
  CHECK(file_error([&] { write_file_atomic(d.file("link"), "x"); }) ==
        d.file("link") + ": is a symbolic link (to " + target + "); dagrad replaces only regular files: give the file itself");
  CHECK(test::read_text(target) == "kept");
  CHECK(test::contains(file_error([&] { write_file_atomic(d.str(), "x"); }), "is a directory"));
  write_file_atomic(target, "new");
  CHECK(test::read_text(target) == "new");
  CHECK(!std::filesystem::exists(temporary_path(target)));
}

TEST_CASE("a write that fails part-way (the file-size limit) leaves the old file byte for byte, and no temporary") {
  test::TempDir d("old_file");
  const std::string target = d.write("model.dagrad", "the old, good file\n");
  // In a child process: RLIMIT_FSIZE lets 64 bytes of the 100 KB through, then write() fails (EFBIG).
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim{64, 64};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    int status = 3;
    try {
      write_file_atomic(target, std::string(100000, 'n'));
    } catch (const RuntimeFailure& e) {
      status = std::string(e.what()).find("is untouched") != std::string::npos ? 0 : 4;
    } catch (...) {
      status = 5;
    }
    ::_exit(status);
  }
  int s = 0;
  REQUIRE(::waitpid(child, &s, 0) == child);
  CHECK(WIFEXITED(s));
  CHECK(WEXITSTATUS(s) == 0);  // 0: a RuntimeFailure saying the old file is untouched
  CHECK(test::read_text(target) == "the old, good file\n");
  CHECK(test::temporaries_of(target).empty());
  // With room, the same write replaces it.
  write_file_atomic(target, std::string(100000, 'n'));
  CHECK(test::read_text(target) == std::string(100000, 'n'));
  CHECK(test::temporaries_of(target).empty());
}

TEST_CASE("temporary names: only NAME.dagrad-tmp.<digits> is one") {
  long pid = 0;
  CHECK(is_temporary_name("model.dagrad.dagrad-tmp.1234", &pid));
  CHECK(pid == 1234);
  CHECK(!is_temporary_name("model.dagrad.tmp.1234"));
  CHECK(!is_temporary_name("notes.dagrad-tmp.12a"));
  CHECK(!is_temporary_name("notes.dagrad-tmp."));
  CHECK(!is_temporary_name(".dagrad-tmp.12"));
}

TEST_CASE("DirectoryLock: a folder held is refused to a second holder until released") {
  test::TempDir d("lock");
  {
    DirectoryLock first(d.str());
    CHECK(first.held());
    const std::string e = file_error([&] { DirectoryLock second(d.str()); });
    CHECK(test::contains(e, "output directory " + d.str() + ": another run is writing into it, process " +
                                std::to_string(::getpid())));
  }
  DirectoryLock again(d.str());
  CHECK(again.held());
}

TEST_CASE("YAML aliases: a copy works, a value containing itself and expansion past the limit are refused") {
  ConfigNode ok = parse_config("base: &b {units: 4, act: relu}\nlayer: *b\n", "ok.yaml");
  CHECK(ok.at("layer").require_int("units") == 4);
  CHECK(file_error([] { parse_config("a: 1\nb: &x\n  c: [1, *x]\n", "self.yaml"); }) ==
        "self.yaml:3:10: b.c[1]: this alias is inside the value its anchor names: a value cannot contain itself");
  std::string laughs = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    laughs += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) laughs += (k ? ", *l" : "*l") + std::to_string(i - 1);
    laughs += "]\n";
  }
  const std::string e = file_error([&] { parse_config(laughs, "laughs.yaml"); });
  CHECK(test::contains(e, "laughs.yaml:"));
  CHECK(test::contains(e, "this alias expands the configuration to more than " + std::to_string(limits::kConfigValues) +
                              " values (aliases expanded; the limits are in docs/limits.md)"));
  std::string deep = "a: " + std::string(65, '[') + std::string(65, ']') + "\n";
  CHECK(test::contains(file_error([&] { parse_config(deep, "deep.yaml"); }), "nested more than 64 deep"));
  std::string fine = "a: " + std::string(60, '[') + std::string(60, ']') + "\n";
  CHECK_NOTHROW(parse_config(fine, "fine.yaml"));
  // A syntax error anywhere comes before a limit.
  CHECK(test::contains(file_error([&] { parse_config(deep + "b: [\n", "both.yaml"); }), "invalid YAML"));
}

TEST_CASE("a tensor whose size overflows or passes the memory limit is a LimitError naming its shape") {
  const std::string expected = "a tensor of shape [2147483648, 2147483648, 8] needs more bytes than a 64-bit count holds, "
                               "more than the memory limit of " + limits::bytes_text(limits::memory_limit()) +
                               " (DAGRAD_MEMORY_LIMIT; by default half the machine's memory)";
  CHECK_THROWS_WITH_AS(Tensor({int64_t{1} << 31, int64_t{1} << 31, 8}), expected.c_str(), LimitError);
  CHECK_THROWS_AS(Tensor({limits::memory_limit() / 4 + 1}), LimitError);
  CHECK(Tensor({0, 5}).size() == 0);
  CHECK(limits::bytes_text(1536) == "1.5 KiB");
  CHECK(limits::bytes_text(256 * limits::kMiB) == "256 MiB");
}

TEST_CASE("write_file_atomic writes pieces in order, empty ones included") {
  test::TempDir d("pieces");
  const std::string a = "first ", c = "third";
  const std::vector<std::string_view> pieces{a, "", std::string_view("second "), c, ""};
  write_file_atomic(d.file("f"), pieces);
  CHECK(test::read_text(d.file("f")) == "first second third");
  write_file_atomic(d.file("g"), std::span<const std::string_view>());
  CHECK(test::read_text(d.file("g")).empty());
}
