#include "graph/files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/sysmacros.h>

#include "graph/error.hpp"
#include "graph/limits.hpp"

namespace dagrad {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTempInfix = ".dagrad-tmp.";

// What a file that is not a regular file is, for messages.
std::string kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO (named pipe)";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISLNK(m)) return "a symbolic link";
  return "not a regular file";
}

}  // namespace

// ---- reading ----

InputFile::InputFile(const std::string& path, int64_t max_bytes, const std::string& what)
    : path_(path), what_(what), max_(max_bytes) {
  auto refuse = [&](const std::string& why) { throw UserError(path_ + ": " + why); };
  // stat first, so that a FIFO or a device is never even opened (opening may block or act), then
  // fstat what was opened, in case the path changed in between.
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) refuse(std::string("cannot open (") + std::strerror(errno) + ")");
  auto check = [&](const struct stat& s) {
    if (!S_ISREG(s.st_mode))
      refuse("is " + kind_of(s.st_mode) + ", not a regular file; a " + what_ + " must be a regular file");
    if (s.st_size > max_)
      refuse("is " + std::to_string(s.st_size) + " bytes, more than the " + limits::bytes_text(max_) + " a " + what_ +
             " may have (the limits are in docs/limits.md)");
  };
  check(st);
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) refuse(std::string("cannot open (") + std::strerror(errno) + ")");
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    refuse(std::string("cannot read (") + std::strerror(err) + ")");
  }
  try {
    check(st);
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
  size_ = st.st_size;
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

size_t InputFile::fill() {
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  const size_t old = buf_.size();
  buf_.resize(old + 64 * 1024);
  ssize_t n;
  do {
    n = ::read(fd_, buf_.data() + old, 64 * 1024);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const int err = errno;
    buf_.resize(old);
    throw UserError(path_ + ": cannot read (" + std::strerror(err) + ")");
  }
  buf_.resize(old + static_cast<size_t>(n));
  read_ += n;
  if (read_ > max_)
    throw UserError(path_ + ": grew past the " + limits::bytes_text(max_) + " a " + what_ + " may have while it was read");
  return static_cast<size_t>(n);
}

std::string InputFile::read_all() {
  std::string out = buf_.substr(pos_);
  buf_.clear();
  pos_ = 0;
  out.reserve(static_cast<size_t>(size_) + 1);
  for (;;) {
    // Reads straight into the result: what fstat said is left (at least 64 KiB, to see the end or
    // a file that grew), never more than what is left of the limit plus one byte to notice a file
    // that grew past it.
    const size_t have = out.size();
    const int64_t left = std::max<int64_t>(size_ - read_, 0) + 1;
    const size_t want = static_cast<size_t>(std::min<int64_t>(std::max<int64_t>(left, 64 * 1024), max_ - read_ + 1));
    out.resize(have + want);
    ssize_t n;
    do {
      n = ::read(fd_, out.data() + have, want);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      const int err = errno;
      throw UserError(path_ + ": cannot read (" + std::strerror(err) + ")");
    }
    out.resize(have + static_cast<size_t>(n));
    read_ += n;
    if (read_ > max_)
      throw UserError(path_ + ": grew past the " + limits::bytes_text(max_) + " a " + what_ + " may have while it was read");
    if (n == 0) return out;
  }
}

bool InputFile::next_line(std::string& line, int64_t max_line) {
  size_t scanned = pos_;
  for (;;) {
    const size_t nl = buf_.find('\n', scanned);
    if (nl != std::string::npos) {
      if (static_cast<int64_t>(nl - pos_) > max_line) break;
      line.assign(buf_, pos_, nl - pos_);
      pos_ = nl + 1;
      ++line_;
      newline_ = true;
      return true;
    }
    if (static_cast<int64_t>(buf_.size() - pos_) > max_line) break;
    scanned = buf_.size() - pos_;  // fill() moves the unread bytes to the front
    if (fill() == 0) {
      if (pos_ == buf_.size()) return false;
      line.assign(buf_, pos_, std::string::npos);
      pos_ = buf_.size();
      ++line_;
      newline_ = false;
      return true;
    }
  }
  throw UserError(path_ + ":" + std::to_string(line_ + 1) + ": a line of more than " + limits::bytes_text(max_line) +
                  " (the limit on one line of a " + what_ + "; is this the right file?)");
}

std::string read_input_file(const std::string& path, int64_t max_bytes, const std::string& what) {
  InputFile f(path, max_bytes, what);
  return f.read_all();
}

// ---- writing ----

namespace {

// The folder of `path` ("." for a bare name).
std::string folder_of(const std::string& path) {
  std::string dir = fs::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

}  // namespace

std::string temporary_path(const std::string& path) { return path + kTempInfix + std::to_string(::getpid()); }

bool is_temporary_name(const std::string& name, long* pid) {
  const auto at = name.rfind(kTempInfix);
  if (at == std::string::npos || at == 0) return false;
  const std::string digits = name.substr(at + std::strlen(kTempInfix));
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  if (pid) *pid = std::stol(digits);
  return true;
}

void check_output_file(const std::string& path) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      const fs::path target = fs::read_symlink(path, ec);
      throw UserError(path + ": is a symbolic link" + (ec ? "" : " (to " + target.string() + ")") +
                      "; dagrad replaces only regular files: give the file itself");
    }
    if (!S_ISREG(st.st_mode))
      throw UserError(path + ": is " + kind_of(st.st_mode) + "; dagrad replaces only regular files");
  } else if (errno != ENOENT) {
    throw UserError(path + ": cannot write (" + std::strerror(errno) + ")");
  }
  const std::string dir = folder_of(path);
  if (::stat(dir.c_str(), &st) != 0)
    throw UserError(path + ": cannot write: the folder " + dir + " does not exist");
  if (!S_ISDIR(st.st_mode)) throw UserError(path + ": cannot write: " + dir + " is not a folder");
  if (::access(dir.c_str(), W_OK | X_OK) != 0) throw UserError(path + ": cannot write: the folder " + dir + " is not writable");
}

namespace {

// The test hook (files.hpp): DAGRAD_TEST_STOP_IN_WRITE=NAME:STAGE[:N] stops this process with
// SIGSTOP in the Nth write (default the first) of a file named NAME, at STAGE: 'partial' (half of
// the content written to the temporary) or 'rename' (the temporary complete and synced, not yet
// renamed). Read once; a malformed value is ignored (it is for the test suite only).
struct StopInWrite {
  std::string name, stage;
  long nth = 1, seen = 0;
};
StopInWrite* stop_in_write() {
  static StopInWrite hook;
  static const bool on = [] {
    const char* env = std::getenv("DAGRAD_TEST_STOP_IN_WRITE");
    if (!env || !*env) return false;
    const std::string v = env;
    const size_t a = v.find(':');
    if (a == std::string::npos) return false;
    hook.name = v.substr(0, a);
    const size_t b = v.find(':', a + 1);
    hook.stage = v.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
    if (b != std::string::npos) hook.nth = std::strtol(v.c_str() + b + 1, nullptr, 10);
    return true;
  }();
  return on ? &hook : nullptr;
}
bool stop_here(const std::string& path, const char* stage, bool count) {
  StopInWrite* h = stop_in_write();
  if (!h || fs::path(path).filename() != h->name) return false;
  if (count) ++h->seen;
  return h->seen == h->nth && h->stage == stage;
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string_view whole(content);
  write_file_atomic(path, std::span<const std::string_view>(&whole, 1));
}

void write_file_atomic(const std::string& path, std::span<const std::string_view> pieces) {
  check_output_file(path);
  const bool hooked = stop_in_write() != nullptr;
  if (hooked) stop_here(path, "", true);  // counts this write of the file
  // The temporary name carries the pid, so that remove_stale_temporaries can tell a file left by a
  // killed process from one a live writer is still filling.
  const std::string tmp = temporary_path(path);
  auto fail = [&](const std::string& what, int err, int fd) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw RuntimeFailure("cannot write " + path + ": " + what + std::strerror(err) +
                         " (the previous version of the file, if any, is untouched)");
  };
  // O_EXCL|O_NOFOLLOW: the temporary is a new regular file of this process, never something another
  // process put there under its name.
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    if (err == EACCES || err == EPERM || err == EROFS || err == ENOENT || err == ENOTDIR)
      throw UserError(path + ": cannot write (" + std::strerror(err) + ")");
    fail("", err, -1);
  }
  size_t total = 0;
  for (std::string_view p : pieces) total += p.size();
  size_t done = 0;  // bytes of the whole content written
  size_t half = hooked && stop_here(path, "partial", false) ? total / 2 : total + 1;
  for (std::string_view p : pieces) {
    size_t at = 0;  // bytes of this piece written
    while (at < p.size()) {
      if (done >= half) {
        ::raise(SIGSTOP);  // the test hook: stopped mid-write, to be killed here
        half = total + 1;
      }
      const size_t chunk = std::min(p.size() - at, done < half ? half - done : p.size() - at);
      ssize_t w = ::write(fd, p.data() + at, chunk);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) fail("", errno, fd);
      if (w == 0) fail("", ENOSPC, fd);
      at += static_cast<size_t>(w);
      done += static_cast<size_t>(w);
    }
  }
  if (::fsync(fd) != 0) fail("", errno, fd);
  if (::close(fd) != 0) fail("", errno, -1);
  if (hooked && stop_here(path, "rename", false)) ::raise(SIGSTOP);  // the test hook: complete, not yet renamed
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("renaming the temporary file: ", errno, -1);
  // The rename is durable only once the directory entry is on disk too.
  int dfd = ::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // best effort: the new file is complete and in place whatever this returns
    ::close(dfd);
  }
}

int remove_stale_temporaries(const std::string& dir) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    long pid = 0;
    if (!is_temporary_name(it->path().filename().string(), &pid)) continue;
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec) || it->is_symlink(type_ec)) continue;
    if (pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) == 0) continue;  // a live process may still be writing it
    if (pid != ::getpid() && errno == EPERM) continue;  // alive, owned by someone else
    std::error_code rm;
    if (fs::remove(it->path(), rm)) ++removed;
  }
  return removed;
}

// ---- locking ----

namespace {

// The process holding a flock on the file `st` describes, from /proc/locks ("1: FLOCK  ADVISORY
// WRITE 1234 08:01:5678 0 EOF"), with its command line: "process 1234 (dagrad fit m.yaml ...)".
// Empty when it cannot be told (no /proc, or the lock went away meanwhile).
std::string lock_holder(const struct stat& st) {
  std::ifstream locks("/proc/locks");
  std::string line;
  char want[64];
  std::snprintf(want, sizeof want, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
                static_cast<unsigned long long>(st.st_ino));
  while (std::getline(locks, line)) {
    std::istringstream in(line);
    std::string num, type, advisory, mode, pid, id;
    if (!(in >> num >> type)) continue;
    if (type == "->") in >> type;  // a waiter, listed under the holder
    if (!(in >> advisory >> mode >> pid >> id) || type != "FLOCK" || id != want) continue;
    std::ifstream cmd("/proc/" + pid + "/cmdline", std::ios::binary);
    std::string args((std::istreambuf_iterator<char>(cmd)), {});
    while (!args.empty() && args.back() == '\0') args.pop_back();
    std::replace(args.begin(), args.end(), '\0', ' ');
    if (args.size() > 200) args = args.substr(0, 200) + "...";
    return "process " + pid + (args.empty() ? "" : " (" + args + ")");
  }
  return "";
}

}  // namespace

DirectoryLock::DirectoryLock(const std::string& dir) {
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) throw UserError("output directory " + dir + ": cannot open it to lock it (" + std::strerror(errno) + ")");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    struct stat st{};
    const std::string holder = err == EWOULDBLOCK && ::fstat(fd_, &st) == 0 ? lock_holder(st) : "";
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw UserError("output directory " + dir + ": another run is writing into it" +
                      (holder.empty() ? "" : ", " + holder) +
                      "; wait for it to finish or choose another --out (one run at a time writes into a folder)");
    // A filesystem without flock (some network filesystems): go on unlocked rather than refuse.
  }
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

DirectoryLock& DirectoryLock::operator=(DirectoryLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

}  // namespace dagrad
