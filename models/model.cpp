#include "models/model.hpp"

#include <algorithm>
#include <map>
#include <sstream>

namespace dagrad {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "none" : s;
}

// An op used directly as a layer: `type: L2Normalize, input: x` or `inputs: [a, b]`; every other
// key is an attribute of the op.
int build_op_layer(LayerContext& ctx, const std::string& op) {
  std::vector<int> in;
  if (ctx.cfg.has("inputs")) in = ctx.inputs();
  else in.push_back(ctx.input());
  Attrs attrs;
  for (const auto& [key, v] : ctx.cfg.items()) {
    if (key == "type" || key == "input" || key == "inputs") continue;
    std::string d = v.describe();
    if (d.rfind("boolean", 0) == 0) attrs.set(key, v.as_bool());
    else if (d.rfind("integer", 0) == 0) attrs.set(key, v.as_int());
    else if (d.rfind("number", 0) == 0) attrs.set(key, v.as_double());
    else if (v.is_list()) {
      bool all_int = true;
      for (const auto& e : v.elements()) all_int = all_int && e.describe().rfind("integer", 0) == 0;
      if (all_int) attrs.set(key, v.as_ints());
      else attrs.set(key, v.as_doubles());
    } else if (v.is_scalar()) attrs.set(key, v.as_string());
    else v.fail("expected a scalar or a list as an attribute of op " + op + ", found " + d);
  }
  try {
    return ctx.graph.add(op, std::move(in), attrs, ctx.name);
  } catch (const UserError& e) {
    ctx.cfg.fail(std::string("layer '") + ctx.name + "': " + e.what());
  }
}

}  // namespace

std::unique_ptr<Model> Model::build(const ConfigNode& cfg, const DataTables* data, const ArchiveReader* saved,
                                    uint64_t seed) {
  cfg.check_keys({"name", "inputs", "layers", "task", "fit", "data"});  // fit, data: a model file may carry its training setup
  auto m = std::make_unique<Model>();
  m->name_ = cfg.get_string("name", "model");
  m->config_text_ = to_yaml(cfg);
  std::mt19937_64 rng(seed);

  std::map<std::string, ColumnType> raw;
  std::map<std::string, ConfigNode> raw_at;
  ConfigNode inputs = cfg.at("inputs");
  if (!inputs.is_map() || inputs.size() == 0) inputs.fail("expected a map of input columns to types (string, int, float)");
  for (const auto& [name, node] : inputs.items()) {
    std::string t = node.as_enum({"string", "int", "float"});
    raw[name] = t == "string" ? ColumnType::String : t == "int" ? ColumnType::Int : ColumnType::Float;
    raw_at.emplace(name, node);
  }

  ConfigNode layers = cfg.at("layers");
  if (!layers.is_map() || layers.size() == 0) layers.fail("a model needs at least one layer (a map of name: {type: ...})");
  std::vector<std::string> all_names = layers.keys();
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
    if (std::find(all_names.begin(), all_names.end(), name) != all_names.end())
      at.fail("'" + name + "' is used before it is defined (a layer may read only inputs and layers above it, "
              "so cycles are impossible)");
    std::vector<std::string> known;
    for (const auto& [k, v] : raw) known.push_back(k);
    for (const auto& [k, v] : defined) known.push_back(k);
    auto guess = closest_match(name, known);
    at.fail("unknown value '" + name + "'" + (guess ? " (did you mean '" + *guess + "'?)" : "") +
            "; defined so far: " + join(known));
  };
  auto id_range = [&](int node) -> int64_t {
    for (const auto& f : m->fed_)
      if (f.node == node && f.pre) return f.pre->id_range();
    return 0;
  };

  for (const auto& [name, node] : layers.items()) {
    if (!node.is_map()) node.fail("layer '" + name + "': expected a map with a 'type', found " + node.describe());
    if (raw.count(name)) node.fail("layer '" + name + "' has the name of an input column");
    std::string type = node.require_string("type");
    int id = -1;
    if (auto make = PreprocessorRegistry::instance().find(type)) {
      std::unique_ptr<Preprocessor> pre = make(node);
      ConfigNode in = node.at("input");
      std::string column = in.as_string();
      if (!raw.count(column))
        in.fail("a preprocessing layer reads an input column; '" + column + "' is not one (inputs: " +
                join([&] { std::vector<std::string> v; for (auto& [k, _] : raw) v.push_back(k); return v; }()) + ")");
      if (saved) {
        pre->load(*saved, "preprocessing/" + name + "/");
      } else {
        std::string table = node.get_enum("adapt", {"interactions", "train", "candidates"}, "interactions");
        if (!data) node.fail("layer '" + name + "' needs data to adapt on");
        const Table& t = data->by_name(table);
        if (!t.has(column)) node.at("input").fail("table '" + table + "' has no column '" + column + "' to adapt on");
        pre->adapt(t.column(column));
      }
      id = m->graph_.input(name, pre->output_type());
      m->fed_.push_back({name, column, id, std::move(pre)});
    } else if (const LayerInfo* layer = LayerRegistry::instance().find(type)) {
      LayerContext ctx{m->graph_, node, name, rng, resolve, id_range};
      id = layer->build(ctx);
    } else if (OpRegistry::instance().contains(type)) {
      LayerContext ctx{m->graph_, node, name, rng, resolve, id_range};
      id = build_op_layer(ctx, type);
    } else {
      std::vector<std::string> all = LayerRegistry::instance().names();
      for (const auto& n : PreprocessorRegistry::instance().names()) all.push_back(n);
      for (const auto& n : OpRegistry::instance().names()) all.push_back(n);
      auto guess = closest_match(type, all);
      node.at("type").fail("unknown layer or op '" + type + "'" + (guess ? " (did you mean '" + *guess + "'?)" : "") +
                           "; layers: " + join(LayerRegistry::instance().names()) + "; preprocessing: " +
                           join(PreprocessorRegistry::instance().names()) + "; ops: " +
                           join(OpRegistry::instance().names()));
    }
    defined[name] = id;
    m->values_.push_back({name, id});
  }

  ConfigNode task = cfg.at("task");
  std::string type = task.require_string("type");
  TaskBuilder make = TaskRegistry::instance().find(task.at("type"), type);
  LayerContext ctx{m->graph_, task, "task", rng, resolve, id_range};
  m->task_ = make(ctx);
  if (saved) {
    m->load_parameters(*saved);
    m->task_->load(*saved);
  }
  return m;
}

std::unique_ptr<Model> Model::load(const std::string& path) {
  ArchiveReader r(path);
  if (!r.has("model/config")) throw UserError(path + ": not a dagrad model (no model/config entry)");
  ConfigNode cfg = parse_config(r.text("model/config"), path + " (its stored model file)");
  return build(cfg, nullptr, &r, 0);
}

int Model::value(const std::string& name) const {
  for (const auto& [n, id] : values_)
    if (n == name) return id;
  std::vector<std::string> known;
  for (const auto& [n, id] : values_) known.push_back(n);
  throw UserError("model '" + name_ + "' has no value '" + name + "' (values: " + join(known) + ")");
}

EncodedTable Model::encode(const Table& t, const std::vector<int>& targets) const {
  std::vector<char> need(graph_.size(), 1);
  if (!targets.empty()) {
    std::fill(need.begin(), need.end(), 0);
    for (int x : targets) need[x] = 1;
    for (int i = graph_.size() - 1; i >= 0; --i)
      if (need[i])
        for (int j : graph_.node(i).inputs) need[j] = 1;
  }
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
  for (int id : graph_.params()) w.put_tensor("param/" + graph_.node(id).name, const_cast<Graph&>(graph_).param_value(id));
  for (const auto& f : fed_)
    if (f.pre) f.pre->save(w, "preprocessing/" + f.layer + "/");
  task_->save(w);
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
