// Embedding: a table of vectors looked up by integer ids (Keras Embedding: uniform in
// [-0.05, 0.05]). The table size defaults to the id range of the preprocessor feeding the ids.
// Its gradient is sparse: only the rows a batch touched are updated.
#include "layers/layer.hpp"

namespace dagrad {
namespace {

Schema embedding_keys() {
  return {Key::value("input", "integer ids of any shape").required(),
          Key::integer("output_dim", "the vectors' width").in(Range::greater_than(0)).required(),
          Key::integer("input_dim", "rows of the table").in(Range::greater_than(0))
              .otherwise_text("the id range of the lookup layer feeding it"),
          Key::boolean("mask_zero", "id 0 is padding (consumers such as MaskedMean read the mask from the ids)").otherwise(false),
          sharded_key()};
}

int embedding(LayerContext& ctx) {
  int ids = ctx.input();
  if (ctx.graph.node(ids).type.dtype != DType::i32)
    ctx.cfg.at("input").fail("layer '" + ctx.name + "': Embedding needs integer ids, '" +
                             ctx.graph.node(ids).name + "' holds floats");
  int64_t dim = ctx.keys.integer("output_dim");
  int64_t range = ctx.id_range(ids);
  int64_t vocab = ctx.keys.has("input_dim") ? ctx.keys.integer("input_dim") : range;
  if (vocab <= 0)
    ctx.cfg.fail("layer '" + ctx.name + "': input_dim is required when the ids do not come from a lookup layer");
  if (range > 0 && vocab < range)
    ctx.cfg.at("input_dim").fail("input_dim " + std::to_string(vocab) + " is smaller than the " +
                                 std::to_string(range) + " ids its input can hold");
  return add_embedding_table(ctx, ids, vocab, dim, "Embedding", ctx.keys.boolean("sharded"));
}

}  // namespace

DAGRAD_REGISTER_LAYER(embedding, "Embedding", "vectors looked up by integer ids (Keras Embedding, uniform in [-0.05, 0.05])", embedding_keys);

}  // namespace dagrad
