// The preprocessing layer interface: a Preprocessor turns one raw table column into model-ready
// values (ids, floats, token sequences) once per table, with Keras preprocessing-layer semantics.
// Its state is adapted from data or loaded from a model file, and saved with the model.
// Preprocessing layers are registered by name, as the `type` of a layer in a model file.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "config/keys.hpp"
#include "graph/registry.hpp"
#include "graph/tensor.hpp"
#include "models/data/features.hpp"
#include "models/data/table.hpp"
#include "models/io/archive.hpp"

namespace dagrad {

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


// Preprocessing layers are registered by name, like graph layers, in their own registry; the
// factory reads the layer's own keys (its schema); the model reads `type`, `input` and `adapt`
// (common()).
using PreprocessorFactory = std::unique_ptr<Preprocessor> (*)(const Keys& keys);

struct PreprocessorInfo {
  std::string name, description;
  Schema schema;  // its own keys
  PreprocessorFactory make;
};

class PreprocessorRegistry : public Registry<PreprocessorInfo> {
 public:
  static PreprocessorRegistry& instance();
  static const Schema& common();

 private:
  PreprocessorRegistry() : Registry("preprocessing layer") {}
};

template <class Layer>
bool register_preprocessor(const char* name, const char* description) {
  return PreprocessorRegistry::instance().add(
      {name, description, Layer::keys(), [](const Keys& k) -> std::unique_ptr<Preprocessor> { return std::make_unique<Layer>(k); }});
}

// Registers a Preprocessor class with `static Schema keys()` and a constructor from `const Keys&`.
#define DAGRAD_REGISTER_PREPROCESSOR(Class, Name, Description) \
  [[maybe_unused]] static const bool dagrad_pre_##Class =      \
      ::dagrad::abi_matches(DAGRAD_ABI_VERSION, "preprocessing layer", Name) && ::dagrad::register_preprocessor<Class>(Name, Description)

}  // namespace dagrad
