// torch::dataloader: batches made ahead by worker threads (src/io/dataloader.cpp),
// handed out as handles on the main thread. See docs/data.md.
#include "tcltorch/collective.h"
#include "tcltorch/commands.h"
#include "tcltorch/dataloader.h"

namespace tcltorch {

static const char* const kTransforms = "{random_crop SIZE ?-padding P?}, {hflip ?P?} or {normalize MEAN STD}";

static std::vector<Tcl_Obj*> words(Tcl_Obj* o) {
  Tcl_Size n = 0;
  Tcl_Obj** elems = nullptr;
  if (Tcl_ListObjGetElements(nullptr, o, &n, &elems) != TCL_OK) return {};
  return std::vector<Tcl_Obj*>(elems, elems + n);
}
static bool isTransformName(Tcl_Obj* o) {
  std::string s = Tcl_GetString(o);
  return s == "random_crop" || s == "hflip" || s == "normalize";
}

static std::vector<double> numbers(Tcl_Obj* o, bool* ok) {
  std::vector<double> v;
  for (Tcl_Obj* w : words(o)) {
    double d;
    if (!parseNumber(w, &d)) *ok = false;
    v.push_back(d);
  }
  if (v.empty()) *ok = false;
  return v;
}

static Transform parseTransform(Tcl_Obj* spec) {
  auto bad = [&](const std::string& why) {
    fail(std::string("bad transform \"") + Tcl_GetString(spec) + "\": " + why,
         {"ARGS", "VALUE", "transform", Tcl_GetString(spec)});
  };
  std::vector<Tcl_Obj*> w = words(spec);
  if (w.empty() || !isTransformName(w[0])) bad(std::string("must be ") + kTransforms);
  std::string name = Tcl_GetString(w[0]);
  Transform t;
  bool ok = true;
  if (name == "random_crop") {
    t.kind = Transform::RandomCrop;
    if (w.size() != 2 && w.size() != 4) bad("must be {random_crop SIZE ?-padding P?}");
    std::vector<double> size = numbers(w[1], &ok);
    if (!ok || size.size() > 2) bad("SIZE must be an integer or {HEIGHT WIDTH}");
    t.height = int64_t(size[0]);
    t.width = int64_t(size.back());
    if (w.size() == 4) {
      Tcl_WideInt p;
      if (std::string(Tcl_GetString(w[2])) != "-padding" || Tcl_GetWideIntFromObj(nullptr, w[3], &p) != TCL_OK ||
          p < 0)
        bad("must be {random_crop SIZE ?-padding P?} with an integer P >= 0");
      t.padding = p;
    }
    if (t.height < 1 || t.width < 1 || double(t.height) != size[0] || double(t.width) != size.back())
      bad("SIZE must be positive integers");
  } else if (name == "hflip") {
    t.kind = Transform::HFlip;
    if (w.size() > 2) bad("must be {hflip ?P?}");
    if (w.size() == 2 && (!parseNumber(w[1], &t.p) || !(t.p >= 0 && t.p <= 1)))
      bad("P must be a probability in [0, 1]");
  } else {
    t.kind = Transform::Normalize;
    if (w.size() != 3) bad("must be {normalize MEAN STD} (numbers or one per channel)");
    t.mean = numbers(w[1], &ok);
    t.std = numbers(w[2], &ok);
    if (!ok) bad("MEAN and STD must be numbers or lists of numbers");
  }
  return t;
}

// A list of transforms, or one transform on its own ({hflip 0.5}).
static std::vector<Transform> parseTransforms(Tcl_Obj* o) {
  std::vector<Tcl_Obj*> w = words(o);
  std::vector<Transform> out;
  if (w.empty()) return out;
  double d;
  if (isTransformName(w[0]) &&
      (w.size() == 1 || parseNumber(w[1], &d) || Tcl_GetString(w[1])[0] == '-' || words(w[1]).size() > 1 ||
       std::string(Tcl_GetString(w[0])) == "random_crop"))
    return {parseTransform(o)};
  for (Tcl_Obj* spec : w) out.push_back(parseTransform(spec));
  return out;
}

namespace {
struct LoaderArgs : Args {
  Arg<Type::TensorList> tensors{
      this, {"tensors", Type::TensorList, nullptr, "tensors with the same first dimension (e.g. {images labels})"}};
  Arg<Type::PosInt> batch{this, Param{"batch", Type::PosInt, "1", "samples per batch on this rank", "batch_size"}};
  Arg<Type::Bool> shuffle{this, {"shuffle", Type::Bool, "0", "a new permutation each epoch (the same on every rank)"}};
  Arg<Type::Int> seed{this, {"seed", Type::Int, "0", "shuffle and transform seed (the same on every rank)"}};
  Arg<Type::Bool> drop_last{
      this, {"drop_last", Type::Bool, "0", "drop the samples that do not fill equal shares and a last short batch"}};
  Arg<Type::NonNegInt> workers{this, Param{"workers", Type::NonNegInt, "2",
                                           "worker threads (0: batches made by dataloader_next itself)", "num_workers"}
                                         .within(0, 64)};
  Arg<Type::PosInt> prefetch{this, Param{"prefetch", Type::PosInt, "4", "batches made ahead"}.within(1, 1024)};
  Arg<Type::String> transform{
      this,
      {"transform", Type::String, kOptional,
       "list of per-sample transforms of the first tensor, in order: {random_crop SIZE ?-padding P?} "
       "(zero padding), {hflip ?P?} (P 0.5), {normalize MEAN STD} (one value, or one per channel)",
       "transforms"}};
  Arg<Type::String> group{this, {"group", Type::String, "", "process group whose ranks share the data (default: all)"}};
  Arg<Type::Int> epoch{this, {"epoch", Type::Int, "0", "first epoch"}};
};
}  // namespace

static Tcl_Obj* cmdLoader(Call& c, const LoaderArgs& a) {
  LoaderOptions o;
  o.batch = c.integer(a.batch);
  o.shuffle = c.boolean(a.shuffle);
  o.seed = c.integer(a.seed);
  o.epoch = c.integer(a.epoch);
  o.dropLast = c.boolean(a.drop_last);
  o.workers = int(c.integer(a.workers));
  o.prefetch = int(c.integer(a.prefetch));
  if (c.has(a.transform)) o.transforms = parseTransforms(c.obj(a.transform));
  CommPtr comm = communicator(c.st, c.str(a.group));
  o.rank = comm->rank();
  o.world = comm->size();
  std::shared_ptr<DataLoader> l;
  try {
    l = std::make_shared<DataLoader>(c.tensors(a.tensors), std::move(o));
  } catch (const std::domain_error& e) {
    fail(std::string("bad transform: ") + e.what(), {"ARGS", "VALUE", "transform", c.str(a.transform)});
  } catch (const std::invalid_argument& e) {
    fail(std::string("bad tensors: ") + e.what(), {"ARGS", "VALUE", "tensors", c.str(a.tensors)});
  }
  return c.result(Kind::Loader, l);
}

static const Param kLoader{"loader", Type::Loader, nullptr, "data loader handle"};
namespace {
struct LoaderOnlyArgs : Args {
  Arg<Type::Loader> loader{this, kLoader};
};
struct EpochArgs : Args {
  Arg<Type::Loader> loader{this, kLoader};
  Arg<Type::Int> epoch{this, {"epoch", Type::Int, kOptional, "epoch number (default: only return the current one)"}};
};
}  // namespace

static Tcl_Obj* cmdNext(Call& c, const LoaderOnlyArgs& a) { return c.results(c.object<DataLoader>(a.loader)->next()); }

static Tcl_Obj* cmdEpoch(Call& c, const EpochArgs& a) {
  auto l = c.object<DataLoader>(a.loader);
  if (c.has(a.epoch)) l->setEpoch(c.integer(a.epoch));
  return Tcl_NewWideIntObj(Tcl_WideInt(l->epoch()));
}

static Tcl_Obj* cmdLength(Call& c, const LoaderOnlyArgs& a) {
  return Tcl_NewWideIntObj(Tcl_WideInt(c.object<DataLoader>(a.loader)->length()));
}

std::vector<Command> dataloaderCommands() {
  return {
      typedRow<cmdLoader>(
          "dataloader",
          "A data loader (DataLoader + DistributedSampler): this rank's batches of rows of the tensors, in "
          "dataset_batches' order, made ahead by worker threads, with per-sample transforms of the first tensor "
          "(random_crop, hflip, normalize; reproducible from -seed and the epoch). torch::free stops it."),
      typedRow<cmdNext>("dataloader_next",
                        "The loader's next batch as a list of tensor handles (one per tensor), or an empty list at the "
                        "end of the epoch; the next call starts the next epoch."),
      typedRow<cmdEpoch>(
          "dataloader_epoch",
          "Start epoch N (its order: seed + N, the same on every rank) at its first batch; returns the epoch."),
      typedRow<cmdLength>("dataloader_length", "Batches per epoch of a loader on this rank."),
  };
}

}  // namespace tcltorch
