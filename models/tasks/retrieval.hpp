// The Retrieval task's public face, for serving and benchmarks: which nodes give the scoring
// embeddings of a query and of a candidate, which column identifies a candidate, and the top-k
// evaluation on its own.
#pragma once
#include <string>

#include "models/task.hpp"

namespace dagrad {

class RetrievalTask : public Task {
 public:
  // Nodes whose rows are the embeddings that the task scores (after L2 normalisation when set).
  virtual int query_node() const = 0;
  virtual int candidate_node() const = 0;
  virtual const std::string& candidate_id_column() const = 0;
  // The FactorizedTopK metrics alone (evaluate() adds the loss): both towers' forward over the
  // eval rows and the candidate table, then scoring against every candidate. No metrics without
  // a candidate table.
  virtual Metrics evaluate_top_k(Model& m, const Table& eval, const DataTables& data) = 0;
  RetrievalTask* retrieval() override { return this; }
};

}  // namespace dagrad
