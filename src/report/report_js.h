// The chart libraries that HTML reports inline: the minified browser builds of vega,
// vega-lite and vega-embed from web/node_modules, written into report_js.cc in the build
// directory by cmake/embed_js.cmake (versions pinned by web/package-lock.json).
#pragma once

#include <cstddef>
#include <string_view>

namespace rackscale::report_js {

struct Library {
  const char* name;                // npm package name
  const char* version;             // from its package.json
  const std::string_view* chunks;  // the script, in pieces of under 64 KiB
  std::size_t chunk_count;
  std::size_t size;                // bytes in all chunks
};

// In load order: vega, vega-lite, vega-embed.
extern const Library kLibraries[];
extern const std::size_t kLibraryCount;

}  // namespace rackscale::report_js
