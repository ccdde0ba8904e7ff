#include "autodiff/gradcheck.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "autodiff/backward.hpp"

namespace dagrad {
namespace {

double dot(const Tensor& a, const Tensor& r) {
  double s = 0;
  const float* x = a.f32();
  const float* y = r.f32();
  for (int64_t i = 0; i < a.size(); ++i) s += static_cast<double>(x[i]) * y[i];
  return s;
}

bool all_finite(const Tensor& t) {
  if (t.dtype() != DType::f32) return true;
  for (float v : t.values())
    if (!std::isfinite(v)) return false;
  return true;
}

// Compares one analytic and one numeric derivative, recording the first failure. `floor` is the
// absolute part of the tolerance (gradcheck.hpp: scaled to the gradient's size, never below the
// central differences' rounding noise).
void compare(CheckResult& r, double a, double n, double rtol, double floor, const std::string& where) {
  ++r.checked;
  double tol = floor + rtol * std::max(std::fabs(a), std::fabs(n));
  double rel = std::fabs(a - n) / tol;
  if (!std::isfinite(a) || !std::isfinite(n)) rel = INFINITY;
  r.max_rel_err = std::max(r.max_rel_err, rel);
  if (rel > 1.0 && r.ok) {
    r.ok = false;
    std::ostringstream os;
    os << where << ": analytic " << a << ", numeric " << n << " (tolerance " << tol << ")";
    r.failure = os.str();
  }
}

// The rounding noise of a central difference of a loss computed in float: each evaluation's
// loss is off by up to about `kNoiseUlps` float epsilons of `magnitude` (the sum of the magnitudes
// of the terms it adds up), and the difference of two divides by 2 * step.
constexpr double kNoiseUlps = 16;
double difference_noise(double magnitude, double step) {
  return kNoiseUlps * std::numeric_limits<float>::epsilon() * magnitude / step;
}

bool near_kink(double x, const std::vector<double>& kinks, double step) {
  for (double k : kinks)
    if (std::fabs(x - k) < 1.5 * step) return true;
  return false;
}

}  // namespace

CheckResult check_op_sample(const std::string& op_name, const Sample& s, uint64_t seed) {
  std::unique_ptr<Op> op;
  try {
    op = OpRegistry::instance().make(op_name, s.attrs);
  } catch (const std::exception& e) {
    CheckResult r;
    r.label = op_name + " sample '" + s.label + "'";
    r.ok = false;
    r.failure = std::string("threw: ") + e.what();
    return r;
  }
  return check_op_sample(*op, op_name + " sample '" + s.label + "'", s, seed);
}

CheckResult check_op_sample(Op& op_ref, const std::string& label, const Sample& s, uint64_t seed) {
  CheckResult r;
  r.label = label;
  std::mt19937_64 rng(seed);
  auto fail = [&](const std::string& why) {
    r.ok = false;
    if (r.failure.empty()) r.failure = why;
    return r;
  };

  Op* op = &op_ref;
  std::vector<TensorType> types;
  std::vector<Tensor> x;
  try {
    for (const auto& spec : s.inputs) {
      if (spec.absent) {  // an optional input the sample leaves out
        TensorType none;
        none.absent = true;
        types.push_back(none);
        x.emplace_back();
        continue;
      }
      Tensor t(spec.shape, spec.dtype);
      if (spec.dtype == DType::f32) {
        std::uniform_real_distribution<double> u(spec.lo, spec.hi);
        for (float& v : t.values()) v = static_cast<float>(u(rng));
      } else {
        std::uniform_int_distribution<int64_t> u(static_cast<int64_t>(spec.lo), static_cast<int64_t>(spec.hi));
        for (int64_t i = 0; i < t.size(); ++i) t.i32()[i] = static_cast<int32_t>(u(rng));
      }
      types.push_back({spec.shape, spec.dtype});
      x.push_back(std::move(t));
    }
    auto [lo, hi] = op->arity();
    int n = static_cast<int>(x.size());
    if (n < lo || (hi >= 0 && n > hi)) return fail("sample has " + std::to_string(n) + " inputs, op takes " + std::to_string(lo) + ".." + std::to_string(hi));
    TensorType ot = op->infer(types);
    if (ot.dtype != DType::f32) return fail("output is not f32: nothing to differentiate");
    Tensor out(ot.shape);
    Inputs in;
    for (auto& t : x) in.push_back(t.defined() ? &t : nullptr);

    op->forward(in, out);
    if (!all_finite(out)) return fail("forward produced a non-finite value");
    Tensor proj(ot.shape);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (float& v : proj.values()) v = static_cast<float>(u(rng));

    // Analytic gradients, and the accumulation contract: two backward calls give twice the gradient.
    std::vector<Tensor> g1(x.size()), g2(x.size());
    std::vector<std::vector<int32_t>> rows(x.size());
    std::vector<Tensor*> d1(x.size(), nullptr), d2(x.size(), nullptr);
    std::vector<std::vector<int32_t>*> rp(x.size(), nullptr), none(x.size(), nullptr);
    for (size_t i = 0; i < x.size(); ++i) {
      if (!x[i].defined() || x[i].dtype() != DType::f32 || !s.inputs[i].check_grad) continue;
      g1[i] = Tensor::zeros(x[i].shape());
      g2[i] = Tensor::zeros(x[i].shape());
      d1[i] = &g1[i];
      d2[i] = &g2[i];
      if (op->sparse_rows(static_cast<int>(i))) rp[i] = &rows[i];
    }
    op->backward(in, out, proj, Grads(d1, rp));
    op->forward(in, out);
    op->backward(in, out, proj, Grads(d2, none));
    op->forward(in, out);
    op->backward(in, out, proj, Grads(d2, none));
    for (size_t i = 0; i < x.size(); ++i) {
      if (!d1[i]) continue;
      if (!all_finite(g1[i])) return fail("input " + std::to_string(i) + ": non-finite gradient");
      for (int64_t j = 0; j < g1[i].size(); ++j) {
        double a = 2.0 * g1[i].f32()[j], b = g2[i].f32()[j];
        if (std::fabs(a - b) > 1e-5 + 1e-4 * std::fabs(a))
          return fail("input " + std::to_string(i) + " element " + std::to_string(j) +
                      ": backward does not accumulate (one call " + std::to_string(a / 2) +
                      ", two calls " + std::to_string(b) + ")");
      }
      if (rp[i]) {  // every row with a nonzero gradient must have been recorded
        std::vector<char> seen(x[i].dim(0), 0);
        for (int32_t row : rows[i]) seen.at(row) = 1;
        int64_t w = x[i].size() / x[i].dim(0);
        for (int64_t row = 0; row < x[i].dim(0); ++row)
          for (int64_t c = 0; c < w; ++c)
            if (!seen[row] && g1[i].f32()[row * w + c] != 0.0f)
              return fail("input " + std::to_string(i) + ": row " + std::to_string(row) +
                          " has a gradient but was not recorded as touched");
      }
    }

    // The write contract of Grads::out(): into NaN-filled buffers that hold nothing yet, one
    // backward call must give the values that one call accumulates into zeros, whether the op
    // adds (the buffer is zeroed on first use) or writes every element. Then the same with
    // lending allowed: a lent gradient must hold those values too.
    for (const bool allow_lend : {false, true}) {
      std::vector<Tensor> g3(x.size());
      std::vector<Tensor*> d3(x.size(), nullptr);
      std::vector<char> pending(x.size(), 0);
      std::vector<char*> pending_at(x.size(), nullptr);
      std::vector<const Tensor*> lent(x.size(), nullptr);
      for (size_t i = 0; i < x.size(); ++i) {
        if (!d1[i] || rp[i]) continue;  // a sparse gradient is always zero outside its rows
        g3[i] = Tensor(x[i].shape());
        g3[i].fill(std::numeric_limits<float>::quiet_NaN());
        d3[i] = &g3[i];
        pending[i] = 1;
        pending_at[i] = &pending[i];
      }
      op->forward(in, out);
      op->backward(in, out, proj,
                   Grads(std::span<Tensor* const>(d3), std::span<std::vector<int32_t>* const>(none),
                         std::span<char* const>(pending_at),
                         allow_lend ? std::span<const Tensor*>(lent) : std::span<const Tensor*>()));
      for (size_t i = 0; i < x.size(); ++i) {
        if (!d3[i]) continue;
        const Tensor& got = lent[i] ? *lent[i] : g3[i];
        if (got.shape() != g3[i].shape())
          return fail("input " + std::to_string(i) + ": lent a gradient of shape " + shape_str(got.shape()));
        for (int64_t j = 0; j < got.size(); ++j) {
          const double a = g1[i].f32()[j], b = got.f32()[j];
          if (!(std::fabs(a - b) <= 1e-6 + 1e-5 * std::fabs(a)))
            return fail("input " + std::to_string(i) + " element " + std::to_string(j) + ": a gradient " +
                        (lent[i] ? "lent" : "written into a buffer that held nothing") + " is " + std::to_string(b) +
                        ", where accumulating into zeros gives " + std::to_string(a));
        }
      }
    }

    // The inference contract (Op::set_training): a backward after an inference forward gives
    // the same gradients.
    {
      std::vector<Tensor> g4(x.size());
      std::vector<Tensor*> d4(x.size(), nullptr);
      for (size_t i = 0; i < x.size(); ++i)
        if (d1[i]) {
          g4[i] = Tensor::zeros(x[i].shape());
          d4[i] = &g4[i];
        }
      op->set_training(false);
      op->forward(in, out);
      op->backward(in, out, proj, Grads(d4, none));
      op->set_training(true);
      for (size_t i = 0; i < x.size(); ++i) {
        if (!d4[i]) continue;
        for (int64_t j = 0; j < g4[i].size(); ++j) {
          const double a = g1[i].f32()[j], b = g4[i].f32()[j];
          if (!(std::fabs(a - b) <= 1e-6 + 1e-5 * std::fabs(a)))
            return fail("input " + std::to_string(i) + " element " + std::to_string(j) +
                        ": after an inference forward, backward gives " + std::to_string(b) + " instead of " +
                        std::to_string(a));
        }
      }
    }

    // Numeric gradients by central differences, then compared input by input with a tolerance
    // scaled to that input's gradient: the absolute part is `atol` times its largest numeric
    // element (never below the differences' rounding noise), so that a gradient of small elements
    // (a mean over 600 rows: all below 2e-3) is held to its own size, and a zero or wrong one fails.
    double magnitude = 0;  // sum |out * proj|: the size of the loss's terms, for the rounding noise
    op->forward(in, out);
    for (int64_t j = 0; j < out.size(); ++j) magnitude += std::fabs(static_cast<double>(out.f32()[j]) * proj.f32()[j]);
    const double noise = difference_noise(magnitude, s.step);
    for (size_t i = 0; i < x.size(); ++i) {
      if (!d1[i]) continue;
      std::vector<std::pair<int64_t, double>> numeric;
      double largest = 0;
      for (int64_t j = 0; j < x[i].size(); ++j) {
        float& v = x[i].f32()[j];
        const float orig = v;
        if (near_kink(orig, s.inputs[i].kinks, s.step)) { ++r.skipped; continue; }
        v = static_cast<float>(orig + s.step);
        op->forward(in, out);
        double lp = dot(out, proj);
        v = static_cast<float>(orig - s.step);
        op->forward(in, out);
        double lm = dot(out, proj);
        v = orig;
        double num = (lp - lm) / (2 * s.step);
        numeric.push_back({j, num});
        if (std::isfinite(num)) largest = std::max(largest, std::fabs(num));
      }
      const double floor = std::max(s.atol * largest, noise);
      for (const auto& [j, num] : numeric) {
        compare(r, g1[i].f32()[j], num, s.rtol, floor, "input " + std::to_string(i) + " element " + std::to_string(j));
        if (!r.ok) return r;
      }
    }
  } catch (const std::exception& e) {
    return fail(std::string("threw: ") + e.what());
  }
  return r;
}

std::vector<CheckResult> check_op(const std::string& op, uint64_t seed) {
  const OpInfo& info = OpRegistry::instance().get(op);
  std::vector<Sample> samples = info.samples();
  std::vector<CheckResult> out;
  if (samples.empty()) {
    CheckResult r;
    r.label = op;
    r.ok = false;
    r.failure = "declares no gradient-check samples";
    out.push_back(r);
  }
  for (const auto& s : samples) out.push_back(check_op_sample(op, s, seed));
  return out;
}

CheckResult check_graph(Graph& g, int loss, const std::vector<int>& wrt, const GraphCheckOptions& opt) {
  CheckResult r;
  r.label = "graph loss '" + g.node(loss).name + "'";
  int target = loss;
  std::span<const int> targets(&target, 1);
  g.forward(targets);
  const double loss_value = g.value(loss).f32()[0];
  Gradients gr;
  backward(g, loss, gr);
  // Copy the analytic gradients: the numeric passes below overwrite nothing but values.
  for (int id : wrt) {
    Tensor grad = gr.grad(id).clone();
    if (gr.sparse(id)) {  // only recorded rows are valid; the rest are zero
      Tensor dense = Tensor::zeros(grad.shape());
      int64_t w = grad.dim(1);
      for (int32_t row : gr.rows(id))
        for (int64_t c = 0; c < w; ++c) dense.f32()[row * w + c] = grad.f32()[row * w + c];
      grad = dense;
    }
    Tensor& val = const_cast<Tensor&>(g.value(id));
    int64_t n = val.size();
    int64_t stride = std::max<int64_t>(1, n / opt.max_elements_per_node);
    std::vector<std::pair<int64_t, double>> numeric;
    double largest = 0;
    for (int64_t j = 0; j < n; j += stride) {
      float& v = val.f32()[j];
      const float orig = v;
      v = static_cast<float>(orig + opt.step);
      g.forward(targets);
      double lp = g.value(loss).f32()[0];
      v = static_cast<float>(orig - opt.step);
      g.forward(targets);
      double lm = g.value(loss).f32()[0];
      v = orig;
      const double num = (lp - lm) / (2 * opt.step);
      numeric.push_back({j, num});
      if (std::isfinite(num)) largest = std::max(largest, std::fabs(num));
    }
    // As for op samples: the absolute tolerance scaled to this node's gradient, above the noise of
    // a float loss (its magnitude: |loss| and a few ulps of it).
    const double floor = std::max(opt.atol * largest, difference_noise(std::fabs(loss_value), opt.step));
    for (const auto& [j, num] : numeric) {
      compare(r, grad.f32()[j], num, opt.rtol, floor, "node '" + g.node(id).name + "' element " + std::to_string(j));
      if (!r.ok) break;
    }
    if (!r.ok) break;
  }
  g.forward(targets);
  return r;
}

}  // namespace dagrad
