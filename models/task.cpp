#include "models/task.hpp"

#include <algorithm>

namespace dagrad {

TaskRegistry& TaskRegistry::instance() {
  static TaskRegistry r;
  return r;
}

bool TaskRegistry::add(const std::string& name, const std::string& description, TaskBuilder build) {
  tasks_.push_back({name, {description, build}});
  return true;
}

std::vector<std::string> TaskRegistry::names() const {
  std::vector<std::string> n;
  for (const auto& t : tasks_) n.push_back(t.first);
  std::sort(n.begin(), n.end());
  return n;
}

TaskBuilder TaskRegistry::find(const ConfigNode& at, const std::string& name) const {
  for (const auto& t : tasks_)
    if (t.first == name) return t.second.second;
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  at.fail("unknown task '" + name + "' (known: " + known + ")");
}

}  // namespace dagrad
