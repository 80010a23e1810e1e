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

static Tcl_Obj* cmdLoader(Call& c) {
  LoaderOptions o;
  o.batch = c.integer("batch");
  o.shuffle = c.boolean("shuffle");
  o.seed = c.integer("seed");
  o.epoch = c.integer("epoch");
  o.dropLast = c.boolean("drop_last");
  o.workers = int(c.integer("workers"));
  o.prefetch = int(c.integer("prefetch"));
  if (c.has("transform")) o.transforms = parseTransforms(c.obj("transform"));
  CommPtr comm = communicator(c.st, c.str("group"));
  o.rank = comm->rank();
  o.world = comm->size();
  std::shared_ptr<DataLoader> l;
  try {
    l = std::make_shared<DataLoader>(c.tensors("tensors"), std::move(o));
  } catch (const std::domain_error& e) {
    fail(std::string("bad transform: ") + e.what(), {"ARGS", "VALUE", "transform", c.str("transform")});
  } catch (const std::invalid_argument& e) {
    fail(std::string("bad tensors: ") + e.what(), {"ARGS", "VALUE", "tensors", c.str("tensors")});
  }
  return c.result(Kind::Loader, l);
}

static Tcl_Obj* cmdNext(Call& c) { return c.results(c.object<DataLoader>("loader")->next()); }

static Tcl_Obj* cmdEpoch(Call& c) {
  auto l = c.object<DataLoader>("loader");
  if (c.has("epoch")) l->setEpoch(c.integer("epoch"));
  return Tcl_NewWideIntObj(Tcl_WideInt(l->epoch()));
}

static Tcl_Obj* cmdLength(Call& c) {
  return Tcl_NewWideIntObj(Tcl_WideInt(c.object<DataLoader>("loader")->length()));
}

static const Param kLoader{"loader", Type::Loader, nullptr, "data loader handle"};

std::vector<Command> dataloaderCommands() {
  return {
      {"dataloader",
       "A data loader (DataLoader + DistributedSampler): this rank's batches of rows of the tensors, in "
       "dataset_batches' order, made ahead by worker threads, with per-sample transforms of the first tensor "
       "(random_crop, hflip, normalize; reproducible from -seed and the epoch). torch::free stops it.",
       {{"tensors", Type::TensorList, nullptr, "tensors with the same first dimension (e.g. {images labels})"},
        Param{"batch", Type::PosInt, "1", "samples per batch on this rank", "batch_size"},
        {"shuffle", Type::Bool, "0", "a new permutation each epoch (the same on every rank)"},
        {"seed", Type::Int, "0", "shuffle and transform seed (the same on every rank)"},
        {"drop_last", Type::Bool, "0", "drop the samples that do not fill equal shares and a last short batch"},
        Param{"workers", Type::NonNegInt, "2", "worker threads (0: batches made by dataloader_next itself)",
              "num_workers"}.within(0, 64),
        Param{"prefetch", Type::PosInt, "4", "batches made ahead"}.within(1, 1024),
        {"transform", Type::String, kOptional,
         "list of per-sample transforms of the first tensor, in order: {random_crop SIZE ?-padding P?} "
         "(zero padding), {hflip ?P?} (P 0.5), {normalize MEAN STD} (one value, or one per channel)",
         "transforms"},
        {"group", Type::String, "", "process group whose ranks share the data (default: all)"},
        {"epoch", Type::Int, "0", "first epoch"}},
       cmdLoader},
      {"dataloader_next",
       "The loader's next batch as a list of tensor handles (one per tensor), or an empty list at the end of "
       "the epoch; the next call starts the next epoch.",
       {kLoader}, cmdNext},
      {"dataloader_epoch",
       "Start epoch N (its order: seed + N, the same on every rank) at its first batch; returns the epoch.",
       {kLoader, {"epoch", Type::Int, kOptional, "epoch number (default: only return the current one)"}},
       cmdEpoch},
      {"dataloader_length", "Batches per epoch of a loader on this rank.", {kLoader}, cmdLength},
  };
}

}  // namespace tcltorch
