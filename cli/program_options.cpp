// cli::Args over Boost.Program_options: Boost parses the syntax, dagrad words the errors.
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/positional_options.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "cli/args.hpp"
#include "graph/error.hpp"
#include "graph/plugins.hpp"

namespace po = boost::program_options;

namespace dagrad::cli {
namespace {

// "verbose,v" -> "verbose"
std::string long_name(const std::string& spec) { return spec.substr(0, spec.find(',')); }

// Boost names options as given ("--threads", "-v"); the messages name them with their dashes.
std::string dashed(const std::string& name) { return name.rfind('-', 0) == 0 ? name : "--" + name; }

}  // namespace

Args::Args(int argc, char** argv, const std::vector<std::string>& flags, const std::vector<std::string>& switches) {
  po::options_description known;
  auto add = known.add_options();
  add("help,h", po::value<std::string>()->zero_tokens(), "");
  for (const auto& s : switches) add(s.c_str(), po::value<std::string>()->zero_tokens(), "");
  for (const auto& f : flags) add(f.c_str(), po::value<std::string>(), "");
  // Positional arguments collect under a name no flag can have.
  add("\x01positional", po::value<std::string>(), "");
  po::positional_options_description positional;
  positional.add("\x01positional", -1);

  // GNU style without abbreviations (--thr is not --threads, so adding a flag never breaks a command).
  const int style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
  po::parsed_options parsed(nullptr);
  try {
    parsed = po::command_line_parser(argc, argv).options(known).positional(positional).style(style).run();
  } catch (const po::unknown_option& e) {
    std::string list;
    for (const auto& f : flags) list += (list.empty() ? "--" : ", --") + long_name(f);
    for (const auto& s : switches) list += (list.empty() ? "--" : ", --") + long_name(s);
    throw UserError("unknown option " + e.get_option_name() + " (known: " + list + (list.empty() ? "" : ", ") + "--help)");
  } catch (const po::invalid_command_line_syntax& e) {
    const std::string name = dashed(e.get_option_name());
    switch (e.kind()) {
      case po::invalid_syntax::missing_parameter:
      case po::invalid_syntax::empty_adjacent_parameter: throw UserError(name + " needs a value");
      case po::invalid_syntax::extra_parameter: throw UserError(name + " takes no value");
      default: throw UserError(std::string("bad command line: ") + e.what());
    }
  } catch (const po::error& e) {
    throw UserError(std::string("bad command line: ") + e.what());
  }
  for (const po::option& o : parsed.options) {
    if (o.position_key >= 0) {
      positional_.push_back(o.value.at(0));
    } else {
      values_[o.string_key].push_back(o.value.empty() ? "1" : o.value.front());
    }
  }
}

std::string Args::get(const std::string& flag, const std::string& def) const {
  auto it = values_.find(flag);
  return it == values_.end() ? def : it->second.back();
}

int64_t parse_int(const std::string& what, const std::string& v, int64_t min) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < min)
    throw UserError(what + ": expected a whole number >= " + std::to_string(min) + ", got '" + v + "'");
  return n;
}

int64_t Args::get_int(const std::string& flag, int64_t def, int64_t min) const {
  return has(flag) ? parse_int("--" + flag, get(flag), min) : def;
}

double Args::get_double(const std::string& flag, double def, double above) const {
  if (!has(flag)) return def;
  const std::string v = get(flag);
  double x = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(x) || !(x > above)) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", above);
    throw UserError("--" + flag + ": expected a number > " + b + ", got '" + v + "'");
  }
  return x;
}

std::vector<std::string> Args::all(const std::string& flag) const {
  auto it = values_.find(flag);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace dagrad::cli

namespace dagrad::cli {

int load_plugins(int argc, char** argv) {
  load_plugins_from_env();
  int out = 1;
  bool options = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (options && a == "--") options = false;
    if (options && a == "--plugin") {
      if (i + 1 >= argc) throw UserError("--plugin needs a path (a shared object built against dagrad)");
      load_plugin(argv[++i]);
      continue;
    }
    if (options && a.rfind("--plugin=", 0) == 0) {
      load_plugin(a.substr(9));
      continue;
    }
    argv[out++] = argv[i];
  }
  argv[out] = nullptr;
  return out;
}

}  // namespace dagrad::cli
