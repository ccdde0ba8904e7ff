// `dagrad ops` and `dagrad gradcheck`: the op registry seen from the command line.
#include <cstdio>
#include <string>
#include <vector>

#include "autodiff/gradcheck.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "graph/op.hpp"

namespace dagrad::cli {

int cmd_ops(int argc, char** argv) {
  const char* help = "usage: dagrad ops\n\nLists every registered op with a one-line description.\n";
  Args a(argc, argv, {}, {});
  if (a.help()) { std::fputs(help, stdout); return 0; }
  if (!a.positional().empty()) { std::fputs(help, stderr); return 2; }
  const auto& reg = OpRegistry::instance();
  for (const auto& name : reg.names()) std::printf("%-22s %s\n", name.c_str(), reg.get(name).description.c_str());
  return 0;
}

int cmd_gradcheck(int argc, char** argv) {
  Args a(argc, argv, {}, {"verbose,v"});
  if (a.help()) {
    std::printf("usage: dagrad gradcheck [-v] [OP ...]\n\n"
                "Compares every op's analytic gradient (or the named ops') with central differences\n"
                "on each sample the op declares, and checks that backward accumulates.\n"
                "Ends with 'N passed, N failed'; exits 1 on any failure.\n");
    return 0;
  }
  const bool verbose = a.has("verbose");
  std::vector<std::string> ops = a.positional();
  const auto& reg = OpRegistry::instance();
  if (ops.empty()) ops = reg.names();
  for (const auto& op : ops) reg.get(op);  // unknown names: UserError listing the known ones
  int passed = 0, failed = 0;
  for (const auto& op : ops) {
    for (const auto& r : check_op(op)) {
      (r.ok ? passed : failed)++;
      if (!r.ok)
        std::printf("FAIL %s: %s\n", r.label.c_str(), r.failure.c_str());
      else if (verbose)
        std::printf("ok   %s: %lld elements, %lld skipped near kinks, worst error %.3f of tolerance\n",
                    r.label.c_str(), static_cast<long long>(r.checked), static_cast<long long>(r.skipped),
                    r.max_rel_err);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

}  // namespace dagrad::cli
