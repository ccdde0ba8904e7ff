// Serving a trained MovieLens two-tower model: top-k recommendations for a user, and export of
// every candidate's embedding with its title for external nearest-neighbour indexes.
#pragma once
#include "cli/args.hpp"

namespace dagrad::movielens {

int recommend(const cli::Args& a);
int export_embeddings(const cli::Args& a);

}  // namespace dagrad::movielens
