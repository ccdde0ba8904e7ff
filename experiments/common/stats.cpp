#include "experiments/common/stats.hpp"

#include <algorithm>
#include <cstdio>

namespace dagrad::plot {

Stats stats(const std::vector<double>& v) {
  Stats s;
  double sum = 0;
  for (double x : v)
    if (std::isfinite(x)) {
      s.lo = s.n == 0 ? x : std::min(s.lo, x);
      s.hi = s.n == 0 ? x : std::max(s.hi, x);
      sum += x;
      s.n++;
    }
  if (!s.n) return s;
  s.mean = sum / s.n;
  double ss = 0;
  for (double x : v)
    if (std::isfinite(x)) ss += (x - s.mean) * (x - s.mean);
  s.sd = s.n > 1 ? std::sqrt(ss / (s.n - 1)) : 0;
  return s;
}

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "–";
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

}  // namespace dagrad::plot
