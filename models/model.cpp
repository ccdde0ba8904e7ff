#include "models/model.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <sstream>

#include "graph/limits.hpp"
#include "graph/row_shard.hpp"

namespace dagrad {
namespace {

// The keys of a layer whose `op:` names an op: its inputs, then the op's attributes.
Schema op_layer_schema(const OpInfo& info, const std::vector<std::string>& input_names) {
  Schema s{Key::string("op", "the op (`dagrad ops` lists them)").required()};
  if (input_names.empty()) {
    s.add(Key::value("input", "the op's input (an op of one input)"));
    s.add(Key::values("inputs", "the op's inputs, in order"));
  } else {
    for (const auto& n : input_names) {
      bool optional = !n.empty() && n.back() == '?';
      Key k = Key::value(optional ? n.substr(0, n.size() - 1) : n, optional ? "optional input" : "input");
      if (!optional) k.required();
      s.add(k);
    }
  }
  return s.then(info.schema);
}

// The op's input names, from an instance (input_names() is a property of the op, not of its
// attributes; the first gradient-check sample's attributes always build one).
std::vector<std::string> op_input_names(const OpInfo& info, const Attrs& attrs) {
  try {
    return OpRegistry::instance().make(info.name, attrs)->input_names();
  } catch (const UserError&) {
    auto samples = info.samples();
    return samples.empty() ? std::vector<std::string>{} : OpRegistry::instance().make(info.name, samples[0].attrs)->input_names();
  }
}

const Schema& model_file_schema() {
  static const Schema s{
      Key::string("name", "names the model, its output folder (out/NAME) and its archive").otherwise("model"),
      Key::any("inputs", "map of column name to string, int or float",
               "the table columns the model reads, with their types").required(),
      Key::any("layers", "map of value name to a layer map",
               "the model's values: each a layer (`type:`), a preprocessing layer (`type:`) or an op (`op:`); "
               "written in any order, each reads inputs and values by name")
          .required(),
      Key::typed_map("task", "task", "turns the model's values into a loss and metrics").required(),
      Key::any("fit", "map", "a training file's `fit` section, when the model file carries one (ignored by the model)"),
      Key::any("data", "map", "a training file's `data` section, likewise")};
  return s;
}

// What one layer map is, and the names of the values it reads.
struct LayerPlan {
  std::string name;
  ConfigNode node;
  const LayerInfo* layer = nullptr;
  const PreprocessorInfo* pre = nullptr;
  const OpInfo* op = nullptr;
  Schema schema;
  Attrs attrs;                       // an op's
  std::vector<std::string> inputs;   // an op's input names
  std::vector<ConfigNode> reads;     // nodes naming values
};

LayerPlan plan_layer(const std::string& name, const ConfigNode& node) {
  LayerPlan p{name, node, nullptr, nullptr, nullptr, {}, {}, {}, {}};
  if (!node.is_map()) node.fail("layer '" + name + "': expected a map with a 'type' or an 'op', found " + node.describe());
  if (node.has("op") && node.has("type"))
    node.at("op").fail("layer '" + name + "': give 'type' (a layer) or 'op' (an op), not both");
  if (node.has("op")) {
    p.op = &lookup(OpRegistry::instance(), node.at("op"));
    p.attrs = attrs_from(node, p.op->schema);
    p.inputs = op_input_names(*p.op, p.attrs);
    p.schema = op_layer_schema(*p.op, p.inputs);
  } else if (node.has("type")) {
    ConfigNode type = node.at("type");
    std::string t = type.as_string();
    if ((p.layer = LayerRegistry::instance().find(t))) {
      p.schema = Schema(LayerRegistry::common()).then(p.layer->schema);
    } else if ((p.pre = PreprocessorRegistry::instance().find(t))) {
      p.schema = Schema(PreprocessorRegistry::common()).then(p.pre->schema);
    } else {
      std::vector<std::string> all = LayerRegistry::instance().names();
      for (const auto& n : PreprocessorRegistry::instance().names()) all.push_back(n);
      std::string hint = OpRegistry::instance().find(t) ? "; '" + t + "' is an op: write `op: " + t + "`" : did_you_mean(t, all);
      type.fail("unknown layer type '" + t + "'" + hint + " (layers: " + join(LayerRegistry::instance().names()) +
                "; preprocessing layers: " + join(PreprocessorRegistry::instance().names()) + "; ops go in `op:`)");
    }
  } else {
    node.fail("layer '" + name + "' needs a 'type' (a layer or a preprocessing layer) or an 'op'");
  }
  // `sharded` (docs/distributed.md) belongs to the layers that hold a table: say so rather than
  // only "unknown key".
  if (node.has("sharded") && !p.schema.find("sharded")) {
    std::vector<std::string> tables;
    for (const auto& n : LayerRegistry::instance().names())
      if (LayerRegistry::instance().get(n).schema.find("sharded")) tables.push_back(n);
    node.at("sharded").fail("layer '" + name + "': sharded splits an embedding table by rows over the ranks; it is a key "
                            "of the layers that hold one (" + join(tables) + "), and this " +
                            (p.layer ? "is a " + p.layer->name + " layer" : p.pre ? "is a " + p.pre->name + " preprocessing layer"
                                                                                  : "is an op layer (" + p.op->name + ")") +
                            ", which holds no table");
  }
  check_against(node, p.schema);
  for (const auto& k : p.schema.keys()) {
    if (!node.has(k.name())) continue;
    if (k.kind() == KeyKind::Value) p.reads.push_back(node.at(k.name()));
    if (k.kind() == KeyKind::Values)
      for (const auto& e : node.at(k.name()).elements()) p.reads.push_back(e);
  }
  return p;
}

// The layers in an order where each comes after the values it reads: the file's order wherever
// that already holds (so a model's parameters are drawn in the same order as before), else the
// first layer in the file whose reads are all defined. A cycle is an error naming its layers.
std::vector<size_t> build_order(const std::vector<LayerPlan>& plans) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < plans.size(); ++i) index[plans[i].name] = i;
  std::vector<char> done(plans.size(), 0);
  std::vector<size_t> order;
  while (order.size() < plans.size()) {
    bool progressed = false;
    for (size_t i = 0; i < plans.size(); ++i) {
      if (done[i]) continue;
      bool ready = true;
      for (const auto& r : plans[i].reads) {
        auto it = index.find(r.as_string());
        if (it != index.end() && !done[it->second]) ready = false;
      }
      if (!ready) continue;
      done[i] = 1;
      order.push_back(i);
      progressed = true;
      break;  // restart from the top: the earliest ready layer goes next
    }
    if (!progressed) {
      // Walk from the first layer left along reads of layers left until one repeats: the circle.
      size_t at = 0;
      while (done[at]) ++at;
      std::vector<size_t> path;
      while (std::find(path.begin(), path.end(), at) == path.end()) {
        path.push_back(at);
        for (const auto& r : plans[at].reads) {
          auto it = index.find(r.as_string());
          if (it != index.end() && !done[it->second]) {
            at = it->second;
            break;
          }
        }
      }
      std::string circle;
      for (auto it = std::find(path.begin(), path.end(), at); it != path.end(); ++it) circle += plans[*it].name + " -> ";
      plans[at].node.fail("layers read each other in a circle: " + circle + plans[at].name +
                          " (a value cannot depend on itself)");
    }
  }
  return order;
}

}  // namespace

const Schema& Model::file_schema() { return model_file_schema(); }

std::unique_ptr<Model> Model::build(const ConfigNode& cfg, const DataTables* data, const ArchiveReader* saved,
                                    uint64_t seed) {
  Keys file(cfg, model_file_schema());
  auto m = std::make_unique<Model>();
  m->name_ = file.string("name");
  m->config_text_ = to_yaml(cfg);
  std::mt19937_64 rng(seed);

  std::map<std::string, ColumnType> raw;
  ConfigNode inputs = file.at("inputs");
  if (!inputs.is_map() || inputs.size() == 0) inputs.fail("expected a map of input columns to types (string, int, float)");
  for (const auto& [name, node] : inputs.items()) {
    std::string t = node.as_enum({"string", "int", "float"});
    raw[name] = t == "string" ? ColumnType::String : t == "int" ? ColumnType::Int : ColumnType::Float;
    m->inputs_.push_back({name, raw[name]});
  }

  ConfigNode layers = file.at("layers");
  if (!layers.is_map() || layers.size() == 0) layers.fail("a model needs at least one layer (a map of name: {type: ...})");
  std::vector<LayerPlan> plans;
  for (const auto& [name, node] : layers.items()) {
    if (raw.count(name)) node.fail("layer '" + name + "' has the name of an input column");
    plans.push_back(plan_layer(name, node));
  }
  std::map<std::string, int> defined;

  auto resolve = [&](const ConfigNode& at) -> int {
    std::string name = at.as_string();
    if (auto it = defined.find(name); it != defined.end()) return it->second;
    if (auto it = raw.find(name); it != raw.end()) {
      if (it->second == ColumnType::String)
        at.fail("input '" + name + "' holds strings; read it through a StringLookup or TextVectorization layer");
      int id = m->graph_.find(name);
      if (id < 0) {
        id = m->graph_.input(name, {{kBatch, 1}, DType::f32});
        m->fed_.push_back({name, name, id, nullptr});
      }
      return id;
    }
    std::vector<std::string> known;
    for (const auto& [k, v] : raw) known.push_back(k);
    for (const auto& p : plans) known.push_back(p.name);
    at.fail("unknown value '" + name + "'" + did_you_mean(name, known) + "; inputs and layers: " + join(known));
  };
  auto id_range = [&](int node) -> int64_t {
    for (const auto& f : m->fed_)
      if (f.node == node && f.pre) return f.pre->id_range();
    return 0;
  };

  for (size_t i : build_order(plans)) {
    const LayerPlan& p = plans[i];
    const ConfigNode& node = p.node;
    Keys keys(node, p.schema);
    int id = -1;
    if (p.pre) {
      std::unique_ptr<Preprocessor> pre = p.pre->make(keys);
      ConfigNode in = keys.at("input");
      std::string column = in.as_string();
      if (!raw.count(column))
        in.fail("a preprocessing layer reads an input column; '" + column + "' is not one (inputs: " +
                join([&] { std::vector<std::string> v; for (auto& [k, _] : raw) v.push_back(k); return v; }()) + ")");
      if (saved) {
        pre->load(*saved, "preprocessing/" + p.name + "/");
      } else {
        std::string table = keys.string("adapt");
        if (!data) node.fail("layer '" + p.name + "' needs data to adapt on");
        const Table& t = data->by_name(table);
        if (!t.has(column)) in.fail("table '" + table + "' has no column '" + column + "' to adapt on");
        pre->adapt(t.column(column));
      }
      id = m->graph_.input(p.name, pre->output_type());
      m->fed_.push_back({p.name, column, id, std::move(pre)});
    } else if (p.layer) {
      LayerContext ctx{m->graph_, node, keys, p.name, rng, resolve, id_range};
      try {
        id = p.layer->build(ctx);
      } catch (const LimitError& e) {  // a size in the file asks for more than there is
        node.fail("layer '" + p.name + "': " + e.what());
      }
    } else {
      LayerContext ctx{m->graph_, node, keys, p.name, rng, resolve, id_range};
      try {
        if (p.inputs.empty()) {
          std::vector<int> in;
          if (keys.has("inputs")) in = ctx.inputs();
          else if (keys.has("input")) in.push_back(ctx.input());
          else node.fail("op layer '" + p.name + "' needs 'input' (one value) or 'inputs' (a list)");
          id = m->graph_.add(p.op->name, std::move(in), p.attrs, p.name);
        } else {
          NamedInputs in;
          for (const auto& n : p.inputs) {
            std::string key = n.back() == '?' ? n.substr(0, n.size() - 1) : n;
            if (keys.has(key)) in.add(key, ctx.input(key));
          }
          id = m->graph_.add(p.op->name, in, p.attrs, p.name);
        }
      } catch (const UserError& e) {
        node.fail(std::string("layer '") + p.name + "': " + e.what());
      }
    }
    defined[p.name] = id;
  }
  // Values in file order (what `describe` and lookups list).
  for (const auto& p : plans) m->values_.push_back({p.name, defined.at(p.name)});

  ConfigNode task = file.at("task");
  const TaskInfo& info = lookup(TaskRegistry::instance(), task.at("type"));
  Schema task_schema = Schema(TaskRegistry::common()).then(info.schema);
  Keys task_keys(task, task_schema);
  LayerContext ctx{m->graph_, task, task_keys, "task", rng, resolve, id_range};
  try {
    m->task_ = info.build(ctx);
  } catch (const LimitError& e) {
    task.fail(e.what());
  }
  if (saved) {
    m->load_parameters(*saved);
    m->task_->load(*saved);
    m->load_serving_candidates(*saved);
  }
  return m;
}

std::unique_ptr<Model> Model::load(const std::string& path) {
  ArchiveReader r(path);
  if (!r.has("model/config")) throw UserError(path + ": not a dagrad model (no model/config entry)");
  ConfigNode cfg = parse_config(r.text("model/config"), path + " (its stored model file)");
  return build(cfg, nullptr, &r, 0);
}

std::string Model::name_of(int node) const {
  std::string found;
  for (const auto& [n, id] : values_)
    if (id == node) found = n;
  return found.empty() ? graph_.node(node).name : found;
}

int Model::value(const std::string& name) const {
  for (const auto& [n, id] : values_)
    if (n == name) return id;
  std::vector<std::string> known;
  for (const auto& [n, id] : values_) known.push_back(n);
  throw UserError("model '" + name_ + "' has no value '" + name + "' (values: " + join(known) + ")");
}

std::vector<char> Model::needed_nodes(const std::vector<int>& targets) const {
  std::vector<char> need(graph_.size(), targets.empty() ? 1 : 0);
  for (int x : targets) need[x] = 1;
  for (int i = graph_.size() - 1; i >= 0; --i)
    if (need[i])
      for (int j : graph_.node(i).inputs) need[j] = 1;
  return need;
}

EncodedTable Model::encode(const Table& t, const std::vector<int>& targets) const {
  const std::vector<char> need = needed_nodes(targets);
  EncodedTable e;
  e.name = t.name();
  e.rows = t.rows();
  for (const auto& f : fed_) {
    if (!need[f.node]) continue;
    const Column& c = t.column(f.column);
    e.inputs.push_back({f.node, f.pre ? f.pre->encode(c) : encode_numeric(c, f.column)});
  }
  return e;
}

void Model::run(const EncodedTable& t, std::span<const int64_t> rows, std::span<const int> targets) {
  feeder_.feed(graph_, t, rows);
  graph_.forward(targets);
}

Tensor Model::predict(const Table& t, int target, int64_t batch_size) {
  return predict(encode(t, {target}), target, batch_size);
}

Tensor Model::predict(const EncodedTable& e, int target, int64_t batch_size) {
  const Shape& s = graph_.node(target).type.shape;
  if (s.size() != 2 || s[1] < 0) throw UserError("predict: value '" + graph_.node(target).name + "' is not [batch, width]");
  const int64_t width = s[1];
  Tensor out({static_cast<int64_t>(e.rows), width});
  for_each_batch(static_cast<int64_t>(e.rows), batch_size, [&](std::span<const int64_t> rows) {
    run(e, rows, std::span<const int>(&target, 1));
    std::copy_n(graph_.value(target).f32(), static_cast<int64_t>(rows.size()) * width, out.f32() + rows[0] * width);
  });
  return out;
}

void Model::write(ArchiveWriter& w) const {
  w.put_text("format", "dagrad model");
  w.put_text("model/config", config_text_);
  // In a data-parallel run rank 0 alone writes: the other ranks' writers get no parameters (they
  // take part in gathering the sharded tables to rank 0, which writes them whole).
  const bool writes = !distributed() || distributed()->rank() == 0;
  for (int id : graph_.params()) {
    Tensor& value = const_cast<Graph&>(graph_).param_value(id);
    if (auto shard = row_shard(graph_, id)) {
      Tensor whole = gather_row_shards(*world(), value, *shard, 0);
      if (writes) w.put_tensor("param/" + graph_.node(id).name, whole);
    } else if (writes) {
      w.put_tensor("param/" + graph_.node(id).name, value);
    }
  }
  for (const auto& f : fed_)
    if (f.pre) f.pre->save(w, "preprocessing/" + f.layer + "/");
  task_->save(w);
  if (serving_candidates_.rows() > 0) {
    const std::string p = "serving/candidates/";
    w.put_int(p + "rows", static_cast<int64_t>(serving_candidates_.rows()));
    std::vector<std::string> names;
    for (const auto& name : serving_candidates_.column_names()) {
      names.push_back(name);
      const Column& c = serving_candidates_.column(name);
      if (auto* st = std::get_if<StringColumn>(&c)) {
        w.put_strings(p + "column/" + name + "/strings", *st);
      } else if (auto* in = std::get_if<IntColumn>(&c)) {
        std::vector<std::string> text;
        text.reserve(in->size());
        for (int64_t v : *in) text.push_back(std::to_string(v));
        w.put_strings(p + "column/" + name + "/ints", text);
      } else {
        const FloatColumn& f = std::get<FloatColumn>(c);
        w.put_tensor(p + "column/" + name + "/floats", Tensor::from({static_cast<int64_t>(f.size())}, f));
      }
    }
    w.put_strings(p + "columns", names);
    if (candidate_vectors_.defined()) w.put_tensor(p + "vectors", candidate_vectors_);
  }
}

void Model::set_serving_candidates(const Table& candidates) {
  serving_candidates_ = Table("candidates");
  candidate_vectors_ = Tensor();
  RetrievalTask* r = task_->retrieval();
  if (!r || candidates.rows() == 0 || r->candidate_id_column().empty()) return;
  std::vector<std::string> needed{r->candidate_id_column()};
  const std::vector<char> need = needed_nodes({r->candidate_node()});
  for (const auto& f : fed_)
    if (need[f.node] && std::find(needed.begin(), needed.end(), f.column) == needed.end()) needed.push_back(f.column);
  for (const auto& name : needed) {
    if (!candidates.has(name))
      throw UserError("the candidate table has no column '" + name + "' (the candidate tower or candidate_id reads it)");
    serving_candidates_.add(name, candidates.column(name));
  }
}

void Model::load_serving_candidates(const ArchiveReader& r) {
  const std::string p = "serving/candidates/";
  if (!r.has(p + "columns")) return;
  const int64_t rows = r.integer(p + "rows");
  Table t("candidates");
  for (const auto& name : r.strings(p + "columns")) {
    const std::string c = p + "column/" + name + "/";
    Column col;
    if (r.has(c + "strings")) {
      col = r.strings(c + "strings");
    } else if (r.has(c + "ints")) {
      IntColumn ints;
      for (const auto& v : r.strings(c + "ints")) {
        char* end = nullptr;
        errno = 0;
        const long long x = std::strtoll(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || errno == ERANGE)
          throw UserError(r.path() + ": serving candidate column '" + name + "' holds '" + v + "', not an integer");
        ints.push_back(x);
      }
      col = std::move(ints);
    } else {
      const Tensor f = r.tensor(c + "floats");
      col = FloatColumn(f.f32(), f.f32() + f.size());
    }
    const size_t n = std::visit([](const auto& v) { return v.size(); }, col);
    if (static_cast<int64_t>(n) != rows)
      throw UserError(r.path() + ": serving candidate column '" + name + "' has " + std::to_string(n) + " rows, not " +
                      std::to_string(rows));
    t.add(name, std::move(col));
  }
  serving_candidates_ = std::move(t);
  if (r.has(p + "vectors")) {
    candidate_vectors_ = r.tensor(p + "vectors");
    RetrievalTask* task = task_->retrieval();
    const Shape& cs = graph_.node(task ? task->candidate_node() : 0).type.shape;
    if (!task || candidate_vectors_.rank() != 2 || candidate_vectors_.dim(0) != rows || cs.size() != 2 ||
        candidate_vectors_.dim(1) != cs[1])
      throw UserError(r.path() + ": serving candidate vectors " + shape_str(candidate_vectors_.shape()) +
                      " do not fit the model's " + std::to_string(rows) + " candidates");
  }
}

void Model::compute_candidate_vectors(int64_t batch_size) {
  RetrievalTask* r = task_->retrieval();
  if (!r || serving_candidates_.rows() == 0) return;
  candidate_vectors_ = predict(serving_candidates_, r->candidate_node(), batch_size);
}

void Model::save(const std::string& path) const {
  ArchiveWriter w;
  write(w);
  w.save(path);
}

void Model::load_parameters(const ArchiveReader& r) {
  std::vector<std::string> missing;
  for (int id : graph_.params()) {
    const std::string key = "param/" + graph_.node(id).name;
    if (!r.has(key)) { missing.push_back(graph_.node(id).name); continue; }
    if (auto shard = row_shard(graph_, id)) {  // the file holds the whole table: this rank's rows
      graph_.param_value(id).copy_from(take_row_shard(r.tensor(key, {shard->rows, graph_.node(id).type.shape[1]}), *shard));
      continue;
    }
    graph_.param_value(id).copy_from(r.tensor(key, graph_.node(id).type.shape));
  }
  std::vector<std::string> extra;
  for (const auto& n : r.names())
    if (n.rfind("param/", 0) == 0) {
      int id = graph_.find(n.substr(6));
      if (id < 0 || graph_.node(id).kind != NodeKind::Param) extra.push_back(n.substr(6));
    }
  if (!missing.empty() || !extra.empty())
    throw UserError(r.path() + ": parameters differ from model '" + name_ + "': missing in the file: " + join(missing) +
                    "; in the file but not in the model: " + join(extra));
}

std::string Model::summary(int64_t batch) const {
  std::ostringstream os;
  os << "model '" << name_ << "'\n";
  for (const auto& f : fed_)
    os << "  input " << f.layer << " <- column " << f.column << ": " << (f.pre ? f.pre->describe() : "numeric [B, 1]")
       << "\n";
  os << "  task: " << task_->describe() << "\n";
  os << graph_.summary(batch);
  return os.str();
}

}  // namespace dagrad
