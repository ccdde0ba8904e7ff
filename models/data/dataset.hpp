// The tables a run works on, and where they come from: a data source (registered by name; csv
// built in, experiments add their own) fills the interactions and candidates, and a seeded split
// carves train / validation / test out of the interactions.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "config/keys.hpp"
#include "graph/registry.hpp"
#include "models/data/table.hpp"

namespace dagrad {

struct DataTables {
  Table interactions{"interactions"};  // every example, before the split
  Table train{"train"}, validation{"validation"}, test{"test"};
  Table candidates{"candidates"};      // retrieval: every item that can be recommended
  const Table& by_name(const std::string& name) const;  // "interactions", "train", ...
};

// Loads the interactions (and candidates, if the source has them) described by `cfg` (the training
// file's `data` map, read through the source's schema) from `data_dir` (the --data flag or the
// source's default).
using DataSourceFn = std::function<void(const Keys& cfg, const std::string& data_dir, DataTables& out)>;

struct DataSourceInfo {
  std::string name, description;
  Schema schema;  // its keys besides the common ones (common())
  DataSourceFn load;
};

class DataSourceRegistry : public Registry<DataSourceInfo> {
 public:
  static DataSourceRegistry& instance();
  // The keys of every `data` map: source, split.
  static const Schema& common();
  // The keys of one entry of `derive:` (a column computed from another before the split).
  static const Schema& derived_column();

 private:
  DataSourceRegistry() : Registry("data source") {}
};

#define DAGRAD_REGISTER_DATA_SOURCE(Function, Name, Description, SchemaFunction) \
  [[maybe_unused]] static const bool dagrad_source_##Function =                  \
      ::dagrad::abi_matches(DAGRAD_ABI_VERSION, "data source", Name) &&          \
      ::dagrad::DataSourceRegistry::instance().add({Name, Description, SchemaFunction(), Function})

// Reads `data` (source, split) and fills every table: the interactions are shuffled with
// split.seed and cut into the first `train` rows, the next `validation`, then `test` (counts, or
// fractions of the whole when below 1), as TFRS's shuffle(seed).take/skip.
void load_data(const ConfigNode& data_cfg, const std::string& data_dir, DataTables& out);

}  // namespace dagrad
