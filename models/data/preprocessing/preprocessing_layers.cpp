// The preprocessing layers as model layers: each wraps one of models/data/preprocessing/ (Keras
// semantics) as a Preprocessor that reads one input column, adapts on a table, encodes a whole
// column once, and saves its state with the model.
#include "models/data/preprocessing/discretization.hpp"
#include "models/data/preprocessing/lookup.hpp"
#include "models/data/preprocessing/normalization.hpp"
#include "models/data/preprocessing/text_vectorization.hpp"
#include "models/data/preprocessing/preprocessor.hpp"

namespace dagrad {
namespace {

using preprocessing::Discretization;
using preprocessing::EncodedTexts;
using preprocessing::Normalization;
using preprocessing::TextVectorization;
using preprocessing::Tokenizer;

// A column of the given type, or a UserError naming the layer and what it got.
template <class ColumnT>
const ColumnT& need(const Column& c, const char* layer) {
  if (auto* s = std::get_if<ColumnT>(&c)) return *s;
  const std::string want = column_type_name(column_type(Column(ColumnT{})));
  throw UserError(std::string(layer) + " reads " + (want == "int" ? "an " : "a ") + want + " column, got a column of " +
                  column_type_name(column_type(c)));
}

const StringColumn& need_strings(const Column& c, const char* layer) { return need<StringColumn>(c, layer); }

EncodedColumn ids_from(const Tensor& t) {
  EncodedColumn e;
  e.dtype = DType::i32;
  e.width = 1;
  e.ids.assign(t.i32(), t.i32() + t.size());
  return e;
}

// StringLookup and IntegerLookup as layers: one template; the archive keeps either vocabulary as
// strings (integers in decimal).
template <class V, class ColumnT>
class LookupLayer : public Preprocessor {
 public:
  using L = preprocessing::Lookup<V>;
  static Schema keys() {
    Key k = std::is_same_v<V, std::string> ? Key::strings("vocabulary", "the tokens, in id order from 1")
                                            : Key::integers("vocabulary", "the values, in id order from 1");
    return {k.otherwise_text("adapted: the sorted unique values")};
  }
  explicit LookupLayer(const Keys& cfg) {
    if (cfg.has("vocabulary")) {
      try {
        if constexpr (std::is_same_v<V, std::string>) lookup_ = L(cfg.strings("vocabulary"));
        else lookup_ = L(cfg.integers("vocabulary"));
      } catch (const UserError& e) {
        cfg.at("vocabulary").fail(e.what());
      }
      adapted_ = true;
    }
  }
  TensorType output_type() const override { return {{kBatch}, DType::i32}; }
  int64_t id_range() const override { return lookup_.vocabulary_size(); }
  bool adapted() const override { return adapted_; }
  void adapt(const Column& c) override {
    if (adapted_) return;  // a given vocabulary wins
    lookup_.adapt(need<ColumnT>(c, L::Traits::kName));
    adapted_ = true;
  }
  EncodedColumn encode(const Column& c) const override { return ids_from(lookup_.transform(need<ColumnT>(c, L::Traits::kName))); }
  void save(ArchiveWriter& w, const std::string& p) const override {
    if constexpr (std::is_same_v<V, std::string>) {
      w.put_strings(p + "vocabulary", lookup_.vocabulary());
    } else {
      std::vector<std::string> v;
      for (int64_t x : lookup_.vocabulary()) v.push_back(std::to_string(x));
      w.put_strings(p + "vocabulary", v);
    }
  }
  void load(const ArchiveReader& r, const std::string& p) override {
    if constexpr (std::is_same_v<V, std::string>) {
      lookup_ = L(r.strings(p + "vocabulary"));
    } else {
      std::vector<int64_t> v;
      for (const auto& s : r.strings(p + "vocabulary")) {
        try {
          v.push_back(std::stoll(s));
        } catch (...) {
          throw UserError(r.path() + ": damaged IntegerLookup vocabulary");
        }
      }
      lookup_ = L(std::move(v));
    }
    adapted_ = true;
  }
  std::string describe() const override {
    return std::string(L::Traits::kName) + ", " + std::to_string(id_range()) + " ids (0 = out of vocabulary)";
  }

 private:
  L lookup_;
  bool adapted_ = false;
};

using StringLookupLayer = LookupLayer<std::string, StringColumn>;
using IntegerLookupLayer = LookupLayer<int64_t, IntColumn>;

class DiscretizationLayer : public Preprocessor {
 public:
  static Schema keys() {
    return {Key::numbers("boundaries", "increasing bucket edges: ids 0..N for N edges (Keras bin_boundaries)"),
            Key::integer("num_boundaries", "adapt this many edges evenly spaced between the column's min and max")
                .in(Range::at_least(1))};
  }
  explicit DiscretizationLayer(const Keys& cfg) {
    if (cfg.has("boundaries") == cfg.has("num_boundaries"))
      cfg.node().fail("Discretization needs exactly one of 'boundaries' (a list) or 'num_boundaries' (evenly spaced between min and max)");
    if (cfg.has("boundaries")) {
      std::vector<float> b;
      for (double d : cfg.numbers("boundaries")) b.push_back(static_cast<float>(d));
      try {
        disc_ = Discretization(std::move(b));
      } catch (const UserError& e) {
        cfg.at("boundaries").fail(e.what());
      }
      adapted_ = true;
    } else {
      num_ = cfg.integer("num_boundaries");
    }
  }
  TensorType output_type() const override { return {{kBatch}, DType::i32}; }
  int64_t id_range() const override { return disc_.num_buckets(); }
  bool adapted() const override { return adapted_; }
  void adapt(const Column& c) override {
    if (adapted_) return;
    if (auto* i = std::get_if<IntColumn>(&c)) disc_.adapt_linspace(std::span<const int64_t>(*i), num_);
    else if (auto* f = std::get_if<FloatColumn>(&c)) disc_.adapt_linspace(std::span<const float>(*f), num_);
    else throw UserError("Discretization reads a numeric column, got strings");
    adapted_ = true;
  }
  EncodedColumn encode(const Column& c) const override {
    if (auto* i = std::get_if<IntColumn>(&c)) return ids_from(disc_.transform(std::span<const int64_t>(*i)));
    if (auto* f = std::get_if<FloatColumn>(&c)) return ids_from(disc_.transform(std::span<const float>(*f)));
    throw UserError("Discretization reads a numeric column, got strings");
  }
  void save(ArchiveWriter& w, const std::string& p) const override {
    const auto& b = disc_.boundaries();
    w.put_tensor(p + "boundaries", Tensor::from({static_cast<int64_t>(b.size())}, b));
  }
  void load(const ArchiveReader& r, const std::string& p) override {
    Tensor t = r.tensor(p + "boundaries");
    disc_ = Discretization(std::vector<float>(t.f32(), t.f32() + t.size()));
    adapted_ = true;
  }
  std::string describe() const override { return "Discretization, " + std::to_string(id_range()) + " buckets"; }

 private:
  Discretization disc_;
  int64_t num_ = 0;
  bool adapted_ = false;
};

class NormalizationLayer : public Preprocessor {
 public:
  static Schema keys() {
    return {Key::number("mean", "the mean to subtract").otherwise_text("adapted from the column"),
            Key::number("variance", "the variance to divide by (its square root)").in(Range::at_least(0))
                .otherwise_text("adapted from the column")};
  }
  explicit NormalizationLayer(const Keys& cfg) {
    if (cfg.has("mean") != cfg.has("variance")) cfg.node().fail("give both 'mean' and 'variance', or neither (adapt from data)");
    if (cfg.has("mean")) {
      norm_ = Normalization({static_cast<float>(cfg.number("mean"))}, {static_cast<float>(cfg.number("variance"))});
      adapted_ = true;
    }
  }
  TensorType output_type() const override { return {{kBatch, 1}, DType::f32}; }
  int64_t id_range() const override { return 0; }
  bool adapted() const override { return adapted_; }
  void adapt(const Column& c) override {
    if (adapted_) return;
    if (auto* i = std::get_if<IntColumn>(&c)) norm_.adapt(std::span<const int64_t>(*i));
    else if (auto* f = std::get_if<FloatColumn>(&c)) norm_.adapt(std::span<const float>(*f));
    else throw UserError("Normalization reads a numeric column, got strings");
    adapted_ = true;
  }
  EncodedColumn encode(const Column& c) const override {
    Tensor t;
    if (auto* i = std::get_if<IntColumn>(&c)) t = norm_.transform(std::span<const int64_t>(*i));
    else if (auto* f = std::get_if<FloatColumn>(&c)) t = norm_.transform(std::span<const float>(*f));
    else throw UserError("Normalization reads a numeric column, got strings");
    EncodedColumn e;
    e.dtype = DType::f32;
    e.width = 1;
    e.values.assign(t.f32(), t.f32() + t.size());
    return e;
  }
  void save(ArchiveWriter& w, const std::string& p) const override {
    w.put_tensor(p + "mean", Tensor::from({1}, norm_.mean()));
    w.put_tensor(p + "variance", Tensor::from({1}, norm_.variance()));
  }
  void load(const ArchiveReader& r, const std::string& p) override {
    Tensor m = r.tensor(p + "mean", {1}), v = r.tensor(p + "variance", {1});
    norm_ = Normalization({m.f32()[0]}, {v.f32()[0]});
    adapted_ = true;
  }
  std::string describe() const override {
    return "Normalization, mean " + std::to_string(norm_.mean()[0]) + ", variance " + std::to_string(norm_.variance()[0]);
  }

 private:
  Normalization norm_;
  bool adapted_ = false;
};

class TextVectorizationLayer : public Preprocessor {
 public:
  static Schema keys() {
    return {Key::integer("max_tokens", "vocabulary size including padding (0) and out-of-vocabulary (1)")
                .in(Range::at_least(3)).otherwise_text("unlimited"),
            Key::strings("vocabulary", "the tokens, in id order from 2").otherwise_text("adapted: by frequency"),
            Key::choice("standardize", {"lower_and_strip_punctuation", "lower", "strip_punctuation", "none"},
                        "what is done to each token's text: ASCII lower-casing, removing ASCII punctuation, both, or nothing")
                .otherwise("lower_and_strip_punctuation"),
            Key::string("split", "whitespace: split the standardised text on runs of whitespace; any other string is a "
                                 "separator (\"|\" for \"Action|Comedy\"): split on it first, then trim and standardise "
                                 "each token, dropping empty ones (a multi-valued column)")
                .otherwise("whitespace")};
  }
  explicit TextVectorizationLayer(const Keys& cfg) : text_(max_tokens_of(cfg)) {
    Tokenizer tok;
    tok.standardize = Tokenizer::standardize_from(cfg.string("standardize"));
    tok.split = cfg.string("split");
    if (tok.split.empty()) cfg.at("split").fail("split must be \"whitespace\" or a non-empty separator such as \"|\"");
    if (cfg.has("vocabulary")) {
      try {
        text_ = TextVectorization(cfg.strings("vocabulary"), max_tokens_of(cfg));
      } catch (const UserError& e) {
        cfg.at("vocabulary").fail(e.what());
      }
      adapted_ = true;
    }
    text_.set_tokenizer(std::move(tok));
  }
  TensorType output_type() const override { return {{kBatch, kTokens}, DType::i32}; }
  int64_t id_range() const override { return text_.vocabulary_size(); }
  bool adapted() const override { return adapted_; }
  void adapt(const Column& c) override {
    if (adapted_) return;
    text_.adapt(need_strings(c, "TextVectorization"));
    adapted_ = true;
  }
  EncodedColumn encode(const Column& c) const override {
    EncodedTexts t = text_.encode(need_strings(c, "TextVectorization"));
    EncodedColumn e;
    e.dtype = DType::i32;
    e.ragged = true;
    e.ids = std::move(t.ids);
    e.offsets = std::move(t.offsets);
    return e;
  }
  void save(ArchiveWriter& w, const std::string& p) const override {
    w.put_strings(p + "vocabulary", text_.vocabulary());
    w.put_int(p + "max_tokens", text_.max_tokens().value_or(-1));
    w.put_text(p + "standardize", std::string(Tokenizer::standardize_name(text_.tokenizer().standardize)));
    w.put_text(p + "split", text_.tokenizer().split);
  }
  // Archives written before `standardize` and `split` existed used the defaults.
  void load(const ArchiveReader& r, const std::string& p) override {
    int64_t mt = r.integer(p + "max_tokens");
    Tokenizer tok;
    if (r.has(p + "standardize")) tok.standardize = Tokenizer::standardize_from(r.text(p + "standardize"));
    if (r.has(p + "split")) tok.split = r.text(p + "split");
    text_ = TextVectorization(r.strings(p + "vocabulary"), mt < 0 ? std::nullopt : std::optional<int64_t>(mt));
    text_.set_tokenizer(std::move(tok));
    adapted_ = true;
  }
  std::string describe() const override {
    const Tokenizer& t = text_.tokenizer();
    std::string how = t.on_whitespace() ? "split on whitespace" : "split on \"" + t.split + "\"";
    if (t.standardize != Tokenizer::Standardize::lower_and_strip_punctuation)
      how += ", standardize " + std::string(Tokenizer::standardize_name(t.standardize));
    return "TextVectorization (" + how + "), " + std::to_string(id_range()) +
           " ids (0 = padding, 1 = out of vocabulary), padded per batch";
  }

 private:
  static std::optional<int64_t> max_tokens_of(const Keys& cfg) {
    if (!cfg.has("max_tokens")) return std::nullopt;
    return cfg.integer("max_tokens");
  }
  TextVectorization text_;
  bool adapted_ = false;
};

}  // namespace

DAGRAD_REGISTER_PREPROCESSOR(StringLookupLayer, "StringLookup", "strings to ids 1..N in vocabulary order, 0 out of vocabulary (Keras StringLookup)");
DAGRAD_REGISTER_PREPROCESSOR(IntegerLookupLayer, "IntegerLookup", "integers to ids 1..N in vocabulary order, 0 out of vocabulary (Keras IntegerLookup)");
DAGRAD_REGISTER_PREPROCESSOR(DiscretizationLayer, "Discretization", "numbers to bucket ids by boundaries (Keras Discretization)");
DAGRAD_REGISTER_PREPROCESSOR(NormalizationLayer, "Normalization", "(x - mean) / max(sqrt(variance), 1e-7), a [batch, 1] value (Keras Normalization)");
DAGRAD_REGISTER_PREPROCESSOR(TextVectorizationLayer, "TextVectorization", "text to token ids [batch, tokens], lower-cased, split on whitespace or a separator (a multi-valued column), padded per batch (Keras TextVectorization)");

}  // namespace dagrad
