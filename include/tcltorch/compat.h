// The one place for differences between libtorch 1.13 (Debian) and 2.x.
#pragma once
#include <torch/version.h>

#define TCLTORCH_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||           \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))
