// models/data/preprocessing/lookup.cpp (IntegerLookup): ids worked out by hand from Keras's IntegerLookup
// defaults (0 = OOV, oov_token -1, vocabulary entry i -> i + 1).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "models/data/preprocessing/lookup.hpp"

using namespace dagrad;
using dagrad::preprocessing::IntegerLookup;

TEST_CASE("IntegerLookup maps the vocabulary to 1..N in the given order, OOV to 0") {
  IntegerLookup lookup(std::vector<int64_t>{42, 7, 1000000000000});
  CHECK(lookup.vocabulary_size() == 4);
  CHECK(lookup.lookup(42) == 1);
  CHECK(lookup.lookup(7) == 2);
  CHECK(lookup.lookup(1000000000000) == 3);
  CHECK(lookup.lookup(1000000000001) == 0);
  CHECK(lookup.lookup(-1) == 0);
  CHECK(lookup.lookup(0) == 0);
  std::vector<int64_t> batch{7, 8, 42, 1000000000000, 7, -5};
  Tensor out({3, 2}, DType::i32);
  lookup.transform(batch, out);
  CHECK(std::vector<int32_t>(out.ids().begin(), out.ids().end()) == std::vector<int32_t>{2, 0, 1, 3, 2, 0});
}

TEST_CASE("IntegerLookup adapt takes the sorted unique values, leaving out -1") {
  IntegerLookup lookup;
  lookup.adapt(std::vector<int64_t>{5, 3, 5, -1, 9, 3, -7});
  // unique without -1, ascending: -7, 3, 5, 9 -> ids 1..4
  CHECK(lookup.vocabulary() == std::vector<int64_t>{-7, 3, 5, 9});
  CHECK(lookup.vocabulary_size() == 5);
  CHECK(lookup.lookup(-7) == 1);
  CHECK(lookup.lookup(9) == 4);
  CHECK(lookup.lookup(-1) == 0);
  CHECK(lookup.lookup(4) == 0);
  IntegerLookup rebuilt(lookup.vocabulary());
  CHECK(rebuilt.lookup(5) == 3);
}

TEST_CASE("IntegerLookup rejects duplicates and a misplaced OOV token, naming the entry") {
  try {
    IntegerLookup bad(std::vector<int64_t>{10, 20, 30, 20});
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()).find("entry 3 (20) repeats entry 1") != std::string::npos);
  }
  // A leading -1 (Keras's get_vocabulary() form) is dropped; elsewhere it is an error.
  IntegerLookup keras_form(std::vector<int64_t>{-1, 10, 20});
  CHECK(keras_form.vocabulary() == std::vector<int64_t>{10, 20});
  CHECK(keras_form.lookup(20) == 2);
  CHECK_THROWS_WITH_AS((IntegerLookup(std::vector<int64_t>{10, -1})), doctest::Contains("entry 1 is the OOV token"),
                       UserError);
}
