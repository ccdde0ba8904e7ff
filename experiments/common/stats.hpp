// Statistics over seeds for experiment reports: mean, sample standard deviation, min and max of the
// finite values, and a fixed-decimals format that shows a missing value as "–".
#pragma once
#include <cmath>
#include <string>
#include <vector>

namespace dagrad::plot {

struct Stats {
  double mean = NAN, sd = NAN, lo = NAN, hi = NAN;
  int n = 0;  // finite values counted
};

// Over the finite values of v; sd is the sample standard deviation (n - 1), 0 for one value.
Stats stats(const std::vector<double>& v);

// v with `digits` decimals; "–" when not finite.
std::string fixed(double v, int digits = 3);

}  // namespace dagrad::plot
