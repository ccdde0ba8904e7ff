// The `movielens` data source: GroupLens ml-100k as TensorFlow Datasets' movielens/100k-ratings —
// interactions {user_id: string, movie_title: string, timestamp: int, movie_id: int, rating: float}
// and candidates {movie_id, movie_title} for all 1,682 movies (duplicate titles included).
// The data directory is --data, else $DAGRAD_DATA, else ./data/ml-100k (scripts/get_movielens.sh).
#include "models/data/sources/movielens_data.hpp"
#include "graph/error.hpp"
#include "models/data/dataset.hpp"

namespace dagrad {
namespace {

Schema movielens_keys() {
  return {Key::boolean("verify", "check every file's SHA-256 against the published sums first").otherwise(true),
          Key::boolean("skip_bad_rows", "leave out rows that do not parse (and say how many) instead of stopping")
              .otherwise(false)};
}

void load_movielens_source(const Keys& cfg, const std::string& data_dir, DataTables& out) {
  std::filesystem::path dir = movielens::resolve_data_dir(data_dir);
  if (cfg.boolean("verify")) movielens::verify_movielens(dir);  // throws, naming each bad file
  movielens::ParseOptions opts;
  opts.skip_bad_rows = cfg.boolean("skip_bad_rows");
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

}  // namespace

DAGRAD_REGISTER_DATA_SOURCE(load_movielens_source, "movielens",
                            "GroupLens MovieLens-100k as TFDS movielens/100k-ratings: interactions (user_id, movie_title, "
                            "timestamp, movie_id, rating) and the 1,682 movies as candidates",
                            movielens_keys);

}  // namespace dagrad
