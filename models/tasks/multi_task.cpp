// MultiTask: several tasks on one model, trained on the weighted sum of their losses (TFRS's
// multitask tutorial: a rating task and a retrieval task sharing the user and movie embeddings,
// loss = rating_weight · rating_loss + retrieval_weight · retrieval_loss). Each sub-task is an
// ordinary task map (`type` and its keys) with a `weight`; its nodes, inputs and saved state are
// named under task/<name>/ and its metrics are reported as <name>/<metric>, beside `loss`, the
// weighted sum of the sub-tasks' evaluation losses. A task of weight 0 is left out of the training
// loss (its part of the graph is not computed while training: the same parameters as computing it
// and multiplying by 0) but is still evaluated.
#include <algorithm>
#include <cctype>
#include <memory>
#include <sstream>

#include "config/keys.hpp"
#include "models/model.hpp"
#include "models/task.hpp"

namespace dagrad {
namespace {

const Schema& weight_schema() {
  static const Schema s{Key::number("weight", "this task's factor in the training loss (0: evaluated, not trained on)")
                            .in(Range::at_least(0))
                            .otherwise(1.0)};
  return s;
}

class MultiTask : public Task {
 public:
  static Schema keys() {
    return {Key::any("tasks", "map of task maps",
                     "the tasks by name: each a task map (`type: Ranking`, `type: Retrieval`, ... with its keys) and "
                     "its `weight` (default 1)")
                .required()};
  }

  explicit MultiTask(LayerContext& ctx) {
    const ConfigNode tasks = ctx.cfg.at("tasks");
    if (!tasks.is_map() || tasks.size() == 0)
      tasks.fail("tasks must be a map of task name to task map (`rating: {type: Ranking, ...}`), got " + tasks.describe());
    std::vector<int> losses;
    std::vector<double> weights;
    for (const auto& [name, node] : tasks.items()) {
      if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }))
        node.fail("task name '" + name + "': use letters, digits and _ (it names the task's nodes and metrics)");
      if (!node.is_map()) node.fail("task '" + name + "' must be a map with a `type`, got " + node.describe());
      const TaskInfo& info = lookup(TaskRegistry::instance(), node.at("type"));
      if (info.name == "MultiTask") node.at("type").fail("a MultiTask cannot contain another MultiTask");
      Schema schema = Schema(TaskRegistry::common()).then(weight_schema()).then(info.schema);
      Keys keys(node, schema);
      LayerContext sub{ctx.graph, node, keys, ctx.name + "/" + name, ctx.rng, ctx.resolve, ctx.id_range};
      Part part{name, keys.number("weight"), info.build(sub)};
      if (part.weight > 0) {
        losses.push_back(part.task->loss());
        weights.push_back(part.weight);
      }
      parts_.push_back(std::move(part));
    }
    if (losses.empty()) tasks.fail("every task has weight 0: at least one must count in the training loss");
    loss_ = ctx.add("WeightedSum", losses, {{"weights", weights}}, "loss");
  }

  int loss() const override { return loss_; }
  bool loss_is_batch_mean() const override {
    for (const auto& p : parts_)
      if (p.weight > 0 && p.task->loss_is_batch_mean()) return true;
    return false;
  }
  bool loss_mixes_reductions() const override {
    bool mean = false, sum = false;
    for (const auto& p : parts_)
      if (p.weight > 0) (p.task->loss_is_batch_mean() ? mean : sum) = true;
    return mean && sum;
  }

  void prepare_batch(Graph& g, const Table& t, std::span<const int64_t> rows, bool training) override {
    for (auto& p : parts_) p.task->prepare_batch(g, t, rows, training);
  }

  Metrics evaluate(Model& m, const Table& eval, const DataTables& data, int64_t batch_size) override {
    Metrics out, parts;
    double total = 0;
    bool have_loss = false;
    for (auto& p : parts_) {
      for (auto& [k, v] : p.task->evaluate(m, eval, data, batch_size)) {
        if (k == "loss") {
          total += p.weight * v;
          have_loss = true;
        }
        parts.push_back({p.name + "/" + k, v});
      }
    }
    if (have_loss) out.push_back({"loss", total});
    out.insert(out.end(), parts.begin(), parts.end());
    return out;
  }

  std::vector<std::string> columns() const override {
    std::vector<std::string> c;
    for (const auto& p : parts_)
      for (auto& col : p.task->columns())
        if (std::find(c.begin(), c.end(), col) == c.end()) c.push_back(col);
    return c;
  }

  void save(ArchiveWriter& w) const override {
    for (const auto& p : parts_) p.task->save(w);
  }
  void load(const ArchiveReader& r) override {
    for (auto& p : parts_) p.task->load(r);
  }

  std::string describe() const override {
    std::ostringstream os;
    os << "MultiTask (";
    for (size_t i = 0; i < parts_.size(); ++i)
      os << (i ? "; " : "") << parts_[i].name << ", weight " << parts_[i].weight << ": " << parts_[i].task->describe();
    os << ")";
    return os.str();
  }

  int prediction_node() const override {
    for (const auto& p : parts_)
      if (int n = p.task->prediction_node(); n >= 0) return n;
    return -1;
  }

  // The first Retrieval among the tasks: what serving and export use.
  RetrievalTask* retrieval() override {
    for (auto& p : parts_)
      if (RetrievalTask* r = p.task->retrieval()) return r;
    return nullptr;
  }

 private:
  struct Part {
    std::string name;
    double weight;
    std::unique_ptr<Task> task;
  };
  std::vector<Part> parts_;
  int loss_ = -1;
};

std::unique_ptr<Task> build_multi_task(LayerContext& ctx) { return std::make_unique<MultiTask>(ctx); }

}  // namespace

DAGRAD_REGISTER_TASK(build_multi_task, "MultiTask",
                     "several tasks on one model, trained on the weighted sum of their losses (TFRS multitask)",
                     MultiTask::keys);

}  // namespace dagrad
