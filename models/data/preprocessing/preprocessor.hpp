// The preprocessing layer interface: a Preprocessor turns one raw table column into model-ready
// values (ids, floats, token sequences) once per table, with Keras preprocessing-layer semantics.
// Its state is adapted from data or loaded from a model file, and saved with the model.
// Preprocessing layers are registered by name, as the `type` of a layer in a model file.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
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
