// Attrs: the named, typed settings of an op (transpose flags, axis, scale...).
// Reading an attribute marks it used; check_all_used() then rejects keys the op does not know,
// so a typo in a model file is an error naming the op and its known attributes.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace dagrad {

using AttrValue = std::variant<bool, int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<const std::string, AttrValue>> init) : values_(init) {}

  void set(const std::string& key, AttrValue v) { values_[key] = std::move(v); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::map<std::string, AttrValue>& all() const { return values_; }

  // Typed reads with a default; a value of the wrong type is a UserError naming the key.
  // An int64 is accepted where a double is asked for.
  bool get_bool(const std::string& key, bool def) const;
  int64_t get_int(const std::string& key, int64_t def) const;
  double get_double(const std::string& key, double def) const;
  std::string get_string(const std::string& key, const std::string& def) const;
  std::vector<int64_t> get_ints(const std::string& key, std::vector<int64_t> def) const;

  // Throws UserError if a key was never read: "<where>: unknown attribute 'x' (known: a, b)".
  void check_all_used(const std::string& where) const;
  std::string to_string() const;  // "{a: 1, b: true}" for summaries and errors

 private:
  std::map<std::string, AttrValue> values_;
  mutable std::set<std::string> used_;
};

}  // namespace dagrad
