// ReduceSum: the sum along one axis, or of every element (see ops/reduce_op.hpp).
#include "ops/reduce_op.hpp"

namespace dagrad {

class ReduceSum : public ReduceOp<false> {
 public:
  explicit ReduceSum(const Attrs& a) : ReduceOp(a) {}
};

DAGRAD_REGISTER_OP(ReduceSum, "ReduceSum", "sum along attribute axis (absent: all elements), keepdims (default false)");

}  // namespace dagrad
