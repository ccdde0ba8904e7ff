// experiments/movielens/serve.cpp: `movielens_two_tower recommend` and `export` on a model that
// `dagrad fit` trained on tiny made-up MovieLens files (u.data, u.item in the real formats; no real
// data). Scores are recomputed here from the saved model; the exports are checked byte by byte.
#include <doctest/doctest.h>

#include <bit>
#include <filesystem>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "models/io/npy.hpp"
#include "models/model.hpp"
#include "models/task.hpp"
#include "test_util.hpp"

using namespace dagrad;

namespace {

struct FakeMovie {
  int id;
  std::string latin1, utf8;
};

// Six made-up movies; one title is latin-1 ("Caf\xE9"), exported as UTF-8.
const std::vector<FakeMovie> kMovies = {
    {1, "Alpha (2000)", "Alpha (2000)"},          {2, "Caf\xE9 Noir (2001)", "Caf\xC3\xA9 Noir (2001)"},
    {3, "Gamma Ray (1999)", "Gamma Ray (1999)"},  {4, "Delta Blues (1998)", "Delta Blues (1998)"},
    {5, "Epsilon (1997)", "Epsilon (1997)"},      {7, "Zeta, The (1996)", "Zeta, The (1996)"},
};

// user -> (movie, timestamp): each of four users rates three movies.
const std::map<int, std::vector<std::pair<int, int>>> kRatings = {
    {1, {{1, 100}, {2, 300}, {3, 200}}},
    {2, {{3, 110}, {4, 120}, {5, 130}}},
    {3, {{1, 140}, {5, 150}, {7, 160}}},
    {4, {{2, 170}, {4, 180}, {7, 190}}},
};

std::string items_file() {
  std::string s;
  for (const auto& m : kMovies) {
    s += std::to_string(m.id) + "|" + m.latin1 + "|01-Jan-2000||http://example.com/m" + std::to_string(m.id);
    for (int g = 0; g < 19; ++g) s += g == m.id % 19 ? "|1" : "|0";
    s += "\n";
  }
  return s;
}

std::string ratings_file() {
  std::string s;
  for (const auto& [user, list] : kRatings)
    for (const auto& [movie, ts] : list)
      s += std::to_string(user) + "\t" + std::to_string(movie) + "\t" + std::to_string(1 + (movie + user) % 5) + "\t" +
           std::to_string(ts) + "\n";
  return s;
}

std::string two_tower_exe() { return std::string(DAGRAD_BUILD_DIR) + "/experiments/movielens_two_tower"; }

// Trains once for every test case here: fake data in data/, the model in out/model.dagrad.
struct Trained {
  test::TempDir dir{"serve"};
  std::string model, data;
  Trained() {
    dir.write("data/u.item", items_file());
    dir.write("data/u.data", ratings_file());
    dir.write("model.yaml", R"(name: tiny_two_tower
inputs: {user_id: string, timestamp: int, movie_title: string, movie_id: int}
layers:
  user_index: {type: StringLookup, input: user_id}
  user_vec: {type: Embedding, input: user_index, output_dim: 4}
  ts: {type: Normalization, input: timestamp}
  query_features: {type: Concat, inputs: [user_vec, ts]}
  query: {type: Dense, input: query_features, units: 4}
  title_index: {type: StringLookup, input: movie_title, adapt: candidates}
  title_vec: {type: Embedding, input: title_index, output_dim: 4}
  candidate: {type: Dense, input: title_vec, units: 4}
task: {type: Retrieval, query: query, candidate: candidate, candidate_id: movie_id}
)");
    dir.write("train.yaml", "data: {source: movielens, verify: false}\n"
                            "fit: {seed: 3, epochs: 3, batch_size: 8, progress: none, optimizer: {type: Adagrad, learning_rate: 0.1}}\n");
    data = dir.file("data");
    auto p = test::run(test::dagrad_exe() + " fit " + dir.file("model.yaml") + " --train " + dir.file("train.yaml") +
                       " --data " + data + " --out " + dir.file("out"));
    INFO(p.output);
    REQUIRE(p.status == 0);
    model = dir.file("out/model.dagrad");
  }
};

Trained& trained() {
  static Trained t;
  return t;
}

// Embeddings recomputed from the saved model, as the serving code is documented to compute them.
struct Embeddings {
  std::unique_ptr<Model> model = Model::load(trained().model);
  RetrievalTask* task = dynamic_cast<RetrievalTask*>(&model->task());
  Tensor candidates() {
    Table t("candidates");
    StringColumn titles;
    IntColumn ids;
    for (const auto& m : kMovies) titles.push_back(m.utf8), ids.push_back(m.id);
    t.add("movie_title", titles);
    t.add("movie_id", ids);
    return model->predict(t, task->candidate_node(), 4096);
  }
  Tensor query(const std::string& user, int64_t ts) {
    Table q("query");
    q.add("user_id", StringColumn{user});
    q.add("timestamp", IntColumn{ts});
    return model->predict(q, task->query_node(), 1);
  }
};

struct Line {
  int rank;
  double score;
  int movie;
  std::string title;
};

// The rows of recommend's table (after its two header lines).
std::vector<Line> recommendations(const std::string& out) {
  std::istringstream in(out);
  std::vector<Line> lines;
  std::string line;
  std::getline(in, line);
  REQUIRE(line.rfind("# user ", 0) == 0);
  std::getline(in, line);
  REQUIRE(line == "rank\tscore\tmovie_id\ttitle");
  while (std::getline(in, line)) {
    std::istringstream f(line);
    Line l;
    std::string rank, score, movie;
    std::getline(f, rank, '\t');
    std::getline(f, score, '\t');
    std::getline(f, movie, '\t');
    std::getline(f, l.title);
    l.rank = std::stoi(rank);
    l.score = std::stod(score);
    l.movie = std::stoi(movie);
    lines.push_back(l);
  }
  return lines;
}

const FakeMovie& movie(int id) {
  for (const auto& m : kMovies)
    if (m.id == id) return m;
  FAIL("no movie " << id);
  return kMovies[0];
}

// Every movie's score for a user, by the dot product of the recomputed embeddings.
std::map<int, double> scores_for(const std::string& user, int64_t ts) {
  Embeddings e;
  Tensor c = e.candidates(), q = e.query(user, ts);
  std::map<int, double> s;
  for (size_t i = 0; i < kMovies.size(); ++i) {
    double acc = 0;
    for (int j = 0; j < 4; ++j) acc += static_cast<double>(c.f32()[i * 4 + j]) * q.f32()[j];
    s[kMovies[i].id] = acc;
  }
  return s;
}

}  // namespace

TEST_CASE("recommend prints the k best-scoring titles, scores descending") {
  Trained& t = trained();
  auto p = test::run(two_tower_exe() + " recommend --model " + t.model + " --user 1 --k 3 --data " + t.data);
  INFO(p.output);
  REQUIRE(p.status == 0);
  // User 1's latest rating is at 300: the query is scored at that time.
  CHECK(p.output.rfind("# user 1, timestamp 300, 3 rated\n", 0) == 0);
  auto lines = recommendations(p.output);
  REQUIRE(lines.size() == 3);
  auto want = scores_for("1", 300);
  std::vector<double> sorted;
  for (const auto& [id, s] : want) sorted.push_back(s);
  std::sort(sorted.rbegin(), sorted.rend());
  for (int i = 0; i < 3; ++i) {
    CHECK(lines[i].rank == i + 1);
    CHECK(lines[i].title == movie(lines[i].movie).utf8);
    CHECK(std::abs(lines[i].score - want[lines[i].movie]) <= 5.1e-5);  // printed with 4 decimals
    CHECK(std::abs(want[lines[i].movie] - sorted[i]) <= 1e-6);         // the i-th best of all movies
    if (i > 0) CHECK(lines[i].score <= lines[i - 1].score);
  }
}

TEST_CASE("recommend --exclude-rated drops the user's rated movies") {
  Trained& t = trained();
  auto p = test::run(two_tower_exe() + " recommend --model " + t.model + " --user 1 --k 10 --exclude-rated --data " + t.data);
  INFO(p.output);
  REQUIRE(p.status == 0);
  CHECK(p.output.rfind("# user 1, timestamp 300, 3 rated (excluded)\n", 0) == 0);
  auto lines = recommendations(p.output);
  // 6 movies, 3 rated (1, 2, 3): the other three, best first.
  REQUIRE(lines.size() == 3);
  std::set<int> got;
  for (const auto& l : lines) got.insert(l.movie);
  CHECK(got == std::set<int>{4, 5, 7});
  CHECK(lines[0].score >= lines[1].score);
  CHECK(lines[1].score >= lines[2].score);
}

TEST_CASE("recommend: an unknown user and bad flags are clear errors") {
  Trained& t = trained();
  auto p = test::run(two_tower_exe() + " recommend --model " + t.model + " --user 999 --data " + t.data);
  CHECK(p.status == 2);
  CHECK(p.output.find("user '999' has no ratings in the data: give --timestamp to score an unknown user") !=
        std::string::npos);
  // With a timestamp an unknown user is scored as the out-of-vocabulary user.
  p = test::run(two_tower_exe() + " recommend --model " + t.model + " --user 999 --timestamp 150 --k 2 --data " + t.data);
  INFO(p.output);
  CHECK(p.status == 0);
  CHECK(recommendations(p.output).size() == 2);
  for (const std::string& bad : {std::string("--k 0"), std::string("--k three"), std::string("--k 2x"),
                                 std::string("--timestamp soon")}) {
    p = test::run(two_tower_exe() + " recommend --model " + t.model + " --user 1 " + bad + " --data " + t.data);
    INFO(bad << ": " << p.output);
    CHECK(p.status == 2);
    CHECK(p.output.find("--" + bad.substr(2, bad.find(' ') - 2) + ": expected") != std::string::npos);
  }
  p = test::run(two_tower_exe() + " recommend --user 1 --data " + t.data);
  CHECK(p.status == 2);
  CHECK(p.output.find("--model FILE is required") != std::string::npos);
}

TEST_CASE("export --format tsv writes a header, then id, title and the vector per movie") {
  Trained& t = trained();
  test::TempDir out("serve_tsv");
  auto p = test::run(two_tower_exe() + " export --model " + t.model + " --to " + out.file("e.tsv") + " --data " + t.data);
  INFO(p.output);
  REQUIRE(p.status == 0);
  Embeddings e;
  Tensor c = e.candidates();
  std::istringstream in(test::read_text(out.file("e.tsv")));
  std::string line;
  std::getline(in, line);
  CHECK(line == "# dagrad candidate embeddings: 6 rows, 4 dimensions; columns: movie_id, title, then the vector");
  for (size_t i = 0; i < kMovies.size(); ++i) {
    REQUIRE(std::getline(in, line));
    std::istringstream f(line);
    std::string id, title, vec;
    std::getline(f, id, '\t');
    std::getline(f, title, '\t');
    std::getline(f, vec);
    CHECK(id == std::to_string(kMovies[i].id));
    CHECK(title == kMovies[i].utf8);
    std::istringstream v(vec);
    for (int j = 0; j < 4; ++j) {
      std::string x;
      v >> x;
      CHECK(std::strtof(x.c_str(), nullptr) == c.f32()[i * 4 + j]);  // %.9g reads back exactly
    }
    CHECK(std::count(vec.begin(), vec.end(), ' ') == 3);
  }
  CHECK_FALSE(std::getline(in, line));
}

TEST_CASE("export --format bin writes the documented little-endian layout, byte for byte") {
  Trained& t = trained();
  test::TempDir out("serve_bin");
  auto p = test::run(two_tower_exe() + " export --model " + t.model + " --to " + out.file("e.bin") + " --format bin --data " +
                     t.data);
  INFO(p.output);
  REQUIRE(p.status == 0);
  Embeddings e;
  Tensor c = e.candidates();
  // "DGEMB001", u64 rows, u64 dims, rows x (i64 id, f32[dims]), rows x (u32 length, UTF-8 title).
  std::string want = "DGEMB001";
  auto put_le = [&](uint64_t v, int bytes) {
    for (int b = 0; b < bytes; ++b) want += static_cast<char>((v >> (8 * b)) & 0xFF);
  };
  put_le(6, 8);
  put_le(4, 8);
  for (size_t i = 0; i < kMovies.size(); ++i) {
    put_le(static_cast<uint64_t>(kMovies[i].id), 8);
    for (int j = 0; j < 4; ++j) put_le(std::bit_cast<uint32_t>(c.f32()[i * 4 + j]), 4);
  }
  for (const auto& m : kMovies) {
    put_le(m.utf8.size(), 4);
    want += m.utf8;
  }
  std::string got = test::read_text(out.file("e.bin"));
  CHECK(got.size() == 8 + 16 + 6 * (8 + 16) + 6 * 4 + 12 + 17 + 16 + 18 + 14 + 16);
  CHECK(got == want);

  p = test::run(two_tower_exe() + " export --model " + t.model + " --to " + out.file("e.x") + " --format csv --data " + t.data);
  CHECK(p.status == 2);
  CHECK(p.output.find("--format: expected tsv, bin or npy, got 'csv'") != std::string::npos);
}

TEST_CASE("export --format npy writes candidate and query vectors with their ids as .npy arrays") {
  Trained& t = trained();
  test::TempDir out("serve_npy");
  auto p = test::run(two_tower_exe() + " export --model " + t.model + " --to " + out.file("arrays") + " --format npy --data " +
                     t.data);
  INFO(p.output);
  REQUIRE(p.status == 0);
  Embeddings e;
  Tensor c = e.candidates();
  const std::string vec = test::read_text(out.file("arrays/candidate_vectors.npy"));
  NpyHeader h = parse_npy_header(vec);
  REQUIRE(h.shape == Shape{6, 4});
  CHECK(std::memcmp(vec.data() + h.data_offset, c.f32(), 24 * sizeof(float)) == 0);
  const std::string ids = test::read_text(out.file("arrays/candidate_ids.npy"));
  h = parse_npy_header(ids);
  REQUIRE(h.shape == Shape{6});
  int64_t id0 = 0;
  std::memcpy(&id0, ids.data() + h.data_offset, 8);
  CHECK(id0 == kMovies[0].id);
  // Query side: user 1 (the first id) at their latest rating time, as recommend scores it.
  const std::string users = test::read_text(out.file("arrays/query_user_ids.npy"));
  h = parse_npy_header(users);
  int64_t user0 = 0;
  std::memcpy(&user0, users.data() + h.data_offset, 8);
  CHECK(user0 == 1);
  const std::string q = test::read_text(out.file("arrays/query_vectors.npy"));
  h = parse_npy_header(q);
  REQUIRE(h.shape.size() == 2);
  CHECK(h.shape[1] == 4);
  const std::map<int, double> want = scores_for("1", 300);  // user 1's latest rating time
  float qv[4];
  std::memcpy(qv, q.data() + h.data_offset, sizeof qv);
  for (size_t i = 0; i < kMovies.size(); ++i) {
    double acc = 0;
    for (int j = 0; j < 4; ++j) acc += static_cast<double>(c.f32()[i * 4 + j]) * qv[j];
    CHECK(acc == doctest::Approx(want.at(kMovies[i].id)));
  }
}

TEST_CASE("movielens_two_tower train --jobs 2: each run its own one-thread process, the same as one at a time") {
  test::TempDir d("jobs");
  d.write("data/u.item", items_file());
  d.write("data/u.data", ratings_file());
  // Two configurations of our own, read from DAGRAD_EXPERIMENTS as the real ones are.
  const std::string model = "inputs: {user_id: string, timestamp: int, movie_title: string, movie_id: int}\n"
                            "layers:\n"
                            "  user_index: {type: StringLookup, input: user_id}\n"
                            "  query: {type: Embedding, input: user_index, output_dim: 4}\n"
                            "  title_index: {type: StringLookup, input: movie_title, adapt: candidates}\n"
                            "  title_vec: {type: Embedding, input: title_index, output_dim: 4}\n"
                            "  candidate: {type: Dense, input: title_vec, units: UNITS}\n"
                            "task: {type: Retrieval, query: query, candidate: candidate, candidate_id: movie_id}\n";
  auto with_units = [&](const std::string& name, const std::string& units) {
    std::string m = "name: " + name + "\n" + model;
    m.replace(m.find("UNITS"), 5, units);
    return m;
  };
  d.write("exp/towers_a.yaml", with_units("a", "4"));
  d.write("exp/towers_b.yaml", with_units("b", "4"));
  d.write("exp/train.yaml", "data: {source: movielens, verify: false, split: {seed: 1, test: 0.25}}\n"
                            "fit: {seed: 1, epochs: 3, batch_size: 4, progress: lines, optimizer: {type: Adagrad, learning_rate: 0.1}}\n");
  const std::string env = "DAGRAD_EXPERIMENTS=" + d.file("exp") + " ";
  const std::string common = " train --configs a,b --seeds 2 --data " + d.file("data");
  auto p = test::run(env + two_tower_exe() + common + " --jobs 2 --out " + d.file("par") + " --results " + d.file("par_res"));
  REQUIRE_MESSAGE(p.status == 0, p.output);
  CHECK(test::contains(p.output, "(1 thread, log " + d.file("par/a/seed_2.log") + ")"));
  p = test::run(env + two_tower_exe() + common + " --threads 1 --out " + d.file("seq") + " --results " + d.file("seq_res"));
  REQUIRE_MESSAGE(p.status == 0, p.output);
  for (const char* run : {"a/seed_1", "a/seed_2", "b/seed_1", "b/seed_2"}) {
    CAPTURE(run);
    // One thread each way, same seeds: the same history to the bit, but for the seconds.
    CHECK(test::history_but_seconds(d.file(std::string("par/") + run)) ==
          test::history_but_seconds(d.file(std::string("seq/") + run)));
    CHECK(test::contains(test::read_text(d.file(std::string("par/") + run + ".log")), "epoch 3/3"));
  }
  CHECK(std::filesystem::exists(d.file("par_res/results.md")));
  // A run that fails: the others are not started, the exit status and the error are the run's.
  p = test::run(env + two_tower_exe() + common + " --jobs 2 --set fit.epochs=0 --out " + d.file("bad") + " --results " +
                d.file("bad_res"));
  CHECK(p.status == 2);
  CHECK_MESSAGE(test::contains(p.output, "failed (exit 2)"), p.output);
  CHECK(test::contains(p.output, "fit.epochs: expected an integer > 0"));
  CHECK(!std::filesystem::exists(d.file("bad/b")));
  CHECK(!std::filesystem::exists(d.file("bad_res")));
}
