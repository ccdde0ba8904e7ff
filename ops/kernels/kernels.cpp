#include "ops/kernels/kernels.hpp"

#include <omp.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>

#include "graph/dnnl_context.hpp"
#include "graph/error.hpp"
#include "graph/op.hpp"
#include "ops/kernels/primitive_cache.hpp"

namespace dagrad {

namespace {

// Debian's oneDNN is built without DNNL_ENABLE_CONCURRENT_EXEC, so all primitives share one
// scratchpad: two executing at once (models used from several threads, docs/serving.md) would
// overwrite each other's. Executions are therefore serialised process-wide; each one is parallel
// inside (OpenMP), and waits for its stream (one per thread: graph/dnnl_context.hpp).
void execute_serialised(const dnnl::primitive& p, const std::unordered_map<int, dnnl::memory>& args) {
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  p.execute(dnnl_stream(), args);
  dnnl_stream().wait();
}

}  // namespace
namespace {

using dt = dnnl::memory::data_type;

dnnl::memory::desc strided(int64_t rows, int64_t cols, bool trans) {
  // Logical [rows, cols]; stored row-major as [cols, rows] when transposed.
  return {{rows, cols}, dt::f32, trans ? dnnl::memory::dims{1, rows} : dnnl::memory::dims{cols, 1}};
}

dnnl::memory wrap(const dnnl::memory::desc& md, const Tensor& t) {
  return dnnl::memory(md, dnnl_engine(), const_cast<float*>(t.f32()));
}

}  // namespace

void accumulate(Tensor& out, const Tensor& in, bool overwrite) {
  DAGRAD_ASSERT(out.size() == in.size(), "accumulate: sizes differ");
  float* o = out.f32();
  const float* x = in.f32();
  const int64_t n = out.size();
  if (overwrite) {
#pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMinElements)
    for (int64_t i = 0; i < n; ++i) o[i] = x[i];
    return;
  }
#pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMinElements)
  for (int64_t i = 0; i < n; ++i) o[i] += x[i];
}

void gemm(const Tensor& a, bool ta, const Tensor& b, bool tb, Tensor& c, bool accumulate) {
  DAGRAD_ASSERT(a.rank() == 2 && b.rank() == 2 && c.rank() == 2, "gemm on non-matrices");
  const int64_t m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1);
  const int64_t k2 = tb ? b.dim(1) : b.dim(0), n = tb ? b.dim(0) : b.dim(1);
  DAGRAD_ASSERT(k == k2 && c.dim(0) == m && c.dim(1) == n,
                "gemm shapes " + shape_str(a.shape()) + (ta ? "^T" : "") + " x " + shape_str(b.shape()) +
                    (tb ? "^T" : "") + " -> " + shape_str(c.shape()));
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate) c.zero();
    return;
  }
  // A transposed operand goes to dnnl_sgemm, the rest to a matmul primitive cached per shape.
  // bench/gemm_bench on an idle machine (2 threads, GFLOP/s median, primitive against sgemm):
  // logits q·cᵀ 2048x32x2048 261 / 322, dC = Gᵀ·Q 265 / 306, dense dY·Wᵀ 185 / 214, dW = Xᵀ·dY
  // 176 / 249; without transposes they tie (dQ = G·C 374 / 369, x·W 264 / 258). Interleaved
  // training runs agreed: [64, 32] 0.282 against 0.307 s per epoch when q·cᵀ moved to sgemm.
  // Inside a parallel region (nodes run side by side, graph/schedule.hpp) every product goes to
  // dnnl_sgemm, which keeps its buffers per call: primitives execute one at a time process-wide
  // (execute_serialised), which would make the two towers take turns.
  if (ta || tb || omp_in_parallel()) {
    const dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a.f32(), a.dim(1), b.f32(), b.dim(1),
                                        accumulate ? 1.0f : 0.0f, c.f32(), c.dim(1));
    if (st != dnnl_success) throw RuntimeFailure("dnnl_sgemm failed with status " + std::to_string(st));
    return;
  }
  struct Entry {
    dnnl::memory::desc a, b, c;
    dnnl::matmul prim;
  };
  using Key = std::tuple<int64_t, int64_t, int64_t, bool, bool, bool>;
  static PrimitiveCache<Key, Entry> cache;
  Entry& e = cache.get(Key{m, k, n, ta, tb, accumulate}, [&] {
    Entry e;
    e.a = strided(m, k, ta);
    e.b = strided(k, n, tb);
    e.c = strided(m, n, false);
    dnnl::primitive_attr attr;
    if (accumulate) {
      dnnl::post_ops po;
      po.append_sum(1.0f);
      attr.set_post_ops(po);
    }
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(e.a, e.b, e.c), attr, dnnl_engine());
    e.prim = dnnl::matmul(pd);
    return e;
  });
  execute_serialised(e.prim, {{DNNL_ARG_SRC, wrap(e.a, a)},
                                 {DNNL_ARG_WEIGHTS, wrap(e.b, b)},
                                 {DNNL_ARG_DST, wrap(e.c, c)}});
}

namespace {

struct EltwiseEntry {
  dnnl::eltwise_forward fwd;
  dnnl::eltwise_backward bwd;
  dnnl::memory::desc md;
};

EltwiseEntry& eltwise_entry(dnnl::algorithm alg, int64_t n) {
  static PrimitiveCache<std::pair<int, int64_t>, EltwiseEntry> cache;
  return cache.get({static_cast<int>(alg), n}, [&] {
    EltwiseEntry e;
    e.md = dnnl::memory::desc({n}, dt::f32, dnnl::memory::format_tag::a);
    dnnl::eltwise_forward::primitive_desc fpd(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, alg, e.md, 0.f, 0.f), dnnl_engine());
    dnnl::eltwise_backward::primitive_desc bpd(dnnl::eltwise_backward::desc(alg, e.md, e.md, 0.f, 0.f),
                                               dnnl_engine(), fpd);
    e.fwd = dnnl::eltwise_forward(fpd);
    e.bwd = dnnl::eltwise_backward(bpd);
    return e;
  });
}

}  // namespace

void eltwise_forward(dnnl::algorithm alg, const Tensor& x, Tensor& y) {
  if (x.size() == 0) return;
  auto& e = eltwise_entry(alg, x.size());
  execute_serialised(e.fwd, {{DNNL_ARG_SRC, wrap(e.md, x)}, {DNNL_ARG_DST, wrap(e.md, y)}});
}

void eltwise_backward(dnnl::algorithm alg, const Tensor& y, const Tensor& dy, Tensor& dx, bool overwrite) {
  if (y.size() == 0) return;
  auto& e = eltwise_entry(alg, y.size());
  if (overwrite) {
    execute_serialised(e.bwd, {{DNNL_ARG_DST, wrap(e.md, y)},
                                  {DNNL_ARG_DIFF_DST, wrap(e.md, dy)},
                                  {DNNL_ARG_DIFF_SRC, wrap(e.md, dx)}});
    return;
  }
  thread_local Tensor scratch;
  Tensor tmp = grown_view(scratch, {y.size()});
  execute_serialised(e.bwd, {{DNNL_ARG_DST, wrap(e.md, y)},
                                {DNNL_ARG_DIFF_DST, wrap(e.md, dy)},
                                {DNNL_ARG_DIFF_SRC, wrap(e.md, tmp)}});
  accumulate(dx, tmp);
}

}  // namespace dagrad

// ---- Elementwise arithmetic, reductions and broadcasts ----

namespace dagrad {
namespace {

using tag = dnnl::memory::format_tag;

// Elements from which dagrad's own loops use both threads (see kParallelMinElements).
constexpr int64_t kParallelMin = kParallelMinElements;

}  // namespace

void binary_op(dnnl::algorithm alg, const Tensor& a, const Tensor& b, Tensor& c, bool accumulate) {
  const int64_t n = a.size();
  DAGRAD_ASSERT(c.size() == n, "binary_op: output size " + shape_str(c.shape()) + " for " + shape_str(a.shape()));
  if (n == 0) return;
  const bool broadcast = b.size() != n;
  const int64_t cols = broadcast ? b.size() : n;
  DAGRAD_ASSERT(cols > 0 && n % cols == 0 && (!broadcast || a.dim(-1) == cols),
                "binary_op: " + shape_str(b.shape()) + " does not fit " + shape_str(a.shape()));
  const int64_t rows = n / cols;
  struct Entry {
    dnnl::memory::desc a, b;
    dnnl::binary prim;
  };
  using Key = std::tuple<int, int64_t, int64_t, bool, bool>;
  static PrimitiveCache<Key, Entry> cache;
  Entry& e = cache.get(Key{static_cast<int>(alg), rows, cols, broadcast, accumulate}, [&] {
    Entry e;
    e.a = dnnl::memory::desc({rows, cols}, dt::f32, tag::ab);
    e.b = dnnl::memory::desc({broadcast ? 1 : rows, cols}, dt::f32, tag::ab);
    dnnl::primitive_attr attr;
    if (accumulate) {
      dnnl::post_ops po;
      po.append_sum(1.0f);
      attr.set_post_ops(po);
    }
    dnnl::binary::primitive_desc pd(dnnl::binary::desc(alg, e.a, e.b, e.a), attr, dnnl_engine());
    e.prim = dnnl::binary(pd);
    return e;
  });
  execute_serialised(e.prim, {{DNNL_ARG_SRC_0, wrap(e.a, a)},
                                 {DNNL_ARG_SRC_1, wrap(e.b, b)},
                                 {DNNL_ARG_DST, wrap(e.a, c)}});
}

void scale_into(float alpha, const Tensor& x, Tensor& y) {
  const int64_t n = x.size();
  DAGRAD_ASSERT(y.size() == n, "scale_into: sizes differ");
  if (n == 0) return;
  struct Entry {
    dnnl::memory::desc md;
    dnnl::eltwise_forward prim;
  };
  static PrimitiveCache<std::pair<int64_t, float>, Entry> cache;
  Entry& e = cache.get({n, alpha}, [&] {
    Entry e;
    e.md = dnnl::memory::desc({n}, dt::f32, tag::a);
    dnnl::eltwise_forward::primitive_desc pd(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_linear, e.md,
                                    alpha, 0.f),
        dnnl_engine());
    e.prim = dnnl::eltwise_forward(pd);
    return e;
  });
  execute_serialised(e.prim, {{DNNL_ARG_SRC, wrap(e.md, x)}, {DNNL_ARG_DST, wrap(e.md, y)}});
}

void axpy(float alpha, const Tensor& x, Tensor& y) {
  DAGRAD_ASSERT(x.size() == y.size(), "axpy: sizes differ");
  const float* xp = x.f32();
  float* yp = y.f32();
  const int64_t n = y.size();
#pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) yp[i] += alpha * xp[i];
}

void reduce_last_axis(dnnl::algorithm alg, const Tensor& x, int64_t rows, int64_t cols, Tensor& y) {
  DAGRAD_ASSERT(rows > 0 && cols > 0 && x.size() == rows * cols && y.size() == rows,
                "reduce_last_axis: " + shape_str(x.shape()) + " as " + std::to_string(rows) + "x" +
                    std::to_string(cols) + " into " + shape_str(y.shape()));
  if (cols == 1) {  // oneDNN rejects a reduction that reduces nothing: the sum or mean of one value
    std::copy_n(x.f32(), rows, y.f32());
    return;
  }
  if (rows * cols < kParallelMin) {  // one thread: the primitive would fork both (a loss [2048] -> [1])
    const float* xp = x.f32();
    float* yp = y.f32();
    const float scale = alg == dnnl::algorithm::reduction_mean ? 1.0f / static_cast<float>(cols) : 1.0f;
    for (int64_t r = 0; r < rows; ++r) {
      float s = 0.0f;
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < cols; ++c) s += xp[r * cols + c];
      yp[r] = s * scale;
    }
    return;
  }
  struct Entry {
    dnnl::memory::desc src, dst;
    dnnl::reduction prim;
  };
  using Key = std::tuple<int, int64_t, int64_t>;
  static PrimitiveCache<Key, Entry> cache;
  Entry& e = cache.get(Key{static_cast<int>(alg), rows, cols}, [&] {
    Entry e;
    e.src = dnnl::memory::desc({rows, cols}, dt::f32, tag::ab);
    e.dst = dnnl::memory::desc({rows, 1}, dt::f32, tag::ab);
    dnnl::reduction::primitive_desc pd(dnnl::reduction::desc(alg, e.src, e.dst, 0.f, 0.f), dnnl_engine());
    e.prim = dnnl::reduction(pd);
    return e;
  });
  execute_serialised(e.prim, {{DNNL_ARG_SRC, wrap(e.src, x)}, {DNNL_ARG_DST, wrap(e.dst, y)}});
}

void sum_middle_axis(const Tensor& x, int64_t outer, int64_t count, int64_t inner, float scale,
                     bool accumulate, Tensor& y) {
  DAGRAD_ASSERT(x.size() == outer * count * inner && y.size() == outer * inner,
                "sum_middle_axis: " + shape_str(x.shape()) + " into " + shape_str(y.shape()));
  // Rows of x are summed in blocks of kBlock into partial[o, block, :], then the partials of each
  // o are added in block order: the result depends on neither the thread count nor the schedule.
  constexpr int64_t kBlock = 256;
  const int64_t blocks = std::max<int64_t>(1, (count + kBlock - 1) / kBlock);
  const int64_t tasks = outer * blocks;
  thread_local Tensor scratch;
  float* partial = grown_view(scratch, {std::max<int64_t>(1, tasks * inner)}).f32();
  const float* xp = x.f32();
  float* yp = y.f32();
#pragma omp parallel for schedule(static) if (x.size() >= kParallelMin)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t o = t / blocks, b = t % blocks;
    float* p = partial + t * inner;
    for (int64_t i = 0; i < inner; ++i) p[i] = 0.0f;
    const int64_t k_end = std::min(count, (b + 1) * kBlock);
    for (int64_t k = b * kBlock; k < k_end; ++k) {
      const float* row = xp + (o * count + k) * inner;
#pragma omp simd
      for (int64_t i = 0; i < inner; ++i) p[i] += row[i];
    }
  }
#pragma omp parallel for schedule(static) if (outer * inner * blocks >= kParallelMin)
  for (int64_t o = 0; o < outer; ++o) {
    float* out = yp + o * inner;
    const float* p = partial + o * blocks * inner;
    for (int64_t i = 0; i < inner; ++i) {
      float s = 0.0f;
      for (int64_t b = 0; b < blocks; ++b) s += p[b * inner + i];
      out[i] = accumulate ? out[i] + scale * s : scale * s;
    }
  }
}

void broadcast_middle_axis(const Tensor& y, int64_t outer, int64_t count, int64_t inner, float scale,
                           bool accumulate, Tensor& x) {
  DAGRAD_ASSERT(x.size() == outer * count * inner && y.size() == outer * inner,
                "broadcast_middle_axis: " + shape_str(y.shape()) + " into " + shape_str(x.shape()));
  const float* yp = y.f32();
  float* xp = x.f32();
  const bool use_threads = x.size() >= kParallelMin;
  if (inner == 1 && outer == 1) {  // one value for all of x
    const float v = scale * yp[0];
    if (accumulate) {
#pragma omp parallel for simd schedule(static) if (parallel: use_threads)
      for (int64_t k = 0; k < count; ++k) xp[k] += v;
    } else {
#pragma omp parallel for simd schedule(static) if (parallel: use_threads)
      for (int64_t k = 0; k < count; ++k) xp[k] = v;
    }
    return;
  }
  if (inner == 1) {  // rows of x each get one value: vectorise along count
#pragma omp parallel for schedule(static) if (use_threads)
    for (int64_t o = 0; o < outer; ++o) {
      const float v = scale * yp[o];
      float* dst = xp + o * count;
      if (accumulate) {
#pragma omp simd
        for (int64_t k = 0; k < count; ++k) dst[k] += v;
      } else {
#pragma omp simd
        for (int64_t k = 0; k < count; ++k) dst[k] = v;
      }
    }
    return;
  }
#pragma omp parallel for collapse(2) schedule(static) if (use_threads)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < count; ++k) {
      const float* src = yp + o * inner;
      float* dst = xp + (o * count + k) * inner;
      if (accumulate) {
#pragma omp simd
        for (int64_t i = 0; i < inner; ++i) dst[i] += scale * src[i];
      } else {
#pragma omp simd
        for (int64_t i = 0; i < inner; ++i) dst[i] = scale * src[i];
      }
    }
}

}  // namespace dagrad
