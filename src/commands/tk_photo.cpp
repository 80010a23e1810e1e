// Tensors to and from Tk photo images through Tk's C API (Tk_PhotoPutBlock and
// Tk_PhotoGetImage: pixels are copied, never formatted as strings). Tk is optional:
// the package never loads it, and these commands work in an interpreter where Tk
// is loaded (found through Tk's stubs). Built without Tk's headers
// (TCLTORCH_WITH_TK off), they exist and say so.
#include "tcltorch/commands.h"
#include "tcltorch/image.h"
#if TCLTORCH_WITH_TK
#define USE_TK_STUBS
#include <tk.h>
#endif

namespace tcltorch {

namespace {
struct ToPhotoArgs : Args {
  Arg<Type::Tensor> tensor{this, {"tensor", Type::Tensor, nullptr, "image tensor"}};
  Arg<Type::String> photo{this, {"photo", Type::String, nullptr, "name of a photo image (image create photo)"}};
};
struct FromPhotoArgs : Args {
  Arg<Type::String> photo{this, {"photo", Type::String, nullptr, "name of a photo image"}};
  Arg<Type::Int> channels{this, Param{"channels", Type::Int, "3", "3 (RGB) or 4 (RGBA)"}.within(3, 4).mustBe("3 or 4")};
};
}  // namespace

#if TCLTORCH_WITH_TK
// The photo named by `photo` of an interpreter that has Tk; Tk's stubs set up on first use.
static Tk_PhotoHandle findPhoto(Call& c, const Arg<Type::String>& photo) {
  // Only Tk already present: Tk_InitStubs alone would load it.
  if (!Tcl_PkgPresentEx(c.interp, "Tk", nullptr, 0, nullptr)) {
    Tcl_ResetResult(c.interp);
    fail("Tk is not loaded in this interpreter: package require Tk first", {"TK", "NOTLOADED"});
  }
  if (!Tk_InitStubs(c.interp, TK_VERSION, 0)) {
    std::string why = Tcl_GetStringResult(c.interp);
    Tcl_ResetResult(c.interp);
    fail("cannot use this interpreter's Tk: " + why, {"TK", "STUBS"});
  }
  std::string name = c.str(photo);
  Tk_PhotoHandle h = Tk_FindPhoto(c.interp, name.c_str());
  if (!h) fail("\"" + name + "\" is not a photo image", {"TK", "PHOTO", name});
  return h;
}

static Tcl_Obj* cmdToPhoto(Call& c, const ToPhotoArgs& a) {
  at::Tensor px = imagePixels(c.tensor(a.tensor), c.nameOf(a.tensor), true);
  Tk_PhotoHandle h = findPhoto(c, a.photo);
  int height = int(px.size(0)), width = int(px.size(1)), ch = int(px.size(2));
  Tk_PhotoImageBlock block;
  block.pixelPtr = px.data_ptr<uint8_t>();
  block.width = width;
  block.height = height;
  block.pixelSize = ch;
  block.pitch = width * ch;
  // Gray: every colour at offset 0; an alpha offset past the pixel means opaque.
  block.offset[0] = 0;
  block.offset[1] = ch >= 3 ? 1 : 0;
  block.offset[2] = ch >= 3 ? 2 : 0;
  block.offset[3] = ch == 4 ? 3 : ch;
  if (Tk_PhotoSetSize(c.interp, h, width, height) != TCL_OK ||
      Tk_PhotoPutBlock(c.interp, h, &block, 0, 0, width, height, TK_PHOTO_COMPOSITE_SET) != TCL_OK) {
    std::string why = Tcl_GetStringResult(c.interp);
    Tcl_ResetResult(c.interp);
    fail("cannot fill photo \"" + c.str(a.photo) + "\": " + why, {"TK", "PHOTO", c.str(a.photo)});
  }
  return nullptr;
}

static Tcl_Obj* cmdFromPhoto(Call& c, const FromPhotoArgs& a) {
  Tk_PhotoHandle h = findPhoto(c, a.photo);
  int ch = int(c.integer(a.channels));
  Tk_PhotoImageBlock b;
  Tk_PhotoGetImage(h, &b);
  at::Tensor t = at::empty({b.height, b.width, ch}, at::TensorOptions().dtype(at::kByte));
  uint8_t* out = t.data_ptr<uint8_t>();
  for (int y = 0; y < b.height; ++y) {
    const unsigned char* row = b.pixelPtr + size_t(y) * size_t(b.pitch);
    for (int x = 0; x < b.width; ++x, out += ch) {
      const unsigned char* p = row + size_t(x) * size_t(b.pixelSize);
      for (int k = 0; k < ch; ++k) out[k] = p[b.offset[k]];
    }
  }
  return c.result(std::move(t));
}
#else
[[noreturn]] static void noTk() {
  fail("this torch package was built without Tk support (no Tk headers at build time)", {"TK", "UNAVAILABLE"});
}
static Tcl_Obj* cmdToPhoto(Call&, const ToPhotoArgs&) { noTk(); }
static Tcl_Obj* cmdFromPhoto(Call&, const FromPhotoArgs&) { noTk(); }
#endif

std::vector<Command> tkPhotoCommands() {
  return {
      typedRow<cmdToPhoto>(
          "tensor_to_photo",
          "Fill a Tk photo image with an image tensor (the photo takes its size): H x W (gray), H x W x 3 or "
          "H x W x 4 (RGB, RGBA), or C x H x W with C = 1, 3 or 4; uint8, or float in [0, 1] (clamped). "
          "Needs Tk loaded in the interpreter."),
      typedRow<cmdFromPhoto>("photo_to_tensor", "A Tk photo image's pixels as a uint8 H x W x C tensor (RGB or RGBA)."),
  };
}

}  // namespace tcltorch
