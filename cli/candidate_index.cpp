#include "cli/candidate_index.hpp"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <thread>
#include <unistd.h>

#include "graph/error.hpp"

namespace dagrad {
namespace {

class ExactIndex : public CandidateIndex {
 public:
  explicit ExactIndex(const Tensor& v) : vectors_(v.clone()), n_(v.dim(0)), d_(v.dim(1)) {}

  std::vector<std::pair<int64_t, float>> search(const float* q, int64_t k, const std::vector<char>& excluded) const override {
    std::vector<float> scores(static_cast<size_t>(n_));
    const float* v = vectors_.f32();
    for (int64_t i = 0; i < n_; ++i) {
      float acc = 0;
      for (int64_t j = 0; j < d_; ++j) acc += q[j] * v[i * d_ + j];
      scores[i] = acc;
    }
    std::vector<int64_t> order;
    order.reserve(static_cast<size_t>(n_));
    for (int64_t i = 0; i < n_; ++i)
      if (excluded.empty() || !excluded[i]) order.push_back(i);
    const int64_t top = std::min<int64_t>(k, static_cast<int64_t>(order.size()));
    std::partial_sort(order.begin(), order.begin() + top, order.end(),
                      [&](int64_t a, int64_t b) { return scores[a] > scores[b] || (scores[a] == scores[b] && a < b); });
    std::vector<std::pair<int64_t, float>> out;
    for (int64_t i = 0; i < top; ++i) out.push_back({order[i], scores[order[i]]});
    return out;
  }
  std::string describe() const override { return "exact (every candidate scored)"; }
  size_t memory_bytes() const override { return static_cast<size_t>(vectors_.size()) * sizeof(float); }

 private:
  Tensor vectors_;
  int64_t n_, d_;
};

class HnswIndex : public CandidateIndex {
 public:
  // From hnswlib's saved bytes, at `path`.
  HnswIndex(const Tensor& v, const std::string& path, const IndexOptions& o)
      : n_(v.dim(0)), d_(v.dim(1)), ef_(o.ef_search), m_(o.m), efc_(o.ef_construction), space_(static_cast<size_t>(d_)) {
    try {
      index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space_, path, false, static_cast<size_t>(n_));
    } catch (const std::exception& e) {
      throw UserError(std::string("the saved HNSW index does not load: ") + e.what());
    }
    if (static_cast<int64_t>(index_->cur_element_count) != n_ || index_->data_size_ != static_cast<size_t>(d_) * sizeof(float))
      throw UserError("the saved HNSW index holds " + std::to_string(index_->cur_element_count) +
                      " vectors, not the model's " + std::to_string(n_) + " of " + std::to_string(d_) + " dimensions");
    index_->setEf(static_cast<size_t>(ef_));
  }
  void save(const std::string& path) const { index_->saveIndex(path); }

  HnswIndex(const Tensor& v, const IndexOptions& o)
      : n_(v.dim(0)), d_(v.dim(1)), ef_(o.ef_search), m_(o.m), efc_(o.ef_construction), space_(static_cast<size_t>(d_)) {
    index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space_, static_cast<size_t>(std::max<int64_t>(n_, 1)),
                                                               static_cast<size_t>(o.m),
                                                               static_cast<size_t>(o.ef_construction));
    const float* p = v.f32();
    // The first point alone, then the rest from several threads (hnswlib's addPoint is safe to call
    // concurrently; the graph then depends on the order of insertion, hence on the thread count).
    if (n_ > 0) index_->addPoint(p, 0);
    const int threads = std::max(1, o.threads);
    std::vector<std::thread> pool;
    std::atomic<int64_t> next{1};
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        for (int64_t i = next++; i < n_; i = next++) index_->addPoint(p + i * d_, static_cast<size_t>(i));
      });
    for (auto& th : pool) th.join();
    index_->setEf(static_cast<size_t>(ef_));
  }

  std::vector<std::pair<int64_t, float>> search(const float* q, int64_t k, const std::vector<char>& excluded) const override {
    int64_t n_excluded = 0;
    for (char e : excluded) n_excluded += e != 0;
    const int64_t want = std::min<int64_t>(n_, k + n_excluded);
    // searchKnn keeps max(ef, want) candidates; results come worst first, by distance 1 - q·v.
    auto result = index_->searchKnn(q, static_cast<size_t>(want));
    std::vector<std::pair<int64_t, float>> out;
    while (!result.empty()) {
      const auto [dist, label] = result.top();
      result.pop();
      if (excluded.empty() || !excluded[label]) out.push_back({static_cast<int64_t>(label), 1.0f - dist});
    }
    std::reverse(out.begin(), out.end());
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.second > b.second || (a.second == b.second && a.first < b.first);
    });
    if (static_cast<int64_t>(out.size()) > k) out.resize(static_cast<size_t>(k));
    return out;
  }
  void set_search_ef(int64_t ef) override {
    ef_ = std::max<int64_t>(1, ef);
    index_->setEf(static_cast<size_t>(ef_));
  }
  std::string describe() const override {
    return "hnsw (M " + std::to_string(m_) + ", ef_construction " + std::to_string(efc_) + ", ef " + std::to_string(ef_) + ")";
  }
  size_t memory_bytes() const override {
    // hnswlib's level-0 block (vectors and links) and the upper levels' link lists.
    return index_->max_elements_ * index_->size_data_per_element_ +
           static_cast<size_t>(index_->cur_element_count) * index_->size_links_per_element_ / 2;
  }

 private:
  int64_t n_, d_, ef_, m_, efc_;
  hnswlib::InnerProductSpace space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
};

}  // namespace

std::string hnsw_index_bytes(const CandidateIndex& index, const std::string& scratch_dir) {
  const auto* h = dynamic_cast<const HnswIndex*>(&index);
  if (!h) throw UserError("index: only an HNSW index is saved (the exact one needs nothing but the vectors)");
  const std::string path = scratch_dir + "/index.hnsw.dagrad-tmp." + std::to_string(::getpid());
  h->save(path);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  return bytes;
}

std::unique_ptr<CandidateIndex> load_hnsw_index(const Tensor& vectors, const std::string& bytes, const IndexOptions& o,
                                                const std::string& scratch_dir) {
  const std::string path = scratch_dir + "/index.hnsw.load.dagrad-tmp." + std::to_string(::getpid());
  {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw RuntimeFailure("index: cannot write " + path);
  }
  std::unique_ptr<CandidateIndex> index;
  try {
    index = std::make_unique<HnswIndex>(vectors, path, o);
  } catch (...) {
    std::filesystem::remove(path);
    throw;
  }
  std::filesystem::remove(path);
  return index;
}

std::unique_ptr<CandidateIndex> build_candidate_index(const Tensor& vectors, const IndexOptions& o) {
  if (vectors.rank() != 2 || vectors.dtype() != DType::f32)
    throw UserError("index: candidate vectors must be f32 [n, d], got " + shape_str(vectors.shape()));
  if (o.kind == "exact") return std::make_unique<ExactIndex>(vectors);
  if (o.kind == "hnsw") {
    if (o.m < 2 || o.m > 256) throw UserError("index: hnsw M must be in 2..256, got " + std::to_string(o.m));
    if (o.ef_construction < 1 || o.ef_search < 1) throw UserError("index: hnsw ef values must be at least 1");
    return std::make_unique<HnswIndex>(vectors, o);
  }
  throw UserError("index: expected exact or hnsw, got '" + o.kind + "'");
}

}  // namespace dagrad
