// The `movielens` data source: GroupLens ml-100k as TensorFlow Datasets' movielens/100k-ratings —
// interactions {user_id: string, movie_title: string, timestamp: int, movie_id: int, rating: float},
// the user features of u.user {user_age, bucketized_user_age, user_gender (1 male, 0 female),
// user_occupation_text, user_zip_code} and the movie's genres {movie_genres: "Action|Comedy",
// genre_<name>: 0 or 1 for each of the 19 flags}; candidates {movie_id, movie_title, the genres} for
// all 1,682 movies (duplicate titles included).
// The data directory is --data, else $DAGRAD_DATA, else ./data/ml-100k (scripts/get_movielens.sh).
#include "models/data/sources/movielens_data.hpp"
#include "graph/error.hpp"
#include "models/data/dataset.hpp"

#include <unordered_map>

namespace dagrad {
namespace {

Schema movielens_keys() {
  return {Key::boolean("verify", "check every file's SHA-256 against the published sums first").otherwise(true),
          Key::boolean("skip_bad_rows", "leave out rows that do not parse (and say how many) instead of stopping")
              .otherwise(false)};
}

// "genre_" and the genre's name in lower case, apostrophes dropped, '-' as '_': genre_childrens,
// genre_film_noir, genre_sci_fi.
std::string genre_column(int g) {
  std::string n = "genre_";
  for (const char* c = movielens::kGenreNames[g]; *c; ++c) {
    if (*c == '\'') continue;
    n += *c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
  }
  return n;
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

  if (!d.users.empty()) {
    std::unordered_map<std::string, const movielens::User*> user_of;
    for (const auto& u : d.users) user_of.emplace(std::to_string(u.id), &u);
    IntColumn age, bucket, gender;
    StringColumn occupation, zip;
    for (const auto& r : d.ratings) {
      auto it = user_of.find(r.user_id);
      if (it == user_of.end())
        throw UserError((dir / "u.data").string() + ": user id " + r.user_id + " is not in u.user (" +
                        std::to_string(d.users.size()) + " users)");
      const movielens::User& u = *it->second;
      age.push_back(u.age);
      bucket.push_back(movielens::bucketized_age(u.age));
      gender.push_back(u.male ? 1 : 0);
      occupation.push_back(u.occupation);
      zip.push_back(u.zip_code);
    }
    out.interactions.add("user_age", std::move(age));
    out.interactions.add("bucketized_user_age", std::move(bucket));
    out.interactions.add("user_gender", std::move(gender));
    out.interactions.add("user_occupation_text", std::move(occupation));
    out.interactions.add("user_zip_code", std::move(zip));
  }

  StringColumn cand_titles;
  IntColumn cand_ids;
  for (const auto& m : d.movies) {
    cand_titles.push_back(m.title);
    cand_ids.push_back(m.id);
  }
  out.candidates = Table("candidates");
  out.candidates.add("movie_title", std::move(cand_titles));
  out.candidates.add("movie_id", std::move(cand_ids));

  // The genres, on both tables: a '|'-joined list and one 0/1 column per flag.
  std::unordered_map<int32_t, uint32_t> genres_of;
  for (const auto& m : d.movies) genres_of[m.id] = m.genres;
  auto add_genres = [](Table& t, const std::vector<uint32_t>& flags) {
    StringColumn joined;
    for (uint32_t f : flags) {
      std::string j;
      for (int g = 0; g < 19; ++g)
        if (f & (1u << g)) {
          if (!j.empty()) j += '|';
          j += movielens::kGenreNames[g];
        }
      joined.push_back(std::move(j));
    }
    t.add("movie_genres", std::move(joined));
    for (int g = 0; g < 19; ++g) {
      IntColumn c;
      for (uint32_t f : flags) c.push_back((f >> g) & 1u);
      t.add(genre_column(g), std::move(c));
    }
  };
  std::vector<uint32_t> rating_flags, movie_flags;
  for (const auto& r : d.ratings) rating_flags.push_back(genres_of.at(r.movie_id));
  for (const auto& m : d.movies) movie_flags.push_back(m.genres);
  add_genres(out.interactions, rating_flags);
  add_genres(out.candidates, movie_flags);
}

}  // namespace

DAGRAD_REGISTER_DATA_SOURCE(load_movielens_source, "movielens",
                            "GroupLens MovieLens-100k as TFDS movielens/100k-ratings: interactions (user_id, movie_title, "
                            "timestamp, movie_id, rating; user_age, bucketized_user_age, user_gender, user_occupation_text, "
                            "user_zip_code; movie_genres, genre_action ... genre_western) and the 1,682 movies as candidates",
                            movielens_keys);

}  // namespace dagrad
