// Irregular spellings of the other API (torch::Flip, torch::dStack, ...): the
// command table derives only torch::snake and torch::camelCase, so each such
// spelling is one more row with the same parameters and handler.
#pragma once
#include "tcltorch/args.h"
#include <cstring>
#include <deque>
#include <string>
#include <utility>

namespace tcltorch {

// Appends, for each {name, spelling}, a row named `spelling` that is `name`'s row.
inline void addSpellings(std::vector<Command>& out,
                         std::initializer_list<std::pair<const char*, const char*>> spellings) {
  for (auto& [name, spelling] : spellings) {
    Command row;
    bool found = false;
    for (auto& c : out)
      if (!std::strcmp(c.name, name)) row = c, found = true;
    if (!found) throw std::logic_error(std::string("internal: no command ") + name + " for spelling " + spelling);
    row.name = spelling;
    static std::deque<std::string> docs;  // rows keep const char*: owned here for the process
    docs.push_back(std::string("Same as torch::") + name + ".");
    row.doc = docs.back().c_str();
    out.push_back(row);
  }
}

}  // namespace tcltorch
