// Helpers for the reliability tests: a scratch folder on a fast filesystem, children started in
// the background and signalled, and snapshots of an output folder to prove nothing changed.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

extern char** environ;

namespace dagrad::test {

// A temporary folder on /dev/shm when there is one: every checkpoint write ends in two fsyncs,
// which cost ~0.1 s each on this machine's disk and nothing on tmpfs. The code paths are the
// same; only the wait for the disk goes.
class FastTempDir {
 public:
  explicit FastTempDir(const std::string& tag) {
    std::error_code ec;
    std::filesystem::path root = std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0
                                     ? std::filesystem::path("/dev/shm")
                                     : std::filesystem::temp_directory_path();
    static int counter = 0;
    path_ = root / ("dagrad_rel_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_, ec);
    std::filesystem::create_directories(path_);
  }
  ~FastTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  FastTempDir(const FastTempDir&) = delete;
  FastTempDir& operator=(const FastTempDir&) = delete;
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories((path_ / name).parent_path());
    std::ofstream f(path_ / name, std::ios::binary);
    f << text;
    return file(name);
  }

 private:
  std::filesystem::path path_;
};

// Every regular file under `dir` with its bytes: equal snapshots mean nothing was written.
inline std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> s;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return s;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file()) s[std::filesystem::relative(e.path(), dir).string()] = read_text(e.path().string());
  return s;
}

// Files under `dir` whose names say they are an unfinished atomic write (name.dagrad-tmp.<pid>,
// graph/files.hpp).
inline std::vector<std::string> temporaries(const std::string& dir) {
  std::vector<std::string> t;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return t;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
    if (e.path().filename().string().find(".dagrad-tmp.") != std::string::npos) t.push_back(e.path().string());
  return t;
}

// A child process started without a shell, its stdout and stderr going to `log`.
class Child {
 public:
  // `env`: NAME=VALUE entries added to (or replacing) this process's environment.
  Child(const std::vector<std::string>& argv, const std::string& log, const std::vector<std::string>& env = {}) : log_(log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> vars = env;
    for (char** e = environ; *e; ++e) {
      const std::string v = *e;
      bool replaced = false;
      for (const auto& x : env) replaced = replaced || v.substr(0, v.find('=') + 1) == x.substr(0, x.find('=') + 1);
      if (!replaced) vars.push_back(v);
    }
    std::vector<char*> envp;
    for (auto& v : vars) envp.push_back(v.data());
    envp.push_back(nullptr);
    if (::posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() {
    if (pid_ > 0 && status_ < 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  void signal(int sig) const { ::kill(pid_, sig); }
  // Exit status, or 128 + the signal that ended it.
  int wait() {
    if (status_ >= 0 || pid_ <= 0) return status_;
    int s = 0;
    while (::waitpid(pid_, &s, 0) < 0 && errno == EINTR) {}
    status_ = WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s);
    return status_;
  }
  // True once the child has ended (without blocking).
  bool done() {
    if (status_ >= 0) return true;
    int s = 0;
    if (::waitpid(pid_, &s, WNOHANG) != pid_) return false;
    status_ = WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s);
    return true;
  }
  // Waits up to `seconds` for the child to stop (SIGSTOP); false if it ended or did not stop.
  bool wait_stopped(double seconds) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (status_ < 0 && std::chrono::steady_clock::now() < end) {
      int s = 0;
      const pid_t got = ::waitpid(pid_, &s, WNOHANG | WUNTRACED);
      if (got == pid_ && WIFSTOPPED(s)) return true;
      if (got == pid_) status_ = WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s);
      else std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
  pid_t pid() const { return pid_; }
  std::string output() const { return read_text(log_); }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string log_;
};

// Polls `ready` every 5 ms until it holds or `seconds` pass; returns whether it held.
template <class F>
bool wait_until(F&& ready, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return ready();
}

// A small retrieval problem as CSV (`users` users, user u picks item 7u mod `items` ten times)
// with model.yaml and train.yaml beside it; `fit_extra` lines go into the `fit` map.
inline void write_retrieval_problem(const FastTempDir& d, int users, int items, int dim, int epochs,
                                    const std::string& fit_extra = "") {
  std::string inter = "user,item,item_id\n", cands = "item,item_id\n";
  for (int rep = 0; rep < 10; ++rep)
    for (int u = 0; u < users; ++u) {
      const std::string item = std::to_string((7 * u) % items);
      inter.append("u").append(std::to_string(u)).append(",item ").append(item).append(",").append(item).append("\n");
    }
  for (int i = 0; i < items; ++i) {
    const std::string item = std::to_string(i);
    cands.append("item ").append(item).append(",").append(item).append("\n");
  }
  d.write("interactions.csv", inter);
  d.write("items.csv", cands);
  const std::string dm = std::to_string(dim);
  d.write("model.yaml", "name: synthetic\n"
                        "inputs: {user: string, item: string, item_id: int}\n"
                        "layers:\n"
                        "  user_index: {type: StringLookup, input: user}\n"
                        "  user_vec: {type: Embedding, input: user_index, output_dim: " + dm + "}\n"
                        "  query: {type: Dense, input: user_vec, units: " + dm + "}\n"
                        "  item_index: {type: StringLookup, input: item, adapt: candidates}\n"
                        "  item_vec: {type: Embedding, input: item_index, output_dim: " + dm + "}\n"
                        "  candidate: {type: Dense, input: item_vec, units: " + dm + "}\n"
                        "task: {type: Retrieval, query: query, candidate: candidate, candidate_id: item_id, metrics: {top_k: [1, 5]}}\n");
  d.write("train.yaml", "data:\n  source: csv\n  interactions: interactions.csv\n  candidates: items.csv\n"
                        "  columns: {user: string, item: string, item_id: int}\n"
                        "  candidate_columns: {item: string, item_id: int}\n"
                        "  split: {seed: 1, test: 0.2}\n"
                        "fit:\n  seed: 3\n  epochs: " + std::to_string(epochs) + "\n  batch_size: 32\n"
                        "  optimizer: {type: Adagrad, learning_rate: 0.5}\n  progress: lines\n" + fit_extra);
}

// A dagrad command line with ARGS, on one thread.
inline std::string dagrad_cmd(const std::string& args) { return dagrad_exe() + " " + args + " --threads 1"; }

// Whether a run's output holds a sanitizer report (the sanitizer build; its exit status is 86 then,
// tests/main.cpp, but a report is a failure whatever the status).
inline bool sanitizer_report(const std::string& output) {
  for (const char* mark : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "WARNING: AddressSanitizer"})
    if (output.find(mark) != std::string::npos) return true;
  return false;
}

// The run's status and output hold `status` and every one of `parts`, and no sanitizer report.
inline void check_error(const Proc& p, int status, const std::vector<std::string>& parts) {
  INFO(p.output);
  CHECK(p.status == status);
  CHECK_MESSAGE(!sanitizer_report(p.output), "a sanitizer report, not the intended failure");
  for (const auto& part : parts) CHECK_MESSAGE(p.output.find(part) != std::string::npos, "expected in the output: " << part);
}

// `s` with the first `from` replaced by `to`; `from` must be there.
inline std::string replace(const std::string& s, const std::string& from, const std::string& to) {
  auto pos = s.find(from);
  REQUIRE_MESSAGE(pos != std::string::npos, from);
  return s.substr(0, pos) + to + s.substr(pos + from.size());
}

// The built movielens_two_tower experiment binary.
inline std::string movielens_exe() { return std::string(DAGRAD_BUILD_DIR) + "/experiments/movielens_two_tower"; }

// Quotes a path for the shell.
inline std::string sh(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace dagrad::test
