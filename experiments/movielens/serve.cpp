#include "experiments/movielens/serve.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>

#include "graph/files.hpp"
#include "models/data/sources/movielens_data.hpp"
#include "models/io/archive.hpp"
#include "models/io/npy.hpp"
#include "models/model.hpp"
#include "models/task.hpp"

namespace dagrad::movielens {
namespace {

// The binary export writes the machine's bytes; its documented layout is little-endian.
static_assert(std::endian::native == std::endian::little, "export --format bin assumes a little-endian machine");

struct Served {
  std::unique_ptr<Model> model;
  RetrievalTask* task = nullptr;
  Dataset data;
  Table candidates{"candidates"};
  Tensor embeddings;  // [movies, d]
};

Served load_served(const cli::Args& a) {
  if (!a.has("model")) throw UserError("--model FILE is required (a model.dagrad written by training)");
  Served s;
  s.model = Model::load(a.get("model"));
  s.task = s.model->task().retrieval();
  if (!s.task) throw UserError(a.get("model") + ": the model has no Retrieval task");
  s.data = load_movielens(resolve_data_dir(a.get("data")));
  StringColumn titles;
  IntColumn ids;
  for (const auto& m : s.data.movies) {
    titles.push_back(m.title);
    ids.push_back(m.id);
  }
  s.candidates.add("movie_title", std::move(titles));
  s.candidates.add("movie_id", std::move(ids));
  s.embeddings = s.model->predict(s.candidates, s.task->candidate_node(), 4096);  // once, for every candidate
  return s;
}

}  // namespace

int recommend(const cli::Args& a) {
  if (!a.has("user")) throw UserError("--user ID is required");
  int64_t k = a.get_int("k", 10, 1);
  const bool has_ts = a.has("timestamp");
  const int64_t given_ts = a.get_int("timestamp", 0, INT64_MIN);
  Served s = load_served(a);
  const std::string user = a.get("user");
  int64_t latest = -1;
  std::set<int32_t> rated;
  for (const auto& r : s.data.ratings)
    if (r.user_id == user) {
      latest = std::max(latest, r.timestamp);
      rated.insert(r.movie_id);
    }
  if (latest < 0 && !has_ts)
    throw UserError("user '" + user + "' has no ratings in the data: give --timestamp to score an unknown user");
  int64_t ts = has_ts ? given_ts : latest;

  Table q("query");
  q.add("user_id", StringColumn{user});
  q.add("timestamp", IntColumn{ts});
  Tensor qe = s.model->predict(q, s.task->query_node(), 1);
  const int64_t n = s.embeddings.dim(0), d = s.embeddings.dim(1);
  std::vector<float> score(n);
  for (int64_t i = 0; i < n; ++i) {
    float acc = 0;
    for (int64_t j = 0; j < d; ++j) acc += s.embeddings.f32()[i * d + j] * qe.f32()[j];
    score[i] = acc;
  }
  std::vector<int64_t> order;
  for (int64_t i = 0; i < n; ++i)
    if (!a.has("exclude-rated") || !rated.count(s.data.movies[i].id)) order.push_back(i);
  k = std::min<int64_t>(k, static_cast<int64_t>(order.size()));
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int64_t x, int64_t y) { return score[x] > score[y] || (score[x] == score[y] && x < y); });
  std::printf("# user %s, timestamp %lld, %zu rated%s\n", user.c_str(), static_cast<long long>(ts), rated.size(),
              a.has("exclude-rated") ? " (excluded)" : "");
  std::printf("rank\tscore\tmovie_id\ttitle\n");
  for (int64_t r = 0; r < k; ++r) {
    const auto& m = s.data.movies[order[r]];
    std::printf("%lld\t%.4f\t%d\t%s\n", static_cast<long long>(r + 1), score[order[r]], m.id, m.title.c_str());
  }
  return 0;
}

int export_embeddings(const cli::Args& a) {
  if (!a.has("to")) throw UserError("--to FILE is required");
  // Before the work: --to is replaced only when it is a regular file (never a device, a FIFO or
  // what a symbolic link points to) in a folder that exists.
  check_output_file(a.get("to"));
  const std::string format = a.get("format", "tsv");
  if (format != "tsv" && format != "bin" && format != "npy")
    throw UserError("--format: expected tsv, bin or npy, got '" + format + "'");
  if (format == "npy") {
    const std::string dir = a.get("to");
    std::error_code ec;
    const auto st = std::filesystem::symlink_status(dir, ec);
    if (!ec && std::filesystem::exists(st) && !std::filesystem::is_directory(st))
      throw UserError("--to " + dir + ": exists and is not a directory (--format npy writes several files into a folder)");
  }
  Served s = load_served(a);
  const int64_t n = s.embeddings.dim(0), d = s.embeddings.dim(1);
  if (format == "npy") {
    // Candidate side: every movie's vector and id. Query side: every user's query vector at their
    // latest rating time (what `recommend` scores with), and the user ids in the same order.
    const std::string dir = a.get("to");
    std::filesystem::create_directories(dir);
    std::vector<int64_t> movie_ids;
    for (const auto& m : s.data.movies) movie_ids.push_back(m.id);
    std::map<int64_t, int64_t> latest;  // user id -> latest timestamp
    for (const auto& r : s.data.ratings) {
      const int64_t u = std::stoll(r.user_id);
      auto [it, fresh] = latest.emplace(u, r.timestamp);
      if (!fresh) it->second = std::max(it->second, r.timestamp);
    }
    StringColumn users;
    IntColumn times;
    std::vector<int64_t> user_ids;
    for (const auto& [u, ts] : latest) {
      users.push_back(std::to_string(u));
      times.push_back(ts);
      user_ids.push_back(u);
    }
    Table q("queries");
    q.add("user_id", std::move(users));
    q.add("timestamp", std::move(times));
    const Tensor queries = s.model->predict(q, s.task->query_node(), 4096);
    write_file_atomic(dir + "/candidate_vectors.npy", npy_bytes(s.embeddings));
    write_file_atomic(dir + "/candidate_ids.npy", npy_bytes(movie_ids, {n}));
    write_file_atomic(dir + "/query_vectors.npy", npy_bytes(queries));
    write_file_atomic(dir + "/query_user_ids.npy", npy_bytes(user_ids, {static_cast<int64_t>(user_ids.size())}));
    std::fprintf(stderr, "exported %lld candidates and %zu users x %lld dimensions to %s (npy)\n",
                 static_cast<long long>(n), user_ids.size(), static_cast<long long>(d), dir.c_str());
    return 0;
  }
  std::string out;
  if (format == "tsv") {
    out = "# dagrad candidate embeddings: " + std::to_string(n) + " rows, " + std::to_string(d) +
          " dimensions; columns: movie_id, title, then the vector\n";
    char buf[32];
    for (int64_t i = 0; i < n; ++i) {
      out += std::to_string(s.data.movies[i].id) + "\t" + s.data.movies[i].title;
      for (int64_t j = 0; j < d; ++j) {
        std::snprintf(buf, sizeof buf, "%s%.9g", j ? " " : "\t", s.embeddings.f32()[i * d + j]);
        out += buf;
      }
      out += "\n";
    }
  } else if (format == "bin") {
    // "DGEMB001", u64 rows, u64 dims, rows x (i64 id, f32[dims]), then rows x (u32 length, UTF-8 title).
    out = "DGEMB001";
    auto put = [&](const void* p, size_t len) { out.append(static_cast<const char*>(p), len); };
    uint64_t rows = n, dims = d;
    put(&rows, 8);
    put(&dims, 8);
    for (int64_t i = 0; i < n; ++i) {
      int64_t id = s.data.movies[i].id;
      put(&id, 8);
      put(s.embeddings.f32() + i * d, d * 4);
    }
    for (int64_t i = 0; i < n; ++i) {
      uint32_t len = static_cast<uint32_t>(s.data.movies[i].title.size());
      put(&len, 4);
      put(s.data.movies[i].title.data(), len);
    }
  } else {
    throw UserError("--format: expected tsv, bin or npy, got '" + format + "'");
  }
  write_file_atomic(a.get("to"), out);
  std::fprintf(stderr, "exported %lld candidates x %lld dimensions to %s (%s)\n", static_cast<long long>(n),
               static_cast<long long>(d), a.get("to").c_str(), format.c_str());
  return 0;
}

}  // namespace dagrad::movielens
