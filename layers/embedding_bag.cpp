// EmbeddingBag: one vector per row from a variable-length list of ids [batch, tokens] (padding id
// 0 left out): the sum or the mean of the looked-up rows of its own table, in one EmbeddingSum or
// EmbeddingMean op, so the padded [batch, tokens, d] token vectors are never built (PyTorch's
// nn.EmbeddingBag; Keras's Embedding with mask_zero then a masked pooling). The ids usually come
// from a TextVectorization layer with a `split` separator (a multi-valued column such as
// "Action|Comedy"). A row without ids gives zeros. The gradient is sparse by rows.
#include "layers/layer.hpp"

namespace dagrad {
namespace {

Schema embedding_bag_keys() {
  return {Key::value("input", "integer ids [batch, tokens]; id 0 is padding").required(),
          Key::integer("output_dim", "the vectors' width").in(Range::greater_than(0)).required(),
          Key::integer("input_dim", "rows of the table").in(Range::greater_than(0))
              .otherwise_text("the id range of the lookup layer feeding it"),
          Key::choice("combiner", {"mean", "sum"}, "how a row's vectors combine (padding left out)").otherwise("mean"),
          sharded_key()};
}

int embedding_bag(LayerContext& ctx) {
  const int ids = ctx.input();
  const TensorType& in = ctx.graph.node(ids).type;
  if (in.dtype != DType::i32 || in.shape.size() != 2)
    ctx.cfg.at("input").fail("layer '" + ctx.name + "': EmbeddingBag needs integer ids [batch, tokens], '" +
                             ctx.graph.node(ids).name + "' is " + shape_str(in.shape) +
                             (in.dtype == DType::i32 ? "" : " of floats"));
  const int64_t dim = ctx.keys.integer("output_dim");
  const int64_t range = ctx.id_range(ids);
  const int64_t vocab = ctx.keys.has("input_dim") ? ctx.keys.integer("input_dim") : range;
  if (vocab <= 0)
    ctx.cfg.fail("layer '" + ctx.name + "': input_dim is required when the ids do not come from a lookup layer");
  if (range > 0 && vocab < range)
    ctx.cfg.at("input_dim").fail("input_dim " + std::to_string(vocab) + " is smaller than the " +
                                 std::to_string(range) + " ids its input can hold");
  return add_embedding_table(ctx, ids, vocab, dim, ctx.keys.string("combiner") == "sum" ? "EmbeddingSum" : "EmbeddingMean",
                             ctx.keys.boolean("sharded"));
}

}  // namespace

DAGRAD_REGISTER_LAYER(embedding_bag, "EmbeddingBag",
                      "the sum or mean of the vectors of each row's ids, padding left out, without the padded "
                      "[batch, tokens, d] vectors (a multi-valued feature; PyTorch EmbeddingBag)",
                      embedding_bag_keys);

}  // namespace dagrad
