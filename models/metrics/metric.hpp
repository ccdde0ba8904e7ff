// Metric: a number computed over a whole evaluation table from each batch's predictions and labels
// (RMSE, AUC, ...), registered by name so that a task's `metrics:` can name it. A metric's
// prediction is the task's prediction value as the model computes it (a logit where the task's loss
// takes logits); labels are the label column as f32. Retrieval's FactorizedTopK is computed by the
// Retrieval task itself (its `metrics:` map).
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "config/keys.hpp"
#include "graph/registry.hpp"
#include "graph/tensor.hpp"

namespace dagrad {

class Metric {
 public:
  virtual ~Metric() = default;
  virtual void reset() = 0;
  // predictions and labels: f32 tensors of the same shape (a batch's).
  virtual void update(const Tensor& predictions, const Tensor& labels) = 0;
  virtual double result() const = 0;
};

struct MetricInfo {
  std::string name, description;
  Schema schema;  // none of today's metrics has options
  std::function<std::unique_ptr<Metric>()> make;
};

class MetricRegistry : public Registry<MetricInfo> {
 public:
  static MetricRegistry& instance();

 private:
  MetricRegistry() : Registry("metric") {}
};

// A Metric from a class with reset(), update(predictions, labels) and result().
template <class Impl>
class MetricOf : public Metric {
 public:
  void reset() override { impl_.reset(); }
  void update(const Tensor& p, const Tensor& l) override { impl_.update(p, l); }
  double result() const override { return impl_.result(); }

 private:
  Impl impl_;
};

#define DAGRAD_REGISTER_METRIC(Class, Name, Description)                                                  \
  [[maybe_unused]] static const bool dagrad_metric_##Class =                                           \
      ::dagrad::abi_matches(DAGRAD_ABI_VERSION, "metric", Name) && ::dagrad::MetricRegistry::instance().add( \
      {Name, Description, {}, [] { return std::unique_ptr<::dagrad::Metric>(new ::dagrad::MetricOf<Class>()); }})

}  // namespace dagrad
