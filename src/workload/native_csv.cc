// rackscale's native CSV: a header naming the columns, then one job a line.
// Required columns: id, submit, runtime, size. Optional: walltime (requested
// time; <= 0 or empty means unknown), tenant (a name). Columns may come in
// any order; an unknown or repeated column name is an error.
#include <array>

#include <fmt/format.h>

#include "base/text.h"
#include "workload/trace.h"

namespace rackscale {
namespace {

enum Column { kId, kSubmit, kRuntime, kSize, kWalltime, kTenant, kNumColumns };
constexpr std::array<const char*, kNumColumns> kColumnNames = {"id",   "submit",   "runtime",
                                                               "size", "walltime", "tenant"};
constexpr size_t kMaxFields = 16;

}  // namespace

Result<Workload> ParseNativeCsv(std::string_view text, const std::string& source,
                                bool skip_bad_lines) {
  Workload w;
  w.format = TraceFormat::kCsv;
  w.tenants.emplace_back();
  w.jobs.reserve(text.size() / 32);
  internal::BadLineSink sink(&w, skip_bad_lines);
  internal::TenantInterner tenants(&w);
  LineCursor cur(text);
  std::string_view line;
  std::string_view f[kMaxFields];

  // Header: maps each column position to a Column.
  std::array<int, kNumColumns> pos;
  size_t ncols = 0;
  bool have_header = false;
  while (cur.Next(&line)) {
    if (Trim(line).empty()) continue;
    // The required columns come first in kColumnNames.
    if (Status st = internal::MapHeader(line, source, cur.line_no(), kColumnNames.data(),
                                        kNumColumns, kWalltime, pos.data(), &ncols,
                                        "id,submit,runtime,size[,walltime][,tenant]");
        !st) {
      return st.error();
    }
    have_header = true;
    break;
  }
  if (!have_header) {
    return Error::InvalidInput(source, cur.line_no(), "header",
                               "empty file; expected a header 'id,submit,runtime,size'");
  }

  while (cur.Next(&line)) {
    if (Trim(line).empty()) continue;
    size_t n = internal::SplitDelimited(line, ',', f, kMaxFields);
    if (n != ncols) {
      Error e = Error::InvalidInput(source, cur.line_no(), "",
                                    fmt::format("expected {} comma-separated fields as in the "
                                                "header, found {}",
                                                ncols, n));
      if (!sink.Skip(std::move(e))) return sink.TakeError();
      continue;
    }
    int64_t v[kTenant] = {0, 0, 0, 0, 0};
    bool ok = true;
    for (int k = 0; k < kTenant && ok; ++k) {
      if (pos[k] < 0) continue;
      std::string_view tok = Trim(f[pos[k]]);
      if (k == kWalltime && tok.empty()) continue;  // unknown
      auto x = ParseInt(tok);
      if (!x) {
        Error e = Error::InvalidInput(source, cur.line_no(), kColumnNames[k],
                                      fmt::format("expected an integer, got {}", Quote(tok)));
        if (!sink.Skip(std::move(e))) return sink.TakeError();
        ok = false;
      } else {
        v[k] = *x;
      }
    }
    if (!ok) continue;
    Job j;
    j.id = v[kId];
    j.submit = v[kSubmit];
    j.runtime = v[kRuntime];
    j.size = v[kSize];
    j.requested = v[kWalltime];
    j.line = cur.line_no();
    if (pos[kTenant] >= 0) j.tenant = tenants.Intern(Trim(f[pos[kTenant]]));
    w.jobs.push_back(j);
  }
  if (Status s = internal::Finalize(&w, source, &sink); !s) return s.error();
  return w;
}

}  // namespace rackscale
