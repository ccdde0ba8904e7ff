// Helpers for the benchmarks: medians, peak resident memory, the machine's sgemm peak measured on
// a large square oneDNN matmul, and a small JSON writer (the bench's result files).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dagrad::bench {

double median(std::vector<double> v);  // NaN for an empty vector

// Peak resident set size of this process in MB (VmHWM from /proc/self/status), NaN if unknown.
double peak_rss_mb();

// f32 GFLOP/s of an n x n x n oneDNN matmul (dagrad::gemm): median and best of `repeats` timed
// runs after one warm-up, at the current thread count.
struct Peak {
  double median_gflops = 0, best_gflops = 0;
  int64_t n = 0;
};
Peak sgemm_peak(int64_t n, int repeats);

// Builds one JSON object in insertion order: numbers, strings, booleans, nested raw JSON.
class Json {
 public:
  Json& num(const std::string& key, double v);
  Json& str(const std::string& key, const std::string& v);
  Json& boolean(const std::string& key, bool v);
  Json& raw(const std::string& key, const std::string& json);  // an object or array already written
  Json& nums(const std::string& key, const std::vector<double>& v);
  std::string text() const;  // "{...}" on one line

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

std::string json_array(const std::vector<std::string>& items);  // items are JSON texts

// A flat JSON object of numbers and strings, as the bench's children print it: enough of a
// parser for what Json writes (no nesting beyond raw values kept as text).
class JsonReader {
 public:
  explicit JsonReader(const std::string& text);
  bool has(const std::string& key) const;
  double num(const std::string& key, double fallback = 0) const;
  std::string str(const std::string& key) const;
  std::string raw(const std::string& key) const;  // the value's JSON text

 private:
  std::vector<std::pair<std::string, std::string>> fields_;  // key -> raw value text
};

}  // namespace dagrad::bench
