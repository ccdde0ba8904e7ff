#include "cli/serve_routes.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <numeric>
#include <unordered_map>
#include <vector>

#include "graph/error.hpp"
#include "models/io/archive.hpp"
#include "models/model.hpp"

namespace dagrad::cli {

using json = nlohmann::json;

ModelSource::ModelSource(std::string path, IndexOptions index, bool index_chosen, bool ef_chosen)
    : path_(std::move(path)), index_options_(std::move(index)), index_chosen_(index_chosen), ef_chosen_(ef_chosen) {
  dir_ = std::filesystem::temp_directory_path() / ("dagrad-serve-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir_);
  reload();
}

ModelSource::~ModelSource() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void ModelSource::reload() {
  const uint64_t next = current().generation + 1;
  const std::filesystem::path snap = dir_ / ("model." + std::to_string(next) + ".dagrad");
  std::filesystem::copy_file(path_, snap, std::filesystem::copy_options::overwrite_existing);
  std::unique_ptr<Model> checked;
  try {
    checked = Model::load(snap.string());
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(snap, ec);
    throw;
  }
  std::shared_ptr<const CandidateIndex> index;
  if (checked->candidate_vectors().defined()) {
    const auto t0 = std::chrono::steady_clock::now();
    ArchiveReader archive(snap.string());
    if (!index_chosen_ && archive.has("serving/index/hnsw")) {
      // The index saved by `dagrad index`, with its parameters (--hnsw-ef still applies when given).
      IndexOptions saved = index_options_;
      saved.kind = "hnsw";
      saved.m = archive.integer("serving/index/m");
      saved.ef_construction = archive.integer("serving/index/ef_construction");
      if (!ef_chosen_) saved.ef_search = archive.integer("serving/index/ef");
      index = load_hnsw_index(checked->candidate_vectors(), archive.text("serving/index/hnsw"), saved, dir_.string());
    } else {
      index = build_candidate_index(checked->candidate_vectors(), index_options_);
    }
    std::cerr << "serve: index over " << checked->candidate_vectors().dim(0) << " candidates: " << index->describe()
              << ", built in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s"
              << std::endl;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = {snap.string(), next, std::move(index)};
}

namespace {

// A request the client got wrong: 400 (or `status`) with the message.
struct BadRequest : std::runtime_error {
  int status;
  explicit BadRequest(const std::string& m, int s = 400) : std::runtime_error(m), status(s) {}
};

// This worker thread's copy of the current model (reloaded when the generation moved on).
struct ThreadModel {
  uint64_t generation = 0;
  std::unique_ptr<Model> model;
};

// This thread's model for the current state (`state` receives it: the index belongs to it).
Model& thread_model(const ModelSource& source, ModelSource::State* state = nullptr) {
  thread_local ThreadModel tm;
  ModelSource::State now = source.current();
  if (!tm.model || tm.generation != now.generation) {
    tm.model = Model::load(now.path);
    tm.generation = now.generation;
  }
  if (state) *state = std::move(now);
  return *tm.model;
}

const char* type_name(ColumnType t) { return column_type_name(t); }

// A Table of the model inputs named in `rows` (an array of objects), typed as the model declares.
Table table_from_rows(const Model& m, const json& rows, const std::string& where) {
  if (!rows.is_array()) throw BadRequest(where + ": expected an array of objects");
  Table t("request");
  for (const auto& [name, type] : m.inputs()) {
    bool any = false;
    for (const auto& r : rows)
      if (r.is_object() && r.contains(name)) any = true;
    if (!any) continue;
    Column col;
    if (type == ColumnType::String) col = StringColumn{};
    else if (type == ColumnType::Int) col = IntColumn{};
    else col = FloatColumn{};
    for (size_t i = 0; i < rows.size(); ++i) {
      const json& r = rows[i];
      const std::string at = where + "[" + std::to_string(i) + "]";
      if (!r.is_object()) throw BadRequest(at + ": expected an object of input values");
      if (!r.contains(name)) throw BadRequest(at + ": missing input '" + name + "' (other rows give it)");
      const json& v = r.at(name);
      if (type == ColumnType::String) {
        if (v.is_string()) std::get<StringColumn>(col).push_back(v.get<std::string>());
        else if (v.is_number_integer()) std::get<StringColumn>(col).push_back(std::to_string(v.get<int64_t>()));
        else throw BadRequest(at + "." + name + ": expected a string");
      } else if (type == ColumnType::Int) {
        if (!v.is_number_integer()) throw BadRequest(at + "." + name + ": expected an integer");
        std::get<IntColumn>(col).push_back(v.get<int64_t>());
      } else {
        if (!v.is_number()) throw BadRequest(at + "." + name + ": expected a number");
        std::get<FloatColumn>(col).push_back(v.get<float>());
      }
    }
    t.add(name, std::move(col));
  }
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].is_object())
      for (const auto& [key, v] : rows[i].items()) {
        bool known = false;
        for (const auto& in : m.inputs()) known = known || in.first == key;
        if (!known) throw BadRequest(where + "[" + std::to_string(i) + "]: '" + key + "' is not an input of the model");
      }
  return t;
}

// The value of `node` for every row, with a missing input named.
Tensor predict_rows(Model& m, const Table& t, int node, int64_t rows) {
  try {
    if (rows == 0) return Tensor({0, m.graph().node(node).type.shape.back()});
    return m.predict(t, node, 1024);
  } catch (const UserError& e) {
    throw BadRequest(std::string("rows: ") + e.what());
  }
}

json handle_score(Model& m, const json& body, int64_t max_rows) {
  if (!body.is_object() || !body.contains("rows")) throw BadRequest("body: expected {\"rows\": [{INPUT: VALUE, ...}, ...]}");
  const json& rows = body.at("rows");
  if (rows.is_array() && static_cast<int64_t>(rows.size()) > max_rows)
    throw BadRequest("rows: " + std::to_string(rows.size()) + " rows; at most " + std::to_string(max_rows) + " per request",
                     413);
  Table t = table_from_rows(m, rows, "rows");
  const int64_t n = static_cast<int64_t>(rows.size());
  json scores = json::array();
  if (int p = m.task().prediction_node(); p >= 0) {
    Tensor y = predict_rows(m, t, p, n);
    for (int64_t i = 0; i < n; ++i) scores.push_back(y.f32()[i]);
  } else if (RetrievalTask* r = m.task().retrieval()) {
    Tensor q = predict_rows(m, t, r->query_node(), n), c = predict_rows(m, t, r->candidate_node(), n);
    const int64_t d = n ? q.dim(1) : 0;
    for (int64_t i = 0; i < n; ++i)
      scores.push_back(std::inner_product(q.f32() + i * d, q.f32() + (i + 1) * d, c.f32() + i * d, 0.0f));
  } else {
    throw BadRequest("the model's task gives no score per row");
  }
  return {{"scores", scores}};
}

json candidate_value(const Column& c, size_t row) {
  if (auto* s = std::get_if<StringColumn>(&c)) return (*s)[row];
  if (auto* i = std::get_if<IntColumn>(&c)) return (*i)[row];
  return std::get<FloatColumn>(c)[row];
}

json handle_retrieve(Model& m, const CandidateIndex* index, const json& body) {
  RetrievalTask* r = m.task().retrieval();
  if (!r) throw BadRequest("the model has no Retrieval task: use /score", 404);
  const Table& cands = m.serving_candidates();
  if (cands.rows() == 0 || !index)
    throw BadRequest("the model file holds no candidate set (train it with `dagrad fit` on data with candidates)",
                     404);
  if (!body.is_object() || !body.contains("query")) throw BadRequest("body: expected {\"query\": {INPUT: VALUE, ...}, \"k\": K}");
  int64_t k = 10;
  if (body.contains("k")) {
    if (!body.at("k").is_number_integer() || body.at("k").get<int64_t>() < 1)
      throw BadRequest("k: expected a whole number >= 1");
    k = std::min<int64_t>(body.at("k").get<int64_t>(), static_cast<int64_t>(cands.rows()));
  }
  const IntColumn& ids = cands.ints(r->candidate_id_column());
  std::vector<char> excluded(cands.rows(), 0);
  if (body.contains("exclude")) {
    const json& ex = body.at("exclude");
    if (!ex.is_array()) throw BadRequest("exclude: expected an array of candidate ids");
    std::unordered_map<int64_t, std::vector<size_t>> rows_of;
    for (size_t i = 0; i < ids.size(); ++i) rows_of[ids[i]].push_back(i);
    for (size_t i = 0; i < ex.size(); ++i) {
      if (!ex[i].is_number_integer()) throw BadRequest("exclude[" + std::to_string(i) + "]: expected an integer id");
      if (auto it = rows_of.find(ex[i].get<int64_t>()); it != rows_of.end())
        for (size_t row : it->second) excluded[row] = 1;
    }
  }
  json one = json::array({body.at("query")});
  Table t = table_from_rows(m, one, "query");
  Tensor q = predict_rows(m, t, r->query_node(), 1);
  json out = json::array();
  for (const auto& [row, score] : index->search(q.f32(), k, excluded)) {
    json c = {{"id", ids[row]}, {"score", score}};
    for (const auto& name : cands.column_names())
      if (name != r->candidate_id_column()) c[name] = candidate_value(cands.column(name), row);
    out.push_back(std::move(c));
  }
  return {{"candidates", out}};
}

json handle_metadata(Model& m, const CandidateIndex* index) {
  json inputs = json::object();
  for (const auto& [name, type] : m.inputs()) inputs[name] = type_name(type);
  json out = {{"model", m.name()}, {"inputs", inputs}, {"task", m.task().describe()},
              {"candidates", m.serving_candidates().rows()}};
  if (index) out["index"] = index->describe();
  if (RetrievalTask* r = m.task().retrieval()) {
    out["query"] = m.name_of(r->query_node());
    out["candidate"] = m.name_of(r->candidate_node());
    out["candidate_id"] = r->candidate_id_column();
  }
  if (int p = m.task().prediction_node(); p >= 0) out["prediction"] = m.name_of(p);
  return out;
}

}  // namespace

Reply route(const std::string& method, const std::string& target, const std::string& body_text,
            ModelSource& source, const ServeLimits& limits) {
  const std::string path = target.substr(0, target.find('?'));
  try {
    auto need = [&](const char* wanted) {
      if (method != wanted) throw BadRequest(path + " takes " + wanted, 405);
    };
    auto body = [&]() {
      try {
        return json::parse(body_text);
      } catch (const json::parse_error& e) {
        throw BadRequest(std::string("body: not JSON: ") + e.what());
      }
    };
    ModelSource::State state;
    if (path == "/health") {
      need("GET");
      Model& m = thread_model(source, &state);
      return {200, {{"status", "ok"}, {"model", m.name()}, {"generation", state.generation}}};
    }
    if (path == "/metadata") {
      need("GET");
      Model& m = thread_model(source, &state);
      return {200, handle_metadata(m, state.index.get())};
    }
    if (path == "/score") {
      need("POST");
      return {200, handle_score(thread_model(source), body(), limits.max_rows)};
    }
    if (path == "/retrieve") {
      need("POST");
      Model& m = thread_model(source, &state);
      return {200, handle_retrieve(m, state.index.get(), body())};
    }
    return {404, {{"error", "no route " + path + " (routes: /health, /metadata, /score, /retrieve)"}}};
  } catch (const BadRequest& e) {
    return {e.status, {{"error", e.what()}}};
  } catch (const UserError& e) {
    return {400, {{"error", e.what()}}};
  } catch (const std::exception& e) {
    return {500, {{"error", std::string("internal: ") + e.what()}}};
  }
}

}  // namespace dagrad::cli
