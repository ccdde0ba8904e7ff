#include "graph/registry.hpp"

namespace dagrad {

std::vector<std::string>& registration_errors() {
  static std::vector<std::string> errors;
  return errors;
}

void check_registrations() {
  auto& errors = registration_errors();
  if (errors.empty()) return;
  std::string msg = join(errors, "");
  errors.clear();
  throw UserError("registry: " + msg + " (each name may be registered once)");
}

}  // namespace dagrad
