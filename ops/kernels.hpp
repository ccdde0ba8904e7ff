// Shared oneDNN-backed kernels for op files: matrix products and elementwise activations.
// Matrix products go through dnnl::sgemm (nothing to create per shape); eltwise primitives are
// created once per shape and cached (creation costs ~0.2 ms, a cache hit ~µs).
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

#include "graph/tensor.hpp"

namespace dagrad {

// c = op(a) · op(b) (+ c when accumulate), op = transpose when the flag is set; a, b, c are
// contiguous row-major 2-D tensors and transposes are read in place (no copies). Without
// accumulate, c's old contents are never read (uninitialised or NaN values do no harm).
void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, bool accumulate);

// Elementwise activation forward, y = f(x), and backward, dx += f'(x) · dy computed from y.
// alg is a *_use_dst_for_bwd algorithm (relu, logistic, tanh).
void eltwise_forward(dnnl::algorithm alg, const Tensor& x, Tensor& y);
void eltwise_backward_accumulate(dnnl::algorithm alg, const Tensor& y, const Tensor& dy, Tensor& dx);

}  // namespace dagrad
