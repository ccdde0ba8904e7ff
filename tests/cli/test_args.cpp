// cli/args.hpp (over Boost.Program_options): the syntax every dagrad program accepts, and the
// errors it gives, each a UserError naming the flag.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/args.hpp"
#include "graph/error.hpp"

using dagrad::UserError;
using dagrad::cli::Args;

namespace {

// argv for `prog ARGS...`.
struct Argv {
  explicit Argv(std::vector<std::string> a) : words(std::move(a)) {
    words.insert(words.begin(), "prog");
    for (auto& w : words) ptrs.push_back(w.data());
  }
  int argc() const { return static_cast<int>(ptrs.size()); }
  char** argv() { return ptrs.data(); }
  std::vector<std::string> words;
  std::vector<char*> ptrs;
};

Args parse(std::vector<std::string> words) {
  Argv a(std::move(words));
  return Args(a.argc(), a.argv(), {"train", "set", "threads", "timestamp"}, {"resume", "verbose,v"});
}

}  // namespace

TEST_CASE("Args: positionals, values in both spellings, repeats, switches and aliases") {
  Args a = parse({"model.yaml", "--train", "t.yaml", "--set=a=1", "--set", "b=2", "extra", "--resume", "-v",
                  "--timestamp", "-5"});
  CHECK(a.positional() == std::vector<std::string>{"model.yaml", "extra"});
  CHECK(a.get("train") == "t.yaml");
  CHECK(a.all("set") == std::vector<std::string>{"a=1", "b=2"});
  CHECK(a.get("set") == "b=2");  // the last one given
  CHECK(a.has("resume"));
  CHECK(a.has("verbose"));
  CHECK(a.get_int("timestamp", 0, INT64_MIN) == -5);  // a value may start with '-'
  CHECK_FALSE(a.has("threads"));
  CHECK(a.get("threads", "def") == "def");
  CHECK(a.get_int("threads", 7, 1) == 7);
  CHECK(a.all("threads").empty());
  CHECK_FALSE(a.help());
  CHECK(parse({"-h"}).help());
  CHECK(parse({"x", "--help"}).help());
  // "--" ends the options: what follows is positional.
  CHECK(parse({"--", "--resume", "-v"}).positional() == std::vector<std::string>{"--resume", "-v"});
}

TEST_CASE("Args: bad command lines are UserErrors naming the flag") {
  CHECK_THROWS_WITH_AS(parse({"--epochs", "3"}),
                       "unknown option --epochs (known: --train, --set, --threads, --timestamp, --resume, --verbose, --help)",
                       UserError);
  CHECK_THROWS_WITH_AS(parse({"--thr", "3"}), doctest::Contains("unknown option --thr "), UserError);  // no abbreviations
  CHECK_THROWS_WITH_AS(parse({"-x"}), doctest::Contains("unknown option -x "), UserError);
  CHECK_THROWS_WITH_AS(parse({"a", "--train"}), "--train needs a value", UserError);
  CHECK_THROWS_WITH_AS(parse({"--train="}), "--train needs a value", UserError);
  CHECK_THROWS_WITH_AS(parse({"--resume=yes"}), "--resume takes no value", UserError);
  CHECK_THROWS_WITH_AS(parse({"--threads", "many"}).get_int("threads", 1, 1),
                       "--threads: expected a whole number >= 1, got 'many'", UserError);
  CHECK_THROWS_WITH_AS(parse({"--threads", "0"}).get_int("threads", 1, 1),
                       "--threads: expected a whole number >= 1, got '0'", UserError);
  CHECK_THROWS_WITH_AS(parse({"--threads", "2x"}).get_int("threads", 1, 1),
                       "--threads: expected a whole number >= 1, got '2x'", UserError);
  CHECK(parse({"--threads", "2.5"}).get_double("threads", 1, 0) == 2.5);
  CHECK_THROWS_WITH_AS(parse({"--threads", "0"}).get_double("threads", 1, 0), "--threads: expected a number > 0, got '0'",
                       UserError);
  CHECK_THROWS_WITH_AS(parse({"--threads", "nan"}).get_double("threads", 1, 0),
                       "--threads: expected a number > 0, got 'nan'", UserError);
  CHECK_THROWS_WITH_AS(dagrad::cli::parse_int("REPEATS", "", 1), "REPEATS: expected a whole number >= 1, got ''", UserError);
}
