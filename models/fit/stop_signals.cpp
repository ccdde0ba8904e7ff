#include "models/fit/stop_signals.hpp"

#include <atomic>
#include <csignal>

namespace dagrad {
namespace {

// The signal (SIGINT or SIGTERM) that asked training to stop, or 0.
std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

}  // namespace

void StopSignals::on_train_begin(FitState&) {
  g_stop_signal = 0;
  old_int_ = std::signal(SIGINT, on_stop_signal);
  old_term_ = std::signal(SIGTERM, on_stop_signal);
  installed_ = true;
}

StopSignals::~StopSignals() {
  if (!installed_) return;
  std::signal(SIGINT, old_int_);
  std::signal(SIGTERM, old_term_);
}

void StopSignals::on_batch_begin(FitState& s) {
  if (const int sig = g_stop_signal) s.interrupt(sig);
}

}  // namespace dagrad
