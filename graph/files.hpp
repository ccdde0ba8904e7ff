// Files in and out, in one place. Every file dagrad reads goes through InputFile, which refuses
// what could block or never end (a FIFO, a device, a directory) and anything past its stated size
// (graph/limits.hpp). Every file dagrad writes goes through write_file_atomic, which never
// replaces anything but a regular file and never leaves a damaged file where a good one was. An
// output folder is held by one run at a time (DirectoryLock).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace dagrad {

// A regular file opened for reading, no longer than a stated limit. `what` names the kind of file
// in messages ("model file", "CSV file"). Every error is a UserError starting with the path.
class InputFile {
 public:
  // Refuses a missing file, anything that is not a regular file (a directory, a FIFO, a device, a
  // socket; symbolic links are followed), and a file of more than `max_bytes` bytes.
  InputFile(const std::string& path, int64_t max_bytes, const std::string& what);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  int64_t size() const { return size_; }  // when opened
  // The whole file (a file that grew past the limit since it was opened is refused).
  std::string read_all();
  // The next line, without its '\n'; false at the end. A line of more than `max_line` bytes is a
  // UserError naming the file and the line number. `ended_with_newline` says whether the line just
  // read was terminated (false for a last line cut short).
  bool next_line(std::string& line, int64_t max_line);
  int64_t line_number() const { return line_; }
  bool ended_with_newline() const { return newline_; }

 private:
  size_t fill();  // reads more into buf_; 0 at the end
  std::string path_, what_;
  int fd_ = -1;
  int64_t size_ = 0, max_ = 0, read_ = 0, line_ = 0;
  bool newline_ = true;
  std::string buf_;
  size_t pos_ = 0;
};

// The whole of a regular file of at most `max_bytes` bytes (InputFile's checks).
std::string read_input_file(const std::string& path, int64_t max_bytes, const std::string& what);

// Writes `content` to `path` atomically: a temporary file `path.dagrad-tmp.<pid>` in the same
// folder, written, fsynced and renamed over `path`, then the folder fsynced. `path` must be a
// regular file or not exist: a symbolic link, a directory, a FIFO or a device is never replaced
// (UserError), nor is a path whose folder does not exist or cannot be written (UserError). On a
// failure while writing (a full disk, EFBIG under a file-size limit) the temporary file is
// removed, `path` keeps its previous content, and a RuntimeFailure names the path and the reason.
//
// For the reliability tests only: with DAGRAD_TEST_STOP_IN_WRITE=NAME:STAGE[:N] in the environment,
// the process stops itself (SIGSTOP) in its Nth write (default 1) of a file named NAME, at STAGE
// 'partial' (half of the content in the temporary) or 'rename' (the temporary complete, not yet
// renamed), so that a test can kill it exactly mid-write (tests/reliability/test_kill.cpp).
void write_file_atomic(const std::string& path, const std::string& content);
// The same with the content given as consecutive pieces, written in order without being joined
// (a model file streamed from its tensors: models/io/archive.hpp).
void write_file_atomic(const std::string& path, std::span<const std::string_view> pieces);

// The checks write_file_atomic makes on `path` before writing, without writing: for failing
// before the work rather than after it.
void check_output_file(const std::string& path);

// The temporary file write_file_atomic uses for `path` in this process, and whether a file name is
// one of write_file_atomic's temporaries (NAME.dagrad-tmp.<pid>; the pid returned in `pid`).
std::string temporary_path(const std::string& path);
bool is_temporary_name(const std::string& filename, long* pid = nullptr);

// Removes the temporaries in `dir` left by processes that no longer run (killed while writing);
// returns how many. Files of live processes, and every other file, are left alone.
int remove_stale_temporaries(const std::string& dir);

// An exclusive lock on an output folder for as long as the object lives (flock on the folder
// itself, so that no file is added). A folder another process holds is a UserError naming it.
class DirectoryLock {
 public:
  DirectoryLock() = default;
  explicit DirectoryLock(const std::string& dir);
  ~DirectoryLock();
  DirectoryLock(DirectoryLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  DirectoryLock& operator=(DirectoryLock&& o) noexcept;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace dagrad
