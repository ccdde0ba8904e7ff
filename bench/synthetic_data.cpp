#include "bench/synthetic_data.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace dagrad::bench {
namespace {

// Draws 0..n-1 with probability proportional to 1 / (i + 10)^s: a Zipf-like popularity curve.
class Skewed {
 public:
  Skewed(int64_t n, double s) {
    std::vector<double> w(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) w[i] = 1.0 / std::pow(static_cast<double>(i) + 10.0, s);
    dist_ = std::discrete_distribution<int64_t>(w.begin(), w.end());
  }
  int64_t operator()(std::mt19937_64& rng) { return dist_(rng); }

 private:
  std::discrete_distribution<int64_t> dist_;
};

}  // namespace

DataTables synthetic_movielens(const SyntheticSpec& spec) {
  std::mt19937_64 rng(spec.seed);
  const int64_t n_users = std::max<int64_t>(1, std::llround(943 * spec.example_scale));
  const int64_t n_movies = std::max<int64_t>(1, std::llround(1682 * spec.candidate_scale));
  const int64_t n_train = std::llround(80000 * spec.example_scale);
  const int64_t n_rows = n_train + spec.test_rows;

  // Titles: 1-8 words (more short ones), a Zipf-like word distribution, and a year.
  Skewed word(5000, 1.0);
  std::uniform_int_distribution<int> words_in_title(1, 8), year(1920, 1998);
  StringColumn titles(static_cast<size_t>(n_movies));
  IntColumn movie_ids(static_cast<size_t>(n_movies));
  for (int64_t m = 0; m < n_movies; ++m) {
    const int k = std::min(words_in_title(rng), words_in_title(rng));
    std::string t;
    for (int w = 0; w < k; ++w) t += "w" + std::to_string(word(rng)) + " ";
    titles[m] = t + "(" + std::to_string(year(rng)) + ")";
    movie_ids[m] = m + 1;
  }

  Skewed user(n_users, 0.8), movie(n_movies, 1.0);
  std::uniform_int_distribution<int64_t> when(874724710, 893286638);  // MovieLens-100k's time span
  StringColumn users, inter_titles;
  IntColumn timestamps, inter_ids;
  FloatColumn ratings;
  for (int64_t r = 0; r < n_rows; ++r) {
    const int64_t m = movie(rng);
    users.push_back(std::to_string(user(rng) + 1));
    inter_titles.push_back(titles[m]);
    timestamps.push_back(when(rng));
    inter_ids.push_back(m + 1);
    ratings.push_back(static_cast<float>(1 + rng() % 5));
  }

  DataTables d;
  d.interactions = Table("interactions");
  d.interactions.add("user_id", std::move(users));
  d.interactions.add("movie_title", std::move(inter_titles));
  d.interactions.add("timestamp", std::move(timestamps));
  d.interactions.add("movie_id", std::move(inter_ids));
  d.interactions.add("rating", std::move(ratings));
  d.train = d.interactions.slice(0, static_cast<size_t>(n_train), "train");
  d.test = d.interactions.slice(static_cast<size_t>(n_train), static_cast<size_t>(n_rows), "test");
  d.validation = d.interactions.slice(0, 0, "validation");
  d.candidates = Table("candidates");
  d.candidates.add("movie_title", std::move(titles));
  d.candidates.add("movie_id", std::move(movie_ids));
  return d;
}

}  // namespace dagrad::bench
