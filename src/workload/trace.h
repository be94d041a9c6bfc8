// Workload traces: the readers for SWF, Philly CSV and rackscale's native CSV.
//
// Every reader parses a whole in-memory buffer (so that the fuzzers and the
// tests need no files) and either returns the jobs or an Error naming the
// source, the 1-based line, the field and what was expected. With
// `skip_bad_lines`, a malformed line is counted, its error kept (the first
// kMaxKeptErrors of them) and the line skipped; the jobs already read are
// never lost.
//
// Readers do not judge jobs: a job with size 0 or runtime -1 is well-formed
// input and is returned as it is; the simulator classifies it as invalid.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "model/job.h"

namespace rackscale {

enum class TraceFormat { kAuto, kSwf, kPhilly, kCsv };

// "auto", "swf", "philly", "csv". Returns an error naming `source`.
Result<TraceFormat> ParseTraceFormat(std::string_view name, const std::string& source);
const char* TraceFormatName(TraceFormat f);

struct ReadOptions {
  TraceFormat format = TraceFormat::kAuto;
  bool skip_bad_lines = false;
};

struct Workload {
  static constexpr size_t kMaxKeptErrors = 20;

  std::vector<Job> jobs;             // in file order
  std::vector<std::string> tenants;  // tenants[0] is "" (no tenant given)
  TraceFormat format = TraceFormat::kAuto;
  int64_t bad_lines = 0;             // lines skipped with skip_bad_lines
  std::vector<Error> bad_line_errors;  // the first kMaxKeptErrors of them
};

// Guesses the format from the file name (.swf, .swf.gz) and then from the
// first non-blank line of the content (';' header -> SWF, a header starting
// "timestamp,duration" -> Philly, a header with an "id" column -> native CSV, numbers separated by
// spaces -> SWF). Returns an error if nothing matches.
Result<TraceFormat> GuessTraceFormat(std::string_view name, std::string_view text);

// Parses `text` (already decompressed). `source` names it in errors.
Result<Workload> ParseTrace(std::string_view text, const std::string& source,
                            const ReadOptions& options);

// Reads `path` (plain or gzip) and parses it.
Result<Workload> ReadTrace(const std::string& path, const ReadOptions& options);

// The per-format parsers. Each returns jobs in file order.
Result<Workload> ParseSwf(std::string_view text, const std::string& source, bool skip_bad_lines);
Result<Workload> ParsePhilly(std::string_view text, const std::string& source,
                             bool skip_bad_lines);
Result<Workload> ParseNativeCsv(std::string_view text, const std::string& source,
                                bool skip_bad_lines);

// Parses "YYYY-MM-DD HH:MM:SS" (or with 'T') as UTC seconds since the epoch.
std::optional<int64_t> ParseUtcTimestamp(std::string_view s);

// Writes jobs as native CSV: `id,submit,runtime,size,walltime[,tenant]`.
std::string FormatNativeCsv(const Workload& w);

namespace internal {

// Maps tenant names to TenantIds in w->tenants; the empty name is tenant 0.
class TenantInterner {
 public:
  explicit TenantInterner(Workload* w) : w_(w) {}
  TenantId Intern(std::string_view name);

 private:
  Workload* w_;
  std::unordered_map<std::string, TenantId> ids_;
};

// Shared bookkeeping for line-oriented readers: either fail on the first bad
// line or record it and go on.
class BadLineSink {
 public:
  BadLineSink(Workload* w, bool skip) : w_(w), skip_(skip) {}
  // Returns true if the reader should continue (the line is skipped).
  bool Skip(Error e) {
    if (!skip_) {
      first_ = std::move(e);
      return false;
    }
    ++w_->bad_lines;
    if (w_->bad_line_errors.size() < Workload::kMaxKeptErrors) {
      w_->bad_line_errors.push_back(std::move(e));
    }
    return true;
  }
  Error TakeError() { return std::move(first_); }

 private:
  Workload* w_;
  bool skip_;
  Error first_;
};

// Splits a line on a single-character delimiter into at most `max` fields;
// returns the number of fields found (which may exceed max: the rest are
// counted but not stored).
size_t SplitDelimited(std::string_view line, char delim, std::string_view* fields, size_t max);

// Splits on runs of spaces/tabs, like SWF. Same contract.
size_t SplitWhitespace(std::string_view line, std::string_view* fields, size_t max);

// Checks every parsed job and drops (or fails on) the bad ones: times and
// sizes must lie within +-2^50 (so that no sum overflows), and ids must be
// unique (below). Every reader calls this last.
Status Finalize(Workload* w, const std::string& source, BadLineSink* sink);

// Maps a CSV header line to column positions: names[k] is found at
// (*pos)[k] (-1 if absent). Unknown and repeated names are errors, and so is
// a missing one among the first `required` names. `hint` (if not empty) is
// appended to the messages as "; expected HINT". *ncols = columns found.
Status MapHeader(std::string_view line, const std::string& source, int64_t line_no,
                 const char* const* names, size_t num_names, size_t required, int* pos,
                 size_t* ncols, std::string_view hint = {});

// Job ids must be unique. A later line repeating an earlier id is a bad line
// (field "id", naming the earlier line): an error, or with skipping it is
// removed from w->jobs. O(n) when ids ascend in file order, else O(n log n).
Status RemoveDuplicateIds(Workload* w, const std::string& source, BadLineSink* sink);

}  // namespace internal
}  // namespace rackscale
