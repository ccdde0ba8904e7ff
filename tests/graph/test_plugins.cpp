// graph/plugins.cpp: what load_plugin refuses, with the path and the reason (loading a real plugin
// is tested from a temporary install: scripts/check_installed_library.sh).
#include <doctest/doctest.h>

#include <cstdlib>

#include "graph/error.hpp"
#include "graph/plugins.hpp"
#include "test_util.hpp"

using namespace dagrad;

TEST_CASE("load_plugin refuses a missing path, a folder and a file that is not a shared object") {
  test::TempDir d("plugins");
  CHECK_THROWS_WITH_AS(load_plugin(d.file("none.so")), doctest::Contains("none.so: no such file"), UserError);
  CHECK_THROWS_WITH_AS(load_plugin(d.str()), doctest::Contains("not a regular file"), UserError);
  d.write("fake.so", "not an ELF file");
  CHECK_THROWS_WITH_AS(load_plugin(d.file("fake.so")), doctest::Contains("fake.so: cannot be loaded"), UserError);
  CHECK_THROWS_WITH_AS(load_plugin(""), doctest::Contains("empty path"), UserError);
  CHECK(loaded_plugins().empty());
}

TEST_CASE("DAGRAD_PLUGINS names the variable in its errors; an empty one loads nothing") {
  test::TempDir d("plugins_env");
  setenv("DAGRAD_PLUGINS", "", 1);
  CHECK_NOTHROW(load_plugins_from_env());
  setenv("DAGRAD_PLUGINS", (":" + d.file("a.so") + ":").c_str(), 1);
  CHECK_THROWS_WITH_AS(load_plugins_from_env(), doctest::Contains("DAGRAD_PLUGINS: plugin "), UserError);
  unsetenv("DAGRAD_PLUGINS");
}
