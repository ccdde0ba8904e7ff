// libFuzzer target: the checkpoint resume path (`dagrad fit --resume`), through run_fit. At start a
// small retrieval model is trained for one epoch into a folder on tmpfs, leaving a good checkpoint.
// Each input is a list of edits to that checkpoint's entries (below); the edited checkpoint is put
// in a fresh run folder and resumed for one more epoch. A resume must end in success, a UserError
// (bad input, exit 2) or a RuntimeFailure (a run that fails, exit 1: a loss that turns infinite
// from edited parameters); anything else (a crash, a sanitizer report, another exception, memory
// past -rss_limit_mb) is a bug. The archive's own format (bytes, CRC) is fuzz_archive's.
//
// An input is read as edits of 2 bytes and a payload each: byte 0 picks the entry (modulo the
// entry count), byte 1 the edit (modulo 7); the payload is the next 8 bytes for a number, or the
// rest of the input up to a 0xFF byte for a text, a string list or a tensor's values:
//   0 integer := int64 payload     1 number := double payload      2 text := payload bytes
//   3 strings := payload split at '\n'   4 tensor := payload as floats, shape [n] or [n/k, k]
//   5 remove the entry             6 the entry as an integer (another kind than it was)
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "graph/error.hpp"
#include "models/io/archive.hpp"
#include "models/run/run.hpp"

namespace fs = std::filesystem;
using namespace dagrad;

namespace {

using Value = std::variant<Tensor, std::vector<std::string>, std::string, int64_t, double>;
struct Entry {
  std::string name;
  Value value;
  int kind;  // 0 tensor, 1 strings, 2 text, 3 integer, 4 number
};

struct Setup {
  std::string dir, model, train;
  std::vector<Entry> entries;  // the good checkpoint's
};

void write(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "fuzz_checkpoint: %s\n", what.c_str());
  std::abort();
}

// The entries of an archive with their kinds (the reader does not say them: each accessor is tried).
std::vector<Entry> entries_of(const ArchiveReader& r) {
  std::vector<Entry> out;
  for (const std::string& name : r.names()) {
    try { out.push_back({name, r.tensor(name), 0}); continue; } catch (const UserError&) {}
    try { out.push_back({name, r.strings(name), 1}); continue; } catch (const UserError&) {}
    try { out.push_back({name, r.text(name), 2}); continue; } catch (const UserError&) {}
    try { out.push_back({name, r.integer(name), 3}); continue; } catch (const UserError&) {}
    try { out.push_back({name, r.number(name), 4}); continue; } catch (const UserError&) {}
  }
  return out;
}

const Setup& setup() {
  static const Setup s = [] {
    Setup s;
    const fs::path root = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    s.dir = (root / ("dagrad_fuzz_checkpoint_" + std::to_string(::getpid()))).string();
    fs::remove_all(s.dir);
    fs::create_directories(s.dir);
    static std::string made;  // removed when the fuzzer exits
    made = s.dir;
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(made, ec);
    });
    std::string inter = "user,item,item_id\n", items = "item,item_id\n";
    for (int rep = 0; rep < 4; ++rep)
      for (int u = 0; u < 8; ++u)
        inter += "u" + std::to_string(u) + ",item " + std::to_string((3 * u) % 6) + "," + std::to_string((3 * u) % 6) + "\n";
    for (int i = 0; i < 6; ++i) items += "item " + std::to_string(i) + "," + std::to_string(i) + "\n";
    write(s.dir + "/interactions.csv", inter);
    write(s.dir + "/items.csv", items);
    s.model = s.dir + "/model.yaml";
    s.train = s.dir + "/train.yaml";
    write(s.model, "name: fuzzed\n"
                   "inputs: {user: string, item: string, item_id: int}\n"
                   "layers:\n"
                   "  user_index: {type: StringLookup, input: user}\n"
                   "  user_vec: {type: Embedding, input: user_index, output_dim: 4}\n"
                   "  query: {type: Dense, input: user_vec, units: 4}\n"
                   "  item_index: {type: StringLookup, input: item, adapt: candidates}\n"
                   "  item_vec: {type: Embedding, input: item_index, output_dim: 4}\n"
                   "  candidate: {type: Dense, input: item_vec, units: 4}\n"
                   "task: {type: Retrieval, query: query, candidate: candidate, candidate_id: item_id, metrics: {top_k: [1, 5]}}\n");
    write(s.train, "data:\n  source: csv\n  interactions: interactions.csv\n  candidates: items.csv\n"
                   "  columns: {user: string, item: string, item_id: int}\n"
                   "  candidate_columns: {item: string, item_id: int}\n"
                   "  split: {seed: 1, test: 0.25}\n"
                   "fit:\n  seed: 3\n  epochs: 1\n  batch_size: 8\n  checkpoint_every: 1\n  progress: none\n"
                   "  optimizer: {type: Adam, learning_rate: 0.05}\n"
                   "  early_stopping: {metric: test_loss, patience: 3}\n");
    RunSpec spec{s.model, s.train, "", s.dir + "/first", {}, false};
    std::ostringstream log;
    run_fit(spec, log);
    s.entries = entries_of(ArchiveReader(s.dir + "/first/checkpoint.dagrad"));
    if (s.entries.empty()) broken("the good checkpoint has no entries");
    return s;
  }();
  return s;
}

// Reads a payload: `n` bytes, or up to a 0xFF byte.
std::string take(const uint8_t*& p, const uint8_t* end, size_t n) {
  size_t k = std::min<size_t>(n, static_cast<size_t>(end - p));
  std::string out(reinterpret_cast<const char*>(p), k);
  p += k;
  return out;
}
std::string take_until_ff(const uint8_t*& p, const uint8_t* end) {
  const uint8_t* q = p;
  while (q < end && *q != 0xFF) ++q;
  std::string out(reinterpret_cast<const char*>(p), static_cast<size_t>(q - p));
  p = q < end ? q + 1 : q;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Setup& s = setup();
  std::vector<Entry> entries = s.entries;
  std::vector<char> removed(entries.size(), 0);
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  while (end - p >= 2) {
    Entry& e = entries[p[0] % entries.size()];
    const int edit = p[1] % 7;
    p += 2;
    switch (edit) {
      case 0: {
        int64_t v = 0;
        const std::string b = take(p, end, 8);
        std::memcpy(&v, b.data(), b.size());
        e.value = v, e.kind = 3;
        break;
      }
      case 1: {
        double v = 0;
        const std::string b = take(p, end, 8);
        std::memcpy(&v, b.data(), b.size());
        e.value = v, e.kind = 4;
        break;
      }
      case 2: e.value = take_until_ff(p, end), e.kind = 2; break;
      case 3: {
        std::vector<std::string> list;
        std::stringstream in(take_until_ff(p, end));
        for (std::string line; std::getline(in, line);) list.push_back(line);
        e.value = list, e.kind = 1;
        break;
      }
      case 4: {
        const std::string b = take_until_ff(p, end);
        const int64_t n = static_cast<int64_t>(b.size() / 4);
        const int64_t k = n > 0 && !b.empty() ? 1 + static_cast<uint8_t>(b[0]) % 4 : 1;
        Tensor t(n % k == 0 && k > 1 ? Shape{n / k, k} : Shape{n});
        if (n) std::memcpy(t.f32(), b.data(), static_cast<size_t>(n) * 4);
        e.value = t, e.kind = 0;
        break;
      }
      case 5: removed[static_cast<size_t>(&e - entries.data())] = 1; break;
      case 6: e.value = int64_t{1}, e.kind = 3; break;
    }
  }
  ArchiveWriter w;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (removed[i]) continue;
    const Entry& e = entries[i];
    switch (e.kind) {
      case 0: w.put_tensor(e.name, std::get<Tensor>(e.value)); break;
      case 1: w.put_strings(e.name, std::get<std::vector<std::string>>(e.value)); break;
      case 2: w.put_text(e.name, std::get<std::string>(e.value)); break;
      case 3: w.put_int(e.name, std::get<int64_t>(e.value)); break;
      case 4: w.put_double(e.name, std::get<double>(e.value)); break;
    }
  }
  const std::string out = s.dir + "/run";
  fs::remove_all(out);
  fs::create_directories(out);
  w.save(out + "/checkpoint.dagrad");
  RunSpec spec{s.model, s.train, "", out, {"fit.epochs=2"}, true};
  std::ostringstream log;
  try {
    run_fit(spec, log);
  } catch (const UserError&) {
  } catch (const RuntimeFailure&) {
  }
  return 0;
}
