// From table columns to graph inputs: a Preprocessor turns one raw column into model-ready values
// (ids, floats, token sequences) once per table; a Feeder gathers a batch of encoded rows into the
// graph's input tensors, reusing its buffers, so a training step touches no strings.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "models/archive.hpp"
#include "models/table.hpp"

namespace dagrad {

// One column encoded for the graph: fixed `width` values per row (ids or floats), or, when
// `ragged`, a variable number of ids per row (row r is ids[offsets[r] .. offsets[r+1])), padded
// with 0 to the longest row of each batch.
struct EncodedColumn {
  DType dtype = DType::i32;
  int64_t width = 1;
  bool ragged = false;
  std::vector<int32_t> ids;
  std::vector<float> values;
  std::vector<int64_t> offsets;
  size_t rows() const;
};

// A host-side transform of one raw column (Keras preprocessing layer semantics). Its state is
// adapted from data or loaded from a model file, and saved with the model.
class Preprocessor {
 public:
  virtual ~Preprocessor() = default;
  // The graph input this produces: ids [B] or [B, T] (i32), values [B, 1] (f32).
  virtual TensorType output_type() const = 0;
  // Number of distinct ids it can produce (vocabulary size incl. reserved ids, bucket count),
  // 0 for float outputs; an Embedding reading it sizes its table from this.
  virtual int64_t id_range() const = 0;
  virtual bool adapted() const = 0;
  virtual void adapt(const Column& values) = 0;
  virtual EncodedColumn encode(const Column& values) const = 0;
  virtual void save(ArchiveWriter& w, const std::string& prefix) const = 0;
  virtual void load(const ArchiveReader& r, const std::string& prefix) = 0;
  // One line for summaries: "StringLookup, 944 ids".
  virtual std::string describe() const = 0;
};

// Encodes a raw numeric column as f32 [B, 1] (no preprocessing).
EncodedColumn encode_numeric(const Column& values, const std::string& column);

// Calls fn(rows) with the row indices of consecutive batches covering [0, n); the last batch may
// be partial. The index buffer is reused between batches.
template <class F>
void for_each_batch(int64_t n, int64_t batch, F&& fn) {
  std::vector<int64_t> rows;
  for (int64_t s = 0; s < n; s += batch) {
    rows.resize(static_cast<size_t>(std::min(batch, n - s)));
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = s + static_cast<int64_t>(i);
    fn(std::span<const int64_t>(rows));
  }
}

// A table encoded for one graph: one EncodedColumn per graph input it feeds.
struct EncodedTable {
  std::string name;
  size_t rows = 0;
  std::vector<std::pair<int, EncodedColumn>> inputs;  // graph input id -> values
  const EncodedColumn& column(int input) const;
};

// Gathers rows of an EncodedTable into the graph's inputs. Buffers grow to the largest batch
// seen and are reused (a partial last batch is a view of them).
class Feeder {
 public:
  void feed(Graph& g, const EncodedTable& t, std::span<const int64_t> rows);

 private:
  std::vector<Tensor> buffers_;
};

}  // namespace dagrad

#include "models/config.hpp"

namespace dagrad {

// Preprocessing layers are registered by name like graph layers; the factory reads the layer's
// own keys from its YAML map (the model reads `type`, `input` and `adapt`).
using PreprocessorFactory = std::unique_ptr<Preprocessor> (*)(const ConfigNode& cfg);

class PreprocessorRegistry {
 public:
  static PreprocessorRegistry& instance();
  bool add(const std::string& name, const std::string& description, PreprocessorFactory make);
  PreprocessorFactory find(const std::string& name) const;  // null when unknown
  std::vector<std::string> names() const;

 private:
  std::vector<std::pair<std::string, std::pair<std::string, PreprocessorFactory>>> entries_;
};

#define DAGRAD_REGISTER_PREPROCESSOR(Function, Name, Description) \
  [[maybe_unused]] static const bool dagrad_pre_##Function =        \
      ::dagrad::PreprocessorRegistry::instance().add(Name, Description, Function)

}  // namespace dagrad
