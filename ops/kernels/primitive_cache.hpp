// PrimitiveCache: oneDNN primitives (and their memory descriptors) built once per key and kept
// for the life of the process: creating a primitive costs about 0.2 ms for a new shape, a cache
// hit a few µs (../shared/docs/onednn-notes.md). Every kernel in ops/kernels/ keeps its
// primitives in one of these.
#pragma once
#include <map>
#include <mutex>
#include <utility>

namespace dagrad {

// Safe to use from several threads: a lookup holds a mutex, and entries are never removed, so the
// reference returned stays valid (executing one primitive from several threads at once is then
// oneDNN's concern: see docs/serving.md).
template <class Key, class Entry>
class PrimitiveCache {
 public:
  // The entry for `key`, built by make() on the first request.
  template <class Make>
  Entry& get(const Key& key, Make&& make) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) it = entries_.emplace(key, make()).first;
    return it->second;
  }

 private:
  std::mutex mutex_;
  std::map<Key, Entry> entries_;
};

}  // namespace dagrad
