// Indexes over a candidate set's vectors for top-k retrieval by inner product (what `dagrad serve`
// answers /retrieve with): exact, scoring every candidate, or approximate, an HNSW graph (hnswlib,
// the libhnswlib-dev Debian package; Malkov and Yashunin 2018) that visits a small part of a large
// catalogue. Both are read-only once built and safe to search from several threads at once.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "graph/tensor.hpp"

namespace dagrad {

struct IndexOptions {
  std::string kind = "exact";  // exact | hnsw
  int64_t m = 16;                // hnsw: links per node
  int64_t ef_construction = 200; // hnsw: candidates kept while building
  int64_t ef_search = 200;       // hnsw: candidates kept while searching (>= k is used)
  int threads = 1;               // hnsw: threads that build
};

class CandidateIndex {
 public:
  virtual ~CandidateIndex() = default;
  // The k best rows of the candidate matrix for `query` (d floats) by inner product, best first
  // (ties to the lower row), leaving out rows whose `excluded` flag is set (empty: none).
  virtual std::vector<std::pair<int64_t, float>> search(const float* query, int64_t k,
                                                        const std::vector<char>& excluded) const = 0;
  // HNSW: how many candidates a search keeps (not to be called while searches run). Exact: no-op.
  virtual void set_search_ef(int64_t) {}
  virtual std::string describe() const = 0;
  virtual size_t memory_bytes() const = 0;  // what the index holds beyond the vectors it was given
};

// Builds the index over `vectors` [n, d] (which it copies or keeps by reference as it needs: the
// tensor may go). UserError for a bad kind or parameter.
std::unique_ptr<CandidateIndex> build_candidate_index(const Tensor& vectors, const IndexOptions& o);

// An HNSW index as bytes (hnswlib's own format), to keep in a model file (`dagrad index`), and
// back: `o` gives its parameters (M and ef_construction as built; ef_search to search with), and
// `scratch_dir` a folder for the temporary file hnswlib reads and writes. UserError when the bytes
// do not fit the vectors.
std::string hnsw_index_bytes(const CandidateIndex& index, const std::string& scratch_dir);
std::unique_ptr<CandidateIndex> load_hnsw_index(const Tensor& vectors, const std::string& bytes, const IndexOptions& o,
                                                const std::string& scratch_dir);

}  // namespace dagrad
