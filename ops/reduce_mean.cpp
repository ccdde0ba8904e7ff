// ReduceMean: the mean along one axis, or of every element (see ops/reduce_op.hpp).
#include "ops/reduce_op.hpp"

namespace dagrad {

class ReduceMean : public ReduceOp<true> {
 public:
  explicit ReduceMean(const Attrs& a) : ReduceOp(a) {}
};

DAGRAD_REGISTER_OP(ReduceMean, "ReduceMean", "mean along attribute axis (absent: all elements), keepdims (default false)");

}  // namespace dagrad
