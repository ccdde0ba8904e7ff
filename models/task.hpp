// Task: the layer that turns a model's outputs into a loss, feeds the inputs only it knows about
// (labels, corrections), and evaluates its metrics. Registered by name (Retrieval, Ranking, MultiTask).
#pragma once
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "layers/layer.hpp"
#include "models/io/archive.hpp"
#include "models/data/dataset.hpp"

namespace dagrad {

class Model;
class RetrievalTask;
using Metrics = std::vector<std::pair<std::string, double>>;

class Task {
 public:
  virtual ~Task() = default;
  // The scalar loss node.
  virtual int loss() const = 0;
  // Called after a batch's features are fed: sets labels, weights, corrections. `training` is
  // false for evaluation batches (no streaming state may change then).
  virtual void prepare_batch(Graph& g, const Table& table, std::span<const int64_t> rows, bool training) = 0;
  // Metrics of the model on `eval` (e.g. the test table); `batch_size` for the loss batches.
  virtual Metrics evaluate(Model& m, const Table& eval, const DataTables& data, int64_t batch_size) = 0;
  // Columns the task reads from tables (labels, ids, weights), checked before training starts.
  virtual std::vector<std::string> columns() const = 0;
  // Whether the loss is a mean over the batch's examples (Ranking's) rather than a sum
  // (Retrieval's): a data-parallel run weighs each rank's loss and gradients by its share of the
  // global batch when it is. loss_mixes_reductions(): a MultiTask of both kinds (refused there).
  virtual bool loss_is_batch_mean() const { return false; }
  virtual bool loss_mixes_reductions() const { return false; }
  // Streaming state (frequency estimates) for checkpoints.
  virtual void save(ArchiveWriter&) const {}
  virtual void load(const ArchiveReader&) {}
  virtual std::string describe() const = 0;
  // The task that scores queries against candidates, if there is one (itself for Retrieval, the
  // first Retrieval among MultiTask's): what serving and export use.
  virtual RetrievalTask* retrieval() { return nullptr; }
  // The node whose value is the task's prediction per example (Ranking: its `prediction`; the
  // first Ranking's in a MultiTask), or -1.
  virtual int prediction_node() const { return -1; }
};

// The Retrieval task's public face, for serving, export and benchmarks: which nodes give the scoring
// embeddings of a query and of a candidate, which column identifies a candidate, and the top-k
// evaluation on its own (models/tasks/retrieval.cpp implements it).
class RetrievalTask : public Task {
 public:
  // Nodes whose rows are the embeddings that the task scores (after L2 normalisation when set).
  virtual int query_node() const = 0;
  virtual int candidate_node() const = 0;
  virtual const std::string& candidate_id_column() const = 0;
  // The FactorizedTopK metrics alone (evaluate() adds the loss): both towers' forward over the
  // eval rows and the candidate table, then scoring against every candidate. No metrics without
  // a candidate table.
  virtual Metrics evaluate_top_k(Model& m, const Table& eval, const DataTables& data) = 0;
  RetrievalTask* retrieval() override { return this; }
};

// Builds the task from the model file's `task` map (read through ctx.keys), adding its nodes to
// ctx.graph.
using TaskBuilder = std::unique_ptr<Task> (*)(LayerContext& ctx);

struct TaskInfo {
  std::string name, description;
  Schema schema;  // its keys besides `type`
  TaskBuilder build;
};

class TaskRegistry : public Registry<TaskInfo> {
 public:
  static TaskRegistry& instance();
  static const Schema& common();  // `type`

 private:
  TaskRegistry() : Registry("task") {}
};

#define DAGRAD_REGISTER_TASK(Function, Name, Description, SchemaFunction) \
  [[maybe_unused]] static const bool dagrad_task_##Function =             \
      ::dagrad::abi_matches(DAGRAD_ABI_VERSION, "task", Name) &&           \
      ::dagrad::TaskRegistry::instance().add({Name, Description, SchemaFunction(), Function})

}  // namespace dagrad
