// Philly CSV (Microsoft's Philly GPU cluster, 2017, as published with the
// AdaptDL/Pollux artifact): header `timestamp,duration,num_gpus,gpu_time,cluster`,
// rows in no particular order. Mapping (docs/traces.md):
//   submit  = seconds since the earliest timestamp (timestamps read as UTC)
//   runtime = duration rounded to the nearest second (halves away from zero)
//   size    = num_gpus
//   id      = 1-based data-row number (the header not counted)
//   tenant  = cluster (the virtual cluster)
#include <cmath>

#include <fmt/format.h>

#include "base/text.h"
#include "workload/trace.h"

namespace rackscale {
namespace {

constexpr const char* kHeader = "timestamp,duration,num_gpus,gpu_time,cluster";

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

// Parses "YYYY-MM-DD HH:MM:SS" (or with 'T') as UTC seconds since the epoch.
std::optional<int64_t> ParseUtcTimestamp(std::string_view s) {
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  int64_t y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, &y) || !Digits(s, 5, 2, &mo) || !Digits(s, 8, 2, &d) ||
      !Digits(s, 11, 2, &h) || !Digits(s, 14, 2, &mi) || !Digits(s, 17, 2, &se)) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 || se > 60) {
    return std::nullopt;
  }
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return std::nullopt;
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
}

Result<Workload> ParsePhilly(std::string_view text, const std::string& source,
                             bool skip_bad_lines) {
  Workload w;
  w.format = TraceFormat::kPhilly;
  w.tenants.emplace_back();
  w.jobs.reserve(text.size() / 40);
  internal::BadLineSink sink(&w, skip_bad_lines);
  internal::TenantInterner tenants(&w);
  LineCursor cur(text);
  std::string_view line;

  // The header: the first non-blank line.
  bool have_header = false;
  while (cur.Next(&line)) {
    if (Trim(line).empty()) continue;
    if (Trim(line) != kHeader) {
      return Error::InvalidInput(source, cur.line_no(), "header",
                                 fmt::format("expected the Philly header '{}', got {}", kHeader,
                                             Quote(line)));
    }
    have_header = true;
    break;
  }
  if (!have_header) {
    return Error::InvalidInput(source, cur.line_no(), "header",
                               fmt::format("empty file; expected the Philly header '{}'", kHeader));
  }

  std::vector<int64_t> stamps;  // absolute UTC seconds, parallel to w.jobs
  stamps.reserve(w.jobs.capacity());
  int64_t row = 0;
  std::string_view f[5];
  while (cur.Next(&line)) {
    if (Trim(line).empty()) continue;
    ++row;  // a data row, even a bad one: ids stay the row numbers of the file
    auto bad = [&](const char* field, std::string msg) {
      return sink.Skip(Error::InvalidInput(source, cur.line_no(), field, std::move(msg)));
    };
    size_t n = internal::SplitDelimited(line, ',', f, 5);
    if (n != 5) {
      if (!bad("", fmt::format("expected 5 comma-separated fields, found {}", n))) {
        return sink.TakeError();
      }
      continue;
    }
    auto ts = ParseUtcTimestamp(Trim(f[0]));
    if (!ts) {
      if (!bad("timestamp", fmt::format("expected 'YYYY-MM-DD HH:MM:SS', got {}", Quote(f[0])))) {
        return sink.TakeError();
      }
      continue;
    }
    auto duration = ParseDouble(Trim(f[1]));
    if (!duration || std::fabs(*duration) > 1e15) {
      if (!bad("duration", fmt::format("expected seconds as a number, got {}", Quote(f[1])))) {
        return sink.TakeError();
      }
      continue;
    }
    auto gpus = ParseDouble(Trim(f[2]));
    if (!gpus || *gpus != std::trunc(*gpus) || std::fabs(*gpus) > 1e15) {
      if (!bad("num_gpus", fmt::format("expected a whole number of GPUs, got {}", Quote(f[2])))) {
        return sink.TakeError();
      }
      continue;
    }
    if (!ParseDouble(Trim(f[3]))) {
      if (!bad("gpu_time", fmt::format("expected a number, got {}", Quote(f[3])))) {
        return sink.TakeError();
      }
      continue;
    }
    TenantId tenant = tenants.Intern(Trim(f[4]));
    Job j;
    j.id = row;
    j.runtime = static_cast<Seconds>(std::llround(*duration));
    j.size = static_cast<SlotCount>(*gpus);
    j.requested = 0;
    j.tenant = tenant;
    j.line = cur.line_no();
    w.jobs.push_back(j);
    stamps.push_back(*ts);
  }
  if (!stamps.empty()) {
    int64_t earliest = stamps[0];
    for (int64_t s : stamps) earliest = std::min(earliest, s);
    for (size_t i = 0; i < w.jobs.size(); ++i) w.jobs[i].submit = stamps[i] - earliest;
  }
  if (Status s = internal::Finalize(&w, source, &sink); !s) return s.error();
  return w;
}

}  // namespace rackscale
