// Placeholder until docs/openapi.json is embedded at build time.
#include "ctl/openapi.h"

namespace rackscale::ctl {
const char* OpenApiJson() { return "{}"; }
}  // namespace rackscale::ctl
