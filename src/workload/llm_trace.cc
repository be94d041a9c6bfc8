#include "workload/llm_trace.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/text.h"
#include "workload/trace.h"

namespace rackscale {
namespace {

constexpr double kPi = 3.14159265358979323846;
// Token counts beyond this are surely corrupt, and keeping them below 2^40
// keeps every sum of a trace exact in a double.
constexpr int64_t kMaxTokens = int64_t{1} << 40;
// A demand curve of more buckets than this (10 years of 1-second buckets
// would be 3e8) is a mistake in step_s or duration_s, not a plan.
constexpr double kMaxBuckets = 1e8;
// Tiling a one-hour trace of 20,000 requests over a year makes 1.8e8 copies;
// far more is a period mistaken for a span.
constexpr double kMaxTiledRequests = 2e9;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "YYYY-MM-DD HH:MM:SS[.F]" with 1 to 9 fraction digits, as whole seconds
// since the epoch and nanoseconds. Kept apart so that differences stay exact.
struct Stamp {
  int64_t s = 0;
  int64_t ns = 0;
};

std::optional<Stamp> ParseFractionalTimestamp(std::string_view text) {
  const size_t dot = text.find('.');
  auto whole = ParseUtcTimestamp(text.substr(0, dot));
  if (!whole) return std::nullopt;
  Stamp st{*whole, 0};
  if (dot == std::string_view::npos) return st;
  const std::string_view frac = text.substr(dot + 1);
  if (frac.empty() || frac.size() > 9) return std::nullopt;
  int64_t ns = 0;
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
    ns = ns * 10 + (c - '0');
  }
  for (size_t i = frac.size(); i < 9; ++i) ns *= 10;
  st.ns = ns;
  return st;
}

// A token count: a whole number in [0, kMaxTokens].
std::optional<int64_t> ParseTokens(std::string_view s) {
  auto v = ParseInt(s);
  if (!v || *v < 0 || *v > kMaxTokens) return std::nullopt;
  return v;
}

void SetSpan(LlmTrace* t) {
  double hi = 0;
  for (const LlmRequest& r : t->requests) hi = std::max(hi, r.t_s);
  t->span_s = hi;
}

Error BadOption(const char* field, std::string message) {
  return Error::InvalidInput("demand curve", 0, field, std::move(message));
}

Status ValidateDemandOptions(const DemandOptions& o) {
  if (!std::isfinite(o.step_s) || !(o.step_s > 0)) {
    return BadOption("step_s", fmt::format("expected seconds > 0, got {}", o.step_s));
  }
  if (!std::isfinite(o.duration_s) || !(o.duration_s > 0) ||
      o.duration_s / o.step_s > kMaxBuckets) {
    return BadOption("duration_s", fmt::format("expected seconds > 0 and at most {:g} buckets of "
                                               "step_s, got {}",
                                               kMaxBuckets, o.duration_s));
  }
  if (!std::isfinite(o.scale) || o.scale < 0) {
    return BadOption("scale", fmt::format("expected a factor >= 0, got {}", o.scale));
  }
  if (!std::isfinite(o.weights.input) || o.weights.input < 0) {
    return BadOption("input_weight", fmt::format("expected >= 0, got {}", o.weights.input));
  }
  if (!std::isfinite(o.weights.output) || o.weights.output < 0) {
    return BadOption("output_weight", fmt::format("expected >= 0, got {}", o.weights.output));
  }
  if (!std::isfinite(o.period_s) || o.period_s < 0) {
    return BadOption("period_s", fmt::format("expected seconds >= 0 (0: from the trace), got {}",
                                             o.period_s));
  }
  return ValidateDiurnalProfile(o.diurnal, "demand curve");
}

size_t NumBuckets(const DemandOptions& o) {
  // Round up, but do not let a quotient like 1440.0000000001 add a bucket.
  const double q = o.duration_s / o.step_s;
  const double n = std::ceil(q - 1e-9 * q);
  return static_cast<size_t>(std::max(1.0, n));
}

}  // namespace

Result<LlmTraceFormat> ParseLlmTraceFormat(std::string_view name, const std::string& source) {
  for (LlmTraceFormat f :
       {LlmTraceFormat::kAuto, LlmTraceFormat::kAzureCsv, LlmTraceFormat::kMooncakeJsonl}) {
    if (name == LlmTraceFormatName(f)) return f;
  }
  return Error::InvalidInput(source, 0, "format",
                             fmt::format("expected auto, azure or mooncake, got {}", Quote(name)));
}

const char* LlmTraceFormatName(LlmTraceFormat f) {
  switch (f) {
    case LlmTraceFormat::kAuto: return "auto";
    case LlmTraceFormat::kAzureCsv: return "azure";
    case LlmTraceFormat::kMooncakeJsonl: return "mooncake";
  }
  return "?";
}

Result<LlmTraceFormat> GuessLlmTraceFormat(std::string_view name, std::string_view text) {
  std::string_view base = name;
  if (EndsWith(base, ".gz")) base.remove_suffix(3);
  if (EndsWith(base, ".csv")) return LlmTraceFormat::kAzureCsv;
  if (EndsWith(base, ".jsonl") || EndsWith(base, ".json")) return LlmTraceFormat::kMooncakeJsonl;
  LineCursor cur(text);
  std::string_view line;
  while (cur.Next(&line)) {
    const std::string_view l = Trim(line);
    if (l.empty()) continue;
    if (l.front() == '{') return LlmTraceFormat::kMooncakeJsonl;
    if (l.substr(0, 10) == "TIMESTAMP,") return LlmTraceFormat::kAzureCsv;
    return Error::InvalidInput(
        std::string(name), cur.line_no(), "",
        fmt::format("unknown LLM trace format: expected an Azure CSV header "
                    "'TIMESTAMP,ContextTokens,GeneratedTokens' or Mooncake JSON lines, got {}",
                    Quote(l)));
  }
  return Error::InvalidInput(std::string(name), 0, "", "empty file; expected an LLM trace");
}

Result<LlmTrace> ParseAzureLlmCsv(std::string_view text, const std::string& source) {
  enum Col { kTimestamp, kContext, kGenerated, kNumCols };
  static constexpr std::array<const char*, kNumCols> kNames = {"TIMESTAMP", "ContextTokens",
                                                               "GeneratedTokens"};
  LlmTrace trace;
  trace.format = LlmTraceFormat::kAzureCsv;
  trace.requests.reserve(text.size() / 36);
  std::vector<Stamp> stamps;
  stamps.reserve(text.size() / 36);
  LineCursor cur(text);
  std::string_view line;
  std::array<int, kNumCols> pos{};
  size_t ncols = 0;
  bool header = false;
  std::string_view f[kNumCols + 1];
  while (cur.Next(&line)) {
    if (Trim(line).empty()) continue;
    const int64_t ln = cur.line_no();
    if (!header) {
      if (Status st = internal::MapHeader(line, source, ln, kNames.data(), kNumCols, kNumCols,
                                          pos.data(), &ncols,
                                          "'TIMESTAMP,ContextTokens,GeneratedTokens'");
          !st) {
        return st.error();
      }
      header = true;
      continue;
    }
    const size_t n = internal::SplitDelimited(line, ',', f, kNumCols + 1);
    if (n != ncols) {
      // Name the first column that is missing, if one is.
      std::string field;
      int first_missing = kNumCols;
      for (int c = 0; c < kNumCols; ++c) {
        if (pos[c] >= static_cast<int>(n) && pos[c] < first_missing) {
          first_missing = pos[c];
          field = kNames[c];
        }
      }
      return Error::InvalidInput(source, ln, field,
                                 fmt::format("expected {} fields as in the header, found {}",
                                             ncols, n));
    }
    const std::string_view ts = Trim(f[pos[kTimestamp]]);
    auto stamp = ParseFractionalTimestamp(ts);
    if (!stamp) {
      return Error::InvalidInput(
          source, ln, kNames[kTimestamp],
          fmt::format("expected 'YYYY-MM-DD HH:MM:SS[.fraction]', got {}", Quote(ts)));
    }
    LlmRequest r;
    r.line = ln;
    for (int c : {kContext, kGenerated}) {
      const std::string_view tok = Trim(f[pos[c]]);
      auto v = ParseTokens(tok);
      if (!v) {
        return Error::InvalidInput(
            source, ln, kNames[c],
            fmt::format("expected a whole number of tokens in [0, 2^40], got {}", Quote(tok)));
      }
      (c == kContext ? r.input_tokens : r.output_tokens) = *v;
    }
    trace.requests.push_back(r);
    stamps.push_back(*stamp);
  }
  if (!header) {
    return Error::InvalidInput(source, 0, "header",
                               "empty file; expected 'TIMESTAMP,ContextTokens,GeneratedTokens'");
  }
  if (!stamps.empty()) {
    // Seconds after the earliest request; the files are sorted, but a reader
    // must not assume it.
    const Stamp first = *std::min_element(stamps.begin(), stamps.end(), [](Stamp a, Stamp b) {
      return a.s != b.s ? a.s < b.s : a.ns < b.ns;
    });
    for (size_t i = 0; i < stamps.size(); ++i) {
      trace.requests[i].t_s = static_cast<double>(stamps[i].s - first.s) +
                              static_cast<double>(stamps[i].ns - first.ns) * 1e-9;
    }
  }
  SetSpan(&trace);
  return trace;
}

Result<LlmTrace> ParseMooncakeJsonl(std::string_view text, const std::string& source) {
  LlmTrace trace;
  trace.format = LlmTraceFormat::kMooncakeJsonl;
  trace.requests.reserve(text.size() / 200);
  std::vector<double> ms;
  ms.reserve(text.size() / 200);
  LineCursor cur(text);
  std::string_view line;
  while (cur.Next(&line)) {
    if (Trim(line).empty()) continue;
    const int64_t ln = cur.line_no();
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line.begin(), line.end());
    } catch (const nlohmann::json::exception& e) {
      // what() reads "[json.exception.parse_error.101] parse error at line 1,
      // column 7: ..."; the bracketed id means nothing to a user.
      std::string_view what = e.what();
      if (size_t p = what.find("] "); p != std::string_view::npos) what.remove_prefix(p + 2);
      return Error::InvalidInput(source, ln, "", fmt::format("invalid JSON: {}", what));
    }
    if (!j.is_object()) {
      return Error::InvalidInput(source, ln, "",
                                 fmt::format("expected a JSON object, got {}", Quote(line)));
    }
    auto ts = j.find("timestamp");
    if (ts == j.end()) {
      return Error::InvalidInput(source, ln, "timestamp", "missing; expected milliseconds >= 0");
    }
    if (!ts->is_number() || !std::isfinite(ts->get<double>()) || ts->get<double>() < 0 ||
        ts->get<double>() > 1e15) {
      return Error::InvalidInput(source, ln, "timestamp",
                                 fmt::format("expected milliseconds in [0, 1e15], got {}",
                                             Quote(ts->dump())));
    }
    LlmRequest r;
    r.line = ln;
    for (const char* key : {"input_length", "output_length"}) {
      auto it = j.find(key);
      if (it == j.end()) {
        return Error::InvalidInput(source, ln, key, "missing; expected a whole number of tokens");
      }
      int64_t v = -1;
      if (it->is_number_unsigned()) {
        v = it->get<uint64_t>() <= static_cast<uint64_t>(kMaxTokens)
                ? static_cast<int64_t>(it->get<uint64_t>())
                : -1;
      } else if (it->is_number_integer()) {
        v = it->get<int64_t>();  // signed here means negative
      }
      if (v < 0 || v > kMaxTokens) {
        return Error::InvalidInput(
            source, ln, key,
            fmt::format("expected a whole number of tokens in [0, 2^40], got {}",
                        Quote(it->dump())));
      }
      (key[0] == 'i' ? r.input_tokens : r.output_tokens) = v;
    }
    trace.requests.push_back(r);
    ms.push_back(ts->get<double>());
  }
  if (!ms.empty()) {
    const double first = *std::min_element(ms.begin(), ms.end());
    for (size_t i = 0; i < ms.size(); ++i) trace.requests[i].t_s = (ms[i] - first) / 1000.0;
  }
  SetSpan(&trace);
  return trace;
}

Result<LlmTrace> ParseLlmTrace(std::string_view text, const std::string& source,
                               LlmTraceFormat format) {
  if (format == LlmTraceFormat::kAuto) {
    auto g = GuessLlmTraceFormat(source, text);
    if (!g) return g.error();
    format = *g;
  }
  return format == LlmTraceFormat::kAzureCsv ? ParseAzureLlmCsv(text, source)
                                             : ParseMooncakeJsonl(text, source);
}

Result<LlmTrace> ReadLlmTrace(const std::string& path, LlmTraceFormat format) {
  auto data = ReadFileMaybeGz(path, "trace");
  if (!data) return data.error();
  return ParseLlmTrace(*data, path, format);
}

double DefaultTracePeriod(const LlmTrace& trace) {
  const size_t n = trace.requests.size();
  if (n < 2 || !(trace.span_s > 0)) return 0;
  return trace.span_s * static_cast<double>(n) / static_cast<double>(n - 1);
}

LlmTraceStats SummarizeLlmTrace(const LlmTrace& trace, const TokenWeights& weights,
                                double step_s) {
  LlmTraceStats s;
  s.requests = static_cast<int64_t>(trace.requests.size());
  s.span_s = trace.span_s;
  s.period_s = DefaultTracePeriod(trace);
  double total = 0;
  // (bucket, tokens), sorted and summed: a trace's times may be sparse over a
  // long span, so no dense array of buckets.
  std::vector<std::pair<double, double>> by_bucket;
  by_bucket.reserve(trace.requests.size());
  for (const LlmRequest& r : trace.requests) {
    s.input_tokens += r.input_tokens;
    s.output_tokens += r.output_tokens;
    const double tok = weights.Of(r);
    total += tok;
    if (step_s > 0) by_bucket.emplace_back(std::floor(r.t_s / step_s), tok);
  }
  if (s.requests > 0) s.mean_tokens_per_request = total / static_cast<double>(s.requests);
  if (s.period_s > 0) s.mean_tokens_per_s = total / s.period_s;
  std::sort(by_bucket.begin(), by_bucket.end());
  for (size_t i = 0; i < by_bucket.size();) {
    double sum = 0;
    size_t j = i;
    for (; j < by_bucket.size() && by_bucket[j].first == by_bucket[i].first; ++j) {
      sum += by_bucket[j].second;
    }
    s.peak_tokens_per_s = std::max(s.peak_tokens_per_s, sum / step_s);
    i = j;
  }
  return s;
}

double DiurnalFactor(const DiurnalProfile& p, double hour) {
  // x: hours since the trough, in [0, 24). Rising for `rise` hours to the
  // peak, then falling for the rest of the day back to the trough.
  double rise = std::fmod(p.peak_hour - p.trough_hour, 24.0);
  if (rise <= 0) rise += 24.0;
  double x = std::fmod(hour - p.trough_hour, 24.0);
  if (x < 0) x += 24.0;
  const double swing = 1.0 - p.trough_ratio;
  if (x < rise) return p.trough_ratio + swing * 0.5 * (1.0 - std::cos(kPi * x / rise));
  return p.trough_ratio + swing * 0.5 * (1.0 + std::cos(kPi * (x - rise) / (24.0 - rise)));
}

Status ValidateDiurnalProfile(const DiurnalProfile& p, const std::string& source) {
  auto hour_ok = [](double h) { return std::isfinite(h) && h >= 0 && h < 24; };
  if (!hour_ok(p.peak_hour)) {
    return Error::InvalidInput(source, 0, "peak_hour",
                               fmt::format("expected an hour in [0, 24), got {}", p.peak_hour));
  }
  if (!hour_ok(p.trough_hour) || p.trough_hour == p.peak_hour) {
    return Error::InvalidInput(
        source, 0, "trough_hour",
        fmt::format("expected an hour in [0, 24) other than the peak hour, got {}",
                    p.trough_hour));
  }
  if (!std::isfinite(p.trough_ratio) || p.trough_ratio < 0 || p.trough_ratio > 1) {
    return Error::InvalidInput(source, 0, "trough_ratio",
                               fmt::format("expected a ratio in [0, 1], got {}", p.trough_ratio));
  }
  return Status::Ok();
}

double DemandCurve::At(double t) const {
  if (tokens_per_s.empty() || !(t >= 0) || !std::isfinite(t)) return 0;
  const auto n = static_cast<uint64_t>(tokens_per_s.size());
  const double b = std::floor(t / step_s);
  const uint64_t i = b < 1.8e19 ? static_cast<uint64_t>(b) % n : 0;
  return tokens_per_s[i];
}

double DemandCurve::Mean() const {
  if (tokens_per_s.empty()) return 0;
  double sum = 0;
  for (double v : tokens_per_s) sum += v;
  return sum / static_cast<double>(tokens_per_s.size());
}

double DemandCurve::Peak() const {
  double m = 0;
  for (double v : tokens_per_s) m = std::max(m, v);
  return m;
}

Result<DemandCurve> TraceDemand(const LlmTrace& trace, const DemandOptions& o) {
  if (Status s = ValidateDemandOptions(o); !s) return s.error();
  if (trace.requests.empty()) return BadOption("trace", "the trace has no requests");
  const double period = o.period_s > 0 ? o.period_s : DefaultTracePeriod(trace);
  if (!(period > 0)) {
    return BadOption("period_s", "the trace has fewer than two distinct request times; give the "
                                 "tile period");
  }
  if (period < trace.span_s) {
    return BadOption(
        "period_s",
        fmt::format("expected a period >= the trace's span of {} s, got {}", trace.span_s, period));
  }
  DemandCurve c;
  c.step_s = o.step_s;
  const size_t nb = NumBuckets(o);
  const double horizon = o.step_s * static_cast<double>(nb);
  // A period of nanoseconds (two requests a nanosecond apart) would tile
  // forever; bound the work at a few seconds.
  if (horizon / period * static_cast<double>(trace.requests.size()) > kMaxTiledRequests) {
    return BadOption("period_s",
                     fmt::format("a period of {} s tiles the trace {:.3g} times over the horizon; "
                                 "expected at most {:g} tiled requests",
                                 period, horizon / period, kMaxTiledRequests));
  }
  c.tokens_per_s.assign(nb, 0.0);
  // Tile the trace: the weighted tokens of each copy go to their bucket.
  for (double base = 0; base < horizon; base += period) {
    for (const LlmRequest& r : trace.requests) {
      const double t = base + r.t_s;
      if (t >= horizon) continue;
      const size_t b = std::min(nb - 1, static_cast<size_t>(t / o.step_s));
      c.tokens_per_s[b] += o.weights.Of(r);
    }
  }
  for (size_t b = 0; b < nb; ++b) {
    const double mid_hour = (static_cast<double>(b) + 0.5) * o.step_s / 3600.0;
    c.tokens_per_s[b] = c.tokens_per_s[b] * DiurnalFactor(o.diurnal, mid_hour) * o.scale /
                        o.step_s;
  }
  return c;
}

Result<DemandCurve> RateCurveDemand(const std::vector<RatePoint>& points,
                                    const DemandOptions& o) {
  if (Status s = ValidateDemandOptions(o); !s) return s.error();
  if (points.empty()) return BadOption("rate", "expected at least one (t_s, tokens/s) point");
  for (size_t i = 0; i < points.size(); ++i) {
    const RatePoint& p = points[i];
    if (!std::isfinite(p.t_s) || (i > 0 && !(p.t_s > points[i - 1].t_s))) {
      return BadOption("rate", fmt::format("point {}: expected times in strictly increasing "
                                           "order, got {}",
                                           i + 1, p.t_s));
    }
    if (!std::isfinite(p.tokens_per_s) || p.tokens_per_s < 0) {
      return BadOption("rate", fmt::format("point {}: expected tokens/s >= 0, got {}", i + 1,
                                           p.tokens_per_s));
    }
  }
  // cum[i]: the integral of the curve from points[0].t_s to points[i].t_s.
  const size_t np = points.size();
  std::vector<double> cum(np, 0.0);
  for (size_t i = 1; i < np; ++i) {
    cum[i] = cum[i - 1] + (points[i].t_s - points[i - 1].t_s) *
                              (points[i].tokens_per_s + points[i - 1].tokens_per_s) / 2;
  }
  // The integral from points[0].t_s to x (negative for x before it).
  auto integral = [&](double x) {
    if (x <= points[0].t_s) return (x - points[0].t_s) * points[0].tokens_per_s;
    if (x >= points[np - 1].t_s) {
      return cum[np - 1] + (x - points[np - 1].t_s) * points[np - 1].tokens_per_s;
    }
    const size_t i = static_cast<size_t>(
        std::upper_bound(points.begin(), points.end(), x,
                         [](double v, const RatePoint& p) { return v < p.t_s; }) -
        points.begin() - 1);
    const RatePoint& a = points[i];
    const RatePoint& b = points[i + 1];
    const double fx = a.tokens_per_s + (b.tokens_per_s - a.tokens_per_s) * (x - a.t_s) /
                                           (b.t_s - a.t_s);
    return cum[i] + (x - a.t_s) * (a.tokens_per_s + fx) / 2;
  };
  DemandCurve c;
  c.step_s = o.step_s;
  const size_t nb = NumBuckets(o);
  c.tokens_per_s.resize(nb);
  double lo = integral(0);
  for (size_t b = 0; b < nb; ++b) {
    const double hi = integral(static_cast<double>(b + 1) * o.step_s);
    c.tokens_per_s[b] = std::max(0.0, (hi - lo) / o.step_s) * o.scale;
    lo = hi;
  }
  return c;
}

namespace {
constexpr double kMaxRateTime = 1e10;
constexpr double kMaxRate = 1e12;
}  // namespace

Result<std::vector<RatePoint>> ParseRatePoints(std::string_view text, const std::string& source) {
  std::vector<RatePoint> out;
  text = Trim(text);
  if (text.empty()) {
    return Error::InvalidInput(source, 0, "rate", "empty; expected 'T:R,T:R,...' or 'R'");
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view piece = Trim(text.substr(start, end - start));
    const size_t colon = piece.find(':');
    RatePoint p;
    std::optional<double> t = 0.0, r;
    if (colon == std::string_view::npos) {
      r = ParseDouble(piece);
      if (text.find(',') != std::string_view::npos) t.reset();  // a list needs times
    } else {
      t = ParseDouble(Trim(piece.substr(0, colon)));
      r = ParseDouble(Trim(piece.substr(colon + 1)));
    }
    if (!t || !r) {
      return Error::InvalidInput(
          source, 0, "rate",
          fmt::format("point {}: expected SECONDS:TOKENS_PER_S (or one constant rate), got {}",
                      out.size() + 1, Quote(piece)));
    }
    // Bounded so that demand, replicas and every figure derived from them
    // stay finite: a century of seconds, a trillion tokens/s.
    if (!(*t >= 0 && *t <= kMaxRateTime) || !(*r >= 0 && *r <= kMaxRate)) {
      return Error::InvalidInput(
          source, 0, "rate",
          fmt::format("point {}: expected seconds in [0, {:.0e}] and tokens/s in [0, {:.0e}], got {}", out.size() + 1,
                      kMaxRateTime, kMaxRate, Quote(piece)));
    }
    p.t_s = *t;
    p.tokens_per_s = *r;
    out.push_back(p);
    start = end + 1;
  }
  return out;
}

}  // namespace rackscale
