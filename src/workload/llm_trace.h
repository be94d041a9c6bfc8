// LLM inference request traces and the demand curves made from them.
//
// Two public formats are read (docs/inference.md):
// - Azure (AzureLLMInferenceTrace_{code,conv}.csv, from the Splitwise paper,
//   ISCA'24): a header `TIMESTAMP,ContextTokens,GeneratedTokens`, then one
//   request per line, `2023-11-16 18:15:46.6805900,374,44`.
// - Mooncake (mooncake_conversation_trace.jsonl, FAST'25): one JSON object per
//   line, `{"timestamp": ms, "input_length": n, "output_length": n,
//   "hash_ids": [...]}`; other keys are ignored.
// Every malformed line is an error naming the file, the 1-based line and the
// field; nothing is dropped silently. Times become seconds after the earliest
// request of the file.
//
// A demand curve is the token rate a service must serve, in buckets of
// `step_s`: a trace tiled over the horizon and shaped by a diurnal profile, or
// a piecewise-linear rate curve. Everything here is deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace rackscale {

struct LlmRequest {
  double t_s = 0;             // seconds after the earliest request of the file
  int64_t input_tokens = 0;   // prompt (context) tokens
  int64_t output_tokens = 0;  // generated tokens
  int64_t line = 0;           // 1-based line in the file
};

enum class LlmTraceFormat { kAuto, kAzureCsv, kMooncakeJsonl };

// "auto", "azure", "mooncake". Returns an error naming `source`.
Result<LlmTraceFormat> ParseLlmTraceFormat(std::string_view name, const std::string& source);
const char* LlmTraceFormatName(LlmTraceFormat f);

struct LlmTrace {
  std::vector<LlmRequest> requests;  // in file order
  LlmTraceFormat format = LlmTraceFormat::kAuto;
  double span_s = 0;  // latest minus earliest request time
};

// The format from the name (.csv -> Azure; .jsonl, .json, with or without
// .gz -> Mooncake), else from the first non-blank line (a '{' -> Mooncake, a
// header starting "TIMESTAMP," -> Azure). An error if neither says.
Result<LlmTraceFormat> GuessLlmTraceFormat(std::string_view name, std::string_view text);

// The parsers take the whole (decompressed) text; `source` names it in errors.
Result<LlmTrace> ParseAzureLlmCsv(std::string_view text, const std::string& source);
Result<LlmTrace> ParseMooncakeJsonl(std::string_view text, const std::string& source);
Result<LlmTrace> ParseLlmTrace(std::string_view text, const std::string& source,
                               LlmTraceFormat format = LlmTraceFormat::kAuto);

// Reads `path` (plain or gzip, base/file.h) and parses it.
Result<LlmTrace> ReadLlmTrace(const std::string& path,
                              LlmTraceFormat format = LlmTraceFormat::kAuto);

// How prompt and generated tokens count towards demand and capacity. Both 1
// by default: a replica's throughput is then quoted in total tokens per
// second. Prefill tokens cost far less GPU time than decode tokens, so a user
// who quotes throughput in decode tokens would set input = 0 (or a small
// weight) instead.
struct TokenWeights {
  double input = 1;
  double output = 1;
  double Of(const LlmRequest& r) const {
    return input * static_cast<double>(r.input_tokens) +
           output * static_cast<double>(r.output_tokens);
  }
};

// The repetition period of a trace when it is tiled: its span times n/(n-1)
// for n requests, i.e. the span plus one mean inter-arrival gap, so that the
// tiled stream keeps the trace's mean rate and the last request of one tile
// does not land on the first of the next. 0 if there are fewer than two
// requests or they all share one time.
double DefaultTracePeriod(const LlmTrace& trace);

struct LlmTraceStats {
  int64_t requests = 0;
  double span_s = 0;
  double period_s = 0;  // DefaultTracePeriod
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double mean_tokens_per_request = 0;  // weighted
  double mean_tokens_per_s = 0;        // weighted tokens / period_s
  double peak_tokens_per_s = 0;        // busiest bucket of step_s from t = 0
};

// Summarises a trace. `step_s` > 0 sizes the buckets of the peak rate.
LlmTraceStats SummarizeLlmTrace(const LlmTrace& trace, const TokenWeights& weights,
                                double step_s);

// The shape of a day. The multiplier is 1 at `peak_hour` and `trough_ratio` at
// `trough_hour` (local time, hours in [0, 24)), joined by two half cosines,
// one rising and one falling, so that it is smooth (its slope is 0 at both
// ends) even when the two are not 12 hours apart. The defaults (peak 14:00,
// trough 04:00, trough = 0.35 x peak) are an assumption of rackscale, not a
// measurement: published characterisations of LLM serving (DynamoLLM, on the
// Azure services behind these traces) report load that varies over time with
// low-load periods, but the trace files here cover one hour only. Over a day
// the mean multiplier is (1 + trough_ratio) / 2. trough_ratio = 1 gives a flat
// day.
struct DiurnalProfile {
  double peak_hour = 14;
  double trough_hour = 4;
  double trough_ratio = 0.35;
};

// The multiplier at `hour` hours after local midnight (any real; taken mod 24).
double DiurnalFactor(const DiurnalProfile& p, double hour);

// Checks a profile: hours in [0, 24) and distinct, trough_ratio in [0, 1].
Status ValidateDiurnalProfile(const DiurnalProfile& p, const std::string& source);

// Token demand per bucket of `step_s` seconds from t = 0 (local midnight).
struct DemandCurve {
  double step_s = 60;
  std::vector<double> tokens_per_s;  // one value per bucket

  double duration_s() const { return step_s * static_cast<double>(tokens_per_s.size()); }
  // The rate of the bucket holding t; the curve repeats with its duration, so
  // a one-day curve drives a simulation of any length. 0 if empty or t < 0.
  double At(double t) const;
  double Mean() const;
  double Peak() const;
};

struct DemandOptions {
  double step_s = 60;
  double duration_s = 86400;  // the horizon; a whole number of buckets is made (rounded up)
  double scale = 1;           // multiplies every rate
  TokenWeights weights;
  DiurnalProfile diurnal;
  double period_s = 0;  // tile period of a trace; 0 = DefaultTracePeriod
};

// A trace tiled over the horizon: copy k of each request arrives at
// t_s + k x period_s, and its weighted tokens are added to the bucket of that
// time. A bucket's rate is its tokens / step_s, times the diurnal factor at
// the bucket's midpoint, times `scale`. The trace thus stands for the peak
// hour of the day: with trough_ratio = 1 and scale = 1 the curve's mean is the
// trace's mean rate (up to the partial tile at the end of the horizon).
// Errors name the field of DemandOptions that is wrong.
Result<DemandCurve> TraceDemand(const LlmTrace& trace, const DemandOptions& options);

// A rate curve: (t_s, tokens/s) points with strictly increasing t_s, linear in
// between and constant before the first and after the last (one point is a
// constant rate). Each bucket holds the exact mean of the curve over it, times
// `scale`; the diurnal profile is not applied (the points are the shape).
struct RatePoint {
  double t_s = 0;
  double tokens_per_s = 0;
};
Result<DemandCurve> RateCurveDemand(const std::vector<RatePoint>& points,
                                    const DemandOptions& options);

// Parses "T:R,T:R,..." (seconds:tokens per second), or a single "R" for a
// constant rate. Errors name `source` and the field "rate".
Result<std::vector<RatePoint>> ParseRatePoints(std::string_view text, const std::string& source);

}  // namespace rackscale
