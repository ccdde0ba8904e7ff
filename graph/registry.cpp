#include "graph/registry.hpp"

namespace dagrad {

std::vector<std::string>& registration_errors() {
  static std::vector<std::string> errors;
  return errors;
}

int abi_version() { return DAGRAD_ABI_VERSION; }

bool abi_matches(int built_with, const char* kind, const char* name) {
  if (built_with == abi_version()) return true;
  registration_errors().push_back(std::string(kind) + " '" + name + "' was compiled against dagrad's headers of ABI version " +
                                  std::to_string(built_with) + ", and this program's dagrad has ABI version " +
                                  std::to_string(abi_version()) + ": rebuild it against the installed headers (pkg-config --cflags dagrad)");
  return false;
}

void check_registrations() {
  auto& errors = registration_errors();
  if (errors.empty()) return;
  std::string msg = join(errors, "");
  errors.clear();
  throw UserError("registry: " + msg + " (each name may be registered once)");
}

}  // namespace dagrad
