#include "models/fit/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace dagrad {
namespace {

std::string eta_str(double s) {
  char b[32];
  if (s >= 3600) std::snprintf(b, sizeof b, "%dh%02dm", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
  else std::snprintf(b, sizeof b, "%dm%02ds", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  return b;
}

}  // namespace

Progress::Progress(const std::string& mode, std::ostream& log) : log_(log) {
  bar_ = mode == "bar" || (mode == "auto" && ::isatty(STDERR_FILENO));
  lines_ = mode == "lines" || (mode == "auto" && !bar_);
}

void Progress::on_batch_end(FitState& s) {
  if (!bar_) return;
  const auto now = FitClock::now();
  const int64_t done = s.batch, total = s.batches;
  if (done < total && std::chrono::duration<double>(now - last_).count() < 0.2) return;
  last_ = now;
  const double elapsed = std::max(std::chrono::duration<double>(now - s.epoch_started).count(), 1e-9);
  const double rate = static_cast<double>(done * s.options.batch_size) / elapsed;
  const double left = static_cast<double>(total - done) + static_cast<double>(s.options.epochs - s.epoch - 1) * static_cast<double>(total);
  const double eta = left * elapsed / static_cast<double>(done);
  const int width = 24, fill = total ? static_cast<int>(width * done / total) : width;
  std::fprintf(stderr, "\repoch %lld/%lld [%s%s] %lld/%lld  %.0f ex/s  loss %.4g  ETA %s   ",
               static_cast<long long>(s.epoch + 1), static_cast<long long>(s.options.epochs), std::string(fill, '=').c_str(),
               std::string(width - fill, ' ').c_str(), static_cast<long long>(done), static_cast<long long>(total), rate,
               s.epoch_loss.result(), eta_str(eta).c_str());
  std::fflush(stderr);
}

std::string Progress::epoch_line(int64_t epoch, int64_t epochs, const Row& row) {
  std::string line = "epoch " + std::to_string(epoch) + "/" + std::to_string(epochs);
  for (const auto& [k, v] : row)
    if (k != "epoch") line += "  " + k + " " + number_text(v);
  return line;
}

void Progress::on_epoch_end(FitState& s, const Row& row) {
  if (!row.empty()) line(epoch_line(s.epoch, s.options.epochs, row));
}

void Progress::line(const std::string& s) {
  if (bar_) std::fprintf(stderr, "\r%-100s\n", s.c_str());
  else if (lines_) log_ << s << std::endl;
}

}  // namespace dagrad
