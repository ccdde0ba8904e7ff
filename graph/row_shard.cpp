#include "graph/row_shard.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "graph/error.hpp"

namespace dagrad {

std::optional<RowShard> row_shard(const Graph& g, int param) {
  Collective* w = distributed();
  if (!w || param < 0 || g.node(param).kind != NodeKind::Param) return std::nullopt;
  for (int id = param + 1; id < g.size(); ++id) {
    const Node& n = g.node(id);
    if (n.kind != NodeKind::Op || n.op_name != kShardedEmbeddingOp || n.inputs.empty() || n.inputs[0] != param) continue;
    return RowShard{n.attrs.get_int("rows"), w->rank(), w->size()};
  }
  return std::nullopt;
}

std::optional<RowShard> row_shard_of_state(const Graph& g, const std::string& state_name) {
  const size_t slash = state_name.rfind('/');
  if (slash == std::string::npos || !distributed()) return std::nullopt;
  return row_shard(g, g.find(state_name.substr(0, slash)));
}

Tensor take_row_shard(const Tensor& whole, const RowShard& s) {
  DAGRAD_ASSERT(whole.rank() == 2 && whole.dim(0) == s.rows && whole.dtype() == DType::f32,
                "take_row_shard: expected a whole table of " + std::to_string(s.rows) + " rows");
  const int64_t d = whole.dim(1), n = s.local_rows();
  Tensor shard({n, d});
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(shard.f32() + i * d, whole.f32() + s.global_row(i) * d, static_cast<size_t>(d) * sizeof(float));
  return shard;
}

Tensor gather_row_shards(Collective& w, const Tensor& shard, const RowShard& s, int root) {
  const int64_t d = shard.dim(1), ranks = s.ranks;
  DAGRAD_ASSERT(shard.rank() == 2 && shard.dim(0) == s.local_rows(), "gather_row_shards: the shard has " +
                std::to_string(shard.dim(0)) + " rows, expected " + std::to_string(s.local_rows()));
  const bool at_root = w.rank() == root;
  Tensor whole = at_root ? Tensor({s.rows, d}) : Tensor();
  // Local rows [b, b + block) of every rank per call: at most ~16 MB staged at the root.
  const int64_t block = std::max<int64_t>(1, (int64_t{1} << 22) / std::max<int64_t>(1, d * ranks));
  const int64_t most = RowShard::local_rows(s.rows, 0, s.ranks);  // rank 0 holds the most
  std::vector<float> staging(at_root ? static_cast<size_t>(std::min(block, most) * ranks * d) : 0);
  std::vector<int64_t> bytes(static_cast<size_t>(ranks));
  for (int64_t b = 0; b < most; b += block) {
    for (int r = 0; r < ranks; ++r)
      bytes[static_cast<size_t>(r)] =
          std::clamp<int64_t>(RowShard::local_rows(s.rows, r, s.ranks) - b, 0, block) * d * static_cast<int64_t>(sizeof(float));
    const int64_t mine = bytes[static_cast<size_t>(w.rank())] / static_cast<int64_t>(sizeof(float)) / std::max<int64_t>(1, d);
    w.gatherv(mine ? shard.f32() + b * d : nullptr, staging.data(), bytes, root);
    if (!at_root) continue;
    const float* in = staging.data();
    for (int r = 0; r < ranks; ++r) {
      const int64_t n = bytes[static_cast<size_t>(r)] / static_cast<int64_t>(sizeof(float)) / std::max<int64_t>(1, d);
      for (int64_t i = 0; i < n; ++i)
        std::memcpy(whole.f32() + ((b + i) * ranks + r) * d, in + i * d, static_cast<size_t>(d) * sizeof(float));
      in += n * d;
    }
  }
  return whole;
}

}  // namespace dagrad
