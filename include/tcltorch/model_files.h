// Weights files from and for Python: torch.save'd state dicts (zip + pickle)
// and safetensors. Readers map the file and give tensors that alias the
// mapping (the mapping lives as long as any of them), so a loader copies each
// tensor once, straight from the page cache into its destination.
#pragma once
#include "tcltorch/runtime.h"
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tcltorch {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// How a mapped file will be used:
//   Header: only its first bytes are read (mapped lazily, read-only);
//   Copy: every byte is copied out at once (read-only; the kernel reads the whole
//         file in large blocks up front instead of page fault by page fault);
//   Keep: tensors alias it for their lifetime (private and writable: an in-place
//         op copies the page, the file never changes).
enum class MapUse { Header, Copy, Keep };

// A whole file mapped privately. Missing or unreadable: the TORCH IO READ error
// of readFileBytes.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path, MapUse use = MapUse::Copy);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const unsigned char* data() const { return static_cast<const unsigned char*>(p_); }
  size_t size() const { return n_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  void* p_ = nullptr;
  size_t n_ = 0;
};

// A CPU tensor over bytes [offset, offset + nbytes) of a mapped file; it keeps
// the mapping alive. Bytes not aligned for the dtype are copied instead.
at::Tensor mappedTensor(const std::shared_ptr<MappedFile>& f, size_t offset, size_t nbytes, at::ScalarType dtype,
                        at::IntArrayRef sizes);

// "<path>" is not a valid <what>: <why>  {TORCH IO FORMAT path}
[[noreturn]] void badModelFile(const std::string& path, const char* what, const std::string& why);

// ---- safetensors (safetensors.cpp) ----
bool isSafetensorsPath(const std::string& path);  // by the .safetensors extension
struct Safetensors {
  NamedTensors tensors;  // in file order; they alias the mapping
  std::vector<std::pair<std::string, std::string>> metadata;
};
Safetensors readSafetensors(const std::string& path, MapUse use = MapUse::Copy);
// Tensors must be of a dtype the format has; they are written from CPU copies.
void writeSafetensors(const std::string& path, const NamedTensors& tensors,
                      const std::vector<std::pair<std::string, std::string>>& metadata);

// ---- torch.save zip files (torch_pickle.cpp) ----
// A dict (or OrderedDict: Python's state_dict()) of name -> tensor, written by
// Python's torch.save or by torch::pickle_save, in file order.
NamedTensors readTorchStateDict(const std::string& path);
// The bytes of a file as Python's torch.save(model.state_dict()) writes it (of
// CPU copies); `path` only names the file in errors.
std::vector<char> torchStateDictBytes(const std::string& path, const NamedTensors& tensors);

}  // namespace tcltorch
