// The catalogue of damaged files and failing runs, through the real binaries (dagrad fit,
// evaluate, describe): truncated, corrupted, foreign and newer checkpoints and model files, a loss
// that turns infinite, an output folder that cannot be written, a disk that fills (ulimit -f).
// Each case checks the message (file, entry or node, what was expected), the exit status (2 bad
// input, 1 runtime failure, never a signal), and that nothing partial is left behind: no
// temporary file, and an existing good checkpoint byte for byte as it was.
#include <doctest/doctest.h>

#include <cstring>
#include <functional>

#include "models/io/archive.hpp"
#include "reliability/reliability_util.hpp"

using namespace dagrad;
using test::check_error;
using test::dagrad_cmd;
using test::FastTempDir;
using test::replace;

namespace {

// A trained run (2 epochs, a checkpoint each) in d/out, with model.yaml and train.yaml beside it.
void train_once(const FastTempDir& d, const std::string& extra = "") {
  test::write_retrieval_problem(d, 12, 12, 8, 2, "  checkpoint_every: 1\n" + extra);
  auto p = test::run(dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) +
                                " --out " + test::sh(d.file("out"))));
  REQUIRE_MESSAGE(p.status == 0, p.output);
}

std::string fit_resume(const FastTempDir& d, const std::string& extra = "") {
  return dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) + " --out " +
                    test::sh(d.file("out")) + " --resume " + extra);
}

// The archive at `path` with its format version set to `v` (the CRC is not recomputed: a newer
// version must be recognised before the checksum is read).
std::string with_version(std::string bytes, uint32_t v) {
  std::memcpy(bytes.data() + 8, &v, 4);
  return bytes;
}

std::string flip_byte(std::string bytes, size_t at) {
  bytes[at] = static_cast<char>(bytes[at] ^ 0x5A);
  return bytes;
}

}  // namespace

TEST_SUITE_BEGIN("reliability");

TEST_CASE("damaged model files through dagrad evaluate and describe: named, exit 2, nothing written") {
  FastTempDir d("model_files");
  train_once(d);
  const std::string good = test::read_text(d.file("out/model.dagrad"));
  struct FileCase {
    const char* name;
    std::string bytes;
    std::vector<std::string> expect;
  };
  std::vector<FileCase> cases = {
      {"truncated to 10 bytes", good.substr(0, 10), {"bad.dagrad: truncated: 10 bytes"}},
      {"truncated to half", good.substr(0, good.size() / 2), {"bad.dagrad: corrupted or truncated (checksum mismatch)"}},
      {"one byte corrupted", flip_byte(good, good.size() / 2), {"bad.dagrad: corrupted or truncated (checksum mismatch)"}},
      {"from a newer format version", with_version(good, kArchiveVersion + 1),
       {"bad.dagrad: written by a newer dagrad (format version " + std::to_string(kArchiveVersion + 1)}},
      {"not a dagrad file", test::read_text(d.file("model.yaml")), {"bad.dagrad: not a dagrad model or checkpoint file (bad magic)"}},
      {"empty", "", {"bad.dagrad: truncated: 0 bytes"}},
  };
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      std::string bad = d.write("bad.dagrad", c.bytes);
      INFO(c.name);
      check_error(test::run(dagrad_cmd("evaluate " + test::sh(bad) + " --train " + test::sh(d.file("train.yaml")) + " --out " +
                                       test::sh(d.file("eval")))),
                  2, c.expect);
      CHECK(!std::filesystem::exists(d.file("eval")));
      check_error(test::run(test::dagrad_exe() + " describe " + test::sh(bad)), 2, c.expect);
    }
  }
  SUBCASE("missing model file") {
    check_error(test::run(dagrad_cmd("evaluate " + test::sh(d.file("nope.dagrad")) + " --train " + test::sh(d.file("train.yaml")))), 2,
                {"nope.dagrad: cannot open"});
  }
  SUBCASE("evaluated on data without the model's columns") {
    d.write("other.csv", "person,thing\np,q\n");
    d.write("other.yaml", "data: {source: csv, interactions: other.csv, columns: {person: string, thing: string}}\n"
                          "fit: {epochs: 1, batch_size: 4, evaluate_on: test}\n");
    check_error(test::run(dagrad_cmd("evaluate " + test::sh(d.file("out/model.dagrad")) + " --train " + test::sh(d.file("other.yaml")) +
                                     " --on train --out " + test::sh(d.file("eval")))),
                2, {"has no column 'user'", "columns: person, thing"});
    CHECK(!std::filesystem::exists(d.file("eval")));
  }
}

TEST_CASE("damaged or foreign checkpoints through dagrad fit --resume: named, exit 2, the folder untouched") {
  FastTempDir d("resume_bad");
  train_once(d);
  const std::string ck = d.file("out/checkpoint.dagrad");
  const std::string good = test::read_text(ck);
  struct ResumeCase {
    const char* name;
    std::function<void()> damage;
    std::vector<std::string> expect;
  };
  // Another model: the same layer names with other sizes, or other layer names.
  FastTempDir other("resume_other");
  test::write_retrieval_problem(other, 12, 12, 4, 1, "  checkpoint_every: 1\n");
  REQUIRE(test::run(dagrad_cmd("fit " + test::sh(other.file("model.yaml")) + " --train " + test::sh(other.file("train.yaml")) +
                               " --out " + test::sh(other.file("out"))))
              .status == 0);
  const std::string narrower = test::read_text(other.file("out/checkpoint.dagrad"));
  std::vector<ResumeCase> cases = {
      {"truncated checkpoint", [&] { d.write("out/checkpoint.dagrad", good.substr(0, good.size() - 100)); },
       {"checkpoint.dagrad: corrupted or truncated (checksum mismatch)"}},
      {"corrupted checkpoint", [&] { d.write("out/checkpoint.dagrad", flip_byte(good, 200)); },
       {"checkpoint.dagrad: corrupted or truncated (checksum mismatch)"}},
      {"newer format version", [&] { d.write("out/checkpoint.dagrad", with_version(good, 7)); },
       {"checkpoint.dagrad: written by a newer dagrad (format version 7; this build reads up to 1)"}},
      {"another model: other layer sizes", [&] { d.write("out/checkpoint.dagrad", narrower); },
       {"checkpoint.dagrad: entry 'param/user_vec/embeddings' has shape [13, 4], the model expects [13, 8]"}},
      {"another model: other layer names",
       [&] { d.write("model.yaml", replace(replace(test::read_text(d.file("model.yaml")), "query: {type: Dense", "query_tower: {type: Dense"),
                                           "query: query,", "query: query_tower,")); },
       {"checkpoint.dagrad: parameters differ from model 'synthetic'", "missing in the file: query_tower/", "in the file but not in the model: query/"}},
  };
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      c.damage();
      auto before = test::snapshot(d.file("out"));
      INFO(c.name);
      check_error(test::run(fit_resume(d, "--set fit.epochs=4")), 2, c.expect);
      CHECK(test::snapshot(d.file("out")) == before);
      CHECK(test::temporaries(d.str()).empty());
    }
  }
}

// ---- run time ----

TEST_CASE("a loss that turns infinite stops training with the step and the node, exit 1, the checkpoint kept") {
  SUBCASE("a huge learning rate") {
    FastTempDir d("nan_lr");
    train_once(d);
    const std::string ck = test::read_text(d.file("out/checkpoint.dagrad"));
    auto p = test::run(fit_resume(d, "--set fit.epochs=4 --set fit.optimizer.learning_rate=1e38"));
    check_error(p, 1, {"training stopped:", "at step ", "(epoch 3, batch ", "parameter '", "a smaller learning rate may help",
                       "last good checkpoint"});
    CHECK(test::read_text(d.file("out/checkpoint.dagrad")) == ck);
    CHECK(test::temporaries(d.str()).empty());
    // The kept checkpoint still loads and evaluates.
    auto e = test::run(dagrad_cmd("evaluate " + test::sh(d.file("out/checkpoint.dagrad")) + " --train " + test::sh(d.file("train.yaml")) +
                                  " --out " + test::sh(d.file("eval"))));
    CHECK_MESSAGE(e.status == 0, e.output);
  }
  SUBCASE("an enormous value through a Normalization with a given mean and variance") {
    FastTempDir d("nan_norm");
    std::string rows = "x,y\n";
    for (int i = 0; i < 16; ++i) rows += std::to_string(i % 4) + "," + std::to_string(i % 4 * 2) + "\n";
    d.write("points.csv", rows);
    d.write("model.yaml", "name: line\ninputs: {x: float}\nlayers:\n"
                          "  x_norm: {type: Normalization, input: x, mean: 1.5, variance: 1.25}\n"
                          "  pred: {type: Dense, input: x_norm, units: 1}\n"
                          "task: {type: Ranking, prediction: pred, label: y}\n");
    d.write("train.yaml", "data: {source: csv, interactions: points.csv, columns: {x: float, y: float}}\n"
                          "fit: {epochs: 2, batch_size: 4, checkpoint_every: 1, progress: none, optimizer: {type: SGD, learning_rate: 0.01}}\n");
    const std::string fit = dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) +
                                       " --out " + test::sh(d.file("out")));
    REQUIRE(test::run(fit).status == 0);
    const std::string ck = test::read_text(d.file("out/checkpoint.dagrad"));
    // (3e38 - 1.5) / sqrt(1.25) is finite; squared in the loss it is not.
    d.write("points.csv", rows + "3e38,1\n");
    auto p = test::run(fit + " --resume --set fit.epochs=3");
    check_error(p, 1, {"training stopped: the loss is", "at step ", "(epoch 3, batch ", "first non-finite value at node '"});
    CHECK(test::read_text(d.file("out/checkpoint.dagrad")) == ck);
    CHECK(test::temporaries(d.str()).empty());
  }
}

TEST_CASE("an output folder that cannot be written is reported before training starts") {
  FastTempDir d("unwritable");
  test::write_retrieval_problem(d, 12, 12, 8, 50);
  d.write("a_file", "not a folder\n");
  const std::string fit = dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")));
  SUBCASE("below a file") {
    auto p = test::run(fit + " --out " + test::sh(d.file("a_file/out")));
    check_error(p, 2, {"output directory " + d.file("a_file/out") + ": cannot create it"});
    CHECK(p.output.find("epoch 1/") == std::string::npos);
  }
  SUBCASE("a file") {
    auto p = test::run(fit + " --out " + test::sh(d.file("a_file")));
    check_error(p, 2, {"output directory " + d.file("a_file")});
    CHECK(p.output.find("epoch 1/") == std::string::npos);
    CHECK(test::read_text(d.file("a_file")) == "not a folder\n");
  }
  SUBCASE("read-only, also when the tests run as root (as CI does)") {
    // Root writes anywhere, so as root the run drops its privileges to nobody (setpriv, util-linux)
    // for whom the folder is read-only as it is for its owner; the inputs and the binary are
    // readable by all.
    namespace fs = std::filesystem;
    fs::create_directories(d.file("ro"));
    d.write("ro/kept.txt", "kept\n");
    const auto rx = fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read | fs::perms::group_exec |
                    fs::perms::others_read | fs::perms::others_exec;
    fs::permissions(d.file("ro"), rx);
    const std::string as = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
    if (!as.empty()) REQUIRE(test::run(as + "id -u").output == "65534\n");
    auto p = test::run(as + fit + " --out " + test::sh(d.file("ro")));
    check_error(p, 2, {"output directory " + d.file("ro") + ": not writable"});
    // A sub-folder to be made in it, and dagrad evaluate's output there.
    check_error(test::run(as + fit + " --out " + test::sh(d.file("ro/sub"))), 2,
                {"output directory " + d.file("ro/sub") + ": cannot create it (" + d.file("ro") + " is not writable)"});
    fs::permissions(d.file("ro"), fs::perms::owner_all);
    CHECK(test::snapshot(d.file("ro")) == std::map<std::string, std::string>{{"kept.txt", "kept\n"}});
  }
  SUBCASE("dagrad evaluate --out below a file") {
    train_once(d);
    auto p = test::run(dagrad_cmd("evaluate " + test::sh(d.file("out/model.dagrad")) + " --train " + test::sh(d.file("train.yaml")) +
                                  " --out " + test::sh(d.file("a_file/eval"))));
    check_error(p, 2, {"output directory " + d.file("a_file/eval")});
  }
}

TEST_CASE("a disk that fills while writing (ulimit -f) never damages the previous checkpoint") {
  FastTempDir d("disk_full");
  test::write_retrieval_problem(d, 40, 40, 16, 2, "  checkpoint_every: 1\n");
  REQUIRE(test::run(dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) +
                               " --out " + test::sh(d.file("out"))))
              .status == 0);
  const std::string ck = test::read_text(d.file("out/checkpoint.dagrad"));
  REQUIRE(ck.size() > 8 * 1024);
  // bash's ulimit -f counts 1 KiB blocks: 4 KiB lets config.yaml and the history through, not a
  // checkpoint. dagrad ignores SIGXFSZ itself, so the write fails with EFBIG instead of a kill.
  auto p = test::run("bash -c " + test::sh("ulimit -f 4; exec " + fit_resume(d, "--set fit.epochs=4")));
  check_error(p, 1, {"cannot write " + d.file("out/checkpoint.dagrad"), "File too large", "is untouched"});
  CHECK(test::read_text(d.file("out/checkpoint.dagrad")) == ck);
  CHECK(test::temporaries(d.str()).empty());
  ArchiveReader still(d.file("out/checkpoint.dagrad"));
  CHECK(still.integer("fit/epoch") == 2);
  // With room again, resuming from it finishes.
  auto r = test::run(fit_resume(d, "--set fit.epochs=3"));
  CHECK_MESSAGE(r.status == 0, r.output);
  CHECK(r.output.find("resumed from " + d.file("out/checkpoint.dagrad") + " at epoch 2") != std::string::npos);
}

TEST_CASE("a disk full on the very first write leaves no file behind") {
  FastTempDir d("disk_full_first");
  test::write_retrieval_problem(d, 12, 12, 8, 2, "  checkpoint_every: 1\n");
  auto p = test::run("bash -c " + test::sh("ulimit -f 0; exec " + dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " +
                                                                             test::sh(d.file("train.yaml")) + " --out " +
                                                                             test::sh(d.file("out")))));
  check_error(p, 1, {"cannot write " + d.file("out/config.yaml"), "File too large"});
  CHECK(test::temporaries(d.str()).empty());
  CHECK(!std::filesystem::exists(d.file("out/config.yaml")));
  CHECK(!std::filesystem::exists(d.file("out/checkpoint.dagrad")));
}

TEST_SUITE_END();
