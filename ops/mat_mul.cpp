// MatMul: out = op(a) · op(b) for 2-D a and b; op transposes when transpose_a / transpose_b is set.
#include "ops/kernels/kernels.hpp"
#include "graph/op.hpp"

namespace dagrad {

class MatMul : public Op {
 public:
  explicit MatMul(const Attrs& a)
      : ta_(a.get_bool("transpose_a")), tb_(a.get_bool("transpose_b")) {}

  static Schema schema() {
    return {Key::boolean("transpose_a", "use aᵀ").otherwise(false), Key::boolean("transpose_b", "use bᵀ").otherwise(false)};
  }

  std::pair<int, int> arity() const override { return {2, 2}; }

  TensorType infer(const std::vector<TensorType>& in) const override {
    expect_rank(in[0], 2, "a");
    expect_rank(in[1], 2, "b");
    expect_dtype(in[0], DType::f32, "a");
    expect_dtype(in[1], DType::f32, "b");
    const auto& a = in[0].shape;
    const auto& b = in[1].shape;
    int64_t m = ta_ ? a[1] : a[0], k = ta_ ? a[0] : a[1];
    int64_t k2 = tb_ ? b[1] : b[0], n = tb_ ? b[0] : b[1];
    if (k != k2)
      throw UserError("inner dimensions differ: " + shape_str(a) + (ta_ ? "ᵀ" : "") + " · " + shape_str(b) +
                      (tb_ ? "ᵀ" : ""));
    return {{m, n}, DType::f32};
  }

  void forward(const Inputs& in, Tensor& out) override { gemm(*in[0], ta_, *in[1], tb_, out, false); }

  void backward(const Inputs& in, const Tensor&, const Tensor& dout, const Grads& din) override {
    const Tensor& a = *in[0];
    const Tensor& b = *in[1];
    if (GradOut da = din.out(0)) {
      const bool add = !da.overwrite;
      if (!ta_) gemm(dout, false, b, !tb_, *da, add);  // dA = dC · op(B)ᵀ
      else gemm(b, tb_, dout, true, *da, add);          // dA = op(B) · dCᵀ
    }
    if (GradOut db = din.out(1)) {
      const bool add = !db.overwrite;
      if (!tb_) gemm(a, !ta_, dout, false, *db, add);  // dB = op(A)ᵀ · dC
      else gemm(dout, true, a, ta_, *db, add);          // dB = dCᵀ · op(A)
    }
  }

  // 2·m·k·n forward and for each input's gradient (one product of the same size each).
  double flops(const Inputs& in, const Tensor& out, int) const override {
    const int64_t k = ta_ ? in[0]->dim(0) : in[0]->dim(1);
    return 2.0 * static_cast<double>(out.size()) * static_cast<double>(k);
  }

  static std::vector<Sample> samples() {
    std::vector<Sample> s;
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        Shape a = ta ? Shape{4, 3} : Shape{3, 4};
        Shape b = tb ? Shape{5, 4} : Shape{4, 5};
        s.push_back({std::string("ta=") + (ta ? "1" : "0") + " tb=" + (tb ? "1" : "0"),
                     {{"transpose_a", ta}, {"transpose_b", tb}},
                     {{a}, {b}}});
      }
    return s;
  }

 private:
  bool ta_, tb_;
};

DAGRAD_REGISTER_OP(MatMul, "MatMul", "matrix product op(a)·op(b) with transpose_a / transpose_b flags (oneDNN matmul)");

}  // namespace dagrad
