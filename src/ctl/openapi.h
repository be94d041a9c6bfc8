// The API's OpenAPI 3.0.3 description (docs/openapi.json), embedded at build
// time by cmake/embed_openapi.cmake; the server answers GET /v1/openapi.json
// with it.
#pragma once

namespace rackscale::ctl {

// The document's text, as in docs/openapi.json (NUL-terminated, static).
const char* OpenApiJson();

}  // namespace rackscale::ctl
