// Model: a named graph built from a YAML model file, with its preprocessing state (vocabularies,
// boundaries, means) and its task. Saved and loaded as one versioned archive that also holds the
// model file's text, so a saved model rebuilds itself without the YAML at hand.
#pragma once
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "models/data/features.hpp"
#include "models/data/preprocessing/preprocessor.hpp"
#include "models/task.hpp"

namespace dagrad {

class Model {
 public:
  // Builds from the model file's top-level map (name, inputs, layers, task). Preprocessing layers
  // take their state from `saved` when given, else adapt on `data`. `seed` drives initialisers.
  static std::unique_ptr<Model> build(const ConfigNode& cfg, const DataTables* data, const ArchiveReader* saved,
                                      uint64_t seed);
  // Rebuilds a saved model (from its own stored model file) and loads its parameters.
  static std::unique_ptr<Model> load(const std::string& path);
  // The model file's top-level keys.
  static const Schema& file_schema();

  const std::string& name() const { return name_; }
  Graph& graph() { return graph_; }
  Task& task() { return *task_; }
  // The model file's input columns and their types, in file order: what a Table given to
  // encode() or predict() must hold (the columns the wanted values need).
  const std::vector<std::pair<std::string, ColumnType>>& inputs() const { return inputs_; }
  // The layer name whose value `node` is (the last such, as a layer may pass another through), else
  // the graph node's own name.
  std::string name_of(int node) const;
  // The value node named in the model file (a layer name), or a UserError listing them.
  int value(const std::string& name) const;

  // Encodes the columns of `t` that feed the graph inputs `targets` need (all when empty).
  EncodedTable encode(const Table& t, const std::vector<int>& targets = {}) const;
  // Feeds a batch of encoded rows and computes `targets`.
  void run(const EncodedTable& t, std::span<const int64_t> rows, std::span<const int> targets);
  // The value of `target` for every row of t, computed in batches: [rows, width].
  Tensor predict(const Table& t, int target, int64_t batch_size);
  Tensor predict(const EncodedTable& t, int target, int64_t batch_size);
  Feeder& feeder() { return feeder_; }

  // Serving: the candidate set a Retrieval model recommends from, kept in the archive so that a
  // server reads no training data. set_serving_candidates keeps the columns of `candidates` that the
  // candidate tower and the candidate id need (nothing when the model has no Retrieval task or the
  // table is empty); compute_candidate_vectors embeds them (the task's candidate node), and
  // save() writes both. A loaded model has them when the archive does.
  void set_serving_candidates(const Table& candidates);
  void compute_candidate_vectors(int64_t batch_size = 4096);
  const Table& serving_candidates() const { return serving_candidates_; }
  const Tensor& candidate_vectors() const { return candidate_vectors_; }  // [candidates, d], or not defined()

  void save(const std::string& path) const;  // atomically
  // Parameters, preprocessing, task state, model text. Collective in a data-parallel run with a
  // sharded table (graph/row_shard.hpp): every rank calls it, rank 0's writer gets the tables whole,
  // the other ranks' get no parameters.
  void write(ArchiveWriter& w) const;
  void load_parameters(const ArchiveReader& r);  // names and shapes checked; says what differs
  std::string summary(int64_t batch) const;

 private:
  struct FedInput {
    std::string layer;   // value name
    std::string column;  // table column
    int node = -1;
    std::unique_ptr<Preprocessor> pre;  // null: numeric column as [B, 1]
  };
  std::string name_;
  std::string config_text_;
  Graph graph_;
  std::vector<FedInput> fed_;
  std::vector<std::pair<std::string, ColumnType>> inputs_;
  Table serving_candidates_{"candidates"};
  Tensor candidate_vectors_;
  std::vector<std::pair<std::string, int>> values_;  // layer name -> node, in file order
  std::unique_ptr<Task> task_;
  Feeder feeder_;
  void load_serving_candidates(const ArchiveReader& r);
  // 1 for `targets` and every node they read, directly or not (every node when targets is empty).
  std::vector<char> needed_nodes(const std::vector<int>& targets) const;
};

}  // namespace dagrad
