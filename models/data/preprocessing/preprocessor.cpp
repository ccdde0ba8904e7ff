#include "models/data/preprocessing/preprocessor.hpp"

#include <algorithm>

namespace dagrad {

PreprocessorRegistry& PreprocessorRegistry::instance() {
  static PreprocessorRegistry r;
  return r;
}

bool PreprocessorRegistry::add(const std::string& name, const std::string& description, PreprocessorFactory make) {
  DAGRAD_ASSERT(!find(name), "preprocessing layer '" + name + "' registered twice");
  entries_.push_back({name, {description, make}});
  return true;
}

PreprocessorFactory PreprocessorRegistry::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.first == name) return e.second.second;
  return nullptr;
}

std::vector<std::string> PreprocessorRegistry::names() const {
  std::vector<std::string> n;
  for (const auto& e : entries_) n.push_back(e.first);
  std::sort(n.begin(), n.end());
  return n;
}

}  // namespace dagrad
