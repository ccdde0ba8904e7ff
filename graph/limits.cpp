#include "graph/limits.hpp"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace dagrad::limits {
namespace {

std::atomic<int64_t> g_limit{0};  // 0: not read yet
std::once_flag g_env_once;

int64_t physical_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 8 * kGiB;  // unknown: a small machine's worth
  return static_cast<int64_t>(pages) * page;
}

// DAGRAD_MEMORY_LIMIT: a whole number of bytes, optionally followed by K, M, G or T (powers of 1024).
int64_t parse_limit(const std::string& text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  int64_t unit = 1;
  std::string rest(end, text.data() + text.size());
  if (rest.size() == 1) {
    switch (std::toupper(static_cast<unsigned char>(rest[0]))) {
      case 'K': unit = kKiB; break;
      case 'M': unit = kMiB; break;
      case 'G': unit = kGiB; break;
      case 'T': unit = 1024 * kGiB; break;
      default: unit = 0;
    }
    rest.clear();
  }
  int64_t bytes = 0;
  if (text.empty() || ec != std::errc() || !rest.empty() || unit == 0 || n <= 0 || __builtin_mul_overflow(n, unit, &bytes))
    throw UserError("DAGRAD_MEMORY_LIMIT: expected a number of bytes > 0, optionally with a K, M, G or T suffix "
                    "(8G), got '" + text + "'");
  return bytes;
}

}  // namespace

int64_t memory_limit() {
  std::call_once(g_env_once, [] {
    const char* env = std::getenv("DAGRAD_MEMORY_LIMIT");
    int64_t limit = env && *env ? parse_limit(env) : physical_memory() / 2;
    int64_t unset = 0;
    g_limit.compare_exchange_strong(unset, limit);  // set_memory_limit() may have come first
  });
  return g_limit.load();
}

void set_memory_limit(int64_t bytes) {
  DAGRAD_ASSERT(bytes > 0, "memory limit must be positive");
  std::call_once(g_env_once, [] {});  // the environment no longer applies
  g_limit.store(bytes);
}

std::string bytes_text(int64_t bytes) {
  const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < kKiB) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[48];
  if (v == static_cast<double>(static_cast<int64_t>(v))) std::snprintf(buf, sizeof buf, "%lld %s", static_cast<long long>(v), units[u]);
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace dagrad::limits
