// Fully sharded data parallel (ZeRO-3, PyTorch's FSDP2 fully_shard): every
// parameter keeps only this rank's rows (dim 0, split as torch::shard splits),
// so its gradient and its optimizer state are 1/N too. A unit (a layer with
// parameters, or a named submodule) is all-gathered just before its forward
// and freed after it; before its backward it is gathered again, and once its
// backward is done its gradients are reduce-scattered (averaged) back to the
// rows each rank keeps.
//
// The module's parameter tensors stay the same objects throughout (optimizers
// and handles keep working): set_data swaps their data between this rank's
// rows and the whole tensor. The whole tensor's storage is freed in place
// (resized to 0 bytes) and refilled before backward, so what autograd saved
// (views of the weight) reads the refilled data, as FSDP2 does.
//
// Collectives: one all_gather per unit and use (its parameters packed into
// one buffer), the next unit's issued before this one computes (prefetch, in
// forward and backward); one reduce_scatter per unit per backward. Backward
// runs on the calling thread in the same order on every rank.
#include "tcltorch/module.h"
#include "tcltorch/parallel.h"
#include <torch/csrc/autograd/engine.h>

namespace tcltorch {

namespace {

// Frees (0) or re-allocates a storage in place: every tensor and view on it
// sees the change.
void resizeStorage(const at::Tensor& t, size_t bytes) {
  c10::StorageImpl* s = t.storage().unsafeGetStorageImpl();
  if (s->nbytes() == bytes) return;
  s->set_data_ptr_noswap(bytes ? s->allocator()->allocate(bytes) : at::DataPtr(nullptr, t.device()));
  s->set_nbytes(bytes);
}

// Elements of one dim-0 row (0-d parameters are refused before).
int64_t rowNumel(const at::Tensor& t) { return t.numel() / std::max<int64_t>(t.size(0), 1); }

// `from`'s elements into the front of the flat `to`, the rest zeroed.
void copyPadded(const at::Tensor& to, const at::Tensor& from, int64_t numel) {
  to.narrow(0, 0, numel).view(from.sizes()).copy_(from);
  if (numel < to.numel()) to.narrow(0, numel, to.numel() - numel).zero_();
}

struct Unit {
  std::string name;
  std::vector<at::Tensor> params;                  // the module's own tensors
  std::vector<at::Tensor> rows;                    // this rank's rows of each (kept between uses)
  std::vector<at::Tensor> whole;                   // each whole tensor (storage freed between uses)
  std::vector<std::vector<int64_t>> sizes;         // rows of every rank, per parameter
  std::vector<int64_t> padded;                     // the largest piece's elements, per parameter
  int64_t packed = 0;                              // their sum: one rank's part of a collective
  std::vector<at::Tensor> stash;                   // gradients from before this backward
  WorkPtr gathering;                               // the all_gather in flight
  WorkPtr scattering;                              // the reduce_scatter in flight
  bool isWhole = false;
  bool inBackward = false;
};

struct Fsdp : std::enable_shared_from_this<Fsdp> {
  CommPtr comm;
  bool reshard = true;
  std::vector<Unit> units;
  bool inBackward = false;

  int n() const { return comm->size(); }

  // Every rank's piece of each tensor written straight into one [N, packed]
  // buffer (pads zeroed): one copy per piece, no intermediate tensors.
  at::Tensor packAll(const Unit& u, const std::vector<at::Tensor>& wholes) {
    at::Tensor out = at::empty({n(), u.packed}, wholes[0].options());
    int64_t col = 0;
    for (size_t i = 0; i < wholes.size(); ++i) {
      int64_t row = 0, perRow = rowNumel(wholes[i]);
      for (int r = 0; r < n(); ++r) {
        int64_t k = u.sizes[i][size_t(r)];
        copyPadded(out[r].narrow(0, col, u.padded[i]), wholes[i].narrow(0, row, k), k * perRow);
        row += k;
      }
      col += u.padded[i];
    }
    return out;
  }

  void startGather(Unit& u) {
    if (u.isWhole || u.gathering) return;
    at::Tensor mine = at::empty({u.packed}, u.rows[0].options());
    int64_t col = 0;
    for (size_t i = 0; i < u.rows.size(); ++i) {
      copyPadded(mine.narrow(0, col, u.padded[i]), u.rows[i], u.rows[i].numel());
      col += u.padded[i];
    }
    u.gathering = comm->allGather(mine);
  }

  void makeWhole(Unit& u) {
    if (u.isWhole) return;
    at::NoGradGuard ng;
    startGather(u);
    u.gathering->wait();
    at::Tensor all = u.gathering->result();  // [N, packed]
    u.gathering.reset();
    int64_t col = 0;
    for (size_t i = 0; i < u.params.size(); ++i) {
      at::Tensor& w = u.whole[i];
      resizeStorage(w, size_t(w.numel()) * w.element_size());
      int64_t row = 0, perRow = rowNumel(w);
      for (int r = 0; r < n(); ++r) {
        int64_t k = u.sizes[i][size_t(r)];
        w.narrow(0, row, k).copy_(all[r].narrow(0, col, k * perRow).view(w.narrow(0, row, k).sizes()));
        row += k;
      }
      col += u.padded[i];
      const_cast<at::Tensor&>(u.params[i]).set_data(w);
    }
    u.isWhole = true;
  }

  void makeRows(Unit& u) {
    if (!u.isWhole) return;
    for (size_t i = 0; i < u.params.size(); ++i) {
      const_cast<at::Tensor&>(u.params[i]).set_data(u.rows[i]);
      resizeStorage(u.whole[i], 0);
    }
    u.isWhole = false;
  }

  // The unit's backward is done: its whole gradients, averaged over the
  // ranks, go back as this rank's rows (added to what was there before).
  void startScatter(Unit& u) {
    if (!u.inBackward || u.scattering) return;
    at::NoGradGuard ng;
    std::vector<at::Tensor> grads;
    for (auto& p : u.params) grads.push_back(p.grad().defined() ? p.grad() : at::zeros_like(p));
    at::Tensor packed = packAll(u, grads);
    for (auto& p : u.params) const_cast<at::Tensor&>(p).mutable_grad() = at::Tensor();
    makeRows(u);
    u.scattering = comm->reduceScatter(packed, ReduceOp::Sum);
  }

  void finishScatter(Unit& u) {
    if (!u.scattering) return;
    u.scattering->wait();
    // The average: divided here, on 1/N of the elements.
    at::Tensor mine = u.scattering->result().reshape({-1}).div_(n());
    u.scattering.reset();
    int64_t col = 0;
    for (size_t i = 0; i < u.params.size(); ++i) {
      // Its own tensor, not a view of the result: zero_grad detaches in place.
      at::Tensor g = mine.narrow(0, col, u.rows[i].numel()).view(u.rows[i].sizes()).clone();
      col += u.padded[i];
      if (u.stash[i].defined()) g.add_(u.stash[i]);
      u.stash[i] = at::Tensor();
      const_cast<at::Tensor&>(u.params[i]).mutable_grad() = g;
    }
    u.inBackward = false;
  }

  // Before unit k's backward (a hook on its output's gradient).
  void preBackward(size_t k) {
    if (!inBackward) {
      inBackward = true;
      auto self = shared_from_this();
      torch::autograd::Engine::get_default_engine().queue_callback([self] { self->postBackward(); });
    }
    // Units after k (in forward order) finished their backward.
    for (size_t j = k + 1; j < units.size(); ++j) startScatter(units[j]);
    Unit& u = units[k];
    if (u.inBackward) return;
    for (size_t i = 0; i < u.params.size(); ++i) {
      u.stash[i] = u.params[i].grad();
      const_cast<at::Tensor&>(u.params[i]).mutable_grad() = at::Tensor();
    }
    u.inBackward = true;
    // Both gathers queued before waiting for the first: the next unit
    // backward reaches moves while this one computes.
    startGather(u);
    if (k > 0) startGather(units[k - 1]);
    makeWhole(u);
  }

  void postBackward() {
    for (auto& u : units) startScatter(u);
    for (auto& u : units) finishScatter(u);
    for (auto& u : units) makeRows(u);
    inBackward = false;
  }
};

}  // namespace

void fullyShard(State& st, const std::shared_ptr<ModuleObj>& m, const FullyShardOptions& o) {
  auto fs = std::make_shared<Fsdp>();
  fs->comm = communicator(st, o.group);
  fs->reshard = o.reshardAfterForward;
  // Units: the named submodules, or every layer with parameters.
  std::vector<std::pair<std::string, std::shared_ptr<ModuleObj>>> picked;
  if (o.units.empty()) {
    for (auto& l : leafModules(m))
      if (!l.second->module->parameters().empty()) picked.push_back(l);
  } else {
    for (auto& name : o.units) {
      std::shared_ptr<ModuleObj> at = m;
      size_t start = 0;
      while (at && start <= name.size() && !name.empty()) {
        size_t dot = name.find('.', start);
        std::string part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        std::shared_ptr<ModuleObj> next;
        for (auto& [n, k] : at->children)
          if (n == part) next = k;
        at = next;
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      if (!at || name.empty())
        fail("fully_shard: no submodule \"" + name + "\" in the module", {"PARALLEL", "UNIT", name});
      picked.emplace_back(name, at);
    }
  }
  if (picked.empty()) fail("fully_shard: the module has no parameters", {"PARALLEL", "UNIT"});
  for (auto& [name, mod] : picked)
    for (auto& p : mod->module->parameters())
      if (auto* layers = paramSplits(st, p))
        for (auto& s : *layers)
          // Twice over one group is refused; a tensor-parallel split over a
          // group of one (a world of one) is no split.
          if (s.group == o.group && (s.byFullyShard || s.sizes.size() > 1))
            fail("fully_shard: unit \"" + name + "\" is already split over this group", {"PARALLEL", "UNIT", name});
  at::NoGradGuard ng;
  for (auto& [name, mod] : picked) {
    Unit u;
    u.name = name;
    for (auto& p : mod->module->parameters()) {
      if (p.dim() == 0) fail("fully_shard: parameter of unit \"" + name + "\" is 0-d", {"PARALLEL", "UNIT", name});
      ParamSplit s{o.group, 0, evenSizes(p.size(0), fs->n()), fs->comm->rank(), true};
      int64_t big = *std::max_element(s.sizes.begin(), s.sizes.end());
      int64_t perRow = rowNumel(p);
      u.params.push_back(p);
      u.rows.push_back(p.narrow(0, s.offset(), s.sizes[size_t(s.rank)]).clone());
      u.whole.push_back(at::empty_like(p));
      u.sizes.push_back(s.sizes);
      u.padded.push_back(big * perRow);
      u.packed += big * perRow;
      u.stash.emplace_back();
      addParamSplit(st, p, std::move(s));
    }
    u.isWhole = true;  // the parameters still hold the whole tensors
    fs->units.push_back(std::move(u));
  }
  for (auto& u : fs->units) {
    for (size_t i = 0; i < u.params.size(); ++i) const_cast<at::Tensor&>(u.params[i]).set_data(u.rows[i]);
    for (auto& w : u.whole) resizeStorage(w, 0);
    u.isWhole = false;
  }
  for (size_t k = 0; k < fs->units.size(); ++k) {
    auto& mod = picked[k].second;
    auto inner = mod->forward;
    // The module handles own the mechanism through their forwards (units
    // hold no module: no cycle).
    mod->forward = [fs, k, inner](const at::Tensor& x) {
      Unit& u = fs->units[k];
      fs->startGather(u);
      if (k + 1 < fs->units.size()) fs->startGather(fs->units[k + 1]);  // prefetch, queued behind this one
      fs->makeWhole(u);
      at::Tensor y = inner(x);
      bool backwardComes = at::GradMode::is_enabled() && y.requires_grad();
      if (backwardComes) {
        std::weak_ptr<Fsdp> weak = fs;
        y.register_hook([weak, k](const at::Tensor&) {
          if (auto f = weak.lock()) f->preBackward(k);
        });
      }
      // The last unit's backward comes first: freeing it would only gather it
      // again at once (FSDP2 keeps its root unit whole the same way).
      bool last = k + 1 == fs->units.size();
      if ((fs->reshard && !last) || !backwardComes) fs->makeRows(u);
      return y;
    };
  }
}

}  // namespace tcltorch
