// models/data/sources/csv.cpp: side tables joined by key (a MovieLens "latest-small"-shaped dataset
// written here, invented rows), the item table as the candidate set, and the join's errors at
// their YAML nodes.
#include <doctest/doctest.h>

#include "models/model.hpp"

#include "config/config.hpp"
#include "models/data/dataset.hpp"
#include "test_util.hpp"

using namespace dagrad;

namespace {

// ratings.csv (userId, movieId, rating, timestamp), movies.csv (movieId, title, genres) and
// users.csv (userId, age): the shape of MovieLens latest-small plus a user table.
void write_tables(const test::TempDir& d) {
  d.write("ratings.csv", "userId,movieId,rating,timestamp\n1,10,4.0,100\n2,20,3.5,200\n1,30,5.0,300\n3,10,2.0,400\n");
  d.write("movies.csv",
          "movieId,title,genres\n10,Alpha (1999),Action|Sci-Fi\n20,Beta (2001),Comedy\n30,Gamma (2010),Drama|Romance\n"
          "40,Delta (2020),Horror\n");
  d.write("users.csv", "userId,age\n1,31\n2,45\n3,19\n");
}

const char* kData = R"(source: csv
interactions: ratings.csv
columns: {userId: int, movieId: int, rating: float, timestamp: int}
join:
  - {file: movies.csv, on: movieId, columns: {movieId: int, title: string, genres: string}, candidates: true}
  - {file: users.csv, on: userId, columns: {userId: int, age: int}}
)";

DataTables load_csv(const test::TempDir& d, const std::string& text) {
  DataTables t;
  load_data(parse_config(text, d.file("train.yaml")), d.str(), t);
  return t;
}

std::string csv_error(const test::TempDir& d, const std::string& from, const std::string& to) {
  std::string text = kData;
  text.replace(text.find(from), from.size(), to);
  try {
    load_csv(d, text);
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("csv join: items and users joined onto each rating by key; the item table is the candidate set") {
  test::TempDir d("csv_join");
  write_tables(d);
  DataTables t = load_csv(d, kData);
  const Table& i = t.interactions;
  REQUIRE(i.rows() == 4);
  CHECK(i.ints("movieId") == IntColumn{10, 20, 30, 10});
  CHECK(i.strings("title") == StringColumn{"Alpha (1999)", "Beta (2001)", "Gamma (2010)", "Alpha (1999)"});
  CHECK(i.strings("genres") == StringColumn{"Action|Sci-Fi", "Comedy", "Drama|Romance", "Action|Sci-Fi"});
  CHECK(i.ints("age") == IntColumn{31, 45, 31, 19});
  CHECK(i.floats("rating") == FloatColumn{4.0f, 3.5f, 5.0f, 2.0f});
  // Every movie is a candidate, rated or not.
  CHECK(t.candidates.rows() == 4);
  CHECK(t.candidates.strings("title")[3] == "Delta (2020)");
  CHECK_FALSE(t.candidates.has("age"));
}

TEST_CASE("csv join: a key the side table lacks is an error at `on`, or dropped and counted") {
  test::TempDir d("csv_join_missing");
  write_tables(d);
  d.write("users.csv", "userId,age\n1,31\n2,45\n");
  std::string e = csv_error(d, "{file: users.csv, on: userId,", "{file: users.csv, on: userId,");
  CHECK(test::contains(e, "train.yaml:6:"));
  CHECK(test::contains(e, "1 interaction(s) have a key 'userId' that"));
  CHECK(test::contains(e, "(the first: '3')"));
  CHECK(test::contains(e, "missing: drop"));
  std::string text = kData;
  text.replace(text.find("on: userId,"), 11, "on: userId, missing: drop,");
  DataTables t = load_csv(d, text);
  CHECK(t.interactions.rows() == 3);
  CHECK(t.interactions.ints("userId") == IntColumn{1, 2, 1});
}

TEST_CASE("csv join errors: key types, unknown key columns, repeated keys, clashing columns") {
  test::TempDir d("csv_join_errors");
  write_tables(d);
  std::string e = csv_error(d, "columns: {userId: int, age: int}", "columns: {userId: string, age: int}");
  CHECK(test::contains(e, "'userId' is int in the interactions but string in"));
  e = csv_error(d, "on: userId,", "on: user,");
  CHECK(test::contains(e, "the key column 'user' is not among the columns read from"));
  e = csv_error(d, "{file: users.csv, on: userId, columns: {userId: int, age: int}}",
               "{file: users.csv, on: userI, columns: {userI: int, age: int}}");
  CHECK(test::contains(e, "users.csv:1: no column 'userI' in the header"));
  d.write("movies2.csv", "movieId,title,genres\n10,A,x\n10,B,y\n20,C,z\n30,D,w\n");
  e = csv_error(d, "file: movies.csv", "file: movies2.csv");
  CHECK(test::contains(e, "key '10' appears twice"));
  d.write("users2.csv", "userId,rating\n1,1\n2,2\n3,3\n");
  e = csv_error(d, "{file: users.csv, on: userId, columns: {userId: int, age: int}}",
               "{file: users2.csv, on: userId, columns: {userId: int, rating: int}}");
  CHECK(test::contains(e, "column 'rating' of"));
  CHECK(test::contains(e, "is already a column of the interactions"));
  e = csv_error(d, "on: userId,", "on: userId, candidates: true,");
  CHECK(test::contains(e, "the candidates are already given"));
}

TEST_CASE("a latest-small-shaped dataset trains a two-tower model with title, genre and user features, YAML only") {
  test::TempDir d("latest_small");
  // 24 users of two tastes, 12 movies of two kinds; each user rates the 6 movies of their kind.
  std::string ratings = "userId,movieId,rating,timestamp\n", movies = "movieId,title,genres\n", users = "userId,age\n";
  for (int m = 0; m < 12; ++m)
    movies += std::to_string(100 + m) + "," + (m < 6 ? "Space Film " : "Love Story ") + std::to_string(m) + " (20" +
              std::to_string(10 + m) + ")," + (m < 6 ? "Action|Sci-Fi" : m < 9 ? "Romance|Drama" : "Drama|Romance|Comedy") + "\n";
  for (int u = 0; u < 24; ++u) {
    users += std::to_string(u + 1) + "," + std::to_string(u < 12 ? 20 + u : 50 + u) + "\n";
    for (int k = 0; k < 6; ++k)
      ratings += std::to_string(u + 1) + "," + std::to_string(100 + (u < 12 ? k : 6 + k)) + ",4.5," +
                 std::to_string(1000 + u * 10 + k) + "\n";
  }
  d.write("ratings.csv", ratings);
  d.write("movies.csv", movies);
  d.write("users.csv", users);
  d.write("train.yaml", std::string("data:\n") + R"(  source: csv
  interactions: ratings.csv
  columns: {userId: int, movieId: int, rating: float, timestamp: int}
  join:
    - {file: movies.csv, on: movieId, columns: {movieId: int, title: string, genres: string}, candidates: true}
    - {file: users.csv, on: userId, columns: {userId: int, age: int}}
  split: {seed: 1, test: 0.2}
fit: {seed: 1, epochs: 30, batch_size: 16, optimizer: {type: Adagrad, learning_rate: 0.3}, validate_every: 30, progress: none}
)");
  d.write("model.yaml", R"(name: latest_small
inputs: {userId: int, age: int, title: string, genres: string, movieId: int}
layers:
  user_index: {type: IntegerLookup, input: userId}
  user_vec: {type: Embedding, input: user_index, output_dim: 8}
  age_bucket: {type: Discretization, input: age, boundaries: [30, 45]}
  age_vec: {type: Embedding, input: age_bucket, output_dim: 8}
  query: {type: MLP, input: user_features, units: [8]}
  user_features: {type: Concat, inputs: [user_vec, age_vec]}
  title_words: {type: TextVectorization, input: title, max_tokens: 100, adapt: candidates}
  title_word_vecs: {type: Embedding, input: title_words, output_dim: 8, mask_zero: true}
  title_vec: {type: MaskedMean, input: title_word_vecs, mask: title_words}
  genre_ids: {type: TextVectorization, input: genres, split: "|", adapt: candidates}   # multi-valued
  genre_vec: {type: EmbeddingBag, input: genre_ids, output_dim: 8, combiner: mean}
  candidate: {type: MLP, input: movie_features, units: [8]}
  movie_features: {type: Concat, inputs: [title_vec, genre_vec]}
task: {type: Retrieval, query: query, candidate: candidate, candidate_id: movieId, metrics: {top_k: [6]}}
)");
  auto p = test::run(test::dagrad_exe() + " fit " + d.file("model.yaml") + " --train " + d.file("train.yaml") + " --out " +
                     d.file("out"));
  REQUIRE_MESSAGE(p.status == 0, p.output);
  // Each user's test movies are among the 6 of their kind: a model that learned the tastes puts
  // them in its top 6 of 12 (chance: 0.5).
  const std::string summary = test::read_text(d.file("out/summary.json"));
  INFO(summary);
  const size_t at = summary.find("top_6_categorical_accuracy\":");
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(summary.substr(at + 28)) > 0.9);

  // The model file holds the candidate set (the columns its candidate tower reads, and the id) and
  // their vectors, so that serving reads no training data.
  auto model = Model::load(d.file("out/model.dagrad"));
  const Table& cands = model->serving_candidates();
  REQUIRE(cands.rows() == 12);
  CHECK(cands.column_names() == std::vector<std::string>{"genres", "movieId", "title"});
  CHECK(cands.ints("movieId")[3] == 103);
  CHECK(cands.strings("genres")[0] == "Action|Sci-Fi");
  const Tensor& vectors = model->candidate_vectors();
  REQUIRE(vectors.shape() == Shape{12, 8});
  const Tensor again = model->predict(cands, model->task().retrieval()->candidate_node(), 5);
  CHECK(std::vector<float>(vectors.f32(), vectors.f32() + vectors.size()) ==
        std::vector<float>(again.f32(), again.f32() + again.size()));
}
