#include "models/dist/mpi_world.hpp"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "graph/error.hpp"

#ifdef DAGRAD_HAVE_MPI
#define OMPI_SKIP_MPICXX 1  // the C API only (Open MPI's deprecated C++ bindings warn)
#include <mpi.h>
#endif

namespace dagrad {
namespace {

// mpirun's environment: Open MPI sets OMPI_COMM_WORLD_SIZE in every process it starts.
int launched_size() {
  const char* s = std::getenv("OMPI_COMM_WORLD_SIZE");
  return s ? std::atoi(s) : 0;
}

#ifdef DAGRAD_HAVE_MPI

int as_int(int64_t n, const char* what) {
  if (n < 0 || n > INT_MAX)
    throw UserError(std::string("MPI: ") + what + " of " + std::to_string(n) + " exceeds MPI's int counts");
  return static_cast<int>(n);
}

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw std::runtime_error(std::string(call) + " failed: " + std::string(text, static_cast<size_t>(len)));
}

class Mpi : public Collective {
 public:
  Mpi() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  std::vector<int64_t> allgather(int64_t mine) override {
    std::vector<int64_t> all(static_cast<size_t>(size_));
    check(MPI_Allgather(&mine, 1, MPI_INT64_T, all.data(), 1, MPI_INT64_T, MPI_COMM_WORLD), "MPI_Allgather");
    bytes_sent += 8 * (size_ - 1);
    return all;
  }

  void allgatherv(const void* mine, void* out, std::span<const int64_t> bytes) override {
    counts(bytes, "allgatherv");
    check(MPI_Allgatherv(mine, ints_[static_cast<size_t>(rank_)], MPI_BYTE, out, ints_.data(), displs_.data(), MPI_BYTE,
                         MPI_COMM_WORLD),
          "MPI_Allgatherv");
    bytes_sent += bytes[static_cast<size_t>(rank_)] * (size_ - 1);
  }

  void gatherv(const void* mine, void* out, std::span<const int64_t> bytes, int root) override {
    counts(bytes, "gatherv");
    check(MPI_Gatherv(mine, ints_[static_cast<size_t>(rank_)], MPI_BYTE, out, ints_.data(), displs_.data(), MPI_BYTE, root,
                      MPI_COMM_WORLD),
          "MPI_Gatherv");
    if (rank_ != root) bytes_sent += bytes[static_cast<size_t>(rank_)];
  }

  // A reduce-scatter (each block summed once, by its rank) and an all-gather: every rank gets the
  // same bits, which MPI_Allreduce does not promise beyond two ranks.
  void allreduce_sum(std::span<float> data) override {
    const int64_t n = static_cast<int64_t>(data.size());
    std::vector<int64_t> c(static_cast<size_t>(size_));
    for (int r = 0; r < size_; ++r) c[static_cast<size_t>(r)] = n * (r + 1) / size_ - n * r / size_;
    block_.resize(static_cast<size_t>(c[static_cast<size_t>(rank_)]));
    reduce_scatter_sum(data.data(), block_.data(), c);
    std::vector<int64_t> bytes(c);
    for (auto& b : bytes) b *= 4;
    allgatherv(block_.data(), data.data(), bytes);
  }

  void allreduce_sum(std::span<double> data) override {
    check(MPI_Allreduce(MPI_IN_PLACE, data.data(), as_int(static_cast<int64_t>(data.size()), "allreduce"), MPI_DOUBLE,
                        MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
    bytes_sent += static_cast<int64_t>(data.size()) * 8;
  }

  int64_t allreduce_max(int64_t v) override {
    int64_t out = 0;
    check(MPI_Allreduce(&v, &out, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
    bytes_sent += 8;
    return out;
  }

  void reduce_scatter_sum(const float* in, float* out, std::span<const int64_t> c) override {
    std::vector<int> ic(c.size());
    int64_t total = 0;
    for (size_t r = 0; r < c.size(); ++r) {
      ic[r] = as_int(c[r], "reduce_scatter");
      total += c[r];
    }
    check(MPI_Reduce_scatter(in, out, ic.data(), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "MPI_Reduce_scatter");
    bytes_sent += (total - c[static_cast<size_t>(rank_)]) * 4;
  }

  void broadcast(void* data, int64_t bytes, int root) override {
    check(MPI_Bcast(data, as_int(bytes, "broadcast"), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
    if (rank_ == root) bytes_sent += bytes * (size_ - 1);
  }

  void alltoallv(const void* send, std::span<const int64_t> send_bytes, void* recv,
                 std::span<const int64_t> recv_bytes) override {
    std::vector<int> sc(send_bytes.size()), sd(send_bytes.size()), rc(recv_bytes.size()), rd(recv_bytes.size());
    int64_t so = 0, ro = 0;
    for (size_t r = 0; r < sc.size(); ++r) {
      sc[r] = as_int(send_bytes[r], "alltoallv");
      sd[r] = as_int(so, "alltoallv offset");
      so += send_bytes[r];
      rc[r] = as_int(recv_bytes[r], "alltoallv");
      rd[r] = as_int(ro, "alltoallv offset");
      ro += recv_bytes[r];
      if (static_cast<int>(r) != rank_) bytes_sent += send_bytes[r];
    }
    check(MPI_Alltoallv(send, sc.data(), sd.data(), MPI_BYTE, recv, rc.data(), rd.data(), MPI_BYTE, MPI_COMM_WORLD),
          "MPI_Alltoallv");
  }

  std::vector<int64_t> alltoall_counts(std::span<const int64_t> send) override {
    std::vector<int64_t> out(send.size());
    check(MPI_Alltoall(send.data(), 1, MPI_INT64_T, out.data(), 1, MPI_INT64_T, MPI_COMM_WORLD), "MPI_Alltoall");
    bytes_sent += 8 * (size_ - 1);
    return out;
  }

  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

 private:
  void counts(std::span<const int64_t> bytes, const char* what) {
    ints_.resize(bytes.size());
    displs_.resize(bytes.size());
    int64_t off = 0;
    for (size_t r = 0; r < bytes.size(); ++r) {
      ints_[r] = as_int(bytes[r], what);
      displs_[r] = as_int(off, what);
      off += bytes[r];
    }
  }

  int rank_ = 0, size_ = 1;
  std::vector<int> ints_, displs_;
  std::vector<float> block_;
};

#endif

}  // namespace

bool MpiWorld::available() {
#ifdef DAGRAD_HAVE_MPI
  return true;
#else
  return false;
#endif
}

std::unique_ptr<MpiWorld> MpiWorld::join(int* argc, char*** argv) {
  const int n = launched_size();
  if (n < 1) return nullptr;
#ifdef DAGRAD_HAVE_MPI
  int provided = 0;
  // OpenMP threads compute; only the main thread calls MPI.
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  // Errors return codes, which become exceptions naming the call (and the rank, through abort_all).
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  std::unique_ptr<MpiWorld> w(new MpiWorld());
  w->impl_ = std::make_unique<Mpi>();
  set_world(w->impl_.get());
  return w;
#else
  (void)argc;
  (void)argv;
  throw UserError("started by mpirun with " + std::to_string(n) +
                  " ranks, but this dagrad was built without MPI (meson option mpi; install libopenmpi-dev)");
#endif
}

MpiWorld::~MpiWorld() {
  set_world(nullptr);
#ifdef DAGRAD_HAVE_MPI
  MPI_Finalize();
#endif
}

void MpiWorld::abort_all(int status, const std::string& message) {
  Collective* w = world();
  std::fprintf(stderr, "dagrad rank %d of %d: %s\n", w ? w->rank() : 0, w ? w->size() : 1, message.c_str());
  std::fflush(stderr);
#ifdef DAGRAD_HAVE_MPI
  if (w) MPI_Abort(MPI_COMM_WORLD, status);
#endif
  std::exit(status);
}

}  // namespace dagrad
