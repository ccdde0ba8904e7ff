// Shared kernels for op files: matrix products, elementwise activations and arithmetic, reductions.
// Matrix products go through dnnl::sgemm (nothing to create per shape); other oneDNN primitives are
// created once per shape and cached (creation costs ~0.2 ms, a cache hit ~µs).
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

#include "graph/tensor.hpp"

namespace dagrad {

// Elements below which an op's own streaming loops run on one thread. These loops are bound by
// memory, which one core nearly saturates, while waking the second OpenMP thread costs 5-10 µs
// idle and 0.1-0.5 ms (median) when the machine is loaded. Measured on 2 threads with
// OMP_WAIT_POLICY=PASSIVE, Relu's backward (median µs, serial / parallel): 128 K elements 23 / 32,
// 256 K 50 / 60, 512 K 99 / 178, 1 M 209 / 244 under load average 4; c = a + b under load 8:
// 64 K 45 / 203, 256 K 142 / 759. So the towers' activations stay on one thread; the 2048 x 2048
// logits (which also compute exp) and the [2048, 16, 32] title tokens use both.
// On `#pragma omp parallel for simd` write the condition as `if (parallel: ...)`: a plain `if`
// applies to the simd part too (OpenMP 5), and GCC then emits a scalar loop when it is false
// (Relu's backward over 131,072 floats took 650 µs instead of 23).
inline constexpr int64_t kParallelMinElements = 1 << 20;

// out += in, or out = in when `overwrite` (a fresh gradient), elementwise (same size); parallel.
void accumulate(Tensor& out, const Tensor& in, bool overwrite = false);


// c = op(a) · op(b) (+ c when accumulate), op = transpose when the flag is set; a, b, c are
// contiguous row-major 2-D tensors and transposes are read in place (no copies). Without
// accumulate, c's old contents are never read (uninitialised or NaN values do no harm).
void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, bool accumulate);

// Elementwise activation forward, y = f(x), and backward, dx += f'(x) · dy computed from y
// (dx = f'(x) · dy when `overwrite`). alg is a *_use_dst_for_bwd algorithm (relu, logistic, tanh).
void eltwise_forward(dnnl::algorithm alg, const Tensor& x, Tensor& y);
void eltwise_backward(dnnl::algorithm alg, const Tensor& y, const Tensor& dy, Tensor& dx, bool overwrite);

}  // namespace dagrad

// ---- Elementwise arithmetic, reductions and broadcasts (Add, Mul, BiasAdd, Scale, Reduce*) ----

namespace dagrad {

// c = a ⊙ b for a oneDNN binary algorithm (binary_add, binary_mul, ...), or c += a ⊙ b when
// accumulate (a sum post-op, no scratch). b has a's size (elementwise) or is one row of a's last
// dimension, broadcast over the rows; c has a's size and must not alias a or b when accumulating.
void binary_op(dnnl::algorithm alg, const Tensor& a, const Tensor& b, Tensor& c, bool accumulate = false);

// y = alpha · x, elementwise (oneDNN eltwise_linear).
void scale_into(float alpha, const Tensor& x, Tensor& y);

// y += alpha · x, elementwise (same size); parallel.
void axpy(float alpha, const Tensor& x, Tensor& y);

// y[r] = Σ_c x[r, c] (reduction_sum) or its mean (reduction_mean) for x viewed as [rows, cols],
// rows, cols > 0. oneDNN's jit reduction (fast only when the reduced axis is innermost); below
// kParallelMinElements a serial loop.
void reduce_last_axis(dnnl::algorithm alg, const Tensor& x, int64_t rows, int64_t cols, Tensor& y);

// y[o, i] = scale · Σ_k x[o, k, i] (y += ... when accumulate) for x viewed as [outer, count, inner].
// A plain parallel loop: oneDNN's reduction over a non-innermost axis is its reference kernel.
// Deterministic whatever the thread count: k is summed in fixed blocks whose partial sums are
// combined in block order.
void sum_middle_axis(const Tensor& x, int64_t outer, int64_t count, int64_t inner, float scale,
                     bool accumulate, Tensor& y);

// x[o, k, i] += scale · y[o, i] for x viewed as [outer, count, inner]: the adjoint of
// sum_middle_axis (x[o, k, i] = scale · y[o, i] when not `accumulate`).
void broadcast_middle_axis(const Tensor& y, int64_t outer, int64_t count, int64_t inner, float scale,
                           bool accumulate, Tensor& x);

}  // namespace dagrad
