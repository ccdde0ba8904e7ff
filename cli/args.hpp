// A small command-line parser for dagrad's subcommands: positional arguments, --flag VALUE,
// --flag=VALUE, repeatable flags and switches; an unknown flag is a UserError listing the known.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dagrad::cli {

class Args {
 public:
  // `flags` take a value, `switches` do not; both without the leading dashes.
  Args(int argc, char** argv, const std::vector<std::string>& flags, const std::vector<std::string>& switches);
  const std::vector<std::string>& positional() const { return positional_; }
  bool has(const std::string& flag) const { return values_.count(flag) != 0; }
  std::string get(const std::string& flag, const std::string& def = "") const;
  // The flag's value as a whole number >= `min` (`def` when absent); UserError naming the flag
  // and what was given otherwise.
  int64_t get_int(const std::string& flag, int64_t def, int64_t min) const;
  std::vector<std::string> all(const std::string& flag) const;
  bool help() const { return has("help"); }

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>> values_;
};

}  // namespace dagrad::cli
