// The other API's spellings of our commands.
#pragma once
#include "tcltorch/args.h"
#include <cstring>
#include <deque>
#include <string>
#include <utility>

namespace tcltorch {

// Command::aliases keeps a const char*: the joined strings live here.
inline const char* keepString(std::string s) {
  static std::deque<std::string> kept;
  kept.push_back(std::move(s));
  return kept.back().c_str();
}

// Irregular spellings (torch::Flip, torch::dStack, ...): for each {name,
// spelling}, the spelling becomes an alias of the row `name` in `out`.
inline void addSpellings(std::vector<Command>& out,
                         std::initializer_list<std::pair<const char*, const char*>> spellings) {
  for (auto& [name, spelling] : spellings) {
    Command* row = nullptr;
    for (auto& c : out)
      if (!std::strcmp(c.name, name)) row = &c;
    if (!row) throw std::logic_error(std::string("internal: no command ") + name + " for spelling " + spelling);
    row->aliases = keepString(row->aliases ? std::string(row->aliases) + " " + spelling : std::string(spelling));
  }
}

// A row of another area's table under the other API's name (its own snake and
// camel spellings), for names that stand for a command of that area.
inline Command renamedRow(const std::vector<Command>& from, const char* name, const char* as) {
  for (auto& c : from)
    if (!std::strcmp(c.name, name)) {
      Command row = c;
      row.name = as;
      row.doc = keepString(std::string("Same as torch::") + name + ".");
      row.aliases = nullptr;
      return row;
    }
  throw std::logic_error(std::string("internal: no command ") + name + " for " + as);
}

}  // namespace tcltorch
