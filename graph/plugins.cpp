#include "graph/plugins.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "graph/error.hpp"
#include "graph/registry.hpp"

namespace dagrad {
namespace {

std::vector<std::string>& loaded() {
  static std::vector<std::string> paths;
  return paths;
}

}  // namespace

void load_plugin(const std::string& path) {
  if (path.empty()) throw UserError("plugin: empty path");
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) throw UserError("plugin " + path + ": no such file");
  if (!std::filesystem::is_regular_file(status))
    throw UserError("plugin " + path + ": not a regular file (a shared object built against dagrad is expected)");
  std::string canonical = std::filesystem::canonical(path, ec).string();
  if (ec) canonical = path;
  auto& paths = loaded();
  if (std::find(paths.begin(), paths.end(), canonical) != paths.end()) return;
  // A path without a slash would be searched for in the library path: make it relative to here.
  const std::string open = path.find('/') == std::string::npos ? "./" + path : path;
  if (!dlopen(open.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
    const char* why = dlerror();
    throw UserError("plugin " + path + ": cannot be loaded: " + (why ? why : "unknown reason") +
                    " (a plugin is a shared object built against this version of dagrad: docs/library.md)");
  }
  paths.push_back(canonical);
  try {
    check_registrations();
  } catch (const UserError& e) {
    throw UserError("plugin " + path + ": " + e.what());
  }
}

void load_plugins_from_env() {
  const char* env = std::getenv("DAGRAD_PLUGINS");
  if (!env) return;
  const std::string list = env;
  size_t begin = 0;
  while (begin <= list.size()) {
    size_t end = list.find(':', begin);
    if (end == std::string::npos) end = list.size();
    if (end > begin) {
      try {
        load_plugin(list.substr(begin, end - begin));
      } catch (const UserError& e) {
        throw UserError(std::string("DAGRAD_PLUGINS: ") + e.what());
      }
    }
    begin = end + 1;
  }
}

const std::vector<std::string>& loaded_plugins() { return loaded(); }

}  // namespace dagrad
