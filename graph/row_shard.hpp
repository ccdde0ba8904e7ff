// Row sharding of an embedding table over the ranks of a data-parallel run (docs/distributed.md,
// "Sharded embedding tables"): row r of the whole [rows, d] table lives on rank r mod N only, at
// local row r / N, so each rank holds about rows / N rows (and the optimizer state of those only).
// The ShardedEmbedding op reads a shard; what saves, loads, broadcasts or exchanges parameters asks
// row_shard() whether a parameter is one, and gathers or splits it with the functions below.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "graph/collective.hpp"
#include "graph/graph.hpp"

namespace dagrad {

struct RowShard {
  int64_t rows = 0;  // the whole table's
  int rank = 0, ranks = 1;
  // Rows rank k holds of a table of `rows` rows over `ranks` ranks: those r < rows with r mod ranks = k.
  static int64_t local_rows(int64_t rows, int k, int ranks) { return k < rows ? (rows - 1 - k) / ranks + 1 : 0; }
  int64_t local_rows() const { return local_rows(rows, rank, ranks); }
  int64_t global_row(int64_t local) const { return local * ranks + rank; }
};

// The op that reads a sharded table, and its attribute holding the whole table's row count.
inline constexpr const char* kShardedEmbeddingOp = "ShardedEmbedding";

// Parameter `param`'s sharding when a ShardedEmbedding op reads it and the process is one rank of
// a distributed world (graph/collective.hpp), else none: the parameter is whole.
std::optional<RowShard> row_shard(const Graph& g, int param);
// The same for an optimizer state tensor named "<param>/<slot>" (Optimizer::state).
std::optional<RowShard> row_shard_of_state(const Graph& g, const std::string& state_name);

// This rank's rows of the whole table [s.rows, d].
Tensor take_row_shard(const Tensor& whole, const RowShard& s);
// The whole table [s.rows, d] from every rank's shard, on rank `root`; other ranks get an undefined
// Tensor. Collective; gathered in blocks of at most ~16 MB at the root besides the result.
Tensor gather_row_shards(Collective& w, const Tensor& shard, const RowShard& s, int root = 0);

}  // namespace dagrad
