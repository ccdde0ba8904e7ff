// The registry holds every op the sources define, and every op passes the gradient check.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "autodiff/gradcheck.hpp"
#include "graph/op.hpp"

using namespace dagrad;

namespace {

// Op names registered in the source files under ops/ (read from the source tree at test time,
// so an op file missing from meson.build, or dropped by the linker, is caught).
std::set<std::string> ops_in_sources() {
  std::set<std::string> names;
  std::regex reg(R"(DAGRAD_REGISTER_OP\(\s*\w+\s*,\s*"([^"]+)\")");
  for (const auto& e : std::filesystem::directory_iterator(std::string(DAGRAD_SOURCE_DIR) + "/ops")) {
    if (e.path().extension() != ".cpp") continue;
    std::ifstream f(e.path());
    std::stringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    for (std::sregex_iterator it(text.begin(), text.end(), reg), end; it != end; ++it) names.insert((*it)[1]);
  }
  return names;
}

}  // namespace

TEST_CASE("every op defined in ops/ is registered") {
  auto defined = ops_in_sources();
  CHECK(defined.size() >= 4);
  for (const auto& name : defined) {
    INFO("op " << name);
    CHECK(OpRegistry::instance().contains(name));
  }
  CHECK(OpRegistry::instance().names().size() == defined.size());
}

TEST_CASE("unknown op names list the registered ones") {
  try {
    OpRegistry::instance().get("MatMull");
    FAIL("no error");
  } catch (const UserError& e) {
    std::string m = e.what();
    CHECK(m.find("unknown op 'MatMull'; did you mean 'MatMul'?") != std::string::npos);
    CHECK(m.find("MatMul") != std::string::npos);
    CHECK(m.find("Relu") != std::string::npos);
  }
}

TEST_CASE("unknown attributes are rejected with the known ones") {
  try {
    OpRegistry::instance().make("MatMul", {{"transpose_c", true}});
    FAIL("no error");
  } catch (const UserError& e) {
    std::string m = e.what();
    CHECK(m.find("transpose_c") != std::string::npos);
    CHECK(m.find("transpose_a") != std::string::npos);
  }
}

TEST_CASE("every registered op passes the gradient check on every sample") {
  for (const auto& name : OpRegistry::instance().names()) {
    auto results = check_op(name);
    CHECK_MESSAGE(!results.empty(), name);
    for (const auto& r : results) {
      INFO(r.label << ": " << r.failure);
      CHECK(r.ok);
      CHECK(r.checked > 0);
    }
  }
}

TEST_CASE("a registry: exact names, a duplicate is an error at start-up, a miss suggests and lists") {
  struct Thing {
    std::string name, description;
    Schema schema;
  };
  Registry<Thing> r("widget");
  CHECK(r.add({"Alpha", "first", {}}));
  CHECK(r.add({"Beta", "second", {}}));
  CHECK(r.find("alpha") == nullptr);  // exact: case matters
  CHECK(r.get("Alpha").description == "first");
  CHECK(r.unknown("alpah") == "unknown widget 'alpah'; did you mean 'Alpha'? (widgets: Alpha, Beta)");
  CHECK_THROWS_WITH_AS(r.get("Gamma"), "unknown widget 'Gamma' (widgets: Alpha, Beta)", UserError);
  // A second 'Alpha' is not added, and the next check (every program's first step) names it.
  CHECK_NOTHROW(check_registrations());
  CHECK_FALSE(r.add({"Alpha", "again", {}}));
  CHECK(r.get("Alpha").description == "first");
  CHECK_THROWS_WITH_AS(check_registrations(), "registry: two widgets are registered as 'Alpha' (each name may be registered once)",
                       UserError);
  CHECK_NOTHROW(check_registrations());  // reported once
}

TEST_CASE("code compiled against another ABI version registers nothing, and the check names it") {
  CHECK(abi_version() == DAGRAD_ABI_VERSION);
  CHECK(abi_matches(DAGRAD_ABI_VERSION, "op", "Fine"));
  CHECK_NOTHROW(check_registrations());
  // What DAGRAD_REGISTER_OP expands to in a plugin built against older headers.
  [[maybe_unused]] const bool registered =
      abi_matches(DAGRAD_ABI_VERSION - 1, "op", "Stale") && OpRegistry::instance().add({"Stale", "", {}, nullptr, nullptr});
  CHECK_FALSE(registered);
  CHECK_FALSE(OpRegistry::instance().contains("Stale"));
  const std::string expected = "op 'Stale' was compiled against dagrad's headers of ABI version " +
                               std::to_string(DAGRAD_ABI_VERSION - 1) + ", and this program's dagrad has ABI version " +
                               std::to_string(DAGRAD_ABI_VERSION) + ": rebuild it against the installed headers";
  CHECK_THROWS_WITH_AS(check_registrations(), doctest::Contains(expected.c_str()), UserError);
  CHECK_NOTHROW(check_registrations());
}
