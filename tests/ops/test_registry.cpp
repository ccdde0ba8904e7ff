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
    OpRegistry::instance().find("MatMull");
    FAIL("no error");
  } catch (const UserError& e) {
    std::string m = e.what();
    CHECK(m.find("unknown op 'MatMull'") != std::string::npos);
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
