// The `movielens` data source: GroupLens ml-100k as TensorFlow Datasets' movielens/100k-ratings —
// interactions {user_id: string, movie_title: string, timestamp: int, movie_id: int, rating: float}
// and candidates {movie_id, movie_title} for all 1,682 movies (duplicate titles included).
// The data directory is --data, else $DAGRAD_DATA, else ./data/ml-100k (scripts/get_movielens.sh).
#include "models/data/sources/movielens_data.hpp"
#include "graph/error.hpp"
#include "models/data/dataset.hpp"

namespace dagrad {
namespace {

void load_movielens_source(const ConfigNode& cfg, const std::string& data_dir, DataTables& out) {
  cfg.check_keys({"source", "verify", "skip_bad_rows", "split"});
  std::filesystem::path dir = movielens::resolve_data_dir(data_dir);
  if (cfg.get_bool("verify", true)) movielens::verify_movielens(dir);  // throws, naming each bad file
  movielens::ParseOptions opts;
  opts.skip_bad_rows = cfg.get_bool("skip_bad_rows", false);
  movielens::Dataset d = movielens::load_movielens(dir, opts);
  if (d.skipped.count) std::fprintf(stderr, "movielens: %s\n", d.skipped.summary().c_str());

  StringColumn users, titles;
  IntColumn ts, movie_ids;
  FloatColumn ratings;
  for (const auto& r : d.ratings) {
    users.push_back(r.user_id);
    titles.push_back(r.movie_title);
    ts.push_back(r.timestamp);
    movie_ids.push_back(r.movie_id);
    ratings.push_back(r.rating);
  }
  out.interactions = Table("interactions");
  out.interactions.add("user_id", std::move(users));
  out.interactions.add("movie_title", std::move(titles));
  out.interactions.add("timestamp", std::move(ts));
  out.interactions.add("movie_id", std::move(movie_ids));
  out.interactions.add("rating", std::move(ratings));

  StringColumn cand_titles;
  IntColumn cand_ids;
  for (const auto& m : d.movies) {
    cand_titles.push_back(m.title);
    cand_ids.push_back(m.id);
  }
  out.candidates = Table("candidates");
  out.candidates.add("movie_title", std::move(cand_titles));
  out.candidates.add("movie_id", std::move(cand_ids));
}

[[maybe_unused]] const bool registered = DataSourceRegistry::instance().add(
    {"movielens", "GroupLens MovieLens-100k ratings and movies (verify, skip_bad_rows)", load_movielens_source});

}  // namespace
}  // namespace dagrad
