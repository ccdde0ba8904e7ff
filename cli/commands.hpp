// The dagrad command line: one function per subcommand, dispatched by cli/dagrad.cpp.
// Each returns the process exit status; UserError escaping one exits 2, any other error 1.
#pragma once

namespace dagrad::cli {

int cmd_ops(int argc, char** argv);
int cmd_list(int argc, char** argv);
int cmd_help(int argc, char** argv);
int cmd_gradcheck(int argc, char** argv);
int cmd_fit(int argc, char** argv);
int cmd_evaluate(int argc, char** argv);
int cmd_describe(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_export(int argc, char** argv);
int cmd_index(int argc, char** argv);

}  // namespace dagrad::cli
