// Whole-file reading (transparently gunzipping) and buffered writing.
#pragma once

#include <cstdio>
#include <string>
#include <memory>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace rackscale {

// Bounds on what a reader accepts, checked while reading, before parsing:
// no input takes more memory than this, and a compressed input may not
// inflate beyond kMaxInflateRatio times its size (past the first
// kInflateRatioFloor bytes): a gzip bomb is refused with the estimate.
inline constexpr size_t kMaxInputBytes = size_t{8} << 30;
inline constexpr size_t kInflateRatioFloor = size_t{256} << 20;
inline constexpr size_t kMaxInflateRatio = 200;

// Reads the whole text file at `path`, `what` kind of file ("CSV", "TOML",
// "trace"; used in errors). If the content starts with the gzip magic bytes
// it is inflated (multi-member streams included). Returns a kIo error naming
// the path if it cannot be opened or read (a directory included), and a
// kInvalidInput error if its gzip data is corrupt or truncated, if it holds
// binary data ("not a CSV file": a NUL byte, or mostly control characters,
// in its first 64 KiB), or if it is larger than the bounds above.
Result<std::string> ReadFileMaybeGz(const std::string& path, std::string_view what = "text");

// Inflates a gzip buffer. `source` names it in errors. The output is bounded
// as above (`limit` overrides kMaxInputBytes for tests).
Result<std::string> Gunzip(std::string_view data, const std::string& source, size_t limit = kMaxInputBytes,
                           std::string_view what = "text");

// The offset of the first sign of binary data in `head` (a NUL byte, or
// more than 10% control characters other than tab, CR, LF and FF), or -1.
int64_t FindBinary(std::string_view head);

// Writes `data` to the file `path`. A regular file (or a new one) is
// replaced atomically: written to a unique temporary file beside it, then
// renamed over it. A symbolic link is written through (its target is
// replaced, the link stays); a device, FIFO or socket (/dev/null,
// /dev/stdout) is opened and written in place, never replaced; a directory
// is an error. Returns a kIo error naming the path on failure.
Status WriteFile(const std::string& path, std::string_view data);

// An output directory filled all-or-nothing. Files are written into a
// private staging directory; Commit() moves them into place. Destroyed
// without Commit (a failed run), it removes the staging directory and any
// parent directories it created, so a failed run leaves no new output.
//
// Where DIR exists (a symlink to a directory included), staging is
// DIR/.rackscale-staging-PID and Commit renames each file into DIR, after
// checking that none of them would replace a directory, a symlink or a
// device. Where DIR does not exist, staging is a sibling of DIR and Commit
// renames it to DIR in one step. Files of DIR that the run does not write
// are left alone.
class OutputDir {
 public:
  // Creates the staging directory. Errors: DIR exists and is not a
  // directory, or a parent cannot be created.
  static Result<std::unique_ptr<OutputDir>> Open(const std::string& dir);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  // The final directory, as given.
  const std::string& dir() const { return dir_; }
  // Where files are written until Commit (for readers that check them).
  const std::string& staging() const { return staging_; }

  // Writes staging/NAME; NAME may hold subdirectories ("sim/jobs.csv").
  // Errors name DIR/NAME.
  Status Write(const std::string& name, std::string_view data);

  // Moves every written file into DIR. After a failed Commit, the files
  // already moved stay in DIR and the rest are removed.
  Status Commit();

 private:
  OutputDir() = default;
  std::string dir_, staging_;
  bool dir_existed_ = false, committed_ = false;
  std::vector<std::string> written_;         // names relative to staging_
  std::vector<std::string> created_parents_;  // deepest last
};

// Creates directory `path` (and parents) if it does not exist.
Status MakeDirs(const std::string& path);

}  // namespace rackscale
