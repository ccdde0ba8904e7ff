// cli/cmd_export.cpp and models/io/npy.cpp: `dagrad export` writes a trained retrieval model's
// candidate vectors and ids and every weight as .npy files whose headers and values match the
// model; the .npy header format by hand; a --to that is a file is refused.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>

#include "models/io/npy.hpp"
#include "models/model.hpp"
#include "models/task.hpp"
#include "test_util.hpp"

using namespace dagrad;

TEST_CASE(".npy bytes: the version 1.0 header padded to 64 bytes, then the values") {
  Tensor t = Tensor::from({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  const std::string b = npy_bytes(t);
  CHECK(b.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
  const NpyHeader h = parse_npy_header(b);
  CHECK(h.descr == "<f4");
  CHECK(h.shape == Shape{2, 3});
  CHECK(h.data_offset % 64 == 0);
  CHECK(b.size() == h.data_offset + 24);
  CHECK(b.substr(10, h.data_offset - 10).find("'shape': (2, 3), }") != std::string::npos);
  CHECK(b[h.data_offset - 1] == '\n');
  float v[6];
  std::memcpy(v, b.data() + h.data_offset, 24);
  CHECK(v[5] == 6.0f);
  const std::string ids = npy_bytes(std::vector<int64_t>{7, -1}, {2});
  const NpyHeader hi = parse_npy_header(ids);
  CHECK(hi.descr == "<i8");
  CHECK(hi.shape == Shape{2});
  CHECK(ids.substr(10, hi.data_offset - 10).find("'shape': (2,), }") != std::string::npos);
  CHECK_THROWS_AS(parse_npy_header("not numpy"), UserError);
}

TEST_CASE("dagrad export writes the candidate vectors, their ids and every weight as .npy") {
  test::TempDir d("export");
  std::string ratings = "user,movie,rating\n", movies = "movie,title\n";
  for (int m = 0; m < 6; ++m) movies += std::to_string(10 + m) + ",Film " + std::to_string(m) + "\n";
  for (int u = 0; u < 8; ++u)
    for (int k = 0; k < 3; ++k) ratings += "u" + std::to_string(u) + "," + std::to_string(10 + (u + k) % 6) + ",4\n";
  d.write("ratings.csv", ratings);
  d.write("movies.csv", movies);
  d.write("train.yaml", "data:\n  source: csv\n  interactions: ratings.csv\n  columns: {user: string, movie: int, rating: float}\n"
                        "  join: [{file: movies.csv, on: movie, columns: {movie: int, title: string}, candidates: true}]\n"
                        "  split: {seed: 1, test: 0.25}\n"
                        "fit: {seed: 1, epochs: 2, batch_size: 8, optimizer: {type: Adagrad, learning_rate: 0.1}, progress: none}\n");
  d.write("model.yaml", "name: ex\ninputs: {user: string, title: string, movie: int}\nlayers:\n"
                        "  u: {type: StringLookup, input: user}\n  query: {type: Embedding, input: u, output_dim: 4}\n"
                        "  t: {type: StringLookup, input: title, adapt: candidates}\n"
                        "  tv: {type: Embedding, input: t, output_dim: 4}\n  candidate: {type: Dense, input: tv, units: 4}\n"
                        "task: {type: Retrieval, query: query, candidate: candidate, candidate_id: movie}\n");
  auto p = test::run(test::dagrad_exe() + " fit " + d.file("model.yaml") + " --train " + d.file("train.yaml") + " --out " +
                     d.file("out"));
  REQUIRE_MESSAGE(p.status == 0, p.output);
  p = test::run(test::dagrad_exe() + " export " + d.file("out/model.dagrad") + " --to " + d.file("arrays"));
  REQUIRE_MESSAGE(p.status == 0, p.output);
  auto m = Model::load(d.file("out/model.dagrad"));

  const std::string vec = test::read_text(d.file("arrays/candidate_vectors.npy"));
  NpyHeader h = parse_npy_header(vec);
  CHECK(h.descr == "<f4");
  REQUIRE(h.shape == Shape{6, 4});
  CHECK(std::memcmp(vec.data() + h.data_offset, m->candidate_vectors().f32(), 24 * sizeof(float)) == 0);
  const std::string ids = test::read_text(d.file("arrays/candidate_ids.npy"));
  h = parse_npy_header(ids);
  CHECK(h.descr == "<i8");
  REQUIRE(h.shape == Shape{6});
  int64_t first = 0;
  std::memcpy(&first, ids.data() + h.data_offset, 8);
  CHECK(first == m->serving_candidates().ints("movie")[0]);
  const std::string kernel = test::read_text(d.file("arrays/weights/candidate.kernel.npy"));
  h = parse_npy_header(kernel);
  REQUIRE(h.shape == Shape{4, 4});
  const Tensor& k = m->graph().param_value(m->graph().id("candidate/kernel"));
  CHECK(std::memcmp(kernel.data() + h.data_offset, k.f32(), 16 * sizeof(float)) == 0);
  CHECK(parse_npy_header(test::read_text(d.file("arrays/weights/query.embeddings.npy"))).shape == Shape{9, 4});

  // --queries: the query tower's vectors for rows of raw features, in file order, equal to predict;
  // an unknown user maps to the lookup's out-of-vocabulary row as in serving; extra columns ignored.
  d.write("queries.csv", "note,user\nx,u3\ny,u0\nz,nobody\n");
  p = test::run(test::dagrad_exe() + " export " + d.file("out/model.dagrad") + " --to " + d.file("q") + " --queries " +
                d.file("queries.csv"));
  REQUIRE_MESSAGE(p.status == 0, p.output);
  const std::string qv = test::read_text(d.file("q/query_vectors.npy"));
  h = parse_npy_header(qv);
  CHECK(h.descr == "<f4");
  REQUIRE(h.shape == Shape{3, 4});
  Table qt("q");
  qt.add("user", StringColumn{"u3", "u0", "nobody"});
  const Tensor want = m->predict(qt, m->task().retrieval()->query_node(), 16);
  CHECK(std::memcmp(qv.data() + h.data_offset, want.f32(), 12 * sizeof(float)) == 0);
  d.write("bad.csv", "title\nFilm 1\n");  // no column of the query tower
  p = test::run(test::dagrad_exe() + " export " + d.file("out/model.dagrad") + " --to " + d.file("q2") + " --queries " +
                d.file("bad.csv"));
  CHECK(p.status == 2);
  CHECK_MESSAGE(test::contains(p.output, "user"), p.output);

  // --to an existing file is refused and left alone.
  d.write("file.txt", "keep me");
  p = test::run(test::dagrad_exe() + " export " + d.file("out/model.dagrad") + " --to " + d.file("file.txt"));
  CHECK(p.status == 2);
  CHECK(test::contains(p.output, "is not a directory"));
  CHECK(test::read_text(d.file("file.txt")) == "keep me");
  // --to a symbolic link (to a folder) is refused: export never writes through a link.
  std::filesystem::create_directory(d.file("real"));
  std::filesystem::create_directory_symlink(d.file("real"), d.file("link"));
  p = test::run(test::dagrad_exe() + " export " + d.file("out/model.dagrad") + " --to " + d.file("link"));
  CHECK(p.status == 2);
  CHECK(test::contains(p.output, "is a symbolic link"));
  CHECK(std::filesystem::is_empty(d.file("real")));
}
