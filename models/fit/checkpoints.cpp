#include "models/fit/checkpoints.hpp"

#include <cmath>
#include <csignal>

#include "models/fit/nan_guard.hpp"

namespace dagrad {

Checkpoints::Checkpoints(const FitOptions& o, std::vector<Callback*> saved)
    : every_(o.checkpoint_every), seconds_(o.checkpoint_minutes * 60), saved_(std::move(saved)) {}

// The archive's keys are the checkpoint format: existing checkpoints resume as long as they stay.
void Checkpoints::write(FitState& s) {
  check_finite_parameters(s);  // the previous checkpoint stays the last good one
  ArchiveWriter w;
  s.model.write(w);
  for (auto& [name, t] : s.optimizer_state) w.put_tensor("optimizer/" + name, *t);
  w.put_int("optimizer/iterations", s.optimizer->iterations());
  w.put_text("optimizer/type", s.options.optimizer);
  w.put_int("fit/epoch", s.epoch);
  w.put_int("fit/batch", s.batch);
  w.put_double("fit/epoch_loss_mean", s.epoch_loss.examples() ? s.epoch_loss.result() : 0.0);
  w.put_int("fit/epoch_examples", s.epoch_loss.examples());
  w.put_double("fit/seconds", s.seconds());
  for (const Callback* c : saved_) c->save(w);
  s.history.write(w);
  s.claim_outputs();
  w.save(s.out_dir + "/checkpoint.dagrad");
  last_ = FitClock::now();
}

void Checkpoints::restore(FitState& s, const ArchiveReader& r) {
  // A checkpoint is only ever written by dagrad, but the file may be damaged in ways its checksum
  // cannot see (a checksum recomputed over changed bytes) or belong to another run: every value is
  // checked against this run before the loop trusts it.
  auto bad = [&](const std::string& entry, const std::string& why) {
    return UserError(r.path() + ": entry '" + entry + "' " + why);
  };
  auto finite = [&](const std::string& entry, const Tensor& t) {
    if (t.dtype() != DType::f32) return;
    for (int64_t i = 0; i < t.size(); ++i)
      if (!std::isfinite(t.f32()[i]))
        throw bad(entry, "holds a non-finite value (element " + std::to_string(i) + "); dagrad never checkpoints one");
  };
  if (r.has("optimizer/type") && r.text("optimizer/type") != s.options.optimizer)
    throw UserError(r.path() + ": was written with the optimizer " + r.text("optimizer/type") + ", this run's is " +
                    s.options.optimizer + " (fit.optimizer): a run continues with the optimizer it started with");
  for (auto& [name, t] : s.optimizer_state) {
    Tensor stored = r.tensor("optimizer/" + name, t->shape(), t->dtype());
    finite("optimizer/" + name, stored);
    t->copy_from(stored);
  }
  const int64_t iterations = r.integer("optimizer/iterations");
  if (iterations < 0) throw bad("optimizer/iterations", "is " + std::to_string(iterations) + ", a negative count of steps");
  s.optimizer->iterations() = iterations;
  const int64_t epoch = r.integer("fit/epoch"), batch = r.integer("fit/batch");
  if (epoch < 0) throw bad("fit/epoch", "is " + std::to_string(epoch) + ", a negative epoch");
  if (epoch > s.options.epochs)
    throw UserError(r.path() + ": the checkpoint is at epoch " + std::to_string(epoch) + ", past this run's last (fit.epochs: " +
                    std::to_string(s.options.epochs) + "): raise fit.epochs to train it further");
  if (batch < 0 || batch >= s.batches || (epoch == s.options.epochs && batch != 0))
    throw bad("fit/batch", "is " + std::to_string(batch) + ", but an epoch of this run has " + std::to_string(s.batches) +
                               " batches (batches 0.." + std::to_string(s.batches - 1) +
                               "): the training rows or fit.batch_size differ from the run that wrote it");
  s.epoch = epoch;
  s.batch = batch;
  const double loss_mean = r.number("fit/epoch_loss_mean");
  const int64_t examples = r.integer("fit/epoch_examples");
  if (!std::isfinite(loss_mean)) throw bad("fit/epoch_loss_mean", "is not a finite number");
  if (examples < 0) throw bad("fit/epoch_examples", "is " + std::to_string(examples) + ", a negative count");
  s.epoch_loss.update(loss_mean, examples);
  const double seconds = r.number("fit/seconds");
  if (!std::isfinite(seconds) || seconds < 0) throw bad("fit/seconds", "is not a finite number of seconds >= 0");
  s.prior_seconds = seconds;
  for (Callback* c : saved_) c->load(r);
  s.history.read(r);
}

bool Checkpoints::due() const {
  return seconds_ > 0 && std::chrono::duration<double>(FitClock::now() - last_).count() >= seconds_;
}

void Checkpoints::on_train_begin(FitState&) { last_ = FitClock::now(); }

void Checkpoints::on_batch_end(FitState& s) {
  if (s.batch < s.batches && due()) write(s);  // mid-epoch; the epoch's end has its own
}

void Checkpoints::on_epoch_end(FitState& s, const Row&) {
  const bool every = every_ > 0 && s.epoch % every_ == 0;
  if (every || s.epoch == s.options.epochs || s.result.stopped_early || due()) write(s);
}

void Checkpoints::on_train_end(FitState& s) {
  if (s.result.interrupted) {
    write(s);
    s.say(std::string("interrupted (") + (s.result.signal == SIGTERM ? "SIGTERM" : "SIGINT") +
          "): checkpoint written at epoch " + std::to_string(s.epoch + 1) + ", batch " + std::to_string(s.batch));
    return;
  }
  check_finite_parameters(s);
  s.claim_outputs();
  s.model.save(s.out_dir + "/model.dagrad");
}

}  // namespace dagrad
