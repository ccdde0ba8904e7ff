// Data parallelism over a Collective (graph/collective.hpp): every rank holds every parameter,
// computes the gradients of its share of the global batch, and gets the sums over all ranks before
// the same optimizer step. Dense gradients are all-reduced (a reduce-scatter and an all-gather, so
// that every rank holds the same bits); a sparse gradient (an embedding table's touched rows) is
// exchanged as its rows' ids and values only, all-gathered, and summed in rank order into the
// union of the rows, the same on every rank. A sharded table's gradient (graph/row_shard.hpp) is
// complete after backward and is passed on as it is.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/backward.hpp"
#include "graph/collective.hpp"
#include "models/optimizers/optimizer.hpp"

namespace dagrad {

class DataParallel {
 public:
  explicit DataParallel(Collective& w) : w_(w) {}

  // Rank 0's parameters (every Param node of g) and the given tensors (optimizer state) into every rank's.
  void broadcast(Graph& g, const std::vector<std::pair<std::string, Tensor*>>& extra);

  // The gradients of the last backward, summed over the ranks, as the optimizer's parameter list
  // (valid until the next call). Parameters the backward did not reach are left out, as
  // Optimizer::step(Graph&, ...) leaves them out; every rank must have reached the same ones.
  std::span<const ParamGrad> reduce(Graph& g, const Gradients& grads);

  // Bytes this rank sent in the last reduce() (what docs/distributed.md counts per step).
  int64_t last_bytes() const { return last_bytes_; }

 private:
  struct Buffers {
    Tensor grad;                // summed gradient, shaped as the parameter
    std::vector<int32_t> rows;  // sparse: the union of the ranks' rows, sorted
  };
  Collective& w_;
  std::vector<Buffers> buffers_;  // by parameter node id
  std::vector<ParamGrad> params_;
  std::vector<float> dense_;      // all dense gradients, packed, reduced in one call
  std::vector<char> packed_, all_packed_;     // the sparse gradients' rows and values, packed
  std::vector<std::vector<char>> seen_;       // by parameter: rows already in the union
  int64_t last_bytes_ = 0;
  std::vector<char> sharded_;         // by node id: a sharded table (graph/row_shard.hpp)
  uint64_t sharded_version_ = 0;      // the graph version sharded_ was found for
};

}  // namespace dagrad
