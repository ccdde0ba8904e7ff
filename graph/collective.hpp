// The process group a data-parallel run trains in (docs/distributed.md): its rank and size and the
// collective operations the fitter, the Retrieval task and the AllGatherRows op need. Declared here,
// in the ground folder, so that ops and tasks can take part without depending on MPI; the MPI
// implementation is models/dist/mpi_world (built when Open MPI is found). A single process has no
// world: world() is null, and everything runs as without MPI.
//
// Every call is collective: every rank of the world makes the same calls in the same order, and a
// call blocks until all have made it. Counts and byte sizes are per rank, in rank order.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace dagrad {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Every rank's `mine`, in rank order.
  virtual std::vector<int64_t> allgather(int64_t mine) = 0;
  // Every rank's bytes concatenated in rank order into `out`; bytes[r] is rank r's byte count
  // (the same vector on every rank) and out holds their sum.
  virtual void allgatherv(const void* mine, void* out, std::span<const int64_t> bytes) = 0;
  // Elementwise sums over ranks, in place; every rank gets the same result (the reduction order is
  // the MPI library's, the same on every rank).
  virtual void allreduce_sum(std::span<float> data) = 0;
  virtual void allreduce_sum(std::span<double> data) = 0;
  virtual int64_t allreduce_max(int64_t v) = 0;
  // `in` holds counts[0] + ... + counts[size-1] floats; rank r receives the sum over ranks of its
  // block (counts[r] floats at the offset of the counts before it) into `out`.
  virtual void reduce_scatter_sum(const float* in, float* out, std::span<const int64_t> counts) = 0;
  // Every rank's bytes concatenated in rank order into `out` on rank `root` only (out is not read
  // elsewhere and may be null); bytes[r] is rank r's byte count, the same vector on every rank.
  virtual void gatherv(const void* mine, void* out, std::span<const int64_t> bytes, int root) = 0;
  // `bytes` bytes of rank `root`'s data into every rank's.
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  // Rank r sends send_bytes[k] bytes to rank k (from `send`, blocks in rank order) and receives
  // recv_bytes[k] bytes from rank k (into `recv`, in rank order). recv_bytes must be the senders'
  // send_bytes (exchange the counts with alltoall_counts first).
  virtual void alltoallv(const void* send, std::span<const int64_t> send_bytes, void* recv,
                         std::span<const int64_t> recv_bytes) = 0;
  // What each rank sends to this one: out[k] = rank k's send[this rank].
  virtual std::vector<int64_t> alltoall_counts(std::span<const int64_t> send) = 0;
  virtual void barrier() = 0;
  // Bytes this process has sent and received through the calls above (what docs/distributed.md counts).
  int64_t bytes_sent = 0;
};

// The process's world, when it trains with others; null otherwise (set once by the program).
Collective* world();
void set_world(Collective* w);
// The world when it has more than one rank, else null: what code that behaves differently when
// distributed asks.
inline Collective* distributed() {
  Collective* w = world();
  return w && w->size() > 1 ? w : nullptr;
}

}  // namespace dagrad
