#include "experiments/common/side_by_side.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "graph/error.hpp"

extern char** environ;

namespace dagrad::experiment {
namespace {

// The signal that asked the runs to stop, forwarded to them (0: none).
volatile std::sig_atomic_t g_stop_signal = 0;
void on_stop_signal(int sig) { g_stop_signal = sig; }

// The last non-empty line of a file ("" when it cannot be read).
std::string last_line(const std::string& path) {
  std::ifstream f(path);
  std::string line, last;
  while (std::getline(f, line))
    if (!line.empty()) last = line;
  return last;
}

}  // namespace

int run_side_by_side(const std::string& program, const std::vector<SideBySideRun>& runs, int jobs, std::ostream& out,
                     std::ostream& log) {
  if (jobs < 1) throw UserError("--jobs: expected at least 1 run at once, got " + std::to_string(jobs));
  g_stop_signal = 0;
  // No SA_RESTART: a signal interrupts waitpid, which then passes it on.
  struct sigaction sa {}, old_int {}, old_term {};
  sa.sa_handler = on_stop_signal;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  std::map<pid_t, size_t> running;
  size_t next = 0;
  int status = 0;
  size_t failed = 0;
  auto stopping = [&] { return status != 0 || g_stop_signal != 0; };
  try {
    while (!running.empty() || (next < runs.size() && !stopping())) {
      while (next < runs.size() && static_cast<int>(running.size()) < jobs && !stopping()) {
        const SideBySideRun& run = runs[next];
        const std::string log_path = run.dir + ".log";
        std::filesystem::create_directories(std::filesystem::path(run.dir).parent_path());
        std::vector<std::string> args = {program};
        args.insert(args.end(), run.args.begin(), run.args.end());
        std::vector<char*> argv;
        for (auto& x : args) argv.push_back(x.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&fa, 2, 1);
        pid_t pid = 0;
        const int rc = posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) throw RuntimeFailure("cannot start the run into " + run.dir + ": " + std::strerror(rc));
        log << "== " << run.label << " -> " << run.dir << " (" << run.threads << " thread" << (run.threads > 1 ? "s" : "")
            << ", log " << log_path << ")" << std::endl;
        running[pid] = next++;
      }
      int st = 0;
      const pid_t pid = waitpid(-1, &st, 0);
      if (pid < 0) {
        if (errno != EINTR) throw RuntimeFailure(std::string("waiting for the runs: ") + std::strerror(errno));
        for (const auto& [p, i] : running) kill(p, g_stop_signal ? g_stop_signal : SIGTERM);
        continue;
      }
      auto it = running.find(pid);
      if (it == running.end()) continue;
      const size_t i = it->second;
      running.erase(it);
      const int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      if (code == 0) {
        std::ifstream f(runs[i].dir + "/summary.json");
        std::stringstream ss;
        ss << f.rdbuf();
        std::string summary = ss.str();
        while (!summary.empty() && summary.back() == '\n') summary.pop_back();
        out << summary << std::endl;
      } else if (status == 0) {
        status = code;
        failed = i;
      }
    }
  } catch (...) {
    // Nothing is left running behind an error.
    for (const auto& [p, i] : running) kill(p, SIGTERM);
    for (const auto& [p, i] : running) waitpid(p, nullptr, 0);
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    throw;
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (g_stop_signal) {
    log << program << ": stopped by signal " << g_stop_signal
        << "; the runs that had started checkpointed (the same command with --resume continues them)" << std::endl;
    return 128 + g_stop_signal;
  }
  if (status != 0) {
    const std::string& dir = runs[failed].dir;
    log << program << ": the run into " << dir << " failed (exit " << status << "): " << last_line(dir + ".log")
        << " (whole log: " << dir << ".log)" << std::endl;
  }
  return status;
}

}  // namespace dagrad::experiment
