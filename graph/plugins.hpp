// Plugins: shared objects that register ops (or layers, tasks, ...) from outside the tree. A plugin
// is compiled against the installed headers (`pkg-config --cflags dagrad`, docs/library.md) and
// defines its ops with DAGRAD_REGISTER_OP as in-tree ops do; loading it runs those registrations
// into the loading program's registries (the program exports its symbols, or links libdagrad.so).
#pragma once
#include <string>
#include <vector>

namespace dagrad {

// dlopen()s the plugin (now, globally) and checks the registrations it made: UserError naming the
// path and the loader's reason when it cannot be loaded, or naming a name it registered twice.
// Loading the same path twice loads it once.
void load_plugin(const std::string& path);

// The plugins named by the environment variable DAGRAD_PLUGINS (paths separated by ':'), loaded
// in order; an empty or unset variable loads none.
void load_plugins_from_env();

// The paths loaded so far, in order.
const std::vector<std::string>& loaded_plugins();

}  // namespace dagrad
