// The OpenAPI 3 description of the API (docs/openapi.json), embedded at build time.
#pragma once

namespace rackscale::ctl {
const char* OpenApiJson();
}  // namespace rackscale::ctl
