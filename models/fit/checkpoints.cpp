#include "models/fit/checkpoints.hpp"

#include <cmath>
#include <csignal>
#include <limits>

#include "graph/row_shard.hpp"
#include "models/fit/nan_guard.hpp"

namespace dagrad {

Checkpoints::Checkpoints(const FitOptions& o, std::vector<Callback*> saved)
    : every_(o.checkpoint_every), seconds_(o.checkpoint_minutes * 60), saved_(std::move(saved)) {}

// The archive's keys are the checkpoint format: existing checkpoints resume as long as they stay.
void Checkpoints::write(FitState& s) {
  check_finite_parameters(s);  // the previous checkpoint stays the last good one
  ArchiveWriter w;
  s.model.write(w);
  for (auto& [name, t] : s.optimizer_state) {
    if (auto shard = row_shard_of_state(s.model.graph(), name)) {  // a sharded table's: gathered whole to rank 0
      Tensor whole = gather_row_shards(*s.world, *t, *shard, 0);
      if (s.writer) w.put_tensor("optimizer/" + name, whole);
    } else if (s.writer) {
      w.put_tensor("optimizer/" + name, *t);
    }
  }
  w.put_int("optimizer/iterations", s.optimizer->iterations());
  w.put_int("fit/epoch", s.epoch);
  w.put_int("fit/batch", s.batch);
  w.put_int("fit/ranks", s.world ? s.world->size() : 1);  // the position counts global batches of this many ranks
  w.put_double("fit/epoch_loss_mean", s.epoch_loss.examples() ? s.epoch_loss.result() : 0.0);
  w.put_int("fit/epoch_examples", s.epoch_loss.examples());
  w.put_double("fit/seconds", s.seconds());
  for (const Callback* c : saved_) c->save(w);
  s.history.write(w);
  if (!s.writer) return;  // rank 0 writes; every rank holds the same state
  s.claim_outputs();
  w.save(s.out_dir + "/checkpoint.dagrad");
  last_ = FitClock::now();
}

namespace {

// A stored position or count of a checkpoint within [lo, hi]: a damaged or hand-made file (epoch
// -1, a batch past the epoch) would make the loop index out of its data. `why` says where the bound
// comes from.
int64_t checked_integer(const ArchiveReader& r, const std::string& key, int64_t lo, int64_t hi, const std::string& why) {
  const int64_t v = r.integer(key);
  if (v < lo || v > hi)
    throw UserError(r.path() + ": entry '" + key + "' is " + std::to_string(v) + "; expected " + std::to_string(lo) + " to " +
                    std::to_string(hi) + " (" + why + ")");
  return v;
}

double checked_number(const ArchiveReader& r, const std::string& key) {
  const double v = r.number(key);
  if (!std::isfinite(v) || v < 0)
    throw UserError(r.path() + ": entry '" + key + "' is " + std::to_string(v) + "; expected a finite number >= 0");
  return v;
}

}  // namespace

void Checkpoints::restore(FitState& s, const ArchiveReader& r) {
  const int64_t ranks = r.has("fit/ranks") ? r.integer("fit/ranks") : 1, now = s.world ? s.world->size() : 1;
  if (ranks != now)
    throw UserError(r.path() + ": a checkpoint of a run on " + std::to_string(ranks) + " rank" + (ranks == 1 ? "" : "s") +
                    " resumes on " + std::to_string(ranks) + ", not on " + std::to_string(now) +
                    " (its position counts global batches of that many ranks)");
  for (auto& [name, t] : s.optimizer_state) {
    if (auto shard = row_shard_of_state(s.model.graph(), name))  // the file holds the whole table's: this rank's rows
      t->copy_from(take_row_shard(r.tensor("optimizer/" + name, {shard->rows, t->dim(1)}), *shard));
    else
      t->copy_from(r.tensor("optimizer/" + name, t->shape()));
  }
  // The position must lie within this run: epochs up to fit.epochs (a finished run resumes to
  // nothing more), batches within one of this run's epochs.
  const int64_t epochs = s.options.epochs;
  s.epoch = checked_integer(r, "fit/epoch", 0, epochs,
                            "this run's fit.epochs is " + std::to_string(epochs) + "; raise it to train further");
  s.batch = checked_integer(r, "fit/batch", 0, std::max<int64_t>(0, s.batches - 1),
                            "an epoch of this run has " + std::to_string(s.batches) + " batches of " +
                                std::to_string(s.options.batch_size) + " rows");
  if (s.epoch == epochs && s.batch != 0)
    throw UserError(r.path() + ": entry 'fit/batch' is " + std::to_string(s.batch) + " at the last epoch (" + std::to_string(epochs) +
                    "); expected 0");
  // Steps taken (Adam's bias correction uses iterations + 1): not negative; 2^53 is past any run.
  s.optimizer->iterations() = checked_integer(r, "optimizer/iterations", 0, int64_t{1} << 53, "the optimizer's steps so far");
  const double loss_mean = r.number("fit/epoch_loss_mean");
  if (!std::isfinite(loss_mean))
    throw UserError(r.path() + ": entry 'fit/epoch_loss_mean' is not finite; expected the epoch's mean loss so far");
  s.epoch_loss.update(loss_mean, checked_integer(r, "fit/epoch_examples", 0, std::numeric_limits<int64_t>::max() / 2,
                                                 "examples seen in the epoch"));
  s.prior_seconds = checked_number(r, "fit/seconds");
  for (Callback* c : saved_) c->load(r);
  s.history.read(r);
}

bool Checkpoints::due(FitState& s) const {
  const bool mine = seconds_ > 0 && std::chrono::duration<double>(FitClock::now() - last_).count() >= seconds_;
  return s.world ? s.world->allreduce_max(mine ? 1 : 0) != 0 : mine;
}

void Checkpoints::on_train_begin(FitState&) { last_ = FitClock::now(); }

void Checkpoints::on_batch_end(FitState& s) {
  if (s.batch < s.batches && due(s)) write(s);  // mid-epoch; the epoch's end has its own
}

void Checkpoints::on_epoch_end(FitState& s, const Row&) {
  const bool every = every_ > 0 && s.epoch % every_ == 0;
  if (every || s.epoch == s.options.epochs || s.result.stopped_early || due(s)) write(s);
}

void Checkpoints::on_train_end(FitState& s) {
  if (s.result.interrupted) {
    write(s);
    s.say(std::string("interrupted (") + (s.result.signal == SIGTERM ? "SIGTERM" : "SIGINT") +
          "): checkpoint written at epoch " + std::to_string(s.epoch + 1) + ", batch " + std::to_string(s.batch));
    return;
  }
  check_finite_parameters(s);
  // Every rank of a data-parallel run computes the candidate vectors and writes the model: with a
  // sharded table both are collective (lookups through all-to-all, the table gathered to rank 0).
  s.model.compute_candidate_vectors();
  ArchiveWriter w;
  s.model.write(w);
  if (!s.writer) return;
  s.claim_outputs();
  w.save(s.out_dir + "/model.dagrad");
}

}  // namespace dagrad
