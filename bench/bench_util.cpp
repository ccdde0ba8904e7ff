#include "bench/bench_util.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "graph/error.hpp"
#include "graph/tensor.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad::bench {

double median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double peak_rss_mb() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // "VmHWM:  1234 kB"
  return std::numeric_limits<double>::quiet_NaN();
}

Peak sgemm_peak(int64_t n, int repeats) {
  Tensor a({n, n}), b({n, n}), c({n, n});
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (float& x : a.values()) x = u(rng);
  for (float& x : b.values()) x = u(rng);
  gemm(a, false, b, false, c, false);  // warm-up: primitive creation, pages
  std::vector<double> s;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    gemm(a, false, b, false, c, false);
    s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double flop = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  return {flop / median(s) * 1e-9, flop / *std::min_element(s.begin(), s.end()) * 1e-9, n};
}

namespace {

std::string quote(const std::string& s) {
  std::string q = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') q += '\\';
    if (ch == '\n') { q += "\\n"; continue; }
    q += ch;
  }
  return q + "\"";
}

std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

}  // namespace

Json& Json::num(const std::string& key, double v) {
  fields_.emplace_back(key, number(v));
  return *this;
}

Json& Json::str(const std::string& key, const std::string& v) {
  fields_.emplace_back(key, quote(v));
  return *this;
}

Json& Json::boolean(const std::string& key, bool v) {
  fields_.emplace_back(key, v ? "true" : "false");
  return *this;
}

Json& Json::raw(const std::string& key, const std::string& json) {
  fields_.emplace_back(key, json);
  return *this;
}

Json& Json::nums(const std::string& key, const std::vector<double>& v) {
  std::vector<std::string> items;
  for (double x : v) items.push_back(number(x));
  fields_.emplace_back(key, json_array(items));
  return *this;
}

std::string Json::text() const {
  std::string s = "{";
  for (size_t i = 0; i < fields_.size(); ++i)
    s += (i ? ", " : "") + quote(fields_[i].first) + ": " + fields_[i].second;
  return s + "}";
}

std::string json_array(const std::vector<std::string>& items) {
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s + "]";
}

JsonReader::JsonReader(const std::string& text) {
  // Top-level "key": value pairs; a value ends at the comma or brace that closes it at depth 0.
  size_t i = text.find('{');
  if (i == std::string::npos) throw RuntimeFailure("bench: expected a JSON object, got: " + text);
  ++i;
  auto skip_ws = [&] { while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i; };
  while (true) {
    skip_ws();
    if (i >= text.size() || text[i] == '}') break;
    if (text[i] != '"') throw RuntimeFailure("bench: malformed JSON near: " + text.substr(i, 40));
    const size_t k_end = text.find('"', i + 1);
    std::string key = text.substr(i + 1, k_end - i - 1);
    i = text.find(':', k_end) + 1;
    skip_ws();
    const size_t v_begin = i;
    int depth = 0;
    bool in_string = false;
    for (; i < text.size(); ++i) {
      const char ch = text[i];
      if (in_string) {
        if (ch == '\\') ++i;
        else if (ch == '"') in_string = false;
        continue;
      }
      if (ch == '"') in_string = true;
      else if (ch == '{' || ch == '[') ++depth;
      else if (ch == '}' || ch == ']') {
        if (depth == 0) break;
        --depth;
      } else if (ch == ',' && depth == 0) break;
    }
    std::string value = text.substr(v_begin, i - v_begin);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
    fields_.emplace_back(std::move(key), std::move(value));
    if (i < text.size() && text[i] == ',') ++i;
  }
}

bool JsonReader::has(const std::string& key) const {
  for (const auto& [k, v] : fields_)
    if (k == key) return true;
  return false;
}

std::string JsonReader::raw(const std::string& key) const {
  for (const auto& [k, v] : fields_)
    if (k == key) return v;
  return "null";
}

double JsonReader::num(const std::string& key, double fallback) const {
  std::string v = raw(key);
  if (v == "null" || v.empty()) return fallback;
  return std::stod(v);
}

std::string JsonReader::str(const std::string& key) const {
  std::string v = raw(key);
  if (v.size() >= 2 && v.front() == '"') return v.substr(1, v.size() - 2);
  return v;
}

}  // namespace dagrad::bench
