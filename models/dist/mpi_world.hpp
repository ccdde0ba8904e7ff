// The MPI world of a data-parallel run (graph/collective.hpp on Open MPI's C API). A program that
// may run under mpirun calls MpiWorld::join() first: under mpirun (Open MPI's launcher sets
// OMPI_COMM_WORLD_SIZE) it initialises MPI and installs the world (set_world); otherwise, and when
// dagrad was built without MPI (meson option `mpi`), it does nothing, and a program started by
// mpirun on such a build is told so. The world is finalised when the object goes.
#pragma once
#include <memory>
#include <string>

#include "graph/collective.hpp"

namespace dagrad {

class MpiWorld {
 public:
  // Null when not launched by mpirun. With one rank (mpirun -np 1) the world exists but nothing is
  // distributed (graph/collective.hpp's distributed() is null): it trains as a single process.
  static std::unique_ptr<MpiWorld> join(int* argc, char*** argv);
  ~MpiWorld();
  Collective& collective() { return *impl_; }
  // Ends every rank of the run at once with `status`, after printing `message` (this rank's
  // error) on stderr: what a rank does on an error that the others cannot know of.
  [[noreturn]] static void abort_all(int status, const std::string& message);
  // Whether this build has MPI.
  static bool available();

 private:
  MpiWorld() = default;
  std::unique_ptr<Collective> impl_;
};

}  // namespace dagrad
