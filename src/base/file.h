// Whole-file reading (transparently gunzipping) and buffered writing.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "base/status.h"

namespace rackscale {

// Reads the whole file at `path`. If the content starts with the gzip magic
// bytes it is inflated (multi-member streams included). Returns a kIo error
// naming the path if it cannot be opened or read, and a kInvalidInput error
// if its gzip data is corrupt or truncated.
Result<std::string> ReadFileMaybeGz(const std::string& path);

// Inflates a gzip buffer. `source` names it in errors.
Result<std::string> Gunzip(std::string_view data, const std::string& source);

// Writes `data` to `path` atomically enough for our purposes: to PATH.tmp,
// then rename. Returns a kIo error naming the path on failure.
Status WriteFile(const std::string& path, std::string_view data);

// Creates directory `path` (and parents) if it does not exist.
Status MakeDirs(const std::string& path);

}  // namespace rackscale
