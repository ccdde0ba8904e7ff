// The Retrieval task's public face, for serving: which nodes give the scoring embeddings of a
// query and of a candidate, and which column identifies a candidate.
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
};

}  // namespace dagrad
