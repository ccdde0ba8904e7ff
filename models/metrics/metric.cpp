#include "models/metrics/metric.hpp"

namespace dagrad {

MetricRegistry& MetricRegistry::instance() {
  static MetricRegistry r;
  return r;
}

}  // namespace dagrad
