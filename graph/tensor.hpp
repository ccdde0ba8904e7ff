// Tensor: a shape, a dtype (f32 values or i32 ids) and a view into shared, 64-byte aligned storage.
// Views (reshape, row ranges) share storage and cost nothing.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dagrad {

enum class DType { f32, i32 };
const char* dtype_name(DType t);

// Row-major dimensions. At graph-building time a dimension may be kBatch: known only at run time
// (the batch, a padded token axis).
using Shape = std::vector<int64_t>;
inline constexpr int64_t kBatch = -1;
// A dimension that varies from batch to batch independently of the batch size: a padded token
// axis. Printed as T; counted as 1 in memory estimates (so they read "per token").
inline constexpr int64_t kTokens = -2;
std::string shape_str(const Shape& s);   // "[B, 32]" style
int64_t numel(const Shape& s);           // product of the dimensions (kBatch counts as 1)

// What a graph knows of a value before it is computed: its shape (dimensions may be kBatch or
// kTokens) and its dtype.
struct TensorType {
  Shape shape;
  DType dtype = DType::f32;
  bool absent = false;  // an optional op input that was not given (see Op::input_names)
};

class Tensor {
 public:
  Tensor() = default;
  // Uninitialised storage; use zeros() when the contents matter.
  Tensor(Shape shape, DType dtype = DType::f32);
  static Tensor zeros(Shape shape, DType dtype = DType::f32);
  static Tensor from(Shape shape, std::span<const float> values);
  static Tensor from_ids(Shape shape, std::span<const int32_t> values);

  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_.at(i < 0 ? i + rank() : i); }
  int64_t size() const { return numel(shape_); }
  bool defined() const { return storage_ != nullptr; }

  float* f32();
  const float* f32() const;
  int32_t* i32();
  const int32_t* i32() const;
  std::span<float> values() { return {f32(), static_cast<size_t>(size())}; }
  std::span<const float> values() const { return {f32(), static_cast<size_t>(size())}; }
  std::span<const int32_t> ids() const { return {i32(), static_cast<size_t>(size())}; }

  // Cheap views sharing storage.
  Tensor reshape(Shape shape) const;
  Tensor rows(int64_t begin, int64_t end) const;  // slice of dimension 0
  // A view of the same storage with another shape, which may be smaller than the storage
  // (a buffer planned for a full batch serves a partial one). Null tensor if it does not fit.
  Tensor resized(Shape shape) const;

  Tensor clone() const;                     // deep copy, contiguous
  void fill(float v);
  void zero();
  void copy_from(const Tensor& other);      // same shape and dtype required

  // Storage capacity in elements from this view's offset; lets a buffer be reused for a smaller batch.
  int64_t capacity() const;

 private:
  struct Storage;
  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;  // in elements
  Shape shape_;
  DType dtype_ = DType::f32;
};

// A view shaped `shape` of `buf`'s storage when it holds enough elements of `dtype`, else a new
// allocation that `buf` keeps: a buffer that grows to the largest shape asked for and never
// shrinks, so that a smaller (last) batch reuses it without allocating. Contents are undefined.
Tensor grown_view(Tensor& buf, const Shape& shape, DType dtype = DType::f32);

}  // namespace dagrad
