#include "models/task.hpp"

namespace dagrad {

void Task::check_data(Model&, const DataTables& data, const std::string&) const {
  for (const auto& c : columns()) data.train.column(c);  // the task's columns exist
}

TaskRegistry& TaskRegistry::instance() {
  static TaskRegistry r;
  return r;
}

const Schema& TaskRegistry::common() {
  static const Schema s{Key::string("type", "the task's type").required()};
  return s;
}

}  // namespace dagrad
