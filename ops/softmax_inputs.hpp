// What SoftmaxCrossEntropy and DotSoftmaxCrossEntropy share besides softmax_row(): after their
// own inputs (logits, or q and c) both take labels [B] i32 and three optional inputs, by name:
// weights [B] f32 (per-row loss weights), correction [N] f32 (added to every row's logits: -log p
// for the logQ correction) and candidate_ids [N] i32 (a column whose id equals the label column's
// is left out of the row's softmax: TFRS's remove_accidental_hits). Their checks, the weights'
// gradient and the gradient-check samples over every combination live here once.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "graph/op.hpp"

namespace dagrad::softmax_inputs {

// Offsets from the labels' position.
inline constexpr int kLabels = 0, kWeights = 1, kCorrection = 2, kCandidateIds = 3;

// The op's input names: its own, then labels and the optional ones.
inline std::vector<std::string> names(std::vector<std::string> own) {
  for (const char* n : {"labels", "weights?", "correction?", "candidate_ids?"}) own.push_back(n);
  return own;
}

// Checks labels [b] and the optional inputs given against b rows and n columns; `rows` and `cols`
// name what the rows and columns belong to in messages ("row of logits [B, C]").
inline void check(const std::vector<TensorType>& in, size_t first, int64_t b, int64_t n, const std::string& rows,
                  const std::string& cols) {
  auto per = [&](size_t i, DType d, int64_t count, const char* what, const std::string& per_what) {
    if (in[i].absent) return;
    expect_rank(in[i], 1, what);
    expect_dtype(in[i], d, what);
    if (in[i].shape[0] != count)
      throw UserError(std::string(what) + " " + shape_str(in[i].shape) + " must have one value per " + per_what);
  };
  per(first + kLabels, DType::i32, b, "labels", rows);
  per(first + kWeights, DType::f32, b, "weights", rows);
  per(first + kCorrection, DType::f32, n, "correction", cols);
  per(first + kCandidateIds, DType::i32, n, "candidate_ids", cols);
}

// Throws UserError naming the first label outside [0, n) and its row: "...: <has> n <what>".
inline void check_labels(const Tensor& labels, int64_t n, const char* op, const char* has, const char* what) {
  const int32_t* l = labels.i32();
  for (int64_t r = 0; r < labels.size(); ++r)
    if (l[r] < 0 || l[r] >= n)
      throw UserError(std::string(op) + ": label " + std::to_string(l[r]) + " at labels[" + std::to_string(r) +
                      "] is outside [0, " + std::to_string(n) + "): " + has + " " + std::to_string(n) + " " + what);
}

// dweights[r] += dout[r] · loss[r] (the unweighted row losses).
inline void weights_grad(const GradOut& dw, const float* dout, const float* loss, int64_t b) {
  if (!dw) return;
  float* d = dw->f32();
  for (int64_t r = 0; r < b; ++r) d[r] = (dw.overwrite ? 0.0f : d[r]) + dout[r] * loss[r];
}

// Samples over every combination of the optional inputs: `own` are the op's own input specs, b
// rows and n columns, `attrs` the op's attributes.
inline std::vector<Sample> samples(const std::vector<InputSpec>& own, int64_t b, int64_t n, const Attrs& attrs = {}) {
  std::vector<Sample> s;
  for (int mask = 0; mask < 8; ++mask) {
    const bool w = mask & 1, corr = mask & 2, hits = mask & 4;
    Sample smp{std::string("weights=") + (w ? "1" : "0") + " correction=" + (corr ? "1" : "0") +
                   " candidate_ids=" + (hits ? "1" : "0"),
               attrs, own};
    smp.inputs.push_back({{b}, DType::i32, 0, static_cast<double>(n - 1)});
    smp.inputs.push_back(w ? InputSpec{{b}, DType::f32, 0.2, 1.5} : InputSpec::none());
    smp.inputs.push_back(corr ? InputSpec{{n}, DType::f32, -1, 1} : InputSpec::none());
    // Candidate ids 0..2 over n columns: most labels collide with another column.
    smp.inputs.push_back(hits ? InputSpec{{n}, DType::i32, 0, 2} : InputSpec::none());
    s.push_back(std::move(smp));
  }
  return s;
}

}  // namespace dagrad::softmax_inputs
