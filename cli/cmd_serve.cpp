// dagrad serve: the HTTP/1.1 transport of cli/serve_routes.hpp, on Boost.Beast (Boost is already a
// dependency): keep-alive connections with time limits, a body limit (413), worker threads (each
// computing with its own copy of the model), SIGTERM/SIGINT to finish the requests in flight and
// exit 0, SIGHUP to reload the model file (one that does not load leaves the old model serving).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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
#include "cli/serve_routes.hpp"
#include "graph/dnnl_context.hpp"
#include "graph/error.hpp"

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
  Server(asio::io_context& ioc, const tcp::endpoint& at, ModelSource& source, ServeLimits o)
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
  const ServeLimits& options() const { return options_; }

 private:
  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  ModelSource& source_;
  ServeLimits options_;
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
                     .dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    res.prepare_payload();
    res_ = std::make_shared<http::response<http::string_body>>(std::move(res));
    stream_.expires_after(std::chrono::seconds(10));
    http::async_write(stream_, *res_, beast::bind_front_handler(&Session::on_write, shared_from_this(), false));
    return;
  }
  http::request<http::string_body> req = parser_->release();
  const Reply reply = route(std::string(req.method_string()), std::string(req.target()), req.body(), server_.source(),
                            server_.options());
  http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
  res.set(http::field::server, "dagrad");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  // Bytes that are not UTF-8 (a latin-1 vocabulary entry, a name in an error) become U+FFFD
  // rather than throwing out of the session.
  res.body() = reply.body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  res.prepare_payload();
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
  ServeLimits o;
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
