// dagrad: the command-line entry point. Subcommands are listed in kCommands.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "graph/dnnl_context.hpp"
#include "graph/error.hpp"
#include "graph/registry.hpp"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* help;
};

const Command kCommands[] = {
    {"list", dagrad::cli::cmd_list, "list the layers, ops, tasks, optimizers, metrics and data sources"},
    {"help", dagrad::cli::cmd_help, "every key of a layer, op, task, ... or file section (dagrad help MLP)"},
    {"ops", dagrad::cli::cmd_ops, "list the registered ops"},
    {"gradcheck", dagrad::cli::cmd_gradcheck, "check every op's (or the named ops') gradients"},
    {"fit", dagrad::cli::cmd_fit, "train a YAML-described model"},
    {"evaluate", dagrad::cli::cmd_evaluate, "evaluate a trained model"},
    {"describe", dagrad::cli::cmd_describe, "print a model's graph with shapes and parameter counts"},
    {"export", dagrad::cli::cmd_export, "write a model's candidate vectors and weights as NumPy .npy files"},
    {"index", dagrad::cli::cmd_index, "build an HNSW index over a model's candidates and save it in the model file"},
    {"serve", dagrad::cli::cmd_serve, "serve a trained model over HTTP with JSON (score, retrieve, metadata)"},
};

void usage(FILE* f) {
  std::fprintf(f, "usage: dagrad COMMAND [ARGS...]\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(f, "  %-12s %s\n", c.name, c.help);
  std::fprintf(f, "\nEach command takes --help. Threads: DAGRAD_THREADS (default: all cores).\n"
                  "Plugins (ops and layers from outside the tree, docs/library.md): --plugin PATH before or after\n"
                  "the command (repeatable), or DAGRAD_PLUGINS=PATH[:PATH...].\n");
}

}  // namespace

int main(int argc, char** argv) {
  dagrad::prefer_passive_omp_wait(argv);  // first: it may execute the program again
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG, which the writers report,
  // instead of the signal killing the process halfway through a file.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    dagrad::check_registrations();
    argc = dagrad::cli::load_plugins(argc, argv);
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
      usage(argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
    dagrad::init_threads_from_env();
    for (const auto& c : kCommands)
      if (argv[1] == std::string(c.name)) return c.run(argc - 1, argv + 1);
    std::fprintf(stderr, "dagrad: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
  } catch (const dagrad::UserError& e) {
    std::fprintf(stderr, "dagrad: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dagrad: failure: %s\n", e.what());
    return 1;
  }
}
