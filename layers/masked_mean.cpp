// MaskedMean: the mean of token vectors [B, T, D] over the token axis, padding (id 0) excluded:
// Keras GlobalAveragePooling1D after an Embedding with mask_zero. Over an Embedding of the mask's
// own ids it builds one EmbeddingMean op on the table (the same values, bit for bit, without the
// padded [B, T, D] vectors); the Embedding node stays, computed only if something else reads it.
#include "graph/row_shard.hpp"
#include "layers/layer.hpp"

namespace dagrad {
namespace {

Schema masked_mean_keys() {
  return {Key::value("input", "token vectors [batch, tokens, d]").required(),
          Key::value("mask", "the token ids [batch, tokens]; id 0 is padding").required()};
}

int masked_mean(LayerContext& ctx) {
  const int x = ctx.input(), mask = ctx.input("mask");
  const Node& n = ctx.graph.node(x);
  if (n.kind == NodeKind::Op && n.op_name == "Embedding" && n.inputs.size() == 2 && n.inputs[1] == mask &&
      ctx.graph.node(mask).type.shape.size() == 2)
    return ctx.add("EmbeddingMean", {n.inputs[0], mask}, {}, "");
  // The same over a sharded table's lookup (layers/embedding.cpp): its mean mode.
  if (n.kind == NodeKind::Op && n.op_name == kShardedEmbeddingOp && n.attrs.get_string("mode") == "lookup" &&
      n.inputs.size() == 2 && n.inputs[1] == mask && ctx.graph.node(mask).type.shape.size() == 2)
    return ctx.add(kShardedEmbeddingOp, {n.inputs[0], mask}, {{"rows", n.attrs.get_int("rows")}, {"mode", std::string("mean")}}, "");
  return ctx.add("MaskedMean", {x, mask}, {}, "");
}

}  // namespace

DAGRAD_REGISTER_LAYER(masked_mean, "MaskedMean", "mean over the token axis, tokens of id 0 left out (an empty row gives zeros)", masked_mean_keys);

}  // namespace dagrad
