// Files read and written whole (src/io/files.cpp).
#pragma once
#include "tcltorch/runtime.h"
#include <functional>
#include <string>
#include <vector>

namespace tcltorch {

// Writes a file so that a reader never sees a half-written one: `write` fills
// a temporary file next to `path`, which is then renamed over it.
void saveAtomically(const std::string& path, const std::function<void(const std::string&)>& write);
// The whole file, or a TORCH IO error naming it.
std::vector<char> readFileBytes(const std::string& path);

}  // namespace tcltorch
