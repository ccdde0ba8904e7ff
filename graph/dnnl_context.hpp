// The process-wide oneDNN engine, a oneDNN stream per calling thread (a stream is not to be shared
// by threads executing at once; the engine and the primitives are), and the one place the thread
// count is set.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

namespace dagrad {

dnnl::engine& dnnl_engine();
dnnl::stream& dnnl_stream();

// Threads used by oneDNN and by dagrad's own parallel loops (OpenMP). Set once, early:
// from --threads, else the DAGRAD_THREADS environment variable, else all cores.
// Results are deterministic for a fixed thread count.
void set_num_threads(int n);
int num_threads();
// Applies DAGRAD_THREADS if set; returns the thread count in force.
int init_threads_from_env();

}  // namespace dagrad
