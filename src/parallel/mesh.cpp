// Device meshes: the world's ranks as an n-D array (row-major, the last dim
// varying fastest, as torch.distributed.init_device_mesh lays them out) and
// one process group per line of the array along each dim.
#include "tcltorch/parallel.h"
#include <numeric>

namespace tcltorch {

int DeviceMesh::dimOf(const std::string& name) const {
  for (size_t d = 0; d < names.size(); ++d)
    if (names[d] == name) return int(d);
  return -1;
}

std::shared_ptr<DeviceMesh> makeDeviceMesh(State& st, const std::vector<int64_t>& shape,
                                           std::vector<std::string> names) {
  if (shape.empty()) fail("device_mesh: the shape has no dims", {"PARALLEL", "MESH"});
  for (int64_t s : shape)
    if (s < 1) fail("device_mesh: every dim needs at least one rank", {"PARALLEL", "MESH"});
  if (names.empty())
    for (size_t d = 0; d < shape.size(); ++d) names.push_back("dim" + std::to_string(d));
  if (names.size() != shape.size())
    fail("device_mesh: " + std::to_string(names.size()) + " names for " + std::to_string(shape.size()) + " dims",
         {"PARALLEL", "MESH"});
  for (size_t a = 0; a < names.size(); ++a)
    for (size_t b = a + 1; b < names.size(); ++b)
      if (names[a] == names[b]) fail("device_mesh: the dim name \"" + names[a] + "\" appears twice", {"PARALLEL", "MESH"});
  int64_t total = std::accumulate(shape.begin(), shape.end(), int64_t(1), std::multiplies<int64_t>());
  const DistOptions* o = distOptions(st);
  int64_t world = o ? o->worldSize : 1;
  if (total != world)
    fail("device_mesh: a mesh of " + std::to_string(total) + " ranks in a world of " + std::to_string(world),
         {"PARALLEL", "MESH"});
  static int counter = 0;  // the same on every rank: meshes are made in the same order
  std::string id = "mesh" + std::to_string(++counter);
  auto m = std::make_shared<DeviceMesh>();
  m->shape = shape;
  m->names = names;
  int64_t rank = o ? o->rank : 0;
  m->coords.assign(shape.size(), 0);
  for (size_t d = shape.size(), r = size_t(rank); d-- > 0;) {
    m->coords[d] = int64_t(r) % shape[d];
    r /= size_t(shape[d]);
  }
  std::vector<int64_t> stride(shape.size(), 1);
  for (size_t d = shape.size() - 1; d-- > 0;) stride[d] = stride[d + 1] * shape[d + 1];
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!o || shape[d] == world) {  // the whole world along this dim
      m->groups.push_back("");
      continue;
    }
    // Every line along d, in order of its first rank: every rank creates
    // every group (new_group's contract), joining only its own.
    std::string mine;
    for (int64_t first = 0; first < world; ++first) {
      if ((first / stride[d]) % shape[d] != 0) continue;  // not the start of a line
      std::vector<int> ranks;
      for (int64_t k = 0; k < shape[d]; ++k) ranks.push_back(int(first + k * stride[d]));
      std::string name = distNewGroup(st, ranks, id + "." + names[d] + "." + std::to_string(first));
      if (std::find(ranks.begin(), ranks.end(), int(rank)) != ranks.end()) mine = name;
    }
    m->groups.push_back(mine);
  }
  return m;
}

}  // namespace tcltorch
