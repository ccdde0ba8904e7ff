// The command lines of dagrad's programs (the `dagrad` subcommands, movielens_two_tower, the
// benchmarks), parsed by Boost.Program_options: positional arguments, --flag VALUE, --flag=VALUE,
// repeatable flags, switches, single-letter aliases ("verbose,v"), and "--" ending the options.
// Values are kept as text and checked by the getters, so that a bad value is a UserError naming the
// flag; so is an unknown option (listing the known ones), a missing value or a value given to a switch.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dagrad::cli {

class Args {
 public:
  // `flags` take a value, `switches` do not; both long names without the leading dashes, optionally
  // followed by ",x" for a one-letter alias -x. --help (-h) is always known.
  Args(int argc, char** argv, const std::vector<std::string>& flags, const std::vector<std::string>& switches);
  const std::vector<std::string>& positional() const { return positional_; }
  bool has(const std::string& flag) const { return values_.count(flag) != 0; }
  // The flag's last value (a flag may be given more than once), `def` when absent.
  std::string get(const std::string& flag, const std::string& def = "") const;
  // The flag's value as a whole number >= `min` (`def` when absent); UserError naming the flag
  // and what was given otherwise.
  int64_t get_int(const std::string& flag, int64_t def, int64_t min) const;
  // The flag's value as a finite number > `above` (`def` when absent); UserError otherwise.
  double get_double(const std::string& flag, double def, double above) const;
  // Every value given to the flag, in order.
  std::vector<std::string> all(const std::string& flag) const;
  bool help() const { return has("help"); }

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>> values_;
};

// `text` as a whole number >= `min`; UserError "WHAT: expected a whole number >= MIN, got 'TEXT'"
// otherwise. For positional numbers; get_int() uses it with WHAT = --flag.
int64_t parse_int(const std::string& what, const std::string& text, int64_t min);

}  // namespace dagrad::cli

namespace dagrad::cli {

// Loads the plugins named by DAGRAD_PLUGINS, then those given as `--plugin PATH` or
// `--plugin=PATH` anywhere before a "--" (graph/plugins.hpp), and removes those arguments from
// argv. Returns the new argc. UserError for a plugin that cannot be loaded or a --plugin without a path.
int load_plugins(int argc, char** argv);

}  // namespace dagrad::cli
