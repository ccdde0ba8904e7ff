#include "ops/kernels.hpp"

#include <map>
#include <string>

#include "graph/dnnl_context.hpp"
#include "graph/error.hpp"
#include "ops/op.hpp"

namespace dagrad {
namespace {

using dt = dnnl::memory::data_type;

dnnl::memory wrap(const dnnl::memory::desc& md, const Tensor& t) {
  return dnnl::memory(md, dnnl_engine(), const_cast<float*>(t.f32()));
}

}  // namespace

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
  // dnnl::sgemm rather than a matmul primitive: on the model's shapes it is as fast when neither
  // operand is transposed and up to 1.4x faster when one is (the backward products), where the
  // matmul primitive takes its slower brgemm route (bench/matmul_bench, bench/README.md). It needs
  // no primitive to create or cache per shape, and beta = 1 accumulates, beta = 0 overwrites
  // without reading c. Row-major leading dimensions are the stored row lengths.
  const int64_t lda = ta ? m : k, ldb = tb ? k : n;
  const dnnl::status st = dnnl::sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a.f32(), lda, b.f32(), ldb,
                                      accumulate ? 1.0f : 0.0f, c.f32(), n);
  if (st != dnnl::status::success)
    throw RuntimeFailure("dnnl::sgemm failed (status " + std::to_string(static_cast<int>(st)) + ") for " +
                         std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n));
}

namespace {

struct EltwiseEntry {
  dnnl::eltwise_forward fwd;
  dnnl::eltwise_backward bwd;
  dnnl::memory::desc md;
};

EltwiseEntry& eltwise_entry(dnnl::algorithm alg, int64_t n) {
  static std::map<std::pair<int, int64_t>, EltwiseEntry> cache;
  auto key = std::make_pair(static_cast<int>(alg), n);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  EltwiseEntry e;
  e.md = dnnl::memory::desc({n}, dt::f32, dnnl::memory::format_tag::a);
  dnnl::eltwise_forward::primitive_desc fpd(
      dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, alg, e.md, 0.f, 0.f), dnnl_engine());
  dnnl::eltwise_backward::primitive_desc bpd(dnnl::eltwise_backward::desc(alg, e.md, e.md, 0.f, 0.f),
                                             dnnl_engine(), fpd);
  e.fwd = dnnl::eltwise_forward(fpd);
  e.bwd = dnnl::eltwise_backward(bpd);
  return cache.emplace(key, std::move(e)).first->second;
}

}  // namespace

void eltwise_forward(dnnl::algorithm alg, const Tensor& x, Tensor& y) {
  if (x.size() == 0) return;
  auto& e = eltwise_entry(alg, x.size());
  e.fwd.execute(dnnl_stream(), {{DNNL_ARG_SRC, wrap(e.md, x)}, {DNNL_ARG_DST, wrap(e.md, y)}});
  dnnl_stream().wait();
}

void eltwise_backward_accumulate(dnnl::algorithm alg, const Tensor& y, const Tensor& dy, Tensor& dx) {
  if (y.size() == 0) return;
  auto& e = eltwise_entry(alg, y.size());
  thread_local Tensor scratch;
  if (!scratch.defined() || scratch.capacity() < y.size()) scratch = Tensor({y.size()});
  Tensor tmp = scratch.resized({y.size()});
  e.bwd.execute(dnnl_stream(), {{DNNL_ARG_DST, wrap(e.md, y)},
                                {DNNL_ARG_DIFF_DST, wrap(e.md, dy)},
                                {DNNL_ARG_DIFF_SRC, wrap(e.md, tmp)}});
  dnnl_stream().wait();
  accumulate(dx, tmp);
}

}  // namespace dagrad
