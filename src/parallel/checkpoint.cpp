// Distributed checkpoints that reshard (torch.distributed.checkpoint): every
// rank writes its own pieces and where each lies in the whole tensor; a load
// reads, for each piece a rank holds now, the overlapping parts of whatever
// pieces were saved, so the saving and loading splits and world sizes need
// not match. No collective on load; a barrier ends a save.
#include "tcltorch/files.h"
#include "tcltorch/json.h"
#include "tcltorch/module.h"
#include "tcltorch/parallel.h"
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/serialize.h>
#include <filesystem>
#include <fstream>
#include <map>

namespace tcltorch {

namespace {
// Where this rank's piece of `t` lies in the whole: offsets and the whole shape.
struct Box {
  std::vector<int64_t> shape, offsets, sizes;
};
Box boxOf(State& st, const at::Tensor& t) {
  Box b{t.sizes().vec(), std::vector<int64_t>(size_t(t.dim()), 0), t.sizes().vec()};
  if (auto* layers = paramSplits(st, t))
    for (size_t k = layers->size(); k-- > 0;) {  // innermost first: each layer's whole is the next one's piece
      const ParamSplit& s = (*layers)[k];
      b.offsets[size_t(s.dim)] += s.offset();
      int64_t sum = 0;
      for (int64_t v : s.sizes) sum += v;
      b.shape[size_t(s.dim)] = sum;
    }
  return b;
}
Json ints(const std::vector<int64_t>& v) {
  Json j;
  j.kind = Json::Array;
  for (int64_t x : v) j.arr.push_back(Json::integer(x));
  return j;
}
std::vector<int64_t> intsOf(const Json* j) {
  std::vector<int64_t> r;
  if (j && j->kind == Json::Array)
    for (auto& x : j->arr) r.push_back(x.i);
  return r;
}
// The optimizer state tensors of parameter p ("exp_avg", ...), made as zeros
// when missing and `make` (a load into an optimizer that has not stepped yet).
template <class O, class S>
using Field = std::pair<const char*, at::Tensor& (*)(S&)>;
template <class O, class S>
bool stateFields(torch::optim::Optimizer& o, const at::Tensor& p, bool make, const std::vector<Field<O, S>>& fields,
                 std::vector<std::pair<std::string, at::Tensor>>& out) {
  if (!dynamic_cast<O*>(&o)) return false;
  auto key = compat::optimStateKey(p);
  auto it = o.state().find(key);
  if (it == o.state().end()) {
    if (!make) return true;
    auto st = std::make_unique<S>();
    for (auto& f : fields) f.second(*st) = at::zeros_like(p, at::MemoryFormat::Contiguous);
    it = o.state().emplace(key, std::move(st)).first;
  }
  S& st = static_cast<S&>(*it->second);
  for (auto& f : fields)
    if (f.second(st).defined()) out.emplace_back(f.first, f.second(st));
  if constexpr (!std::is_same_v<S, torch::optim::SGDParamState>)  // replaced on load
    out.emplace_back("step", at::scalar_tensor(double(st.step()), at::kDouble));
  return true;
}
std::vector<std::pair<std::string, at::Tensor>> optimState(torch::optim::Optimizer& o, const at::Tensor& p, bool make) {
  namespace op = torch::optim;
  using A = op::AdamParamState;
  using W = op::AdamWParamState;
  using S = op::SGDParamState;
  std::vector<std::pair<std::string, at::Tensor>> r;
  stateFields<op::Adam, A>(o, p, make, {{"exp_avg", [](A& s) -> at::Tensor& { return s.exp_avg(); }},
                                        {"exp_avg_sq", [](A& s) -> at::Tensor& { return s.exp_avg_sq(); }}}, r) ||
      stateFields<op::AdamW, W>(o, p, make, {{"exp_avg", [](W& s) -> at::Tensor& { return s.exp_avg(); }},
                                             {"exp_avg_sq", [](W& s) -> at::Tensor& { return s.exp_avg_sq(); }}}, r) ||
      stateFields<op::SGD, S>(o, p, make, {{"momentum_buffer", [](S& s) -> at::Tensor& { return s.momentum_buffer(); }}}, r);
  return r;
}
// Every tensor a checkpoint holds, with the parameter whose split it follows:
// parameters, buffers, then the optimizer's state as "name/field".
struct Item {
  std::string name;
  at::Tensor t, like;
  std::function<void(const at::Tensor&)> set;  // for values that are no tensor of their own (step)
};
std::vector<Item> stateOf(ModuleObj& m, OptimizerObj* opt, bool make) {
  std::vector<Item> r;
  for (auto& kv : m.module->named_parameters()) r.push_back({kv.key(), kv.value(), kv.value(), nullptr});
  for (auto& kv : m.module->named_buffers()) r.push_back({kv.key(), kv.value(), kv.value(), nullptr});
  if (!opt) return r;
  for (auto& kv : m.module->named_parameters())
    for (auto& [field, t] : optimState(*opt->opt, kv.value(), make)) {
      Item it{kv.key() + "/" + field, t, field == "step" ? t : kv.value(), nullptr};
      if (field == "step") {
        torch::optim::Optimizer* o = opt->opt.get();
        at::Tensor p = kv.value();
        it.set = [o, p](const at::Tensor& v) {
          auto* st = o->state().at(compat::optimStateKey(p)).get();
          int64_t step = int64_t(v.item<double>());
          if (auto* a = dynamic_cast<torch::optim::AdamParamState*>(st)) a->step(step);
          if (auto* a = dynamic_cast<torch::optim::AdamWParamState*>(st)) a->step(step);
        };
      }
      r.push_back(std::move(it));
    }
  return r;
}
[[noreturn]] void bad(const std::string& dir, const std::string& why) {
  fail("distributed checkpoint \"" + dir + "\": " + why, {"PARALLEL", "CHECKPOINT"});
}
}  // namespace

void distributedSave(State& st, ModuleObj& m, OptimizerObj* opt, const std::string& dir) {
  CommPtr world = communicator(st);
  std::filesystem::create_directories(dir);
  std::string stem = dir + "/rank" + std::to_string(world->rank());
  Json meta;
  meta.kind = Json::Object;
  Json entries;
  entries.kind = Json::Array;
  std::vector<at::Tensor> pieces;
  for (auto& [name, t, like, set] : stateOf(m, opt, false)) {
    Box b = boxOf(st, like);
    if (t.dim() == 0) b = Box{{}, {}, {}};
    Json e;
    e.kind = Json::Object;
    e.obj = {{"name", Json::string(name)}, {"shape", ints(b.shape)}, {"offsets", ints(b.offsets)}, {"sizes", ints(b.sizes)}};
    entries.arr.push_back(std::move(e));
    pieces.push_back(t.detach().contiguous());
  }
  meta.obj = {{"world_size", Json::integer(world->size())}, {"entries", std::move(entries)}};
  saveAtomically(stem + ".pt", [&](const std::string& tmp) { torch::save(pieces, tmp); });
  saveAtomically(stem + ".json", [&](const std::string& tmp) { std::ofstream(tmp) << writeJson(meta); });
  world->barrier()->wait();  // every rank's files are there before anyone loads
}

void distributedLoad(State& st, ModuleObj& m, OptimizerObj* opt, const std::string& dir) {
  // Every saved piece: name -> (file, index, box).
  struct Saved {
    std::string file;
    size_t index;
    std::vector<int64_t> shape, offsets, sizes;
  };
  std::map<std::string, std::vector<Saved>> saved;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) bad(dir, "no such folder");
  for (auto& f : std::filesystem::directory_iterator(dir)) {
    std::string p = f.path().string();
    if (f.path().extension() != ".json" || f.path().filename().string().rfind("rank", 0) != 0) continue;
    auto bytes = readFileBytes(p);
    Json meta;
    try {
      meta = parseJson(std::string_view(bytes.data(), bytes.size()));
    } catch (const JsonError& e) {
      bad(dir, p + ": " + e.what());
    }
    const Json* entries = meta.find("entries");
    if (!entries || entries->kind != Json::Array) bad(dir, p + " has no entries");
    std::string pt = p.substr(0, p.size() - 5) + ".pt";
    for (size_t k = 0; k < entries->arr.size(); ++k) {
      const Json& e = entries->arr[k];
      const Json* n = e.find("name");
      if (!n || n->kind != Json::String) bad(dir, p + ": an entry without a name");
      saved[n->str].push_back({pt, k, intsOf(e.find("shape")), intsOf(e.find("offsets")), intsOf(e.find("sizes"))});
    }
  }
  if (saved.empty()) bad(dir, "no rank*.json files");
  std::map<std::string, std::vector<at::Tensor>> files;  // read once each
  auto piece = [&](const Saved& s) -> const at::Tensor& {
    auto it = files.find(s.file);
    if (it == files.end()) {
      std::vector<at::Tensor> ts;
      readFileBytes(s.file);  // a clear error for a missing file
      torch::load(ts, s.file);
      it = files.emplace(s.file, std::move(ts)).first;
    }
    if (s.index >= it->second.size()) bad(dir, s.file + " holds fewer tensors than its metadata lists");
    return it->second[s.index];
  };
  at::NoGradGuard ng;
  // Check every name and shape before changing anything.
  auto state = stateOf(m, opt, true);
  auto boxFor = [&](const Item& i) { return i.t.dim() == 0 ? Box{{}, {}, {}} : boxOf(st, i.like); };
  for (auto& i : state) {
    auto it = saved.find(i.name);
    if (it == saved.end()) bad(dir, "nothing saved for \"" + i.name + "\"");
    Box b = boxFor(i);
    const std::string& name = i.name;
    if (it->second[0].shape != b.shape) bad(dir, "\"" + name + "\" was saved with another shape");
  }
  for (auto& i : state) {
    const std::string& name = i.name;
    Box b = boxFor(i);
    at::Tensor dst = i.t.detach();
    int64_t filled = 0;
    for (const Saved& s : saved[name]) {
      // The overlap of the saved box and mine, dim by dim.
      std::vector<int64_t> lo(b.shape.size()), len(b.shape.size());
      bool any = true;
      for (size_t d = 0; d < b.shape.size() && any; ++d) {
        lo[d] = std::max(b.offsets[d], s.offsets[d]);
        int64_t hi = std::min(b.offsets[d] + b.sizes[d], s.offsets[d] + s.sizes[d]);
        len[d] = hi - lo[d];
        any = len[d] > 0;
      }
      if (!any) continue;
      at::Tensor from = piece(s), to = dst;
      int64_t n = 1;
      for (size_t d = 0; d < lo.size(); ++d) {
        from = from.narrow(int64_t(d), lo[d] - s.offsets[d], len[d]);
        to = to.narrow(int64_t(d), lo[d] - b.offsets[d], len[d]);
        n *= len[d];
      }
      to.copy_(from);
      filled += n;
    }
    // Replicated copies overlap: enough elements is not proof, a shortfall is.
    if (filled < dst.numel()) bad(dir, "the saved pieces do not cover \"" + name + "\"");
    if (i.set) i.set(dst);
  }
}

}  // namespace tcltorch
