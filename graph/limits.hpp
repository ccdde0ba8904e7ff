// The limits on what an input may ask for, in one place (docs/limits.md lists them with their
// reasons). An input past a limit is refused with a UserError (exit 2) naming the file, node or
// flag and the limit, before the memory or the time is spent, so that a small input cannot make
// dagrad hang or take memory without bound.
#pragma once
#include <cstdint>
#include <string>

#include "graph/error.hpp"

namespace dagrad::limits {

inline constexpr int64_t kKiB = 1024, kMiB = 1024 * kKiB, kGiB = 1024 * kMiB;

// ---- YAML configuration: model files, training files, includes, --set values, and the model file
// stored inside a model or checkpoint archive.
inline constexpr int64_t kConfigFileBytes = 1 * kMiB;  // one YAML file (or stored model file)
inline constexpr int kConfigDepth = 64;                // maps and lists inside each other
inline constexpr int64_t kConfigScalarBytes = 64 * kKiB;  // one scalar: a key or a value
// One document after its aliases are expanded: its values (scalars, lists, maps) and the bytes of
// its scalars. A few hundred bytes of nested anchors could otherwise stand for billions of values.
inline constexpr int64_t kConfigValues = 100'000;
inline constexpr int64_t kConfigTextBytes = 4 * kMiB;
inline constexpr int kIncludeDepth = 16;        // files including files
inline constexpr int kIncludedFiles = 256;      // files one configuration loads in all
inline constexpr int64_t kSetBytes = 64 * kKiB;  // one --set KEY=VALUE argument

// ---- Data files.
inline constexpr int64_t kMovieLensFileBytes = 64 * kMiB;  // u.data, u.item (ml-100k's are 2 MB and 236 KB)
inline constexpr int64_t kLineBytes = 1 * kMiB;            // one line of a CSV file
// One line of a MovieLens file (ml-100k's longest is 265 bytes): every rating keeps a copy of its
// movie's title, so a long title is multiplied by the ratings.
inline constexpr int64_t kMovieLensLineBytes = 4 * kKiB;
inline constexpr int64_t kHistoryBytes = 64 * kMiB;  // a run's history.json (a real one: kilobytes)
// A CSV file and an archive (model or checkpoint): at most memory_limit() bytes, as their
// contents must fit in memory.

// ---- Threads (--threads, DAGRAD_THREADS): the largest machines have 512 hardware threads; more is
// a typing error, and thousands of threads make the OpenMP runtime fail.
inline constexpr int kMaxThreads = 512;

// ---- Memory. The largest file read whole into memory (a model or checkpoint archive), and the
// largest single tensor (graph/tensor.cpp, a LimitError). DAGRAD_MEMORY_LIMIT (bytes, or with a
// K, M, G or T suffix: 8G) when set, else half of the machine's physical memory.
int64_t memory_limit();
void set_memory_limit(int64_t bytes);  // for programs with their own budget
// Bytes held by every tensor alive in the process (graph/tensor.cpp): a new tensor that would bring
// the total past memory_limit() is refused (LimitError), as is a single tensor past it.
int64_t tensor_bytes_in_use();

// "64 KiB", "1.5 GiB", "123 bytes": a size for messages.
std::string bytes_text(int64_t bytes);

}  // namespace dagrad::limits

namespace dagrad {

// A UserError for a size past a limit where the place is not known (a tensor's shape): the code
// that knows it (building a layer or the task) catches it to name the layer.
class LimitError : public UserError {
 public:
  using UserError::UserError;
};

}  // namespace dagrad
