// dagrad serve: a trained model over HTTP/1.1 with JSON bodies, on Boost.Beast (Boost is already a
// dependency) and nlohmann-json. Routes:
//   GET  /health            {"status": "ok", "model": NAME, "generation": G}
//   GET  /metadata          the model's inputs and their types, task, values, candidate count
//   POST /score             {"rows": [{INPUT: VALUE, ...}, ...]} -> {"scores": [...]}: the task's
//                           prediction per row (Ranking), or the dot product of the two towers
//                           (Retrieval, rows holding both query and candidate features)
//   POST /retrieve          {"query": {INPUT: VALUE, ...}, "k": 10, "exclude": [ID, ...]} ->
//                           {"candidates": [{"id": ID, "score": S, COLUMN: VALUE, ...}, ...]}:
//                           exact top-k of the candidate set saved with the model
// Bad requests get 400 with {"error": "..."} naming the field; a body over --max-body 413; an
// unknown route 404; a wrong method 405. Every worker thread computes with its own copy of the
// model (models loaded from one file run side by side: docs/serving.md). SIGTERM or SIGINT stops
// accepting, finishes the requests in flight and exits 0; SIGHUP reloads the model file, and a
// file that does not load leaves the old model serving.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <optional>
#include <unordered_map>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/candidate_index.hpp"
#include "cli/commands.hpp"
#include "graph/dnnl_context.hpp"
#include "graph/error.hpp"
#include "models/io/archive.hpp"
#include "models/model.hpp"

namespace dagrad::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

const char* kServeHelp =
    "usage: dagrad serve MODEL.dagrad [--host H] [--port P] [--threads N] [--max-body BYTES] [--max-rows N]\n"
    "                    [--index exact|hnsw] [--hnsw-m M] [--hnsw-ef-construction E] [--hnsw-ef E]\n\n"
    "Serves a model written by `dagrad fit` over HTTP/1.1 with JSON bodies (docs/serving.md):\n"
    "  GET /health, GET /metadata, POST /score {\"rows\": [...]}, POST /retrieve {\"query\": {...}, \"k\": 10,\n"
    "  \"exclude\": [ids]}.\n"
    "--host: the address to listen on (default 127.0.0.1); --port: the port (default 8080; 0 picks a free one);\n"
    "--threads: worker threads, each with its own copy of the model (default 2); --max-body: the largest\n"
    "request body in bytes (default 1048576; larger gets 413); --max-rows: rows per /score request (default\n"
    "10000). Prints 'listening on http://HOST:PORT' when ready. SIGTERM/SIGINT: finish the requests in\n"
    "flight and exit 0. SIGHUP: reload MODEL.dagrad (a file that does not load leaves the old model).\n"
    "--index exact|hnsw: /retrieve scores every candidate (exact, the default) or searches an HNSW graph\n"
    "built at start-up (hnswlib; --hnsw-m 16, --hnsw-ef-construction 200, --hnsw-ef 200: larger is more\n"
    "exact and slower; docs/serving.md measures them). Without --index, an index saved in the model file\n"
    "by `dagrad index` is loaded, else exact.\n";

// A request the client got wrong: 400 (or `status`) with the message.
struct BadRequest : std::runtime_error {
  http::status status;
  BadRequest(const std::string& m, http::status s = http::status::bad_request) : std::runtime_error(m), status(s) {}
};

// The model file being served, snapshotted into a private copy at each (re)load so that every
// worker loads exactly what was checked, whatever happens to the file afterwards.
class ModelSource {
 public:
  // What the workers serve: the snapshot's path, its generation, and the index over its candidates.
  struct State {
    std::string path;
    uint64_t generation = 0;
    std::shared_ptr<const CandidateIndex> index;  // null: the model has no candidate vectors
  };

  // index_chosen: --index was given (else a saved index is used when the file has one);
  // ef_chosen: --hnsw-ef was given.
  ModelSource(std::string path, IndexOptions index, bool index_chosen, bool ef_chosen)
      : path_(std::move(path)), index_options_(std::move(index)), index_chosen_(index_chosen), ef_chosen_(ef_chosen) {
    dir_ = std::filesystem::temp_directory_path() / ("dagrad-serve-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    reload();
  }
  ~ModelSource() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Loads the file into a new snapshot; throws (and keeps serving the old one) if it does not load.
  void reload() {
    const uint64_t next = generation_ + 1;
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
    generation_ = next;
  }
  State current() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return state_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  IndexOptions index_options_;
  bool index_chosen_, ef_chosen_;
  std::filesystem::path dir_;
  mutable std::mutex mutex_;
  State state_;
  uint64_t generation_ = 0;
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
                     http::status::payload_too_large);
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
  if (!r) throw BadRequest("the model has no Retrieval task: use /score", http::status::not_found);
  const Table& cands = m.serving_candidates();
  if (cands.rows() == 0 || !index)
    throw BadRequest("the model file holds no candidate set (train it with `dagrad fit` on data with candidates)",
                     http::status::not_found);
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

struct Options {
  int64_t max_body = 1 << 20;
  int64_t max_rows = 10000;
};

// One request to one response.
http::response<http::string_body> respond(const http::request<http::string_body>& req, ModelSource& source,
                                          const Options& o) {
  auto reply = [&](http::status s, const json& body) {
    http::response<http::string_body> res{s, req.version()};
    res.set(http::field::server, "dagrad");
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = body.dump() + "\n";
    res.prepare_payload();
    return res;
  };
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  try {
    const bool get = req.method() == http::verb::get, post = req.method() == http::verb::post;
    auto need = [&](bool ok, const char* method) {
      if (!ok) throw BadRequest(path + " takes " + method, http::status::method_not_allowed);
    };
    auto body = [&]() {
      try {
        return json::parse(req.body());
      } catch (const json::parse_error& e) {
        throw BadRequest(std::string("body: not JSON: ") + e.what());
      }
    };
    if (path == "/health") {
      need(get, "GET");
      ModelSource::State state;
      Model& m = thread_model(source, &state);
      return reply(http::status::ok, {{"status", "ok"}, {"model", m.name()}, {"generation", state.generation}});
    }
    if (path == "/metadata") {
      need(get, "GET");
      ModelSource::State state;
      Model& m = thread_model(source, &state);
      return reply(http::status::ok, handle_metadata(m, state.index.get()));
    }
    if (path == "/score") {
      need(post, "POST");
      return reply(http::status::ok, handle_score(thread_model(source), body(), o.max_rows));
    }
    if (path == "/retrieve") {
      need(post, "POST");
      ModelSource::State state;
      Model& m = thread_model(source, &state);
      return reply(http::status::ok, handle_retrieve(m, state.index.get(), body()));
    }
    return reply(http::status::not_found, {{"error", "no route " + path + " (routes: /health, /metadata, /score, /retrieve)"}});
  } catch (const BadRequest& e) {
    return reply(e.status, {{"error", e.what()}});
  } catch (const UserError& e) {
    return reply(http::status::bad_request, {{"error", e.what()}});
  } catch (const std::exception& e) {
    return reply(http::status::internal_server_error, {{"error", std::string("internal: ") + e.what()}});
  }
}

class Server;

// One connection: reads requests one after another (keep-alive), each with a time limit.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Server& server);
  void start() { asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::read, shared_from_this())); }
  // Stopping: a connection waiting for its next request is closed now; one with a request in
  // flight closes after its response.
  void close_if_idle() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.close();
      }
    });
  }

 private:
  void read();
  void on_read(beast::error_code ec, size_t);
  void on_write(bool keep_alive, beast::error_code ec, size_t);

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> res_;
  Server& server_;
  bool busy_ = false;  // between a request's first bytes and its response's last
};

class Server {
 public:
  Server(asio::io_context& ioc, const tcp::endpoint& at, ModelSource& source, Options o)
      : ioc_(ioc), acceptor_(asio::make_strand(ioc)), source_(source), options_(o) {
    acceptor_.open(at.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(at);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }
  tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }
  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // closed: stopping
      auto session = std::make_shared<Session>(std::move(socket), *this);
      {
        std::lock_guard<std::mutex> lock(sessions_mutex_);
        std::erase_if(sessions_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
        sessions_.push_back(session);
      }
      session->start();
      accept();
    });
  }
  // Stops accepting; sessions end after their current response.
  void stop() {
    stopping_ = true;
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    for (auto& w : sessions_)
      if (auto s = w.lock()) s->close_if_idle();
  }
  bool stopping() const { return stopping_; }
  ModelSource& source() { return source_; }
  const Options& options() const { return options_; }

 private:
  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  ModelSource& source_;
  Options options_;
  std::atomic<bool> stopping_{false};
  std::mutex sessions_mutex_;
  std::vector<std::weak_ptr<Session>> sessions_;
};

Session::Session(tcp::socket&& socket, Server& server) : stream_(std::move(socket)), server_(server) {}

void Session::read() {
  parser_.emplace();
  parser_->body_limit(static_cast<uint64_t>(server_.options().max_body));
  parser_->header_limit(16 * 1024);
  stream_.expires_after(std::chrono::seconds(30));
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
}

void Session::on_read(beast::error_code ec, size_t) {
  busy_ = true;
  if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) return;  // closed while stopping
  if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    return;
  }
  if (ec) {
    // A request the parser refused: answer it (413 for a body over the limit), then close.
    const bool too_big = ec == http::error::body_limit;
    http::response<http::string_body> res{too_big ? http::status::payload_too_large : http::status::bad_request, 11};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(false);
    res.body() = json{{"error", too_big ? "body: larger than --max-body " + std::to_string(server_.options().max_body) +
                                               " bytes"
                                         : "request: " + ec.message()}}
                     .dump() + "\n";
    res.prepare_payload();
    res_ = std::make_shared<http::response<http::string_body>>(std::move(res));
    stream_.expires_after(std::chrono::seconds(10));
    http::async_write(stream_, *res_, beast::bind_front_handler(&Session::on_write, shared_from_this(), false));
    return;
  }
  http::request<http::string_body> req = parser_->release();
  auto res = respond(req, server_.source(), server_.options());
  const bool keep = res.keep_alive() && !server_.stopping();
  res.keep_alive(keep);
  res_ = std::make_shared<http::response<http::string_body>>(std::move(res));
  stream_.expires_after(std::chrono::seconds(30));
  http::async_write(stream_, *res_, beast::bind_front_handler(&Session::on_write, shared_from_this(), keep));
}

void Session::on_write(bool keep_alive, beast::error_code ec, size_t) {
  busy_ = false;
  if (ec) return;
  if (!keep_alive || server_.stopping()) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    return;
  }
  res_.reset();
  read();
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  Args a(argc, argv, {"host", "port", "threads", "max-body", "max-rows", "index", "hnsw-m", "hnsw-ef-construction", "hnsw-ef"}, {});
  if (a.help()) {
    std::fputs(kServeHelp, stdout);
    return 0;
  }
  if (a.positional().size() != 1) {
    std::fputs(kServeHelp, stderr);
    return 2;
  }
  Options o;
  o.max_body = a.get_int("max-body", o.max_body, 1);
  o.max_rows = a.get_int("max-rows", o.max_rows, 1);
  const int64_t port = a.get_int("port", 8080, 0);
  if (port > 65535) throw UserError("--port: expected a number in 0..65535, got " + std::to_string(port));
  const int64_t threads = a.get_int("threads", 2, 1);
  if (threads > 256) throw UserError("--threads: at most 256 worker threads, got " + std::to_string(threads));
  beast::error_code ec;
  const auto address = asio::ip::make_address(a.get("host", "127.0.0.1"), ec);
  if (ec) throw UserError("--host: not an IP address: '" + a.get("host", "127.0.0.1") + "'");

  IndexOptions index;
  index.kind = a.get("index", "exact");
  if (index.kind != "exact" && index.kind != "hnsw") throw UserError("--index: expected exact or hnsw, got '" + index.kind + "'");
  index.m = a.get_int("hnsw-m", index.m, 2);
  index.ef_construction = a.get_int("hnsw-ef-construction", index.ef_construction, 1);
  index.ef_search = a.get_int("hnsw-ef", index.ef_search, 1);
  index.threads = static_cast<int>(std::max<int64_t>(1, num_threads()));
  ModelSource source(a.positional()[0], index, a.has("index"), a.has("hnsw-ef"));  // UserError (exit 2) when it does not load
  asio::io_context ioc(static_cast<int>(threads));
  std::unique_ptr<Server> server;
  try {
    server = std::make_unique<Server>(ioc, tcp::endpoint(address, static_cast<unsigned short>(port)), source, o);
  } catch (const boost::system::system_error& e) {
    throw UserError("cannot listen on " + a.get("host", "127.0.0.1") + ":" + std::to_string(port) + ": " +
                    e.code().message());
  }
  server->accept();
  asio::signal_set signals(ioc, SIGINT, SIGTERM, SIGHUP);
  std::function<void(beast::error_code, int)> on_signal = [&](beast::error_code e, int sig) {
    if (e) return;
    if (sig == SIGHUP) {
      try {
        source.reload();
        std::cerr << "serve: reloaded " << source.path() << " (generation " << source.current().generation << ")" << std::endl;
      } catch (const std::exception& err) {
        std::cerr << "serve: reload of " << source.path() << " failed, the previous model keeps serving: " << err.what()
                  << std::endl;
      }
      signals.async_wait(on_signal);
      return;
    }
    std::cerr << "serve: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ": finishing the requests in flight" << std::endl;
    server->stop();
    signals.cancel();
  };
  signals.async_wait(on_signal);
  const tcp::endpoint at = server->endpoint();
  std::cout << "listening on http://" << at.address().to_string() << ":" << at.port() << std::endl;
  std::vector<std::thread> workers;
  for (int64_t i = 1; i < threads; ++i) workers.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& w : workers) w.join();
  return 0;
}

}  // namespace dagrad::cli
