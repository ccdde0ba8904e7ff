// docs/tutorial.md, as written: every file it shows is written to a temporary folder and every
// command it shows runs there (build/ standing for this build), and what the text promises holds.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <vector>

#include "test_util.hpp"

using namespace dagrad;

namespace {

struct Tutorial {
  std::vector<std::pair<std::string, std::string>> files;  // name, text
  std::vector<std::string> commands;
};

// Files are fenced blocks after a line "<!-- file: NAME -->"; commands are the lines of ```sh blocks.
Tutorial parse_tutorial(const std::string& md) {
  Tutorial t;
  std::istringstream in(md);
  std::string line, pending_file;
  while (std::getline(in, line)) {
    if (line.rfind("<!-- file: ", 0) == 0) {
      pending_file = line.substr(11, line.find(" -->") - 11);
      continue;
    }
    if (line.rfind("```", 0) != 0) continue;
    const bool sh = line == "```sh";
    std::string body;
    while (std::getline(in, line) && line.rfind("```", 0) != 0) {
      if (sh && !line.empty()) t.commands.push_back(line);
      body += line + "\n";
    }
    if (!pending_file.empty()) t.files.emplace_back(pending_file, body);
    pending_file.clear();
  }
  return t;
}

}  // namespace

TEST_CASE("docs/tutorial.md runs as written") {
  const Tutorial t = parse_tutorial(test::read_text(std::string(DAGRAD_SOURCE_DIR) + "/docs/tutorial.md"));
  REQUIRE(t.files.size() == 5);
  REQUIRE(t.commands.size() == 4);
  test::TempDir d("tutorial");
  for (const auto& [name, text] : t.files) d.write(name, text);
  std::vector<std::string> outputs;
  for (std::string c : t.commands) {
    REQUIRE(c.rfind("build/", 0) == 0);
    c = std::string(DAGRAD_BUILD_DIR) + "/" + c.substr(6);
    auto p = test::run("cd " + d.str() + " && " + c);
    INFO(c);
    REQUIRE_MESSAGE(p.status == 0, p.output);
    outputs.push_back(p.output);
  }
  // What the text says: describe lists the nodes; fit's files; the test AUC reaches 1; evaluate
  // reads the archive; the experiment's report and figure.
  CHECK(test::contains(outputs[0], "parameters:"));
  for (const char* f : {"model.dagrad", "history.json", "history.csv", "summary.json", "checkpoint.dagrad", "config.yaml"})
    CHECK(std::filesystem::exists(d.file(std::string("out/likes/") + f)));
  auto auc_is_1 = [](const std::string& out) {
    return test::contains(out, "\"test_auc\":1,") || test::contains(out, "\"test_auc\":1}");
  };
  CHECK(auc_is_1(outputs[1]));
  CHECK(auc_is_1(outputs[2]));
  CHECK(test::contains(test::read_text(d.file("results/likes/results.md")), "| width_8 "));
  CHECK(std::filesystem::exists(d.file("results/likes/test_auc.png")));
  CHECK(std::filesystem::exists(d.file("results/likes/test_auc.svg")));
  CHECK(std::filesystem::exists(d.file("out/likes/width_4/seed_2/model.dagrad")));
}
