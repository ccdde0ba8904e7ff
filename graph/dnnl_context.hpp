// The process-wide oneDNN engine, a oneDNN stream per calling thread (a stream is not to be shared
// by threads executing at once; the engine and the primitives are), and the one place the thread
// count is set.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <string>

namespace dagrad {

dnnl::engine& dnnl_engine();
dnnl::stream& dnnl_stream();

// Threads used by oneDNN and by dagrad's own parallel loops (OpenMP). Set once, early:
// from --threads, else the DAGRAD_THREADS environment variable, else all cores.
// Results are deterministic for a fixed thread count. `n` outside 1..limits::kMaxThreads is a
// UserError starting with `source` (the flag or variable that gave it).
void set_num_threads(int64_t n, const std::string& source = "threads");
int num_threads();
// Applies DAGRAD_THREADS if set; returns the thread count in force.
int init_threads_from_env();

}  // namespace dagrad
