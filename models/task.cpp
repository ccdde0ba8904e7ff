#include "models/task.hpp"

namespace dagrad {

TaskRegistry& TaskRegistry::instance() {
  static TaskRegistry r;
  return r;
}

const Schema& TaskRegistry::common() {
  static const Schema s{Key::string("type", "the task's type").required()};
  return s;
}

}  // namespace dagrad
