// The catalogue of hostile input (issue 16), through the real binaries: YAML that expands without
// bound or refers to itself, nesting past the limit, files that are not regular files (a FIFO
// would hang a reader, /dev/zero never ends), outputs that are not regular files, a second run
// into a folder in use, a model name that is a path, a thread count past the bound; and runs that
// would otherwise do something else than asked: a checkpoint outside the run or of another model,
// --resume with nothing to resume, evaluate over the training summary or with --set model.*, an
// output folder through a symbolic link, a 10 MB MovieLens title, an empty --configs, a report over
// damaged histories, tensors whose total passes the memory limit. Each case
// checks the exit status (2, never a signal or a hang), the message (the file, node or flag and the
// limit), and that nothing was written. Every command runs under a time limit (a hang is killed:
// status 137) and, outside the sanitizer build, an address-space limit of 4 GiB (an unbounded
// allocation fails there instead of taking the machine).
#include <doctest/doctest.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <variant>

#include "graph/limits.hpp"
#include "models/io/archive.hpp"
#include "reliability/reliability_util.hpp"

using namespace dagrad;
using test::check_error;
using test::dagrad_cmd;
using test::FastTempDir;
using test::replace;

namespace {

// `command` bounded in time and (outside ASan, which reserves terabytes of address space) memory.
test::Proc bounded(const std::string& command) {
#if defined(__SANITIZE_ADDRESS__)
  const std::string limit;
#else
  const std::string limit = "ulimit -v 4194304; ";
#endif
  const auto t0 = std::chrono::steady_clock::now();
  test::Proc p = test::run(limit + "exec timeout -s KILL 60 /bin/sh -c " + test::sh(command));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK_MESSAGE(seconds < 30, "took " << seconds << " s: " << command);
  return p;
}

std::string fit_cmd(const FastTempDir& d, const std::string& model = "model.yaml", const std::string& extra = "") {
  return dagrad_cmd("fit " + test::sh(d.file(model)) + " --train " + test::sh(d.file("train.yaml")) + " --out " +
                    test::sh(d.file("out")) + extra);
}

// "Billion laughs": `levels` anchors, each a list of ten aliases of the one before; 10^levels
// values once expanded, from a few hundred bytes.
std::string laughs(int levels, bool flow) {
  std::string s = flow ? "[&l0 [x, x, x, x, x, x, x, x, x, x]" : "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < levels; ++i) {
    const std::string prev = "*l" + std::to_string(i - 1);
    std::string list = "&l" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) list += (k ? ", " : "") + prev;
    list += "]";
    s += flow ? ", " + list : "l" + std::to_string(i) + ": " + list + "\n";
  }
  return flow ? s + "]" : s;
}

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

void make_fifo(const std::string& path) { REQUIRE(::mkfifo(path.c_str(), 0644) == 0); }

bool is_fifo(const std::string& path) {
  struct stat st{};
  return ::lstat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

}  // namespace

TEST_SUITE_BEGIN("reliability");

TEST_CASE("YAML that refers to itself or expands without bound: exit 2 naming the file and the limit") {
  FastTempDir d("yaml_hostile");
  test::write_retrieval_problem(d, 6, 6, 4, 1);
  const std::string model = test::read_text(d.file("model.yaml")), train = test::read_text(d.file("train.yaml"));
  struct Case {
    const char* name;
    std::string model_text, train_text, extra;
    std::vector<std::string> expect;
  };
  const std::string values = std::to_string(limits::kConfigValues);
  std::vector<Case> cases = {
      {"a self-referencing alias in the model file", model + "extra: &x\n  b: *x\n", train, "",
       {"model.yaml:12:", "extra.b: this alias is inside the value its anchor names"}},
      {"a self-referencing alias in the training file", model, replace(train, "fit:\n", "fit: &f\n  again: *f\n"), "",
       {"train.yaml:", "fit.again: this alias is inside the value its anchor names"}},
      {"a self-referencing alias in a --set value", model, train, " --set 'fit.seed=&x [*x]'",
       {"--set fit.seed=&x [*x]", "inside the value its anchor names"}},
      {"billion laughs in the model file", model + laughs(10, false), train, "",
       {"model.yaml:", "more than " + values + " values", "aliases expanded"}},
      {"billion laughs in the training file", model, train + laughs(10, false), "",
       {"train.yaml:", "more than " + values + " values"}},
      {"billion laughs in a --set value", model, train, " --set 'fit.laughs=" + laughs(10, true) + "'",
       {"--set fit.laughs=", "more than " + values + " values"}},
      {"lists nested 200 deep in the training file", model, replace(train, "fit:\n", "fit:\n  deep: " + nested(200) + "\n"),
       "", {"train.yaml:", "nested more than 64 deep"}},
      {"lists nested 100000 deep in the model file", model + "deep: " + nested(100000) + "\n", train, "",
       {"model.yaml:", "nested more than 64 deep"}},
      {"lists nested 5000 deep in a --set value", model, train, " --set 'fit.deep=" + nested(5000) + "'",
       {"--set fit.deep=", "nested more than 64 deep"}},
      // Found by fuzz_set: a key that is not UTF-8 was kept, and to_yaml wrote another key.
      {"a --set key path that is not UTF-8", model, train, " --set 'model.task.m\xe5trics.top_k=[1]'",
       {"--set task.m", "the key path is not UTF-8 text: byte 0xE5 at column 7"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    d.write("model.yaml", c.model_text);
    d.write("train.yaml", c.train_text);
    check_error(bounded(fit_cmd(d, "model.yaml", c.extra)), 2, c.expect);
    CHECK(!std::filesystem::exists(d.file("out")));
  }
}

TEST_CASE("the model file stored in a model archive is held to the same limits") {
  FastTempDir d("yaml_archive");
  test::write_retrieval_problem(d, 6, 6, 4, 1);
  struct Stored {
    std::string name, text, part;
  };
  for (const Stored& c : std::vector<Stored>{
           {"self.dagrad", "name: x\nextra: &x\n  b: *x\n", "inside the value its anchor names"},
           {"laughs.dagrad", "name: x\n" + laughs(10, false), "more than " + std::to_string(limits::kConfigValues) + " values"},
           {"deep.dagrad", "name: x\ndeep: " + nested(100000) + "\n", "nested more than 64 deep"}}) {
    const std::string& name = c.name;
    const std::string& text = c.text;
    const std::string& part = c.part;
    CAPTURE(name);
    ArchiveWriter w;
    w.put_text("model/config", text);
    w.save(d.file(name));
    check_error(bounded(dagrad_cmd("evaluate " + test::sh(d.file(name)) + " --train " + test::sh(d.file("train.yaml")) +
                                   " --out " + test::sh(d.file("eval")))),
                2, {d.file(name) + " (its stored model file)", part});
    CHECK(!std::filesystem::exists(d.file("eval")));
  }
}

TEST_CASE("a FIFO, a device or a directory as an include, model file or data file is refused at once") {
  FastTempDir d("not_regular");
  test::write_retrieval_problem(d, 6, 6, 4, 1);
  const std::string model = test::read_text(d.file("model.yaml")), train = test::read_text(d.file("train.yaml"));
  make_fifo(d.file("pipe"));
  std::filesystem::create_directories(d.file("folder"));
  d.write("big.yaml", "# " + std::string(limits::kConfigFileBytes, 'x') + "\nfit: {epochs: 1}\n");
  SUBCASE("includes") {
    for (const auto& target_part : std::vector<std::pair<std::string, std::string>>{
             {d.file("pipe"), "is a FIFO (named pipe), not a regular file"},
             {"/dev/zero", "is a character device, not a regular file"},
             {d.file("folder"), "it is a directory"},
             {d.file("big.yaml"), "bytes, more than the 1 MiB a YAML file may have"}}) {
      const std::string& target = target_part.first;
      const std::string& part = target_part.second;
      CAPTURE(target);
      d.write("train.yaml", "include: " + target + "\n" + train);
      check_error(bounded(fit_cmd(d)), 2, {"train.yaml:1:", "include: cannot read '" + target + "'", part});
      CHECK(!std::filesystem::exists(d.file("out")));
    }
  }
  SUBCASE("the model file of fit and of evaluate") {
    check_error(bounded(fit_cmd(d, "pipe")), 2, {d.file("pipe"), "FIFO (named pipe)"});
    check_error(bounded(dagrad_cmd("evaluate " + test::sh(d.file("pipe")) + " --train " + test::sh(d.file("train.yaml")) +
                                   " --out " + test::sh(d.file("eval")))),
                2, {d.file("pipe"), "is a FIFO (named pipe), not a regular file"});
    check_error(bounded(dagrad_cmd("evaluate /dev/zero --train " + test::sh(d.file("train.yaml")) + " --out " +
                                   test::sh(d.file("eval")))),
                2, {"/dev/zero", "is a character device, not a regular file"});
    CHECK(!std::filesystem::exists(d.file("out")));
    CHECK(!std::filesystem::exists(d.file("eval")));
  }
  SUBCASE("a CSV data file") {
    std::filesystem::rename(d.file("items.csv"), d.file("items_real.csv"));
    make_fifo(d.file("items.csv"));
    check_error(bounded(fit_cmd(d)), 2, {d.file("items.csv"), "is a FIFO (named pipe), not a regular file", "CSV file"});
    CHECK(!std::filesystem::exists(d.file("out")));
  }
  SUBCASE("a MovieLens data file") {
    d.write("ml/u.item", "1|Toy Story (1995)|01-Jan-1995||http://example.org/1|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n");
    make_fifo(d.file("ml/u.data"));
    d.write("train.yaml", "data:\n  source: movielens\n  verify: false\n  split: {seed: 1, test: 0.25}\n" +
                              train.substr(train.find("fit:")));
    check_error(bounded(fit_cmd(d, "model.yaml", " --data " + test::sh(d.file("ml")))), 2,
                {d.file("ml") + "/u.data", "is a FIFO (named pipe), not a regular file"});
    CHECK(!std::filesystem::exists(d.file("out")));
  }
}

TEST_CASE("export --to a FIFO, a symbolic link or a missing folder is refused, the target untouched") {
  FastTempDir d("export_to");
  make_fifo(d.file("pipe"));
  d.write("real.tsv", "the user's file\n");
  std::filesystem::create_symlink(d.file("real.tsv"), d.file("link.tsv"));
  // --to is checked first: the model named here need not exist.
  auto export_to = [&](const std::string& to) {
    return bounded(test::movielens_exe() + " export --model " + test::sh(d.file("none.dagrad")) + " --to " + test::sh(to));
  };
  check_error(export_to(d.file("pipe")), 2, {d.file("pipe"), "is a FIFO (named pipe); dagrad replaces only regular files"});
  CHECK(is_fifo(d.file("pipe")));
  check_error(export_to(d.file("link.tsv")), 2, {d.file("link.tsv"), "is a symbolic link (to " + d.file("real.tsv") + ")"});
  CHECK(std::filesystem::is_symlink(d.file("link.tsv")));
  CHECK(test::read_text(d.file("real.tsv")) == "the user's file\n");
  check_error(export_to(d.str()), 2, {d.str(), "is a directory"});
  check_error(export_to(d.file("no/such/folder/x.tsv")), 2, {"the folder " + d.file("no/such/folder") + " does not exist"});
}

TEST_CASE("fit leaves a user's own *.tmp.<digits> files alone, and clears only its own dead temporaries") {
  FastTempDir d("user_tmp");
  test::write_retrieval_problem(d, 6, 6, 4, 1);
  d.write("out/notes.tmp.999999999", "mine");
  d.write("out/data.csv.tmp.1", "mine too");
  d.write("out/checkpoint.dagrad.dagrad-tmp.999999999", "left by a killed run");
  auto p = bounded(fit_cmd(d));
  REQUIRE_MESSAGE(p.status == 0, p.output);
  CHECK(test::read_text(d.file("out/notes.tmp.999999999")) == "mine");
  CHECK(test::read_text(d.file("out/data.csv.tmp.1")) == "mine too");
  CHECK(!std::filesystem::exists(d.file("out/checkpoint.dagrad.dagrad-tmp.999999999")));
  CHECK(test::contains(p.output, "removed 1 temporary file"));
}

TEST_CASE("a second run into an output folder in use is refused naming the holder, the folder untouched") {
  FastTempDir d("locked");
  test::write_retrieval_problem(d, 6, 6, 4, 1);
  auto first = bounded(fit_cmd(d));
  REQUIRE_MESSAGE(first.status == 0, first.output);
  const auto before = test::snapshot(d.file("out"));
  // This process stands for the run that holds the folder.
  const int fd = ::open(d.file("out").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  check_error(bounded(fit_cmd(d)), 2,
              {"output directory " + d.file("out") + ": another run is writing into it, process " + std::to_string(::getpid()),
               "choose another --out"});
  check_error(bounded(fit_cmd(d, "model.yaml", " --resume")), 2, {"another run is writing into it"});
  // evaluate writes summary.json into the model's folder: not while a run holds it.
  check_error(bounded(dagrad_cmd("evaluate " + test::sh(d.file("out/model.dagrad")) + " --train " + test::sh(d.file("train.yaml")))),
              2, {"another run is writing into it"});
  CHECK(test::snapshot(d.file("out")) == before);
  ::close(fd);
  auto again = bounded(fit_cmd(d));
  CHECK_MESSAGE(again.status == 0, again.output);
}

TEST_CASE("two fits started together into one folder: one trains, the other is refused") {
  FastTempDir d("race");
  // 400 epochs, about 1 s: the second starts while the first runs. (At 20 epochs, 56 ms, a loaded
  // machine once started the second after the first had finished, and both trained.)
  test::write_retrieval_problem(d, 6, 6, 4, 400);
  std::filesystem::create_directories(d.file("out"));
  test::Child a({"/bin/sh", "-c", fit_cmd(d)}, d.file("a.log"));
  test::Child b({"/bin/sh", "-c", fit_cmd(d)}, d.file("b.log"));
  const int sa = a.wait(), sb = b.wait();
  INFO(test::read_text(d.file("a.log")) << "\n---\n" << test::read_text(d.file("b.log")));
  CHECK(((sa == 0 && sb == 2) || (sa == 2 && sb == 0)));
  CHECK(test::contains(test::read_text(d.file(sa == 2 ? "a.log" : "b.log")), "another run is writing into it"));
}

TEST_CASE("a run refused or failing before its first write leaves an existing run folder byte for byte") {
  FastTempDir d("keep_run");
  test::write_retrieval_problem(d, 12, 12, 8, 2, "  checkpoint_every: 1\n");
  auto first = bounded(fit_cmd(d));
  REQUIRE_MESSAGE(first.status == 0, first.output);
  const auto before = test::snapshot(d.file("out"));
  REQUIRE(before.count("config.yaml"));
  SUBCASE("resuming with another optimizer") {
    auto p = bounded(fit_cmd(d, "model.yaml", " --resume --set fit.epochs=3 --set fit.optimizer.type=Adam"));
    CHECK_MESSAGE(p.status == 2, p.output);
  }
  SUBCASE("resuming into a loss that turns infinite") {
    check_error(bounded(fit_cmd(d, "model.yaml", " --resume --set fit.epochs=4 --set fit.optimizer.learning_rate=1e38")), 1,
                {"training stopped:"});
  }
  SUBCASE("a new run whose loss turns infinite at once") {
    check_error(bounded(fit_cmd(d, "model.yaml", " --set fit.optimizer.learning_rate=1e38")), 1, {"training stopped:"});
  }
  CHECK(test::snapshot(d.file("out")) == before);
  CHECK(test::temporaries(d.file("out")).empty());
}

TEST_CASE("a model name that is a path is refused before anything is written") {
  FastTempDir d("name_path");
  test::write_retrieval_problem(d, 6, 6, 4, 1);
  std::filesystem::create_directories(d.file("work"));
  for (const std::string name : {"../../x", "a/b", "..", "/tmp/x"}) {
    CAPTURE(name);
    // Without --out the folder would be out/NAME under the working directory.
    auto p = bounded("cd " + test::sh(d.file("work")) + " && " + test::dagrad_exe() + " fit " + test::sh(d.file("model.yaml")) +
                     " --train " + test::sh(d.file("train.yaml")) + " --threads 1 --set model.name=" + test::sh(name));
    check_error(p, 2, {"--set name=" + name, "cannot be a model's name", "out/NAME"});
  }
  d.write("model2.yaml", replace(test::read_text(d.file("model.yaml")), "name: synthetic", "name: ../escape"));
  check_error(bounded(fit_cmd(d, "model2.yaml")), 2, {"model2.yaml:1:", "'../escape' cannot be a model's name"});
  CHECK(std::filesystem::is_empty(d.file("work")));
  CHECK(!std::filesystem::exists(d.file("escape")));
  CHECK(!std::filesystem::exists(d.file("out")));
}

TEST_CASE("sizes that overflow or exceed the memory limit are refused naming the layer or the task") {
  FastTempDir d("sizes");
  test::write_retrieval_problem(d, 6, 6, 4, 1);
  const std::string describe = test::dagrad_exe() + " describe " + test::sh(d.file("model.yaml")) + " --train " +
                               test::sh(d.file("train.yaml")) + " --threads 1";
  // 2^62: the element count overflows (describe reported 0 parameters).
  check_error(bounded(describe + " --set model.layers.user_vec.output_dim=4611686018427387904"), 2,
              {"model.yaml:5:", "layer 'user_vec': a tensor of shape [7, 4611686018427387904] needs more bytes than a 64-bit count holds"});
  // 10^8 columns of 7 rows: 2.6 GiB, past a 256 MiB limit (was "out of memory" naming nothing).
  check_error(bounded("DAGRAD_MEMORY_LIMIT=256M " + describe + " --set model.layers.user_vec.output_dim=100000000"), 2,
              {"layer 'user_vec': a tensor of shape [7, 100000000] needs 2.6 GiB, more than the memory limit of 256 MiB"});
  check_error(bounded(describe + " --set 'model.task.sampling_correction={type: streaming, buckets: 4611686018427387904}'"), 2,
              {"model.yaml:10:", "task: a tensor of shape [1, 4611686018427387904] needs more bytes than a 64-bit count holds"});
  check_error(bounded("DAGRAD_MEMORY_LIMIT=lots " + describe), 2, {"DAGRAD_MEMORY_LIMIT: expected a number of bytes"});
  check_error(bounded(fit_cmd(d, "model.yaml", " --set model.layers.item_vec.output_dim=4611686018427387904")), 2,
              {"layer 'item_vec'", "needs more bytes than a 64-bit count holds"});
  CHECK(!std::filesystem::exists(d.file("out")));
}

TEST_CASE("a thread count past the bound is refused with exit 2, from the flag and the environment") {
  FastTempDir d("threads");
  test::write_retrieval_problem(d, 6, 6, 4, 1);
  const std::string base = test::dagrad_exe() + " fit " + test::sh(d.file("model.yaml")) + " --train " +
                           test::sh(d.file("train.yaml")) + " --out " + test::sh(d.file("out"));
  check_error(bounded(base + " --threads 100000"), 2, {"--threads: expected a number of threads from 1 to 512, got 100000"});
  check_error(bounded(base + " --threads 4294967297"), 2, {"--threads", "got 4294967297"});
  check_error(bounded("DAGRAD_THREADS=100000 " + base), 2, {"DAGRAD_THREADS: expected a number of threads from 1 to 512"});
  check_error(bounded("DAGRAD_THREADS=99999999999999999999 " + base), 2, {"DAGRAD_THREADS: expected a positive integer"});
  CHECK(!std::filesystem::exists(d.file("out")));
}

// ---- runs that must be refused rather than do something else than asked (issue 16) ----

namespace {

// The entries of a checkpoint rewritten with `key` set to an integer or a number.
void rewrite_entry(const std::string& path, const std::string& key, std::variant<int64_t, double> value) {
  ArchiveReader r(path);
  ArchiveWriter w;
  for (const std::string& name : r.names()) {
    if (name == key) {
      if (std::holds_alternative<int64_t>(value)) w.put_int(name, std::get<int64_t>(value));
      else w.put_double(name, std::get<double>(value));
      continue;
    }
    try { w.put_tensor(name, r.tensor(name)); continue; } catch (const UserError&) {}
    try { w.put_strings(name, r.strings(name)); continue; } catch (const UserError&) {}
    try { w.put_text(name, r.text(name)); continue; } catch (const UserError&) {}
    try { w.put_int(name, r.integer(name)); continue; } catch (const UserError&) {}
    w.put_double(name, r.number(name));
  }
  w.save(path);
}

std::string evaluate_cmd(const FastTempDir& d, const std::string& model, const std::string& extra = "") {
  return dagrad_cmd("evaluate " + test::sh(model) + " --train " + test::sh(d.file("train.yaml")) + extra);
}

}  // namespace

TEST_CASE("a checkpoint whose position or counts lie outside the run: exit 2 naming the entry, the folder untouched") {
  FastTempDir d("ck_position");
  test::write_retrieval_problem(d, 12, 12, 8, 2, "  checkpoint_every: 1\n");
  REQUIRE(bounded(fit_cmd(d)).status == 0);
  const std::string ck = d.file("out/checkpoint.dagrad");
  const std::string good = test::read_text(ck);
  struct Case {
    std::string key;
    std::variant<int64_t, double> value;
    std::string expect;
  };
  // 96 training rows at batch 32: 3 batches an epoch; the resume asks for 4 epochs.
  for (const Case& c : std::vector<Case>{
           {"fit/epoch", int64_t{-1}, "entry 'fit/epoch' is -1; expected 0 to 4 (this run's fit.epochs is 4"},
           {"fit/epoch", int64_t{1000000000000}, "entry 'fit/epoch' is 1000000000000; expected 0 to 4"},
           {"fit/batch", int64_t{-1}, "entry 'fit/batch' is -1; expected 0 to 2 (an epoch of this run has 3 batches of 32 rows)"},
           {"fit/batch", int64_t{1000000000000}, "entry 'fit/batch' is 1000000000000; expected 0 to 2"},
           {"optimizer/iterations", int64_t{-5}, "entry 'optimizer/iterations' is -5"},
           {"fit/epoch_examples", int64_t{-3}, "entry 'fit/epoch_examples' is -3"},
           {"fit/seconds", -1.0, "entry 'fit/seconds' is -1"},
           {"fit/epoch_loss_mean", std::nan(""), "entry 'fit/epoch_loss_mean' is not finite"}}) {
    CAPTURE(c.key);
    d.write("out/checkpoint.dagrad", good);
    rewrite_entry(ck, c.key, c.value);
    const auto before = test::snapshot(d.file("out"));
    check_error(bounded(fit_cmd(d, "model.yaml", " --resume --set fit.epochs=4")), 2, {ck + ": " + c.expect});
    CHECK(test::snapshot(d.file("out")) == before);
  }
  // A checkpoint of a finished run resumed with fewer epochs than it has done.
  d.write("out/checkpoint.dagrad", good);
  check_error(bounded(fit_cmd(d, "model.yaml", " --resume --set fit.epochs=1")), 2,
              {"entry 'fit/epoch' is 2; expected 0 to 1 (this run's fit.epochs is 1; raise it to train further)"});
}

TEST_CASE("resuming another model's checkpoint, or with no checkpoint, is refused: exit 2, nothing written") {
  FastTempDir d("ck_other");
  test::write_retrieval_problem(d, 12, 12, 8, 2, "  checkpoint_every: 1\n");
  REQUIRE(bounded(fit_cmd(d)).status == 0);
  const auto before = test::snapshot(d.file("out"));
  const std::string ck = d.file("out/checkpoint.dagrad");
  // The same layers and sizes (the parameters load) under another name, with other metrics, or with
  // another activation: another model.
  check_error(bounded(fit_cmd(d, "model.yaml", " --resume --set fit.epochs=3 --set model.name=other")), 2,
              {ck + ": written for another model than " + d.file("model.yaml"), "name: 'other' in the model file, 'synthetic' in the checkpoint's"});
  check_error(bounded(fit_cmd(d, "model.yaml", " --resume --set fit.epochs=3 --set 'model.task.metrics.top_k=[1, 3]'")), 2,
              {"written for another model", "task.metrics.top_k"});
  check_error(bounded(fit_cmd(d, "model.yaml", " --resume --set fit.epochs=3 --set model.layers.query.activation=relu")), 2,
              {"written for another model", "layers.query.activation: in the model file, not in the checkpoint's"});
  CHECK(test::snapshot(d.file("out")) == before);
  // --resume where there is nothing to resume: an empty folder, a folder that does not exist.
  std::filesystem::create_directories(d.file("empty"));
  for (const std::string& out : {d.file("empty"), d.file("absent")}) {
    CAPTURE(out);
    check_error(bounded(dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) +
                                   " --out " + test::sh(out) + " --resume")),
                2, {"--resume: " + out + "/checkpoint.dagrad does not exist", "leave out --resume to start a new run"});
  }
  CHECK(std::filesystem::is_empty(d.file("empty")));
  CHECK(!std::filesystem::exists(d.file("absent")));
  // The same model resumes.
  auto ok = bounded(fit_cmd(d, "model.yaml", " --resume --set fit.epochs=3"));
  CHECK_MESSAGE(ok.status == 0, ok.output);
}

TEST_CASE("evaluate keeps the training summary, refuses --set model.* and an empty split, nothing written") {
  FastTempDir d("evaluate_keeps");
  test::write_retrieval_problem(d, 12, 12, 8, 1);
  REQUIRE(bounded(fit_cmd(d)).status == 0);
  const std::string model = d.file("out/model.dagrad");
  const auto trained = test::snapshot(d.file("out"));
  check_error(bounded(evaluate_cmd(d, model, " --set model.layers.query.units=4")), 2,
              {"--set model.layers.query.units=4: evaluate uses the model stored in " + model, "cannot be changed"});
  check_error(bounded(evaluate_cmd(d, model, " --set model.name=x")), 2, {"--set model.name=x"});
  check_error(bounded(evaluate_cmd(d, model, " --on validation")), 2,
              {"--on validation: the validation split", "has no rows, so there is nothing to evaluate"});
  CHECK(test::snapshot(d.file("out")) == trained);
  // By default its own file beside the model; the training run's summary.json byte for byte.
  auto e = bounded(evaluate_cmd(d, model));
  REQUIRE_MESSAGE(e.status == 0, e.output);
  auto after = test::snapshot(d.file("out"));
  CHECK(after.at("summary.json") == trained.at("summary.json"));
  REQUIRE(after.count("evaluation_test.json"));
  CHECK(test::contains(e.output, test::read_text(d.file("out/evaluation_test.json")).substr(0, 20)));
  after.erase("evaluation_test.json");
  CHECK(after == trained);
}

TEST_CASE("--out or --results through a symbolic link is refused naming the link, the target untouched") {
  FastTempDir d("out_link");
  test::write_retrieval_problem(d, 6, 6, 4, 1);
  d.write("target/keep.txt", "the user's\n");
  std::filesystem::create_directory_symlink(d.file("target"), d.file("link"));
  const auto before = test::snapshot(d.file("target"));
  const std::string fit = dagrad_cmd("fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")));
  for (const std::string& out : {d.file("link"), d.file("link") + "/"}) {
    CAPTURE(out);
    check_error(bounded(fit + " --out " + test::sh(out)), 2,
                {"output directory " + out + ": is a symbolic link (to " + d.file("target") + "); give the folder itself"});
  }
  REQUIRE(bounded(fit_cmd(d)).status == 0);
  check_error(bounded(evaluate_cmd(d, d.file("out/model.dagrad"), " --out " + test::sh(d.file("link")))), 2,
              {"output directory " + d.file("link") + ": is a symbolic link"});
  const std::string ml = test::movielens_exe() + " report --configs 32 --seeds 1 --threads 1";
  check_error(bounded(ml + " --out " + test::sh(d.file("link")) + " --results " + test::sh(d.file("res")) ), 2,
              {"--out " + d.file("link") + ": is a symbolic link (to " + d.file("target") + ")"});
  check_error(bounded(ml + " --out " + test::sh(d.file("out")) + " --results " + test::sh(d.file("link"))), 2,
              {"--results " + d.file("link") + ": is a symbolic link"});
  CHECK(test::snapshot(d.file("target")) == before);
  CHECK(!std::filesystem::exists(d.file("res")));
}

TEST_CASE("a 10 MB MovieLens title is refused at its line within bounded memory") {
  FastTempDir d("ml_title");
  test::write_retrieval_problem(d, 6, 6, 4, 1);
  std::string genres;
  for (int g = 0; g < 19; ++g) genres += g == 3 ? "|1" : "|0";
  d.write("ml/u.item", "1|Toy Story (1995)|01-Jan-1995||http://example.org/1" + genres + "\n2|" + std::string(10 << 20, 't') +
                           "|01-Jan-1995||http://example.org/2" + genres + "\n");
  std::string ratings;
  for (int u = 1; u <= 50; ++u) ratings += std::to_string(u) + "\t" + std::to_string(1 + u % 2) + "\t4\t88000000" + std::to_string(u % 10) + "\n";
  d.write("ml/u.data", ratings);
  d.write("ml.yaml", "data:\n  source: movielens\n  verify: false\n  split: {seed: 1, test: 0.25}\n"
                     "fit: {epochs: 1, batch_size: 4, optimizer: {type: Adagrad, learning_rate: 0.1}, progress: none}\n");
  d.write("mlmodel.yaml", "name: tiny\ninputs: {user_id: string, movie_title: string, movie_id: int}\nlayers:\n"
                          "  user_index: {type: StringLookup, input: user_id}\n"
                          "  user_vec: {type: Embedding, input: user_index, output_dim: 4}\n"
                          "  title_index: {type: StringLookup, input: movie_title, adapt: candidates}\n"
                          "  title_vec: {type: Embedding, input: title_index, output_dim: 4}\n"
                          "task: {type: Retrieval, query: user_vec, candidate: title_vec, candidate_id: movie_id}\n");
  const std::string fit = dagrad_cmd("fit " + test::sh(d.file("mlmodel.yaml")) + " --train " + test::sh(d.file("ml.yaml")) +
                                     " --data " + test::sh(d.file("ml")) + " --out " + test::sh(d.file("out")));
  check_error(bounded(fit), 2, {d.file("ml") + "/u.item:2: a line of 10.0 MiB, more than the 4 KiB a MovieLens line may have"});
  // Skipping bad rows skips it (and says so), in bounded memory too.
  auto skipped = bounded(fit + " --set data.skip_bad_rows=true");
  CHECK_MESSAGE(skipped.status == 0, skipped.output);
  CHECK(test::contains(skipped.output, "a line of 10.0 MiB"));
}

TEST_CASE("movielens_two_tower: no configuration, or a report over a damaged history: exit 2, results byte for byte") {
  FastTempDir d("ml_report");
  d.write("exp/towers_tiny.yaml", "name: tiny\n");  // report only looks the configuration up
  d.write("exp/train.yaml", "fit: {epochs: 1}\n");
  const std::string env = "DAGRAD_EXPERIMENTS=" + test::sh(d.file("exp")) + " ";
  std::string row = "{\"epoch\": 1";
  for (int k : {1, 5, 10, 50, 100}) row += ", \"test_factorized_top_k/top_" + std::to_string(k) + "_categorical_accuracy\": 0." + std::to_string(k);
  row += ", \"seconds\": 2}";
  const std::string good = "{\"rows\": [" + row + "]}\n";
  d.write("out/tiny/seed_1/history.json", good);
  d.write("out/tiny/seed_2/history.json", good);
  const std::string report = env + test::movielens_exe() + " report --configs tiny --seeds 2 --threads 1 --out " +
                             test::sh(d.file("out")) + " --results " + test::sh(d.file("results"));
  auto first = bounded(report);
  REQUIRE_MESSAGE(first.status == 0, first.output);
  const auto results = test::snapshot(d.file("results"));
  REQUIRE(results.count("results.md"));
  REQUIRE(results.count("top_100.svg"));
  const std::string h2 = d.file("out/tiny/seed_2/history.json");
  check_error(bounded(env + test::movielens_exe() + " train --configs '' --threads 1 --out " + test::sh(d.file("out")) +
                      " --results " + test::sh(d.file("results"))),
              2, {"--configs '': no configuration named"});
  check_error(bounded(env + test::movielens_exe() + " report --configs , --out " + test::sh(d.file("out")) + " --results " +
                      test::sh(d.file("results"))),
              2, {"no configuration named"});
  struct Damage {
    const char* name;
    std::function<void()> apply;
    std::string expect;
  };
  for (const Damage& c : std::vector<Damage>{
           {"truncated", [&] { d.write("out/tiny/seed_2/history.json", good.substr(0, good.size() / 2)); }, h2 + ": not a dagrad history"},
           {"not rows", [&] { d.write("out/tiny/seed_2/history.json", "[1, 2]\n"); }, h2 + ": not a dagrad history (expected {\"rows\": [...]})"},
           {"no evaluation", [&] { d.write("out/tiny/seed_2/history.json", "{\"rows\": []}\n"); }, h2 + ": holds no evaluation row"},
           {"a text value", [&] { d.write("out/tiny/seed_2/history.json", "{\"rows\": [{\"epoch\": \"one\"}]}\n"); },
            h2 + ": not a dagrad history ('epoch' is not a number or null)"},
           {"a FIFO", [&] { std::filesystem::remove(h2); make_fifo(h2); }, h2 + ": is a FIFO (named pipe), not a regular file"}}) {
    CAPTURE(c.name);
    std::filesystem::remove(h2);
    d.write("out/tiny/seed_2/history.json", good);
    c.apply();
    check_error(bounded(report), 2, {c.expect});
    CHECK(test::snapshot(d.file("results")) == results);
  }
  // No run has a history (a run without one is reported as missing, but a report of nothing
  // would replace the results with a table of "missing").
  std::filesystem::remove_all(d.file("out/tiny"));
  check_error(bounded(report), 2, {"report: none of the runs has a history", "nothing to report"});
  CHECK(test::snapshot(d.file("results")) == results);
}

TEST_CASE("the memory limit bounds the total of the tensors, not each one alone") {
  FastTempDir d("memory_total");
  test::write_retrieval_problem(d, 6, 6, 4, 1);
  // Two towers of a 7 x 1,000,000 table (26.7 MiB) and a 1,000,000 x 4 kernel (15.3 MiB) under a
  // limit of 64 MiB: one tower fits, each tensor fits, the two do not.
  const std::string describe = "DAGRAD_MEMORY_LIMIT=64M " + test::dagrad_exe() + " describe " + test::sh(d.file("model.yaml")) +
                               " --train " + test::sh(d.file("train.yaml")) + " --threads 1";
  check_error(bounded(describe + " --set model.layers.user_vec.output_dim=1000000 --set model.layers.item_vec.output_dim=1000000"), 2,
              {"model.yaml:", "layer '", "would bring the tensors in memory to", "more than the memory limit of 64 MiB"});
  auto one = bounded(describe + " --set model.layers.user_vec.output_dim=1000000");
  CHECK_MESSAGE(one.status == 0, one.output);
}

TEST_SUITE_END();
