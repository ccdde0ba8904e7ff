// models/data/preprocessing/lookup.cpp (StringLookup): ids worked out by hand from Keras's StringLookup defaults
// (0 = OOV, vocabulary entry i -> i + 1).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "models/data/preprocessing/lookup.hpp"

using namespace dagrad;
using dagrad::preprocessing::StringLookup;

namespace {
std::vector<int32_t> ids_of(const Tensor& t) { return {t.ids().begin(), t.ids().end()}; }
}  // namespace

TEST_CASE("StringLookup maps the vocabulary to 1..N in the given order, OOV to 0") {
  StringLookup lookup(std::vector<std::string>{"b", "a", "c"});
  CHECK(lookup.vocabulary_size() == 4);  // 3 tokens + OOV
  CHECK(lookup.lookup("b") == 1);
  CHECK(lookup.lookup("a") == 2);
  CHECK(lookup.lookup("c") == 3);
  CHECK(lookup.lookup("z") == 0);
  CHECK(lookup.lookup("") == 0);
  CHECK(lookup.lookup("A") == 0);  // case matters
  // Into a caller's buffer of any shape with the right element count.
  std::vector<std::string> batch{"c", "zz", "a", "b"};
  Tensor out({2, 2}, DType::i32);
  lookup.transform(batch, out);
  CHECK(ids_of(out) == std::vector<int32_t>{3, 0, 2, 1});
  CHECK(lookup.transform(batch).shape() == Shape{4});
}

TEST_CASE("StringLookup adapt takes the sorted unique values in byte order") {
  // Byte order: "" < "A"(0x41) < "B"(0x42) < "a"(0x61) < "b"(0x62) < "é"(0xC3 0xA9).
  std::vector<std::string> data{"b", "B", "a", "", "b", "\xC3\xA9", "A", "a"};
  StringLookup lookup;
  lookup.adapt(data);
  CHECK(lookup.vocabulary() == std::vector<std::string>{"", "A", "B", "a", "b", "\xC3\xA9"});
  CHECK(lookup.vocabulary_size() == 7);
  CHECK(lookup.lookup("") == 1);  // no mask token: "" is an ordinary value
  CHECK(lookup.lookup("\xC3\xA9") == 6);
  CHECK(lookup.lookup("c") == 0);
  // Same through the string_view overload.
  std::vector<std::string_view> views{"b", "a", "b"};
  StringLookup from_views;
  from_views.adapt(views);
  CHECK(from_views.vocabulary() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("StringLookup state round-trips") {
  StringLookup a;
  a.adapt(std::vector<std::string>{"x", "w", "y", "w"});
  StringLookup b(a.vocabulary());
  for (const char* s : {"w", "x", "y", "q"}) CHECK(a.lookup(s) == b.lookup(s));
  CHECK(b.lookup("w") == 1);
  CHECK(b.lookup("y") == 3);
}

TEST_CASE("StringLookup rejects a duplicate vocabulary entry, naming it") {
  try {
    StringLookup bad(std::vector<std::string>{"x", "y", "x"});
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()).find("entry 2 \"x\" repeats entry 0") != std::string::npos);
  }
}

TEST_CASE("StringLookup handles the OOV token like Keras") {
  // A leading "[UNK]" (Keras's get_vocabulary() form) is dropped: "a" -> 1, "b" -> 2.
  StringLookup keras_form(std::vector<std::string>{"[UNK]", "a", "b"});
  CHECK(keras_form.vocabulary() == std::vector<std::string>{"a", "b"});
  CHECK(keras_form.lookup("a") == 1);
  CHECK(keras_form.lookup("[UNK]") == 0);
  // Positions in errors are those the user wrote, counting the dropped "[UNK]".
  try {
    StringLookup bad(std::vector<std::string>{"[UNK]", "a", "a"});
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()).find("entry 2 \"a\" repeats entry 1") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS((StringLookup(std::vector<std::string>{"a", "[UNK]"})),
                       doctest::Contains("entry 1 is the OOV token"), UserError);
  // adapt leaves "[UNK]" out of the vocabulary, as Keras's adapt does.
  StringLookup adapted;
  adapted.adapt(std::vector<std::string>{"[UNK]", "z", "A"});
  CHECK(adapted.vocabulary() == std::vector<std::string>{"A", "z"});
}

TEST_CASE("StringLookup with an empty vocabulary maps everything to OOV") {
  StringLookup empty;
  CHECK(empty.vocabulary_size() == 1);
  CHECK(empty.lookup("anything") == 0);
  StringLookup adapted_on_nothing;
  adapted_on_nothing.adapt(std::vector<std::string>{});
  CHECK(adapted_on_nothing.vocabulary_size() == 1);
}

TEST_CASE("StringLookup batch transform over many values (parallel path)") {
  StringLookup lookup(std::vector<std::string>{"u1", "u2", "u3"});
  std::vector<std::string> values;
  const std::vector<std::string> names{"u0", "u1", "u2", "u3", "u4"};
  for (int i = 0; i < 100000; ++i) values.push_back(names[static_cast<size_t>(i % 5)]);
  Tensor out = lookup.transform(values);
  // u0 -> OOV 0, u1 -> 1, u2 -> 2, u3 -> 3, u4 -> OOV 0
  const int32_t expect[5] = {0, 1, 2, 3, 0};
  bool all = true;
  for (int i = 0; i < 100000; ++i) all = all && out.i32()[i] == expect[i % 5];
  CHECK(all);
}
