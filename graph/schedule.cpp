#include "graph/schedule.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <queue>
#include <string>

#include "graph/error.hpp"

namespace dagrad {
namespace {

void pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

InterOpMode inter_op_mode_from_env() {
  static const InterOpMode mode = [] {
    const char* e = std::getenv("DAGRAD_INTER_OP");
    const std::string v = e ? e : "";
    if (v.empty() || v == "1") return InterOpMode::on;
    if (v == "0") return InterOpMode::off;
    if (v == "always") return InterOpMode::always;
    throw UserError("DAGRAD_INTER_OP: expected 0, 1 or always, got '" + v + "'");
  }();
  return mode;
}

void Schedule::build(std::span<const int> order, const std::vector<std::vector<int>>& deps,
                     std::span<const double> cost, std::span<const char> wide_in, const ScheduleLimits& limits,
                     int threads) {
  phases_.clear();
  threads_ = std::max(threads, 1);
  slots_ = 1;
  const int m = static_cast<int>(order.size());
  std::vector<std::vector<int>> next(static_cast<size_t>(m));
  std::vector<int> indegree(static_cast<size_t>(m), 0);
  for (int k = 0; k < m; ++k)
    for (int d : deps[static_cast<size_t>(k)]) {
      next[static_cast<size_t>(d)].push_back(k);
      ++indegree[static_cast<size_t>(k)];
    }
  // Kahn's order, by position among the ready: a ready wide node runs first, alone (the first in
  // order); when none is ready, all small nodes that can run go into one phase, together with the
  // small nodes they make ready. Wide nodes first let the small ones gather into as wide a phase as
  // can be (a tower's small nodes waiting on a wide one join the other tower's). Every node's
  // predecessors are then in an earlier phase or in its own.
  std::vector<char> wide(static_cast<size_t>(m));
  for (int k = 0; k < m; ++k) wide[static_cast<size_t>(k)] = threads_ > 1 && wide_in[static_cast<size_t>(k)];
  std::priority_queue<int, std::vector<int>, std::greater<int>> small, big;
  for (int k = 0; k < m; ++k)
    if (indegree[static_cast<size_t>(k)] == 0) (wide[static_cast<size_t>(k)] ? big : small).push(k);
  std::vector<int> phase;
  auto release = [&](int k) {
    for (int s : next[static_cast<size_t>(k)])
      if (--indegree[static_cast<size_t>(s)] == 0) (wide[static_cast<size_t>(s)] ? big : small).push(s);
  };
  while (!small.empty() || !big.empty()) {
    phase.clear();
    if (!big.empty()) {
      const int k = big.top();
      big.pop();
      phase.push_back(k);
      release(k);
    } else {
      while (!small.empty()) {
        const int k = small.top();
        small.pop();
        phase.push_back(k);
        release(k);
      }
    }
    Phase ph;
    const int n = static_cast<int>(phase.size());
    for (int k : phase) ph.nodes.push_back(order[static_cast<size_t>(k)]);
    // Side by side when the work off the phase's longest path is worth it (ScheduleLimits): the
    // longest path to the phase's end from each node, over in-phase successors.
    if (n >= 2 && threads_ > 1) {
      std::vector<int> local(static_cast<size_t>(m), -1);
      for (int p = 0; p < n; ++p) local[static_cast<size_t>(phase[static_cast<size_t>(p)])] = p;
      ph.indegree.assign(static_cast<size_t>(n), 0);
      ph.next.assign(static_cast<size_t>(n), {});
      ph.rank.assign(static_cast<size_t>(n), 0);
      double total = 0;
      for (int p = 0; p < n; ++p) {
        const int k = phase[static_cast<size_t>(p)];
        total += cost[static_cast<size_t>(k)];
        for (int s : next[static_cast<size_t>(k)])
          if (local[static_cast<size_t>(s)] >= 0) {
            ph.next[static_cast<size_t>(p)].push_back(local[static_cast<size_t>(s)]);
            ++ph.indegree[static_cast<size_t>(local[static_cast<size_t>(s)])];
          }
      }
      // `phase` is a topological order of the phase (Kahn's), so ranks fill from its end.
      double longest = 0;
      std::vector<int> level(static_cast<size_t>(n), 0);
      for (int p = n - 1; p >= 0; --p) {
        double r = 0;
        for (int s : ph.next[static_cast<size_t>(p)]) r = std::max(r, ph.rank[static_cast<size_t>(s)]);
        ph.rank[static_cast<size_t>(p)] = r + cost[static_cast<size_t>(phase[static_cast<size_t>(p)])];
        longest = std::max(longest, ph.rank[static_cast<size_t>(p)]);
      }
      // The most nodes that can run at once, roughly: the widest level of the longest-path depth.
      int widest = 0;
      std::vector<int> per_level(static_cast<size_t>(n), 0);
      for (int p = 0; p < n; ++p) {
        for (int s : ph.next[static_cast<size_t>(p)])
          level[static_cast<size_t>(s)] = std::max(level[static_cast<size_t>(s)], level[static_cast<size_t>(p)] + 1);
        widest = std::max(widest, ++per_level[static_cast<size_t>(level[static_cast<size_t>(p)])]);
      }
      ph.concurrent = widest >= 2 && total - longest >= std::max(limits.min_gain, limits.min_share * total);
      ph.threads = ph.concurrent ? std::min(threads_, widest) : 1;
      if (!ph.concurrent) {
        ph.indegree.clear();
        ph.next.clear();
        ph.rank.clear();
      }
      slots_ = std::max(slots_, ph.threads);
    }
    phases_.push_back(std::move(ph));
  }
  size_t most = 0, placed = 0;
  for (const Phase& ph : phases_) {
    most = std::max(most, ph.nodes.size());
    placed += ph.nodes.size();
  }
  DAGRAD_ASSERT(placed == order.size(), "schedule: the dependencies form a cycle (" + std::to_string(order.size() - placed) +
                                            " of " + std::to_string(order.size()) + " nodes never ready)");
  remaining_.reserve(most);
  ready_.reserve(most);
  built_ = true;
}

void Schedule::run_concurrent(Phase& ph, Call call, void* fn) {
  const int n = static_cast<int>(ph.nodes.size());
  remaining_.assign(ph.indegree.begin(), ph.indegree.end());
  ready_.clear();
  for (int p = 0; p < n; ++p)
    if (remaining_[static_cast<size_t>(p)] == 0) ready_.push_back(p);
  int done = 0;
  bool failed = false;
  std::exception_ptr error;
  // A spin lock over the phase's state: the critical sections are a few dozen instructions, and a
  // thread with nothing ready spins (pause) until the other finishes a node.
  std::atomic<bool> held{false};
  auto lock = [&held] {
    for (;;) {
      if (!held.exchange(true, std::memory_order_acquire)) return;
      while (held.load(std::memory_order_relaxed)) pause();
    }
  };
  auto unlock = [&held] { held.store(false, std::memory_order_release); };
#pragma omp parallel num_threads(ph.threads)
  {
    const int slot = omp_get_thread_num();
    for (;;) {
      int p = -1;
      bool skip = false;
      lock();
      if (!ready_.empty()) {  // the ready node with the longest path to the phase's end
        size_t best = 0;
        for (size_t i = 1; i < ready_.size(); ++i)
          if (ph.rank[static_cast<size_t>(ready_[i])] > ph.rank[static_cast<size_t>(ready_[best])]) best = i;
        p = ready_[best];
        ready_[best] = ready_.back();
        ready_.pop_back();
        skip = failed;
      }
      const bool finished = done == n;
      unlock();
      if (p < 0) {
        if (finished) break;
        pause();
        continue;
      }
      if (!skip) {
        try {
          call(fn, ph.nodes[static_cast<size_t>(p)], slot);
        } catch (...) {
          lock();
          if (!error) error = std::current_exception();
          failed = true;
          unlock();
        }
      }
      lock();
      for (int s : ph.next[static_cast<size_t>(p)])
        if (--remaining_[static_cast<size_t>(s)] == 0) ready_.push_back(s);
      ++done;
      unlock();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace dagrad
