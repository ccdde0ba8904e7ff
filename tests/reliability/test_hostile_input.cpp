// The catalogue of hostile input (issue 16), through the real binaries: YAML that expands without
// bound or refers to itself, nesting past the limit, files that are not regular files (a FIFO
// would hang a reader, /dev/zero never ends), outputs that are not regular files, a second run
// into a folder in use, a model name that is a path, a thread count past the bound. Each case
// checks the exit status (2, never a signal or a hang), the message (the file, node or flag and the
// limit), and that nothing was written. Every command runs under a time limit (a hang is killed:
// status 137) and, outside the sanitizer build, an address-space limit of 4 GiB (an unbounded
// allocation fails there instead of taking the machine).
#include <doctest/doctest.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>

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
  test::write_retrieval_problem(d, 6, 6, 4, 20);  // long enough that the second starts while the first runs
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

TEST_SUITE_END();
