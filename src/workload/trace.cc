#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "base/file.h"
#include "base/text.h"
#include "workload/trace.h"

namespace rackscale {

Result<TraceFormat> ParseTraceFormat(std::string_view name, const std::string& source) {
  if (name == "auto") return TraceFormat::kAuto;
  if (name == "swf") return TraceFormat::kSwf;
  if (name == "philly") return TraceFormat::kPhilly;
  if (name == "csv") return TraceFormat::kCsv;
  return Error::InvalidInput(source, 0, "format",
                             fmt::format("expected swf, philly, csv or auto, got {}", Quote(name)));
}

const char* TraceFormatName(TraceFormat f) {
  switch (f) {
    case TraceFormat::kAuto: return "auto";
    case TraceFormat::kSwf: return "swf";
    case TraceFormat::kPhilly: return "philly";
    case TraceFormat::kCsv: return "csv";
  }
  return "?";
}

static bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Result<TraceFormat> GuessTraceFormat(std::string_view name, std::string_view text) {
  if (EndsWith(name, ".swf") || EndsWith(name, ".swf.gz")) return TraceFormat::kSwf;
  LineCursor cur(text);
  std::string_view line;
  while (cur.Next(&line)) {
    line = Trim(line);
    if (line.empty()) continue;
    if (line[0] == ';') return TraceFormat::kSwf;
    if (line.substr(0, 19) == "timestamp,duration,") return TraceFormat::kPhilly;
    if (line.find(',') != std::string_view::npos) {
      // Native CSV: a header whose columns include id (in any order).
      std::string_view cols[16];
      size_t n = internal::SplitDelimited(line, ',', cols, 16);
      for (size_t i = 0; i < n && i < 16; ++i) {
        if (Trim(cols[i]) == "id") return TraceFormat::kCsv;
      }
    }
    std::string_view f[2];
    if (internal::SplitWhitespace(line, f, 2) >= 2 && ParseTruncated(f[0])) {
      return TraceFormat::kSwf;
    }
    break;
  }
  return Error::InvalidInput(std::string(name), cur.line_no(), "",
                             "cannot tell the trace format (SWF, Philly CSV or native CSV "
                             "with header 'id,submit,runtime,size'); pass --format");
}

Result<Workload> ParseTrace(std::string_view text, const std::string& source,
                            const ReadOptions& options) {
  TraceFormat format = options.format;
  if (format == TraceFormat::kAuto) {
    auto guessed = GuessTraceFormat(source, text);
    if (!guessed) return guessed.error();
    format = *guessed;
  }
  switch (format) {
    case TraceFormat::kSwf: return ParseSwf(text, source, options.skip_bad_lines);
    case TraceFormat::kPhilly: return ParsePhilly(text, source, options.skip_bad_lines);
    case TraceFormat::kCsv: return ParseNativeCsv(text, source, options.skip_bad_lines);
    case TraceFormat::kAuto: break;
  }
  return Error{ErrorKind::kInternal, source, 0, "", "unreachable trace format"};
}

Result<Workload> ReadTrace(const std::string& path, const ReadOptions& options) {
  auto data = ReadFileMaybeGz(path, "trace");
  if (!data) return data.error();
  return ParseTrace(*data, path, options);
}

std::string FormatNativeCsv(const Workload& w) {
  bool with_tenant = w.tenants.size() > 1;
  OutBuffer out;
  out.Reserve(w.jobs.size() * 40 + 64);
  out.Put(with_tenant ? "id,submit,runtime,size,walltime,tenant\n"
                      : "id,submit,runtime,size,walltime\n");
  for (const Job& j : w.jobs) {
    out.PutInt(j.id);
    out.Put(',');
    out.PutInt(j.submit);
    out.Put(',');
    out.PutInt(j.runtime);
    out.Put(',');
    out.PutInt(j.size);
    out.Put(',');
    out.PutInt(j.requested);
    if (with_tenant) {
      out.Put(',');
      out.Put(w.tenants[j.tenant]);
    }
    out.Put('\n');
  }
  return out.Take();
}

namespace internal {

TenantId TenantInterner::Intern(std::string_view name) {
  if (name.empty()) return 0;
  auto [it, inserted] =
      ids_.try_emplace(std::string(name), static_cast<TenantId>(w_->tenants.size()));
  if (inserted) w_->tenants.emplace_back(name);
  return it->second;
}

size_t SplitDelimited(std::string_view line, char delim, std::string_view* fields, size_t max) {
  size_t n = 0;
  size_t pos = 0;
  while (true) {
    size_t end = line.find(delim, pos);
    if (end == std::string_view::npos) end = line.size();
    if (n < max) fields[n] = line.substr(pos, end - pos);
    ++n;
    if (end == line.size()) break;
    pos = end + 1;
  }
  return n;
}

size_t SplitWhitespace(std::string_view line, std::string_view* fields, size_t max) {
  size_t n = 0;
  size_t i = 0;
  const size_t len = line.size();
  while (true) {
    while (i < len && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == len) break;
    size_t b = i;
    while (i < len && line[i] != ' ' && line[i] != '\t') ++i;
    if (n < max) fields[n] = line.substr(b, i - b);
    ++n;
  }
  return n;
}

Status MapHeader(std::string_view line, const std::string& source, int64_t line_no,
                 const char* const* names, size_t num_names, size_t required, int* pos,
                 size_t* ncols, std::string_view hint) {
  constexpr size_t kMaxColumns = 24;
  const std::string expected = hint.empty() ? std::string() : fmt::format("; expected {}", hint);
  std::fill(pos, pos + num_names, -1);
  std::string_view f[kMaxColumns];
  const size_t n = SplitDelimited(line, ',', f, kMaxColumns);
  if (n > kMaxColumns) {
    return Error::InvalidInput(source, line_no, "header",
                               fmt::format("too many columns ({}){}", n, expected));
  }
  for (size_t i = 0; i < n; ++i) {
    const std::string_view name = Trim(f[i]);
    size_t k = 0;
    while (k < num_names && name != names[k]) ++k;
    if (k == num_names) {
      return Error::InvalidInput(source, line_no, "header",
                                 fmt::format("unknown column {}{}", Quote(name), expected));
    }
    if (pos[k] >= 0) {
      return Error::InvalidInput(source, line_no, "header",
                                 fmt::format("column '{}' appears twice", names[k]));
    }
    pos[k] = static_cast<int>(i);
  }
  for (size_t k = 0; k < required; ++k) {
    if (pos[k] < 0) {
      return Error::InvalidInput(source, line_no, "header",
                                 fmt::format("missing required column '{}'{}", names[k], expected));
    }
  }
  *ncols = n;
  return Status::Ok();
}

Status Finalize(Workload* w, const std::string& source, BadLineSink* sink) {
  constexpr int64_t kLimit = int64_t{1} << 50;
  auto out_of_range = [&](int64_t v) { return v > kLimit || v < -kLimit; };
  size_t out = 0;
  for (size_t i = 0; i < w->jobs.size(); ++i) {
    const Job& j = w->jobs[i];
    const char* field = out_of_range(j.submit)      ? "submit"
                        : out_of_range(j.runtime)   ? "runtime"
                        : out_of_range(j.requested) ? "walltime"
                        : out_of_range(j.size)      ? "size"
                                                    : nullptr;
    if (field != nullptr) {
      Error e = Error::InvalidInput(source, j.line, field, "value out of range (|v| > 2^50)");
      if (!sink->Skip(std::move(e))) return sink->TakeError();
      continue;
    }
    w->jobs[out++] = j;
  }
  w->jobs.resize(out);
  return RemoveDuplicateIds(w, source, sink);
}

Status RemoveDuplicateIds(Workload* w, const std::string& source, BadLineSink* sink) {
  std::vector<Job>& jobs = w->jobs;
  bool ascending = true;
  for (size_t i = 1; i < jobs.size() && ascending; ++i) ascending = jobs[i - 1].id < jobs[i].id;
  if (ascending) return Status::Ok();

  std::vector<uint32_t> order(jobs.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return jobs[a].id < jobs[b].id; });
  // (duplicate, first occurrence) pairs, reported in file order.
  std::vector<std::pair<uint32_t, uint32_t>> dups;
  size_t head = 0;
  for (size_t k = 1; k < order.size(); ++k) {
    if (jobs[order[k]].id != jobs[order[head]].id) {
      head = k;
    } else {
      dups.emplace_back(order[k], order[head]);  // stable: head is the earliest line
    }
  }
  std::sort(dups.begin(), dups.end());
  std::vector<bool> drop(jobs.size(), false);
  bool any = false;
  for (auto [dup, first] : dups) {
    Error e = Error::InvalidInput(
        source, jobs[dup].line, "id",
        fmt::format("job id {} already used on line {}; ids must be unique", jobs[dup].id,
                    jobs[first].line));
    if (!sink->Skip(std::move(e))) return sink->TakeError();
    drop[dup] = true;
    any = true;
  }
  if (any) {
    size_t out = 0;
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (!drop[i]) jobs[out++] = jobs[i];
    }
    jobs.resize(out);
  }
  return Status::Ok();
}

}  // namespace internal
}  // namespace rackscale
