#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "graph/dnnl_context.hpp"

int main(int argc, char** argv) {
  dagrad::init_threads_from_env();
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
