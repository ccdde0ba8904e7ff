// The catalogue of bad input, run through the real binaries (dagrad fit and movielens_two_tower):
// broken data files (MovieLens and CSV) and bad command-line values. Each case checks the message
// (file, line and field, what was expected), the exit status (2 for bad input, never a signal) and
// that no output is left behind. Damaged checkpoints and failures at run time are catalogued in
// test_bad_files.cpp, broken YAML files in tests/cli/test_fit_errors.cpp.
#include <doctest/doctest.h>

#include <functional>

#include "reliability/reliability_util.hpp"

using namespace dagrad;
using test::check_error;
using test::dagrad_cmd;
using test::FastTempDir;
using test::replace;

namespace {

// ---- MovieLens-format data ----

std::string genre_lists(int on) {
  std::string g;
  for (int i = 0; i < 19; ++i) g += std::string("|") + (i == on ? "1" : "0");
  return g;
}

std::string bad_item_line(int id, const std::string& title) {
  return std::to_string(id) + "|" + title + "|01-Jan-1995||http://example.org/" + std::to_string(id) + genre_lists(id % 19);
}

// Four movies and twelve ratings of three users: u.item and u.data as GroupLens lays them out.
const std::string kItems = bad_item_line(1, "Toy Story (1995)") + "\n" + bad_item_line(2, "GoldenEye (1995)") + "\n" +
                           bad_item_line(3, "Four Rooms (1995)") + "\n" + bad_item_line(4, "Get Shorty (1995)") + "\n";
const std::string kRatingsCsv =
    "1\t1\t5\t874965758\n1\t2\t3\t876893171\n1\t3\t4\t878542960\n1\t4\t3\t876893119\n"
    "2\t1\t4\t888550871\n2\t2\t3\t888551001\n2\t3\t2\t888551104\n2\t4\t1\t888551290\n"
    "3\t1\t2\t889237269\n3\t2\t5\t889237455\n3\t3\t3\t889237638\n3\t4\t4\t889237757\n";

const char* kMlModel = R"(name: tiny_movielens
inputs: {user_id: string, movie_title: string, movie_id: int}
layers:
  user_index: {type: StringLookup, input: user_id}
  user_vec: {type: Embedding, input: user_index, output_dim: 4}
  query: {type: Dense, input: user_vec, units: 4}
  title_index: {type: StringLookup, input: movie_title, adapt: candidates}
  title_vec: {type: Embedding, input: title_index, output_dim: 4}
  candidate: {type: Dense, input: title_vec, units: 4}
task: {type: Retrieval, query: query, candidate: candidate, candidate_id: movie_id}
)";

std::string ml_train(const std::string& data_extra = "") {
  return "data:\n  source: movielens\n  verify: false\n" + data_extra +
         "  split: {seed: 1, test: 0.25}\n"
         "fit: {seed: 1, epochs: 1, batch_size: 4, optimizer: {type: Adagrad, learning_rate: 0.1}, progress: none}\n";
}

struct DataCase {
  const char* name;
  std::function<void(const FastTempDir&)> damage;  // writes the broken files into data/
  int status;
  std::vector<std::string> expect;
  std::string data_extra = "";  // lines for the training file's data map
};

}  // namespace

TEST_SUITE_BEGIN("reliability");

TEST_CASE("bad MovieLens data through dagrad fit: file and line named, exit 2, no output") {
  auto both = [](std::string items, std::string data) {
    return [items, data](const FastTempDir& d) {
      d.write("data/u.item", items);
      d.write("data/u.data", data);
    };
  };
  const std::string k = kItems, r = kRatingsCsv;
  std::vector<DataCase> cases = {
      {"missing u.item", [](const FastTempDir& d) { d.write("data/u.data", kRatingsCsv); }, 2, {"u.item", "no such file"}},
      {"missing u.data", [](const FastTempDir& d) { d.write("data/u.item", kItems); }, 2,
       {"MovieLens 100k not found", "has no u.data", "get_movielens.sh"}},
      {"empty u.data", both(k, ""), 2, {"u.data: the file is empty", "4 tab-separated fields"}},
      {"empty u.item", both("", r), 2, {"u.item: the file is empty", "24 '|'-separated fields"}},
      {"truncated last line", both(k, r + "3\t1"), 2, {"u.data:13:", "has 2 fields, expected 4", "truncated?"}},
      {"non-numeric field", both(k, replace(r, "2\t3\t2\t888551104", "2\t3\tgood\t888551104")), 2,
       {"u.data:7:", "field 3 (rating)", "not a digit"}},
      {"rating out of range", both(k, replace(r, "2\t3\t2\t888551104", "2\t3\t7\t888551104")), 2,
       {"u.data:7:", "field 3 (rating)", "expected an integer 1..5", "'7'"}},
      {"wrong number of fields in u.data", both(k, replace(r, "1\t3\t4\t878542960", "1\t3\t4\t878542960\t9")), 2,
       {"u.data:3:", "has 5 fields, expected 4"}},
      {"wrong number of fields in u.item", both(replace(k, "|01-Jan-1995||http://example.org/3", "|http://example.org/3"), r), 2,
       {"u.item:3:", "has 22 fields, expected 24"}},
      {"movie id not in u.item", both(k, replace(r, "3\t2\t5\t889237455", "3\t9\t5\t889237455")), 2,
       {"u.data:10:", "field 2 (item id)", "movie id 9 is not in u.item (4 movies)"}},
      {"C1 byte in u.item (re-encoded file)", both(replace(k, "Four Rooms", "Four\x85Rooms"), r), 2,
       {"u.item:3:", "field 2 (title)", "byte 0x85", "not a latin-1 character"}},
      {"non-ASCII byte in u.data", both(k, replace(r, "3\t3\t3\t889237638", "3\t3\t3\t88923\xE9" "7638")), 2,
       {"u.data:11:", "field 4 (timestamp)", "byte 0xE9", "not ASCII"}},
      {"Windows line endings", both(k, replace(r, "1\t2\t3\t876893171\n", "1\t2\t3\t876893171\r\n")), 2,
       {"u.data:2:", "carriage return"}},
      {"every row bad even when skipping", both(k, "x\ty\n1\t2\n"), 2, {"u.data: no usable row", "skipped 2 bad rows"},
       "  skip_bad_rows: true\n"},
      {"files that are not ml-100k, verified", both(k, r), 2, {"failed verification", "u.data: SHA-256 mismatch"},
       "  verify: true\n"},
  };
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      FastTempDir d("ml_data");
      c.damage(d);
      std::string train = ml_train(c.data_extra);
      if (!c.data_extra.empty() && c.data_extra.find("verify") != std::string::npos)
        train = replace(train, "  verify: false\n", "");
      d.write("model.yaml", kMlModel);
      d.write("train.yaml", train);
      auto p = test::run(dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) +
                                    " --data " + test::sh(d.file("data")) + " --out " + test::sh(d.file("out"))));
      INFO(c.name);
      check_error(p, c.status, c.expect);
      CHECK(!std::filesystem::exists(d.file("out")));
    }
  }
}

TEST_CASE("MovieLens skip_bad_rows: bad rows are left out and counted, training goes on") {
  FastTempDir d("ml_skip");
  std::string data = replace(kRatingsCsv, "2\t3\t2\t888551104", "2\t3\tgood\t888551104");
  data = replace(data, "3\t2\t5\t889237455", "3\t9\t5\t889237455");
  d.write("data/u.item", kItems);
  d.write("data/u.data", data);
  d.write("model.yaml", kMlModel);
  d.write("train.yaml", ml_train("  skip_bad_rows: true\n"));
  auto p = test::run(dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) +
                                " --data " + test::sh(d.file("data")) + " --out " + test::sh(d.file("out"))));
  check_error(p, 0, {"skipped 2 bad rows", "u.data:7: field 3 (rating)", "u.data:10: field 2 (item id)"});
  CHECK(std::filesystem::exists(d.file("out/model.dagrad")));
}

TEST_CASE("movielens_two_tower: bad data and bad flags exit 2 naming what is wrong") {
  FastTempDir d("ml_exe");
  d.write("data/u.item", kItems);
  d.write("data/u.data", kRatingsCsv + "3\t1");
  // The experiment's own files, pointed at by DAGRAD_EXPERIMENTS: the tiny model as a configuration.
  d.write("exp/towers_tiny.yaml", kMlModel);
  d.write("exp/train.yaml", ml_train());
  const std::string env = "DAGRAD_EXPERIMENTS=" + test::sh(d.file("exp")) + " ";
  const std::string base = env + test::movielens_exe() + " train --configs tiny --seeds 1 --threads 1 --out " +
                           test::sh(d.file("out")) + " --results " + test::sh(d.file("results"));
  SUBCASE("truncated u.data") {
    check_error(test::run(base + " --data " + test::sh(d.file("data"))), 2, {"u.data:13:", "has 2 fields, expected 4", "truncated?"});
    CHECK(!std::filesystem::exists(d.file("out")));
    CHECK(!std::filesystem::exists(d.file("results")));
  }
  SUBCASE("no data directory") {
    check_error(test::run(base + " --data " + test::sh(d.file("nowhere"))), 2,
                {"MovieLens 100k not found", "nowhere", "from --data", "no such directory"});
  }
  SUBCASE("--seeds not a number") {
    check_error(test::run(base + " --data " + test::sh(d.file("data")) + " --seeds three"), 2,
                {"--seeds: expected a whole number >= 1, got 'three'"});
  }
  SUBCASE("recommend: a damaged model file, --k not a number") {
    d.write("good/u.item", kItems);
    d.write("good/u.data", kRatingsCsv);
    d.write("model.yaml", kMlModel);
    d.write("train.yaml", ml_train());
    REQUIRE(test::run(dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) +
                                 " --data " + test::sh(d.file("good")) + " --out " + test::sh(d.file("trained"))))
                .status == 0);
    const std::string recommend = test::movielens_exe() + " recommend --user 1 --data " + test::sh(d.file("good")) + " --model ";
    check_error(test::run(recommend + test::sh(d.file("trained/model.dagrad")) + " --k ten"), 2,
                {"--k: expected a whole number >= 1, got 'ten'"});
    d.write("bad.dagrad", test::read_text(d.file("trained/model.dagrad")).substr(0, 12));
    check_error(test::run(recommend + test::sh(d.file("bad.dagrad"))), 2, {"bad.dagrad: truncated: 12 bytes"});
    auto ok = test::run(recommend + test::sh(d.file("trained/model.dagrad")) + " --k 2");
    check_error(ok, 0, {"rank\tscore\tmovie_id\ttitle"});
  }
}

// ---- CSV-source data ----

namespace {

const char* kCsvModel = R"(name: synthetic
inputs: {user: string, item: string, item_id: int}
layers:
  user_index: {type: StringLookup, input: user}
  user_vec: {type: Embedding, input: user_index, output_dim: 8}
  query: {type: Dense, input: user_vec, units: 8}
  item_index: {type: StringLookup, input: item, adapt: candidates}
  item_vec: {type: Embedding, input: item_index, output_dim: 8}
  candidate: {type: Dense, input: item_vec, units: 8}
task: {type: Retrieval, query: query, candidate: candidate, candidate_id: item_id}
)";

std::string csv_train(const std::string& data_extra = "") {
  return "data:\n  source: csv\n  interactions: interactions.csv\n  candidates: items.csv\n"
         "  columns: {user: string, item: string, item_id: int}\n"
         "  candidate_columns: {item: string, item_id: int}\n" +
         data_extra +
         "  split: {seed: 1, test: 0.25}\n"
         "fit:\n  epochs: 1\n  batch_size: 4\n  optimizer: {type: Adagrad, learning_rate: 0.1}\n  progress: none\n";
}

const std::string kInteractions = "user,item,item_id\nu1,a,1\nu2,b,2\nu1,b,2\nu2,a,1\nu3,a,1\nu3,b,2\n";

}  // namespace

TEST_CASE("bad CSV data through dagrad fit: file, line and column named, exit 2, no output") {
  struct CsvCase {
    const char* name;
    std::string interactions;
    std::vector<std::string> expect;
  };
  const std::string i = kInteractions;
  std::vector<CsvCase> cases = {
      {"empty file", "", {"interactions.csv: empty file (expected a header row)"}},
      {"header only", "user,item,item_id\n", {"train.yaml:2:", "no interactions"}},
      {"column missing from the header", "user,item\nu1,a\n", {"interactions.csv:1: no column 'item_id'", "columns: user, item"}},
      {"column twice in the header", "user,item,item_id,user\nu1,a,1,u2\n", {"interactions.csv:1: column 'user' appears 2 times"}},
      {"truncated last line", i + "u4,b", {"interactions.csv:8: expected 3 fields, found 2", "truncated?"}},
      {"too many fields", replace(i, "u2,b,2\n", "u2,b,2,7\n"), {"interactions.csv:3: expected 3 fields, found 4"}},
      {"not an integer", replace(i, "u1,b,2\n", "u1,b,two\n"), {"interactions.csv:4: column 'item_id': expected an integer, found 'two'"}},
      {"integer out of range", replace(i, "u1,b,2\n", "u1,b,99999999999999999999\n"), {"interactions.csv:4: column 'item_id': expected an integer"}},
      {"not UTF-8", replace(i, "u3,a,1\n", "u\xE9" "3,a,1\n"), {"interactions.csv:6: column 'user': byte 0xE9", "not valid UTF-8", "iconv"}},
      {"unterminated quote", replace(i, "u2,a,1\n", "\"u2,a,1\n"), {"interactions.csv:5: unterminated quoted field"}},
  };
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      FastTempDir d("csv_data");
      d.write("interactions.csv", c.interactions);
      d.write("items.csv", "item,item_id\na,1\nb,2\n");
      d.write("model.yaml", kCsvModel);
      d.write("train.yaml", csv_train());
      auto p = test::run(dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) +
                                    " --out " + test::sh(d.file("out"))));
      INFO(c.name);
      check_error(p, 2, c.expect);
      CHECK(!std::filesystem::exists(d.file("out")));
    }
  }
}

TEST_CASE("CSV: a NaN or out-of-range float is a data error; a directory is not a file") {
  FastTempDir d("csv_float");
  d.write("points.csv", "x,y\n1,2\nnan,3\n");
  d.write("model.yaml", "name: line\ninputs: {x: float}\nlayers:\n  pred: {type: Dense, input: x, units: 1}\n"
                        "task: {type: Ranking, prediction: pred, label: y}\n");
  d.write("train.yaml", "data: {source: csv, interactions: points.csv, columns: {x: float, y: float}}\n"
                        "fit: {epochs: 1, batch_size: 2, progress: none}\n");
  const std::string fit = dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) +
                                     " --out " + test::sh(d.file("out")));
  check_error(test::run(fit), 2, {"points.csv:3: column 'x': expected a finite number, found 'nan'"});
  d.write("points.csv", "x,y\n1,2\n4e39,3\n");
  check_error(test::run(fit), 2, {"points.csv:3: column 'x': expected a number within float range", "'4e39'"});
  std::filesystem::remove(d.file("points.csv"));
  std::filesystem::create_directories(d.file("points.csv"));
  check_error(test::run(fit), 2, {"points.csv: is a directory, not a regular file; a CSV file must be a regular file"});
  CHECK(!std::filesystem::exists(d.file("out")));
}

TEST_CASE("CSV skip_bad_rows: bad rows are left out and counted, training goes on") {
  FastTempDir d("csv_skip");
  std::string inter = replace(kInteractions, "u1,b,2\n", "u1,b,two\n");
  inter = replace(inter, "u3,a,1\n", "u3,a\n");
  d.write("interactions.csv", inter);
  d.write("items.csv", "item,item_id\na,1\nb,2\n");
  d.write("model.yaml", kCsvModel);
  d.write("train.yaml", csv_train("  skip_bad_rows: true\n"));
  auto p = test::run(dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) +
                                " --out " + test::sh(d.file("out"))));
  check_error(p, 0, {"csv: skipped 2 bad rows", "interactions.csv:4: column 'item_id'", "interactions.csv:6: expected 3 fields"});
  CHECK(std::filesystem::exists(d.file("out/model.dagrad")));
}

TEST_CASE("a last batch of a single row trains (oneDNN refuses a reduction over one element)") {
  // 4 rows, 1 for test: 3 to train in batches of 2 and 1.
  FastTempDir d("batch_of_one");
  d.write("interactions.csv", "user,item,item_id\nu1,a,1\nu2,b,2\nu1,b,2\nu2,a,1\n");
  d.write("items.csv", "item,item_id\na,1\nb,2\n");
  d.write("model.yaml", kCsvModel);
  d.write("train.yaml", replace(csv_train(), "batch_size: 4", "batch_size: 2"));
  auto p = test::run(dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) +
                                " --out " + test::sh(d.file("out"))));
  check_error(p, 0, {"\"epochs\":1,"});
}

TEST_CASE("bad command-line values exit 2 naming the flag") {
  FastTempDir d("flags");
  test::write_retrieval_problem(d, 4, 4, 4, 1);
  const std::string fit = test::dagrad_exe() + " fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) +
                          " --out " + test::sh(d.file("out"));
  check_error(test::run(fit + " --threads many"), 2, {"--threads: expected a whole number >= 1, got 'many'"});
  check_error(test::run(fit + " --threads 0"), 2, {"--threads: expected a whole number >= 1, got '0'"});
  check_error(test::run(fit + " --epochs 3"), 2, {"unknown option --epochs", "--set"});
  check_error(test::run(fit + " --set fit.epochs"), 2, {"--set fit.epochs", "expected KEY.PATH=VALUE"});
  CHECK(!std::filesystem::exists(d.file("out")));
}

TEST_CASE("sharded on a layer that holds no table exits 2 naming the file, the layer and the layers that take it") {
  FastTempDir d("sharded_switch");
  test::write_retrieval_problem(d, 4, 4, 4, 1);
  const std::string fit = test::dagrad_exe() + " fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) +
                          " --out " + test::sh(d.file("out"));
  check_error(test::run(fit + " --set model.layers.query.sharded=true"), 2,
              {"--set layers.query.sharded=true", "layer 'query'", "(Embedding, EmbeddingBag)", "is a Dense layer"});
  d.write("model.yaml", test::replace(test::read_text(d.file("model.yaml")), "units: 4}", "units: 4, sharded: true}"));
  check_error(test::run(fit), 2, {"model.yaml:6", "layer 'query'", "(Embedding, EmbeddingBag)", "is a Dense layer"});
  check_error(test::run(fit + " --set model.layers.user_index.sharded=true"), 2,
              {"layer 'user_index'", "is a StringLookup preprocessing layer"});
  // Not a boolean: the schema's own check.
  check_error(test::run(fit + " --set model.layers.user_vec.sharded=rows"), 2, {"sharded", "rows"});
  CHECK(!std::filesystem::exists(d.file("out")));
}

TEST_SUITE_END();
