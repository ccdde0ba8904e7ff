// graph/dnnl_context: every dagrad program starts with prefer_passive_omp_wait, which runs the
// program again with OMP_WAIT_POLICY=PASSIVE unless the environment chose a wait policy.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "graph/dnnl_context.hpp"
#include "test_util.hpp"

using namespace dagrad;

TEST_CASE("prefer_passive_omp_wait: the program runs again with OMP_WAIT_POLICY=PASSIVE unless a policy is set") {
  // Run again by the cases below (tests/main.cpp calls prefer_passive_omp_wait first): write the
  // policy this process was started with.
  if (const char* probe = std::getenv("DAGRAD_WAIT_PROBE")) {
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    std::ofstream(probe) << (policy ? policy : "unset");
    return;
  }
  test::TempDir d("wait_policy");
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  auto policy_under = [&](const std::string& env) {
    const std::string probe = d.file("policy");
    std::filesystem::remove(probe);
    auto p = test::run("env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT " + env + " DAGRAD_WAIT_PROBE=" + probe + " " + self +
                       " '--test-case=prefer_passive_omp_wait*' --no-intro --no-version");
    REQUIRE_MESSAGE(p.status == 0, p.output);
    return test::read_text(probe);
  };
  CHECK(policy_under("") == "PASSIVE");
  CHECK(policy_under("OMP_WAIT_POLICY=ACTIVE") == "ACTIVE");
  CHECK(policy_under("GOMP_SPINCOUNT=1000") == "unset");
}
