// Registry: the one way dagrad registers things by name (ops, layers, preprocessing layers, tasks,
// optimizers, metrics, data sources), each kind in its own Registry<Entry>. An Entry has at least
//   std::string name, description;  Schema schema;
// Registration happens while the program starts (a static in the thing's own file, through the
// kind's DAGRAD_REGISTER_... macro) or when a plugin is loaded. One behaviour for every kind:
//   - a name registered twice is an error: check_registrations() (called first thing by every
//     program, and after loading a plugin) throws a UserError naming it;
//   - lookups are exact (case matters);
//   - a miss says what was asked, suggests the closest name and lists every registered one
//     (unknown()); readers of YAML report it at the node (config/keys.hpp: lookup()).
#pragma once
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "graph/error.hpp"
#include "graph/names.hpp"
#include "graph/schema.hpp"

namespace dagrad {

// The version of the interfaces that registered code compiles against: Op's and the other
// registered base classes' virtual functions, and the registries' entries. Raised whenever one of
// them changes incompatibly (adding a virtual function to Op changes every plugin op's vtable).
// Each DAGRAD_REGISTER_... macro passes the version its code was compiled with, so a plugin built
// against other headers registers nothing and is refused when loaded (graph/plugins.hpp), where
// it would otherwise call through a vtable of another shape.
#define DAGRAD_ABI_VERSION 1

// DAGRAD_ABI_VERSION as this library was compiled.
int abi_version();

// Whether code compiled with `built_with` may register with this library; if not, records a
// registration error naming the kind, the name and both versions (check_registrations throws it).
bool abi_matches(int built_with, const char* kind, const char* name);

// Duplicate registrations seen so far, as messages; check_registrations() throws the first batch
// as one UserError and forgets them.
std::vector<std::string>& registration_errors();
void check_registrations();

template <class Entry>
class Registry {
 public:
  // kind: "op", "layer", ... as messages and listings say it.
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  const std::string& kind() const { return kind_; }

  // Adds an entry; a second entry of the same name is recorded as an error (see above) and not added.
  bool add(Entry e) {
    if (find(e.name)) {
      registration_errors().push_back("two " + kind_ + "s are registered as '" + e.name + "'");
      return false;
    }
    entries_.push_back(std::move(e));
    return true;
  }

  // Removes an entry (tests that register a scratch entry).
  void remove(std::string_view name) {
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; }),
                   entries_.end());
  }

  const Entry* find(std::string_view name) const {
    for (const auto& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }

  bool contains(std::string_view name) const { return find(name) != nullptr; }

  // The entry, or a UserError: unknown(name).
  const Entry& get(const std::string& name) const {
    if (const Entry* e = find(name)) return *e;
    throw UserError(unknown(name));
  }

  // "unknown op 'Relux'; did you mean 'Relu'? (ops: Add, ..., Tanh)"
  std::string unknown(const std::string& name) const {
    std::vector<std::string> all = names();
    return "unknown " + kind_ + " '" + name + "'" + did_you_mean(name, all) + " (" + kind_ + "s: " + join(all) + ")";
  }

  std::vector<std::string> names() const {  // sorted
    std::vector<std::string> n;
    for (const auto& e : entries_) n.push_back(e.name);
    std::sort(n.begin(), n.end());
    return n;
  }

  std::vector<const Entry*> entries() const {  // sorted by name
    std::vector<const Entry*> v;
    for (const auto& e : entries_) v.push_back(&e);
    std::sort(v.begin(), v.end(), [](const Entry* a, const Entry* b) { return a->name < b->name; });
    return v;
  }

 private:
  std::string kind_;
  std::vector<Entry> entries_;
};

}  // namespace dagrad
