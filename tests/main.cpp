#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "graph/dnnl_context.hpp"
#include "graph/registry.hpp"

int main(int argc, char** argv) {
  dagrad::check_registrations();  // a name registered twice stops here, naming it
  dagrad::init_threads_from_env();
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
