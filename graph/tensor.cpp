#include "graph/tensor.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "graph/error.hpp"
#include "graph/limits.hpp"

namespace dagrad {

const char* dtype_name(DType t) { return t == DType::f32 ? "f32" : "i32"; }

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) os << ", ";
    if (s[i] == kBatch) os << 'B';
    else if (s[i] == kTokens) os << 'T';
    else os << s[i];
  }
  os << ']';
  return os.str();
}

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= (d < 0 ? 1 : d);
  return n;
}

namespace {
// Bytes of every tensor storage alive in the process: the memory limit bounds their total, so
// that many tensors each below it (a thousand layers of output_dim 10^6) cannot take the machine.
std::atomic<int64_t> g_tensor_bytes{0};
}  // namespace

int64_t limits::tensor_bytes_in_use() { return g_tensor_bytes.load(std::memory_order_relaxed); }

struct Tensor::Storage {
  void* data = nullptr;
  int64_t elements = 0;
  int64_t bytes = 0;
  Storage(int64_t n, const Shape& shape) : elements(n) {
    size_t size = static_cast<size_t>(n > 0 ? n : 1) * 4;
    size = (size + 63) / 64 * 64;
    const int64_t limit = limits::memory_limit();
    const int64_t before = g_tensor_bytes.fetch_add(static_cast<int64_t>(size), std::memory_order_relaxed);
    if (before + static_cast<int64_t>(size) > limit) {
      g_tensor_bytes.fetch_sub(static_cast<int64_t>(size), std::memory_order_relaxed);
      throw LimitError("a tensor of shape " + shape_str(shape) + " (" + limits::bytes_text(static_cast<int64_t>(size)) +
                       ") would bring the tensors in memory to " + limits::bytes_text(before + static_cast<int64_t>(size)) +
                       ", more than the memory limit of " + limits::bytes_text(limit) +
                       " (DAGRAD_MEMORY_LIMIT; by default half the machine's memory)");
    }
    bytes = static_cast<int64_t>(size);
    data = std::aligned_alloc(64, size);
    if (!data) {
      g_tensor_bytes.fetch_sub(bytes, std::memory_order_relaxed);
      throw RuntimeFailure("out of memory allocating a tensor of shape " + shape_str(shape) + " (" +
                           limits::bytes_text(bytes) + "), within the memory limit of " + limits::bytes_text(limit) +
                           ": the machine has less free memory than that (set DAGRAD_MEMORY_LIMIT lower)");
    }
  }
  ~Storage() {
    std::free(data);
    g_tensor_bytes.fetch_sub(bytes, std::memory_order_relaxed);
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

Tensor::Tensor(Shape shape, DType dtype) : shape_(std::move(shape)), dtype_(dtype) {
  // A size from an input (output_dim: 2^62) must neither overflow the count nor ask for more
  // memory than there is: refused here, named by the caller that knows the layer (LimitError).
  int64_t n = 1, bytes = 0;
  bool overflow = false;
  for (auto d : shape_) {
    if (d < 0) throw InternalError("Tensor: concrete shape required, got " + shape_str(shape_));
    overflow = overflow || __builtin_mul_overflow(n, d, &n);
  }
  overflow = overflow || __builtin_mul_overflow(n, int64_t{4}, &bytes);
  if (overflow || bytes > limits::memory_limit())
    throw LimitError("a tensor of shape " + shape_str(shape_) + " needs " +
                     (overflow ? std::string("more bytes than a 64-bit count holds") : limits::bytes_text(bytes)) +
                     ", more than the memory limit of " + limits::bytes_text(limits::memory_limit()) +
                     " (DAGRAD_MEMORY_LIMIT; by default half the machine's memory)");
  storage_ = std::make_shared<Storage>(n, shape_);
}

Tensor Tensor::zeros(Shape shape, DType dtype) {
  Tensor t(std::move(shape), dtype);
  t.zero();
  return t;
}

Tensor Tensor::from(Shape shape, std::span<const float> values) {
  Tensor t(std::move(shape), DType::f32);
  if (static_cast<int64_t>(values.size()) != t.size())
    throw InternalError("Tensor::from: " + std::to_string(values.size()) + " values for shape " +
                        shape_str(t.shape()));
  std::memcpy(t.f32(), values.data(), values.size() * 4);
  return t;
}

Tensor Tensor::from_ids(Shape shape, std::span<const int32_t> values) {
  Tensor t(std::move(shape), DType::i32);
  if (static_cast<int64_t>(values.size()) != t.size())
    throw InternalError("Tensor::from_ids: " + std::to_string(values.size()) + " ids for shape " +
                        shape_str(t.shape()));
  std::memcpy(t.i32(), values.data(), values.size() * 4);
  return t;
}

float* Tensor::f32() {
  DAGRAD_ASSERT(dtype_ == DType::f32, "f32 access to an i32 tensor " + shape_str(shape_));
  return static_cast<float*>(storage_->data) + offset_;
}
const float* Tensor::f32() const { return const_cast<Tensor*>(this)->f32(); }
int32_t* Tensor::i32() {
  DAGRAD_ASSERT(dtype_ == DType::i32, "i32 access to an f32 tensor " + shape_str(shape_));
  return static_cast<int32_t*>(storage_->data) + offset_;
}
const int32_t* Tensor::i32() const { return const_cast<Tensor*>(this)->i32(); }

Tensor Tensor::reshape(Shape shape) const {
  if (numel(shape) != size())
    throw InternalError("reshape " + shape_str(shape_) + " to " + shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  DAGRAD_ASSERT(rank() >= 1 && begin >= 0 && begin <= end && end <= shape_[0],
                "rows(" + std::to_string(begin) + "," + std::to_string(end) + ") of " + shape_str(shape_));
  Tensor t = *this;
  int64_t row = shape_[0] ? size() / shape_[0] : 0;
  t.offset_ += begin * row;
  t.shape_[0] = end - begin;
  return t;
}

Tensor Tensor::resized(Shape shape) const {
  for (auto d : shape)
    if (d < 0) throw InternalError("resized: concrete shape required, got " + shape_str(shape));
  if (!storage_ || numel(shape) > capacity()) return {};
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(shape_, dtype_);
  if (size()) std::memcpy(static_cast<char*>(t.storage_->data), static_cast<const char*>(storage_->data) + offset_ * 4, size() * 4);
  return t;
}

void Tensor::fill(float v) {
  float* p = f32();
  for (int64_t i = 0, n = size(); i < n; ++i) p[i] = v;
}

void Tensor::zero() {
  if (size()) std::memset(static_cast<char*>(storage_->data) + offset_ * 4, 0, size() * 4);
}

void Tensor::copy_from(const Tensor& o) {
  DAGRAD_ASSERT(o.shape_ == shape_ && o.dtype_ == dtype_,
                "copy_from " + shape_str(o.shape_) + " into " + shape_str(shape_));
  if (size()) std::memcpy(static_cast<char*>(storage_->data) + offset_ * 4,
                          static_cast<const char*>(o.storage_->data) + o.offset_ * 4, size() * 4);
}

int64_t Tensor::capacity() const { return storage_ ? storage_->elements - offset_ : 0; }

Tensor grown_view(Tensor& buf, const Shape& shape, DType dtype) {
  if (buf.defined() && buf.dtype() == dtype)
    if (Tensor r = buf.resized(shape); r.defined()) return r;
  buf = Tensor(shape, dtype);
  return buf;
}

}  // namespace dagrad
