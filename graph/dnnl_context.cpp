#include "graph/dnnl_context.hpp"

#include <omp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "graph/error.hpp"
#include "graph/limits.hpp"

namespace dagrad {

dnnl::engine& dnnl_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// One per thread, so that models used from several threads at once (one Model per thread,
// docs/library.md) never execute on one stream together.
dnnl::stream& dnnl_stream() {
  thread_local dnnl::stream stream(dnnl_engine());
  return stream;
}

void set_num_threads(int64_t n, const std::string& source) {
  if (n < 1 || n > limits::kMaxThreads)
    throw UserError(source + ": expected a number of threads from 1 to " + std::to_string(limits::kMaxThreads) +
                    ", got " + std::to_string(n));
  omp_set_num_threads(static_cast<int>(n));
}

int num_threads() { return omp_get_max_threads(); }

int init_threads_from_env() {
  if (const char* s = std::getenv("DAGRAD_THREADS"); s && *s) {
    char* end = nullptr;
    errno = 0;
    long n = std::strtol(s, &end, 10);
    if (*end != '\0' || end == s || n < 1 || errno == ERANGE)
      throw UserError(std::string("DAGRAD_THREADS: expected a positive integer, got '") + s + "'");
    set_num_threads(n, "DAGRAD_THREADS");
  }
  return num_threads();
}

void prefer_passive_omp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Not executed again (no /proc, say): go on as before, with the policy the program loaded with.
  unsetenv("OMP_WAIT_POLICY");
}

}  // namespace dagrad
