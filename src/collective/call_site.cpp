// The call site of the collective being started: asked of the provider the
// command layer installs (collective.h).
#include "call_site.h"
#include "tcltorch/collective.h"

namespace tcltorch {

static thread_local CallSiteProvider provider = nullptr;
static thread_local void* providerContext = nullptr;
static thread_local uint64_t serial = 0;

CallSiteScope::CallSiteScope(CallSiteProvider p, void* context)
    : prevProvider_(provider), prevContext_(providerContext) {
  provider = p;
  providerContext = context;
  ++serial;
}
CallSiteScope::~CallSiteScope() {
  provider = prevProvider_;
  providerContext = prevContext_;
}

std::string currentCallSite() { return provider ? provider(providerContext) : std::string(); }
uint64_t callSiteSerial() { return serial; }
bool callSiteKnown() { return provider != nullptr; }

}  // namespace tcltorch
