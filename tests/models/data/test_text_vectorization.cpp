// models/data/preprocessing/text_vectorization.cpp: tokens, vocabularies and padded id batches worked out
// by hand from Keras's TextVectorization (lower_and_strip_punctuation, whitespace split, 0 = pad,
// 1 = OOV, count descending then token descending).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "models/data/preprocessing/text_vectorization.hpp"

using namespace dagrad;
using dagrad::preprocessing::EncodedTexts;
using dagrad::preprocessing::TextVectorization;
using Tokens = std::vector<std::string>;

namespace {
std::vector<int32_t> token_ids(const Tensor& t) { return {t.ids().begin(), t.ids().end()}; }

// the 3, cat 2, dog 2, a 1, end 1 (the last text is punctuation only and has no token).
const std::vector<std::string> kCorpus{"the cat", "The dog!", "a cat", "dog... the end", "..."};
}  // namespace

TEST_CASE("TextVectorization tokenize: lowercase, strip punctuation, split on whitespace runs") {
  CHECK(TextVectorization::tokenize("Hello, World!") == Tokens{"hello", "world"});
  CHECK(TextVectorization::tokenize("  a\t\tb \n\r\v\f c  ") == Tokens{"a", "b", "c"});  // repeated whitespace
  CHECK(TextVectorization::tokenize("...") == Tokens{});  // punctuation only: no token
  CHECK(TextVectorization::tokenize("") == Tokens{});
  CHECK(TextVectorization::tokenize("   ") == Tokens{});
  CHECK(TextVectorization::tokenize("a.b") == Tokens{"ab"});  // stripped before splitting: one token
  CHECK(TextVectorization::tokenize("x - y") == Tokens{"x", "y"});
  CHECK(TextVectorization::tokenize("Don't") == Tokens{"dont"});
  CHECK(TextVectorization::tokenize("Toy Story (1995)") == Tokens{"toy", "story", "1995"});
  CHECK(TextVectorization::tokenize("[UNK]") == Tokens{"unk"});
  CHECK(TextVectorization::tokenize("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'") == Tokens{});  // every stripped char
  // The list is all of ASCII punctuation. Bytes outside ASCII pass through: "é" (C3 A9) and "É"
  // (C3 89) are kept as they are, and only the ASCII letters are lowercased.
  CHECK(TextVectorization::tokenize("Caf\xC3\xA9 \xC3\x89" "COLE") == Tokens{"caf\xC3\xA9", "\xC3\x89" "cole"});
}

TEST_CASE("TextVectorization adapt: count descending, ties by token descending") {
  TextVectorization tv;
  tv.adapt(kCorpus);
  // the (3); dog, cat (2 each, "dog" > "cat"); end, a (1 each, "end" > "a")
  CHECK(tv.vocabulary() == Tokens{"the", "dog", "cat", "end", "a"});
  CHECK(tv.vocabulary_size() == 7);  // 5 + padding + OOV
  CHECK(tv.lookup("the") == 2);
  CHECK(tv.lookup("a") == 6);
  CHECK(tv.lookup("bird") == 1);
  // Rows: "The cat." -> [2, 4]; "a big dog" -> [6, 1, 3]; "" -> []; "..." -> []; padded to T = 3.
  Tensor out = tv.transform(std::vector<std::string>{"The cat.", "a big dog", "", "..."});
  CHECK(out.shape() == Shape{4, 3});
  CHECK(token_ids(out) == std::vector<int32_t>{2, 4, 0, 6, 1, 3, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("TextVectorization ties compare bytes, so UTF-8 sorts after ASCII") {
  TextVectorization tv;
  // each token once: descending byte order "\xC3\xA9t\xC3\xA9" (0xC3...) > "zoo" > "ant"
  tv.adapt(std::vector<std::string>{"zoo ant \xC3\xA9t\xC3\xA9"});
  CHECK(tv.vocabulary() == Tokens{"\xC3\xA9t\xC3\xA9", "zoo", "ant"});
}

TEST_CASE("TextVectorization max_tokens counts padding and OOV") {
  TextVectorization tv(5);
  tv.adapt(kCorpus);
  // 5 - 2 = 3 learned tokens: the, dog, cat; "end" and "a" are now OOV.
  CHECK(tv.vocabulary() == Tokens{"the", "dog", "cat"});
  CHECK(tv.vocabulary_size() == 5);
  CHECK(token_ids(tv.transform(std::vector<std::string>{"the end"})) == std::vector<int32_t>{2, 1});
  TextVectorization none(2);  // room for padding and OOV only
  none.adapt(kCorpus);
  CHECK(none.vocabulary().empty());
  CHECK(token_ids(none.transform(std::vector<std::string>{"the cat"})) == std::vector<int32_t>{1, 1});
  CHECK_THROWS_AS(TextVectorization(1), UserError);
  CHECK(TextVectorization(1000).max_tokens() == 1000);
  CHECK(!TextVectorization().max_tokens());
}

TEST_CASE("TextVectorization batches of empty strings still have a token axis") {
  TextVectorization tv;
  tv.adapt(kCorpus);
  Tensor out = tv.transform(std::vector<std::string>{"", "...", "  "});
  CHECK(out.shape() == Shape{3, 1});
  CHECK(token_ids(out) == std::vector<int32_t>{0, 0, 0});
  CHECK(tv.transform(std::vector<std::string>{}).shape() == Shape{0, 1});
}

TEST_CASE("TextVectorization vocabulary from state") {
  // Keras's get_vocabulary() form: "" and "[UNK]" first are dropped.
  TextVectorization keras_form(Tokens{"", "[UNK]", "x", "y"}, std::nullopt);
  CHECK(keras_form.vocabulary() == Tokens{"x", "y"});
  CHECK(keras_form.lookup("y") == 3);
  TextVectorization plain(Tokens{"x", "y"}, 4);
  CHECK(plain.lookup("x") == 2);
  // Round trip through the state.
  TextVectorization adapted(8);
  adapted.adapt(kCorpus);
  TextVectorization rebuilt(adapted.vocabulary(), adapted.max_tokens());
  CHECK(token_ids(rebuilt.transform(kCorpus)) == token_ids(adapted.transform(kCorpus)));

  CHECK_THROWS_WITH_AS((TextVectorization(Tokens{"x", "y", "x"}, std::nullopt)),
                       doctest::Contains("entry 2 \"x\" repeats entry 0"), UserError);
  CHECK_THROWS_WITH_AS((TextVectorization(Tokens{"", "[UNK]", "x", "x"}, std::nullopt)),
                       doctest::Contains("entry 3 \"x\" repeats entry 2"), UserError);
  CHECK_THROWS_WITH_AS((TextVectorization(Tokens{"x", ""}, std::nullopt)), doctest::Contains("entry 1 is the reserved"),
                       UserError);
  CHECK_THROWS_WITH_AS((TextVectorization(Tokens{"[UNK]", "x"}, std::nullopt)),
                       doctest::Contains("entry 0 is the reserved"), UserError);
  // max_tokens 4 leaves room for 2 tokens.
  CHECK_THROWS_WITH_AS((TextVectorization(Tokens{"a", "b", "c"}, 4)), doctest::Contains("exceeds max_tokens 4"),
                       UserError);
}

TEST_CASE("TextVectorization encode once, pad chosen rows into a reused buffer") {
  TextVectorization tv;
  tv.adapt(kCorpus);  // the 2, dog 3, cat 4, end 5, a 6
  const EncodedTexts enc = tv.encode(std::vector<std::string>{"the cat", "", "dog dog the end", "bird"});
  REQUIRE(enc.rows() == 4);
  CHECK(enc.offsets == std::vector<int64_t>{0, 2, 2, 6, 7});
  CHECK(enc.ids == std::vector<int32_t>{2, 4, 3, 3, 2, 5, 1});

  Tensor buffer({8, 8}, DType::i32);
  const int32_t* storage = buffer.i32();
  Tensor out = buffer;
  // rows 3 ("bird" -> [1]) and 0 ([2, 4]): T = 2
  enc.pad_rows(std::vector<int64_t>{3, 0}, out);
  CHECK(out.shape() == Shape{2, 2});
  CHECK(out.i32() == storage);  // the buffer's storage, no allocation
  CHECK(token_ids(out) == std::vector<int32_t>{1, 0, 2, 4});
  // rows 1 (empty) and 2 ([3, 3, 2, 5]): T = 4
  enc.pad_rows(std::vector<int64_t>{1, 2}, out);
  CHECK(out.shape() == Shape{2, 4});
  CHECK(out.i32() == storage);
  CHECK(token_ids(out) == std::vector<int32_t>{0, 0, 0, 0, 3, 3, 2, 5});
  // Only the empty row: T = 1.
  CHECK(enc.padded_length(std::vector<int64_t>{1}) == 1);
  // A buffer too small is replaced.
  Tensor small({1, 1}, DType::i32);
  enc.pad_rows(std::vector<int64_t>{2, 2, 2}, small);
  CHECK(small.shape() == Shape{3, 4});
  CHECK(token_ids(small) == std::vector<int32_t>{3, 3, 2, 5, 3, 3, 2, 5, 3, 3, 2, 5});
}

TEST_CASE("TextVectorization encode of a large column (parallel path) keeps row order") {
  TextVectorization tv;
  tv.adapt(kCorpus);  // the 2, dog 3, cat 4, end 5, a 6
  std::vector<std::string> texts;
  for (int i = 0; i < 20000; ++i) texts.push_back(i % 3 == 0 ? "The cat" : i % 3 == 1 ? "" : "a dog, a bird");
  const EncodedTexts enc = tv.encode(texts);
  REQUIRE(enc.rows() == 20000);
  // "The cat" -> [2, 4]; "" -> []; "a dog, a bird" -> [6, 3, 6, 1]
  const std::vector<std::vector<int32_t>> expect{{2, 4}, {}, {6, 3, 6, 1}};
  bool all = true;
  for (int64_t i = 0; i < enc.rows(); ++i) {
    auto r = enc.row(i);
    all = all && std::vector<int32_t>(r.begin(), r.end()) == expect[static_cast<size_t>(i % 3)];
  }
  CHECK(all);
  CHECK(enc.ids.size() == 6667u * 2 + 6666u * 4);  // rows 0,3,... (6667 of them) and rows 2,5,... (6666)
}

TEST_CASE("TextVectorization with a separator: split first, then trim and standardise each token") {
  using dagrad::preprocessing::Tokenizer;
  TextVectorization tv;
  Tokenizer tok;
  tok.split = "|";
  tv.set_tokenizer(tok);
  // A genre list: the default standardisation lowercases and strips punctuation inside each token
  // ("Film-Noir" -> "filmnoir") but the separator is applied first, so "|" is not stripped away.
  CHECK(tv.tokens("Action|Film-Noir|Sci-Fi") == Tokens{"action", "filmnoir", "scifi"});
  CHECK(tv.tokens(" Drama |  | Comedy ") == Tokens{"drama", "comedy"});  // trimmed; empty pieces dropped
  CHECK(tv.tokens("") == Tokens{});
  CHECK(tv.tokens("|||") == Tokens{});
  CHECK(tv.tokens("Animation") == Tokens{"animation"});
  CHECK(tv.tokens("New York|Los Angeles") == Tokens{"new york", "los angeles"});  // spaces inside a token stay
  // A separator of several characters.
  tok.split = ", ";
  tok.standardize = Tokenizer::Standardize::none;
  tv.set_tokenizer(tok);
  CHECK(tv.tokens("Sci-Fi, Film-Noir,Drama") == Tokens{"Sci-Fi", "Film-Noir,Drama"});
  // Standardisation modes on the whitespace split.
  tok.split = "whitespace";
  tok.standardize = Tokenizer::Standardize::lower;
  tv.set_tokenizer(tok);
  CHECK(tv.tokens("Don't STOP") == Tokens{"don't", "stop"});
  tok.standardize = Tokenizer::Standardize::strip_punctuation;
  tv.set_tokenizer(tok);
  CHECK(tv.tokens("Don't STOP") == Tokens{"Dont", "STOP"});
  tok.standardize = Tokenizer::Standardize::none;
  tv.set_tokenizer(tok);
  CHECK(tv.tokens("Don't STOP") == Tokens{"Don't", "STOP"});
  tok.split = "";
  CHECK_THROWS_AS(tv.set_tokenizer(tok), UserError);
  CHECK_THROWS_WITH_AS(Tokenizer::standardize_from("upper"), doctest::Contains("one of: lower_and_strip_punctuation"),
                       UserError);
}

TEST_CASE("TextVectorization with a separator: adapt counts whole tokens, encode gives ragged rows") {
  using dagrad::preprocessing::Tokenizer;
  TextVectorization tv;
  Tokenizer tok;
  tok.split = "|";
  tv.set_tokenizer(tok);
  const std::vector<std::string> genres{"Comedy|Drama", "Drama", "Film-Noir|Drama|Comedy", "", "Western"};
  tv.adapt(genres);
  // drama 3, comedy 2, then ties by token descending: western, filmnoir.
  CHECK(tv.vocabulary() == Tokens{"drama", "comedy", "western", "filmnoir"});
  EncodedTexts e = tv.encode(genres);
  CHECK(e.offsets == std::vector<int64_t>{0, 2, 3, 6, 6, 7});
  CHECK(e.ids == std::vector<int32_t>{3, 2, 2, 5, 2, 3, 4});
  const std::vector<std::string> probe{"Drama|Horror"};
  CHECK(token_ids(tv.transform(probe)) == std::vector<int32_t>{2, 1});  // Horror is out of vocabulary
}
