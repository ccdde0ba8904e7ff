// Synthetic interaction data shaped like MovieLens-100k (the columns the two-tower model reads:
// user_id, movie_title, timestamp, movie_id), at a multiple of its size and of its catalogue, for
// the benchmark's scaling runs. Popularity of users and movies is skewed (Zipf-like), titles are
// 1-8 words from a 5,000-word vocabulary plus a year, so preprocessing and feeding see realistic
// vocabularies and token counts.
#pragma once
#include <cstdint>

#include "models/data/dataset.hpp"

namespace dagrad::bench {

struct SyntheticSpec {
  double example_scale = 1;    // interactions: 80,000 x scale for training
  double candidate_scale = 1;  // movies: 1,682 x scale; users: 943 x example_scale
  int64_t test_rows = 20000;   // evaluation queries
  uint64_t seed = 1;
};

// Fills interactions, train, test and candidates (validation stays empty).
DataTables synthetic_movielens(const SyntheticSpec& spec);

}  // namespace dagrad::bench
