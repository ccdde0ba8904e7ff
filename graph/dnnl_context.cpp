#include "graph/dnnl_context.hpp"

#include <omp.h>

#include <cstdlib>
#include <string>

#include "graph/error.hpp"

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

void set_num_threads(int n) {
  if (n < 1) throw UserError("threads: expected a positive number, got " + std::to_string(n));
  omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

int init_threads_from_env() {
  if (const char* s = std::getenv("DAGRAD_THREADS"); s && *s) {
    char* end = nullptr;
    long n = std::strtol(s, &end, 10);
    if (*end != '\0' || n < 1)
      throw UserError(std::string("DAGRAD_THREADS: expected a positive integer, got '") + s + "'");
    set_num_threads(static_cast<int>(n));
  }
  return num_threads();
}

}  // namespace dagrad
