// Standard Workload Format (Parallel Workloads Archive, v2.2): 18
// whitespace-separated numeric fields per job, ';' starts a header/comment
// line, -1 means unknown. Numeric fields may carry decimals; they are
// truncated toward zero.
#include <fmt/format.h>

#include "base/text.h"
#include "workload/trace.h"

namespace rackscale {
namespace {

constexpr size_t kSwfFields = 18;
constexpr const char* kSwfFieldNames[kSwfFields] = {
    "job number",          "submit time",      "wait time",
    "run time",            "allocated processors", "average CPU time",
    "used memory",         "requested processors", "requested time",
    "requested memory",    "status",           "user id",
    "group id",            "executable number", "queue number",
    "partition number",    "preceding job",    "think time"};

}  // namespace

Result<Workload> ParseSwf(std::string_view text, const std::string& source, bool skip_bad_lines) {
  Workload w;
  w.format = TraceFormat::kSwf;
  w.tenants.emplace_back();
  w.jobs.reserve(text.size() / 64);
  internal::BadLineSink sink(&w, skip_bad_lines);
  LineCursor cur(text);
  std::string_view line;
  std::string_view f[kSwfFields];
  int64_t v[kSwfFields];
  while (cur.Next(&line)) {
    std::string_view t = Trim(line);
    if (t.empty() || t[0] == ';') continue;
    size_t n = internal::SplitWhitespace(t, f, kSwfFields);
    if (n != kSwfFields) {
      Error e = Error::InvalidInput(
          source, cur.line_no(), n < kSwfFields ? kSwfFieldNames[n] : "",
          fmt::format("expected {} whitespace-separated SWF fields, found {}", kSwfFields, n));
      if (!sink.Skip(std::move(e))) return sink.TakeError();
      continue;
    }
    bool ok = true;
    for (size_t i = 0; i < kSwfFields; ++i) {
      auto x = ParseTruncated(f[i]);
      if (!x) {
        Error e = Error::InvalidInput(
            source, cur.line_no(), kSwfFieldNames[i],
            fmt::format("expected a number (field {} of 18), got {}", i + 1, Quote(f[i])));
        if (!sink.Skip(std::move(e))) return sink.TakeError();
        ok = false;
        break;
      }
      v[i] = *x;
    }
    if (!ok) continue;
    Job j;
    j.id = v[0];
    j.submit = v[1];
    j.runtime = v[3];
    j.size = v[7] > 0 ? v[7] : v[4];
    j.requested = v[8];
    j.line = cur.line_no();
    w.jobs.push_back(j);
  }
  if (Status s = internal::Finalize(&w, source, &sink); !s) return s.error();
  return w;
}

}  // namespace rackscale
