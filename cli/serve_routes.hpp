// What `dagrad serve` answers, apart from HTTP itself (cli/cmd_serve.cpp carries the requests): the
// model being served (ModelSource: a private snapshot per load, the candidate index, reloads), each
// worker thread's copy of the model, and route(): one request's method, target and body to a status
// and a JSON body. Routes:
//   GET  /health    {"status": "ok", "model": NAME, "generation": G}
//   GET  /metadata  the model's inputs and their types, task, towers or prediction, candidates, index
//   POST /score     {"rows": [{INPUT: VALUE, ...}, ...]} -> {"scores": [...]}: the task's prediction
//                   per row (Ranking), or the dot product of the two towers (Retrieval, rows holding
//                   both towers' inputs)
//   POST /retrieve  {"query": {INPUT: VALUE, ...}, "k": 10, "exclude": [ID, ...]} ->
//                   {"candidates": [{"id": ID, "score": S, COLUMN: VALUE, ...}, ...]}: the top k of the
//                   candidate set saved with the model, through its index (exact or HNSW)
// A request the client got wrong gets 400 with {"error": "..."} naming the field (413 past a limit,
// 404 for an unknown route, 405 for a wrong method).
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/candidate_index.hpp"

namespace dagrad::cli {

// The model file being served, snapshotted into a private copy at each (re)load so that every
// worker loads exactly what was checked, whatever happens to the file afterwards.
class ModelSource {
 public:
  // What the workers serve: the snapshot's path, its generation, and the index over its candidates.
  struct State {
    std::string path;
    uint64_t generation = 0;
    std::shared_ptr<const CandidateIndex> index;  // null: the model has no candidate vectors
  };

  // index_chosen: --index was given (else a saved index is used when the file has one);
  // ef_chosen: --hnsw-ef was given.
  ModelSource(std::string path, IndexOptions index, bool index_chosen, bool ef_chosen);
  ~ModelSource();
  // Loads the file into a new snapshot; throws (and keeps serving the old one) if it does not load.
  void reload();
  State current() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return state_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  IndexOptions index_options_;
  bool index_chosen_, ef_chosen_;
  std::filesystem::path dir_;
  mutable std::mutex mutex_;
  State state_;
};


struct ServeLimits {
  int64_t max_body = 1 << 20;  // bytes of a request body (the transport enforces it: 413)
  int64_t max_rows = 10000;    // rows of one /score request (413)
};

struct Reply {
  int status;
  nlohmann::json body;
};

// One request to one reply, with this thread's copy of the model. Never throws.
Reply route(const std::string& method, const std::string& target, const std::string& body, ModelSource& source,
            const ServeLimits& limits);

}  // namespace dagrad::cli
