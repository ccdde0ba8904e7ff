#include "cli/args.hpp"

#include <algorithm>
#include <charconv>

#include "graph/error.hpp"

namespace dagrad::cli {

Args::Args(int argc, char** argv, const std::vector<std::string>& flags, const std::vector<std::string>& switches) {
  auto known = [&] {
    std::string k;
    for (const auto& f : flags) k += (k.empty() ? "--" : ", --") + f;
    for (const auto& s : switches) k += (k.empty() ? "--" : ", --") + s;
    return k;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h") a = "--help";
    if (a.rfind("--", 0) != 0 || a.size() == 2) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (name == "help" || std::find(switches.begin(), switches.end(), name) != switches.end()) {
      if (inline_value) throw UserError("--" + name + " takes no value");
      values_[name].push_back("1");
    } else if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
      if (!inline_value) {
        if (i + 1 >= argc) throw UserError("--" + name + " needs a value");
        value = argv[++i];
      }
      values_[name].push_back(value);
    } else {
      throw UserError("unknown option --" + name + " (known: " + known() + ", --help)");
    }
  }
}

std::string Args::get(const std::string& flag, const std::string& def) const {
  auto it = values_.find(flag);
  return it == values_.end() ? def : it->second.back();
}

int64_t Args::get_int(const std::string& flag, int64_t def, int64_t min) const {
  if (!has(flag)) return def;
  const std::string v = get(flag);
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < min)
    throw UserError("--" + flag + ": expected a whole number >= " + std::to_string(min) + ", got '" + v + "'");
  return n;
}

std::vector<std::string> Args::all(const std::string& flag) const {
  auto it = values_.find(flag);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace dagrad::cli
