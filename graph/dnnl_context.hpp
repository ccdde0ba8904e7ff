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

// OpenMP's idle threads wait for the next parallel region by spinning unless OMP_WAIT_POLICY says
// otherwise, and dagrad runs many short regions between serial code: on this project's 2-vCPU
// machines the spinning thread takes the core from the one doing the work, and a [64, 32] epoch
// took 2.2x as long (docs/performance.md). GNU OpenMP reads the policy once, when the program
// loads, so each of dagrad's programs calls this first thing in main: when neither OMP_WAIT_POLICY
// nor GOMP_SPINCOUNT is set, it sets OMP_WAIT_POLICY=PASSIVE and executes the program again with
// the same arguments (same process id, open files and environment but for that variable). Returns
// when the variable was already set, or when the program could not be executed again.
void prefer_passive_omp_wait(char** argv);

}  // namespace dagrad
