// Attrs: the named, typed settings of an op (transpose flags, axis, scale...) or an optimizer.
// apply() checks them against the thing's declared Schema (graph/schema.hpp): an unknown key, a
// value of the wrong type or out of range, or a missing required key is a UserError naming the
// thing and its declared keys; absent keys get their declared defaults. The thing then reads its
// values with the getters below, which have no default of their own.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/schema.hpp"

namespace dagrad {

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<const std::string, AttrValue>> init) : values_(init) {}

  void set(const std::string& key, AttrValue v) { values_[key] = std::move(v); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::map<std::string, AttrValue>& all() const { return values_; }

  // Checks every value against `schema` and fills in defaults; `where` starts each message
  // ("op Scale"). An integer is accepted (and stored as a number) where a number is declared, and
  // a single integer where a list of integers is.
  void apply(const Schema& schema, const std::string& where);

  // A value present after apply(); absent or of another type is an InternalError (the reader asks
  // for a key it did not declare, or declared as another kind). Ask has() for a key declared
  // without a default.
  bool get_bool(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_double(const std::string& key) const;
  std::string get_string(const std::string& key) const;
  std::vector<int64_t> get_ints(const std::string& key) const;
  std::vector<double> get_doubles(const std::string& key) const;

  std::string to_string() const;  // "{a: 1, b: true}" for summaries and errors

 private:
  template <class T>
  const T& get(const std::string& key, const char* kind) const;
  std::map<std::string, AttrValue> values_;
};

}  // namespace dagrad
