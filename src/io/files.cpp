// Whole-file reads and writes that a reader never sees half done.
#include "tcltorch/files.h"
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unistd.h>

namespace tcltorch {

void saveAtomically(const std::string& path, const std::function<void(const std::string&)>& write) {
  std::string tmp = path + ".tmp" + std::to_string(getpid());
  try {
    write(tmp);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    fail("cannot write \"" + path + "\": " + std::strerror(err), {"IO", "WRITE", path});
  }
}

std::vector<char> readFileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot read \"" + path + "\": " + std::strerror(errno), {"IO", "READ", path});
  return std::vector<char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace tcltorch
