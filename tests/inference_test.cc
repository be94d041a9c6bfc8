// LLM traces, demand curves, the SLO model, the autoscaler, the service and
// `rackscale inference`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/inference.h"
#include "test_util.h"
#include "workload/llm_trace.h"

namespace rackscale {
namespace {

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

using testing::Slurp;

// Expects `r` to fail with an InvalidInput naming this line and field.
template <typename T>
void ExpectError(const Result<T>& r, int64_t line, const std::string& field,
                 const std::string& says) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput) << r.error().ToString();
  EXPECT_EQ(r.error().line, line) << r.error().ToString();
  EXPECT_EQ(r.error().field, field) << r.error().ToString();
  EXPECT_NE(r.error().ToString().find(says), std::string::npos) << r.error().ToString();
}

// ---------------------------------------------------------------- readers

TEST(LlmTrace, AzureHappyPath) {
  const std::string text =
      "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
      "2023-11-16 18:15:46.6805900,374,44\r\n"
      "\r\n"
      "2023-11-16 18:15:47.1805900,396,109\r\n"
      "2023-11-16 18:16:46.68059,0,1\r\n";
  auto r = ParseAzureLlmCsv(text, "a.csv");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->requests.size(), 3u);
  EXPECT_EQ(r->format, LlmTraceFormat::kAzureCsv);
  EXPECT_DOUBLE_EQ(r->requests[0].t_s, 0.0);
  EXPECT_NEAR(r->requests[1].t_s, 0.5, 1e-9);
  EXPECT_NEAR(r->requests[2].t_s, 60.0, 1e-9);
  EXPECT_NEAR(r->span_s, 60.0, 1e-9);
  EXPECT_EQ(r->requests[1].input_tokens, 396);
  EXPECT_EQ(r->requests[1].output_tokens, 109);
  EXPECT_EQ(r->requests[1].line, 4);
  // Columns in another order; an unsorted file is timed from its earliest request.
  auto s = ParseAzureLlmCsv(
      "GeneratedTokens,TIMESTAMP,ContextTokens\n7,2023-11-16 18:00:10,5\n"
      "8,2023-11-16 18:00:00.25,6\n",
      "b.csv");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_NEAR(s->requests[0].t_s, 9.75, 1e-9);
  EXPECT_DOUBLE_EQ(s->requests[1].t_s, 0.0);
  EXPECT_EQ(s->requests[0].input_tokens, 5);
  EXPECT_EQ(s->requests[0].output_tokens, 7);
}

TEST(LlmTrace, AzureErrorsNameLineAndField) {
  const std::string h = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  const std::string ok = "2023-11-16 18:15:46.6805900,374,44\n";
  ExpectError(ParseAzureLlmCsv(h + ok + "2023-11-16 25:15:46.1,374,44\n", "a.csv"), 3,
              "TIMESTAMP", "a.csv:3: field 'TIMESTAMP': expected 'YYYY-MM-DD HH:MM:SS");
  ExpectError(ParseAzureLlmCsv(h + "2023-11-16 18:15:46.,1,2\n", "a.csv"), 2, "TIMESTAMP",
              "got '2023-11-16 18:15:46.'");
  ExpectError(ParseAzureLlmCsv(h + ok + ok + "2023-11-16 18:15:46.6,-5,44\n", "a.csv"), 4,
              "ContextTokens", "expected a whole number of tokens in [0, 2^40], got '-5'");
  ExpectError(ParseAzureLlmCsv(h + "2023-11-16 18:15:46.6,5,4.5\n", "a.csv"), 2,
              "GeneratedTokens", "got '4.5'");
  ExpectError(ParseAzureLlmCsv(h + ok + "2023-11-16 18:15:46.6,5\n", "a.csv"), 3,
              "GeneratedTokens", "expected 3 fields as in the header, found 2");
  ExpectError(ParseAzureLlmCsv(h + "2023-11-16 18:15:46.6,5,4,9\n", "a.csv"), 2, "",
              "expected 3 fields as in the header, found 4");
  ExpectError(ParseAzureLlmCsv("TIMESTAMP,ContextTokens\n", "a.csv"), 1, "header",
              "missing required column 'GeneratedTokens'");
  ExpectError(ParseAzureLlmCsv("TIMESTAMP,Context,GeneratedTokens\n", "a.csv"), 1, "header",
              "unknown column 'Context'");
  ExpectError(ParseAzureLlmCsv("\n\n", "a.csv"), 0, "header", "empty file");
}

TEST(LlmTrace, MooncakeHappyPath) {
  const std::string text =
      "{\"timestamp\": 1000, \"input_length\": 6758, \"output_length\": 500, "
      "\"hash_ids\": [0, 1, 2]}\n"
      "\n"
      "{\"timestamp\": 3500.5, \"input_length\": 0, \"output_length\": 7, \"extra\": \"x\"}\n";
  auto r = ParseMooncakeJsonl(text, "m.jsonl");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->requests.size(), 2u);
  EXPECT_EQ(r->format, LlmTraceFormat::kMooncakeJsonl);
  EXPECT_DOUBLE_EQ(r->requests[0].t_s, 0.0);
  EXPECT_DOUBLE_EQ(r->requests[1].t_s, 2.5005);
  EXPECT_EQ(r->requests[0].input_tokens, 6758);
  EXPECT_EQ(r->requests[0].output_tokens, 500);
  EXPECT_EQ(r->requests[1].line, 3);
  // Through a gzip file, guessed by name.
  std::string dir = testing::TempDir();
  Write(dir + "/m.jsonl", text);
  std::string out;
  ASSERT_EQ(testing::RunCommand("gzip -f " + dir + "/m.jsonl", &out), 0) << out;
  auto g = ReadLlmTrace(dir + "/m.jsonl.gz");
  ASSERT_TRUE(g.ok()) << g.error().ToString();
  EXPECT_EQ(g->requests.size(), 2u);
  EXPECT_EQ(g->format, LlmTraceFormat::kMooncakeJsonl);
}

TEST(LlmTrace, MooncakeErrorsNameLineAndField) {
  const std::string ok = "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 2}\n";
  ExpectError(ParseMooncakeJsonl(ok + "{\"timestamp\": 5, \"input_length\": 1,\n", "m.jsonl"), 2,
              "", "m.jsonl:2: invalid JSON: parse error");
  ExpectError(ParseMooncakeJsonl(ok + "[1, 2]\n", "m.jsonl"), 2, "", "expected a JSON object");
  ExpectError(ParseMooncakeJsonl(ok + "{\"input_length\": 1, \"output_length\": 2}\n", "m.jsonl"),
              2, "timestamp", "missing");
  ExpectError(ParseMooncakeJsonl("{\"timestamp\": \"0\", \"input_length\": 1, "
                                 "\"output_length\": 2}\n",
                                 "m.jsonl"),
              1, "timestamp", "expected milliseconds in [0, 1e15], got '\"0\"'");
  ExpectError(ParseMooncakeJsonl("{\"timestamp\": -1, \"input_length\": 1, "
                                 "\"output_length\": 2}\n",
                                 "m.jsonl"),
              1, "timestamp", "got '-1'");
  ExpectError(ParseMooncakeJsonl(ok + ok + "{\"timestamp\": 9, \"output_length\": 2}\n",
                                 "m.jsonl"),
              3, "input_length", "missing");
  ExpectError(ParseMooncakeJsonl("{\"timestamp\": 9, \"input_length\": 1, "
                                 "\"output_length\": -2}\n",
                                 "m.jsonl"),
              1, "output_length", "expected a whole number of tokens in [0, 2^40], got '-2'");
  ExpectError(ParseMooncakeJsonl("{\"timestamp\": 9, \"input_length\": 1.5, "
                                 "\"output_length\": 2}\n",
                                 "m.jsonl"),
              1, "input_length", "got '1.5'");
  ExpectError(ParseMooncakeJsonl("{\"timestamp\": 9, \"input_length\": true, "
                                 "\"output_length\": 2}\n",
                                 "m.jsonl"),
              1, "input_length", "got 'true'");
}

TEST(LlmTrace, GuessesFormatByNameThenContent) {
  EXPECT_EQ(*GuessLlmTraceFormat("x/AzureLLMInferenceTrace_conv.csv", "{"),
            LlmTraceFormat::kAzureCsv);
  EXPECT_EQ(*GuessLlmTraceFormat("mooncake_conversation_trace.jsonl.gz", ""),
            LlmTraceFormat::kMooncakeJsonl);
  EXPECT_EQ(*GuessLlmTraceFormat("trace", "\n  {\"timestamp\": 0}"),
            LlmTraceFormat::kMooncakeJsonl);
  EXPECT_EQ(*GuessLlmTraceFormat("trace", "TIMESTAMP,ContextTokens,GeneratedTokens\n"),
            LlmTraceFormat::kAzureCsv);
  ExpectError(GuessLlmTraceFormat("trace", "\nid,submit\n"), 2, "", "unknown LLM trace format");
  EXPECT_EQ(*ParseLlmTraceFormat("mooncake", "x"), LlmTraceFormat::kMooncakeJsonl);
  ExpectError(ParseLlmTraceFormat("swf", "x"), 0, "format", "expected auto, azure or mooncake");
  auto missing = ReadLlmTrace("/nonexistent/trace.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kIo);
}

// The public traces: request counts as the README gives them, token totals
// and rates measured once (and cross-checked with a Python reading).
struct RealTrace {
  const char* path;
  int64_t requests, input_tokens, output_tokens;
  double span_s, mean_tokens_s, peak_tokens_s;
};

TEST(LlmTrace, RealTraces) {
  const RealTrace kTraces[] = {
      {"llm/AzureLLMInferenceTrace_code.csv", 8819, 18059974, 245896, 3435.948, 5327.15, 22409.18},
      {"llm/AzureLLMInferenceTrace_conv.csv", 19366, 22361870, 4088665, 3501.722, 7553.19,
       13347.28},
      {"llm/mooncake_conversation_trace.jsonl.gz", 12031, 144793823, 4122048, 3536.999, 42098.82,
       53548.97},
  };
  for (const RealTrace& t : kTraces) {
    SCOPED_TRACE(t.path);
    RACKSCALE_REQUIRE_TRACE(path, t.path);
    auto r = ReadLlmTrace(path);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    const LlmTraceStats s = SummarizeLlmTrace(*r, TokenWeights{}, 60);
    EXPECT_EQ(s.requests, t.requests);
    EXPECT_EQ(s.input_tokens, t.input_tokens);
    EXPECT_EQ(s.output_tokens, t.output_tokens);
    EXPECT_NEAR(s.span_s, t.span_s, 1e-3);
    EXPECT_NEAR(s.mean_tokens_per_s, t.mean_tokens_s, 0.01);
    EXPECT_NEAR(s.peak_tokens_per_s, t.peak_tokens_s, 0.01);
    EXPECT_NEAR(s.mean_tokens_per_request,
                static_cast<double>(t.input_tokens + t.output_tokens) /
                    static_cast<double>(t.requests),
                1e-6);
  }
}

// ---------------------------------------------------------------- demand

// A request of 100 tokens every 10 s for 600 s: 61 requests, a tile period of
// 610 s, so the tiled stream is one request every 10 s forever: 10 tokens/s.
LlmTrace Uniform() {
  LlmTrace t;
  for (int i = 0; i <= 60; ++i) t.requests.push_back({10.0 * i, 60, 40, i + 1});
  t.span_s = 600;
  return t;
}

TEST(LlmDemand, DiurnalFactorPeakTroughAndMean) {
  const DiurnalProfile p;  // 14:00 peak, 04:00 trough at 0.35
  EXPECT_DOUBLE_EQ(DiurnalFactor(p, 14), 1.0);
  EXPECT_DOUBLE_EQ(DiurnalFactor(p, 4), 0.35);
  EXPECT_DOUBLE_EQ(DiurnalFactor(p, 28), 0.35);
  EXPECT_DOUBLE_EQ(DiurnalFactor(p, -10), 1.0);
  // Halfway up (09:00) and halfway down (21:00) are halfway in value.
  EXPECT_NEAR(DiurnalFactor(p, 9), 0.675, 1e-12);
  EXPECT_NEAR(DiurnalFactor(p, 21), 0.675, 1e-12);
  double mean = 0, prev = DiurnalFactor(p, 4);
  const int n = 24 * 600;
  for (int i = 0; i < n; ++i) {
    const double h = 4 + 24.0 * (i + 0.5) / n;
    const double f = DiurnalFactor(p, h);
    mean += f / n;
    if (h < 14) {
      EXPECT_GE(f, prev) << h;
    } else if (h > 14.01) {
      EXPECT_LE(f, prev) << h;
    }
    prev = f;
  }
  EXPECT_NEAR(mean, (1 + 0.35) / 2, 1e-6);
  EXPECT_DOUBLE_EQ(DiurnalFactor({14, 4, 1.0}, 3.3), 1.0);
  EXPECT_FALSE(ValidateDiurnalProfile({14, 14, 0.35}, "x").ok());
  EXPECT_FALSE(ValidateDiurnalProfile({24, 4, 0.35}, "x").ok());
  EXPECT_FALSE(ValidateDiurnalProfile({14, 4, 1.5}, "x").ok());
}

TEST(LlmDemand, TilingIsExactAndScaled) {
  const LlmTrace t = Uniform();
  EXPECT_DOUBLE_EQ(DefaultTracePeriod(t), 610.0);
  DemandOptions o;
  o.diurnal.trough_ratio = 1;  // flat day
  o.scale = 2;
  auto c = TraceDemand(t, o);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  ASSERT_EQ(c->tokens_per_s.size(), 1440u);
  for (double v : c->tokens_per_s) ASSERT_DOUBLE_EQ(v, 20.0);
  EXPECT_DOUBLE_EQ(c->At(59.9), 20.0);
  EXPECT_DOUBLE_EQ(c->At(86400 * 3 + 5), 20.0);  // the day repeats
  EXPECT_DOUBLE_EQ(c->At(-1), 0.0);
  // Weights: generated tokens only -> 4 tokens/s; step 300 s -> 288 buckets.
  o.scale = 1;
  o.weights = {0, 1};
  o.step_s = 300;
  c = TraceDemand(t, o);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->tokens_per_s.size(), 288u);
  EXPECT_DOUBLE_EQ(c->Mean(), 4.0);
  // A longer period leaves the gap empty: 61 requests every 1000 s.
  o = DemandOptions{};
  o.diurnal.trough_ratio = 1;
  o.period_s = 1000;
  o.duration_s = 2000;
  c = TraceDemand(t, o);
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->tokens_per_s[0], 600.0 / 60);   // 0..50 s: 6 requests
  EXPECT_DOUBLE_EQ(c->tokens_per_s[10], 100.0 / 60);  // 600 s only
  EXPECT_DOUBLE_EQ(c->tokens_per_s[12], 0.0);         // 720..780 s: none
  EXPECT_DOUBLE_EQ(c->tokens_per_s[16], 200.0 / 60);  // 960..1020 s: 1000 and 1010
}

TEST(LlmDemand, DiurnalPeakTroughRatio) {
  DemandOptions o;  // trough 0.35 at 04:00, peak 14:00
  o.scale = 3;
  auto c = TraceDemand(Uniform(), o);
  ASSERT_TRUE(c.ok());
  const auto& v = c->tokens_per_s;
  const auto peak = std::max_element(v.begin(), v.end()) - v.begin();
  const auto trough = std::min_element(v.begin(), v.end()) - v.begin();
  // 14:00-14:01: the falling side is flatter (14 h against 10 h of rise).
  EXPECT_EQ(peak, 14 * 60);
  EXPECT_TRUE(trough / 60 == 3 || trough / 60 == 4) << trough;
  EXPECT_NEAR(c->Peak(), 30.0, 1e-3);
  EXPECT_NEAR(c->Peak() / v[trough], 1 / 0.35, 1e-3);
  EXPECT_NEAR(c->Mean(), 30.0 * 0.675, 1e-3);
}

TEST(LlmDemand, OptionErrorsNameTheField) {
  DemandOptions o;
  o.step_s = 0;
  ExpectError(TraceDemand(Uniform(), o), 0, "step_s", "expected seconds > 0");
  o = DemandOptions{};
  o.scale = -1;
  ExpectError(TraceDemand(Uniform(), o), 0, "scale", "expected a factor >= 0");
  o = DemandOptions{};
  o.period_s = 100;
  ExpectError(TraceDemand(Uniform(), o), 0, "period_s", "span");
  LlmTrace one;
  one.requests.push_back({0, 1, 1, 2});
  ExpectError(TraceDemand(one, DemandOptions{}), 0, "period_s", "fewer than two");
  ExpectError(TraceDemand(LlmTrace{}, DemandOptions{}), 0, "trace", "no requests");
  LlmTrace tiny;
  tiny.requests = {{0, 1, 1, 2}, {1e-9, 1, 1, 3}};
  tiny.span_s = 1e-9;
  ExpectError(TraceDemand(tiny, DemandOptions{}), 0, "period_s", "tiled requests");
  // Far-apart times (a year) summarise without a bucket per minute between.
  LlmTrace sparse;
  sparse.requests = {{0, 60, 0, 2}, {3.15e7, 120, 0, 3}};
  sparse.span_s = 3.15e7;
  EXPECT_DOUBLE_EQ(SummarizeLlmTrace(sparse, TokenWeights{}, 60).peak_tokens_per_s, 2.0);
}

TEST(LlmDemand, RateCurveIsTheExactBucketMean) {
  auto pts = ParseRatePoints("0:100, 3600:200", "x");
  ASSERT_TRUE(pts.ok()) << pts.error().ToString();
  DemandOptions o;
  o.scale = 2;
  o.duration_s = 7200;
  auto c = RateCurveDemand(*pts, o);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  ASSERT_EQ(c->tokens_per_s.size(), 120u);
  EXPECT_NEAR(c->tokens_per_s[0], 2 * (100 + 100.0 * 30 / 3600), 1e-9);
  EXPECT_NEAR(c->tokens_per_s[59], 2 * (100 + 100.0 * 3570 / 3600), 1e-9);
  EXPECT_NEAR(c->tokens_per_s[60], 400, 1e-9);  // constant after the last point
  // A breakpoint inside a bucket: 0 until 30 s, then 60 -> mean 30 over 60 s.
  c = RateCurveDemand({{-5, 0}, {30, 0}, {30.000001, 60}}, DemandOptions{});
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->tokens_per_s[0], 30, 1e-3);
  auto k = ParseRatePoints("1234.5", "x");
  ASSERT_TRUE(k.ok());
  c = RateCurveDemand(*k, DemandOptions{});
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->Mean(), 1234.5);
  EXPECT_DOUBLE_EQ(c->Peak(), 1234.5);
  ExpectError(ParseRatePoints("0:1,abc", "x"), 0, "rate", "point 2");
  ExpectError(ParseRatePoints("0:1,5", "x"), 0, "rate", "point 2");
  ExpectError(ParseRatePoints("", "x"), 0, "rate", "empty");
  ExpectError(RateCurveDemand({{10, 1}, {10, 2}}, DemandOptions{}), 0, "rate",
              "strictly increasing");
  ExpectError(RateCurveDemand({{10, -1}}, DemandOptions{}), 0, "rate", "tokens/s >= 0");
}

TEST(LlmDemand, ConvTraceDayFollowsTheProfile) {
  RACKSCALE_REQUIRE_TRACE(path, "llm/AzureLLMInferenceTrace_conv.csv");
  auto t = ReadLlmTrace(path);
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  const LlmTraceStats s = SummarizeLlmTrace(*t, TokenWeights{}, 60);
  DemandOptions o;
  auto c = TraceDemand(*t, o);
  ASSERT_TRUE(c.ok());
  // About 24.7 tiles; the day's mean is the trace's mean times the profile's
  // mean (0.675), up to how the busy and quiet minutes of the trace fall on
  // the profile.
  EXPECT_NEAR(c->Mean() / (s.mean_tokens_per_s * 0.675), 1.0, 0.02);
  // The busiest minute falls in the day's busy hours. (It may exceed the
  // trace's busiest minute: a tile boundary moves the minute grid.)
  const auto& v = c->tokens_per_s;
  const auto peak = std::max_element(v.begin(), v.end()) - v.begin();
  EXPECT_GE(peak, 9 * 60);
  EXPECT_LT(peak, 19 * 60);
  o.diurnal.trough_ratio = 1;
  c = TraceDemand(*t, o);
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->Mean() / s.mean_tokens_per_s, 1.0, 0.01);
}

// ---------------------------------------------------------------- SLO

ServiceSpec Spec() {
  ServiceSpec s;
  s.name = "chat";
  s.tenant = "lab";
  s.gpus_per_replica = 8;
  s.tokens_per_s_per_replica = 1000;
  s.batch_slots = 16;
  s.tokens_per_request = 1000;
  s.slo_ms = 1000;
  s.min_replicas = 1;
  s.max_replicas = 100;
  s.target_utilization = 0.5;
  s.tolerance = 0.1;
  s.scale_up_cooldown_s = 0;
  s.scale_down_cooldown_s = 300;
  return s;
}

TEST(InferenceSlo, ErlangCKnownValues) {
  EXPECT_DOUBLE_EQ(ErlangC(1, 0.5), 0.5);  // M/M/1: P(wait) = rho
  EXPECT_NEAR(ErlangC(2, 1.0), 1.0 / 3, 1e-15);
  EXPECT_DOUBLE_EQ(ErlangC(4, 4.0), 1.0);
  EXPECT_DOUBLE_EQ(ErlangC(4, 9.0), 1.0);
  EXPECT_DOUBLE_EQ(ErlangC(4, 0.0), 0.0);
  // Large c stays finite and small at moderate load.
  const double big = ErlangC(65536, 0.7 * 65536);
  EXPECT_GE(big, 0.0);
  EXPECT_LT(big, 1e-9);
}

TEST(InferenceSlo, AttainmentInTheObviousRegimes) {
  ServiceSpec s = Spec();
  EXPECT_DOUBLE_EQ(SloAttainment(s, 0, 0), 1.0);  // no demand, nothing to miss
  EXPECT_DOUBLE_EQ(SloAttainment(s, 10, 0), 0.0);  // demand, nothing ready
  EXPECT_GT(SloAttainment(s, 1000, 10), 0.9999);   // ample: rho = 0.1
  EXPECT_LE(SloAttainment(s, 20000, 10), 0.5);     // capacity half the demand
  EXPECT_DOUBLE_EQ(SloAttainment(s, 20000, 10), 0.0);
  EXPECT_DOUBLE_EQ(SloAttainment(s, 10000, 10), 0.0);  // rho = 1
  // Falls monotonically as rho -> 1.
  double prev = 1.0;
  for (int d = 500; d < 10000; d += 500) {
    const double a = SloAttainment(s, d, 10);
    EXPECT_LE(a, prev) << d;
    prev = a;
  }
  // M/M/1 by hand: B = 1, mu / m = 1 request/s, d = 1 s, rho = 0.5:
  // 1 - 0.5 exp(-0.5).
  s.batch_slots = 1;
  EXPECT_NEAR(SloAttainment(s, 500, 1), 1 - 0.5 * std::exp(-0.5), 1e-12);
  // Pooling slots helps: the same load on B = 16 waits less.
  s.batch_slots = 16;
  EXPECT_GT(SloAttainment(s, 500, 1), 1 - 0.5 * std::exp(-0.5));
}

TEST(InferenceSlo, SpecValidationNamesTheField) {
  ServiceSpec s = Spec();
  EXPECT_TRUE(ValidateServiceSpec(s).ok());
  s.max_replicas = 0;
  Status st = ValidateServiceSpec(s);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "max_replicas");
  EXPECT_EQ(st.error().source, "service 'chat'");
  s = Spec();
  s.target_utilization = 1.5;
  EXPECT_EQ(ValidateServiceSpec(s).error().field, "target_utilization");
  s = Spec();
  s.tokens_per_s_per_replica = 0;
  EXPECT_EQ(ValidateServiceSpec(s).error().field, "tokens_per_s_per_replica");
}

// ---------------------------------------------------------------- autoscaler

TEST(InferenceAutoscaler, ScalesUpAtOncePastTheTolerance) {
  Autoscaler a(Spec());  // mu = 1000, target 0.5, tolerance 0.1
  // 10 replicas at 5000 tokens/s: u = 0.5, on target.
  EXPECT_EQ(a.Recommend(0, 5000, 10), 10);
  // u = 0.54: 8% over target, inside the tolerance.
  EXPECT_EQ(a.Recommend(60, 5400, 10), 10);
  // u = 0.6: 20% over: ceil(10 x 0.6 / 0.5) = 12, at once.
  EXPECT_EQ(a.Recommend(120, 6000, 10), 12);
  // u = 0.61: ceil(12.2) = 13.
  EXPECT_EQ(a.Recommend(180, 6100, 10), 13);
  // From zero replicas: ceil(demand / (target x mu)).
  EXPECT_EQ(a.Recommend(240, 2600, 0), 6);
}

TEST(InferenceAutoscaler, ScalesDownOnlyAfterTheCooldown) {
  Autoscaler a(Spec());  // scale-down window 300 s
  EXPECT_EQ(a.Recommend(0, 10000, 20), 20);
  EXPECT_EQ(a.Recommend(60, 10000, 20), 20);
  // Demand falls to 4000 (wants 8) at t = 120; the high recommendation of
  // t = 60 stays in the window [t - 300, t] until t = 360.
  for (double t = 120; t <= 360; t += 60) EXPECT_EQ(a.Recommend(t, 4000, 20), 20) << t;
  EXPECT_EQ(a.Recommend(420, 4000, 20), 8);
  // A blip up inside the window holds the count: wants 10 at 480, then 8.
  EXPECT_EQ(a.Recommend(480, 5000, 8), 10);  // up at once
  EXPECT_EQ(a.Recommend(540, 4000, 10), 10);
  EXPECT_EQ(a.Recommend(780, 4000, 10), 10);  // 480 still in [480, 780]
  EXPECT_EQ(a.Recommend(840, 4000, 10), 8);
}

TEST(InferenceAutoscaler, ScaleUpCooldownNeedsAPersistentRise) {
  ServiceSpec s = Spec();
  s.scale_up_cooldown_s = 120;
  s.scale_down_cooldown_s = 0;
  Autoscaler a(s);
  EXPECT_EQ(a.Recommend(0, 5000, 10), 10);
  EXPECT_EQ(a.Recommend(60, 8000, 10), 10);   // min over [-60, 60] is 10
  EXPECT_EQ(a.Recommend(120, 8000, 10), 10);  // 10 at t = 0 still in [0, 120]
  EXPECT_EQ(a.Recommend(180, 8000, 10), 16);
  // Down at once with no down window.
  EXPECT_EQ(a.Recommend(240, 1000, 16), 2);
}

TEST(InferenceAutoscaler, BoundedByMinAndMax) {
  ServiceSpec s = Spec();
  s.min_replicas = 3;
  s.max_replicas = 7;
  s.scale_down_cooldown_s = 0;
  Autoscaler a(s);
  EXPECT_EQ(a.Recommend(0, 1e9, 5), 7);
  EXPECT_EQ(a.Recommend(60, 0, 7), 3);
  EXPECT_EQ(a.Recommend(120, 1e300, 3), 7);
  s.min_replicas = 0;
  Autoscaler z(s);
  EXPECT_EQ(z.Recommend(0, 0, 4), 0);  // scale to zero
  EXPECT_EQ(z.Recommend(60, 1, 0), 1);
}

// ---------------------------------------------------------------- service

TEST(InferenceService, StepsAccountReplicasGpuHoursAndIdle) {
  ServiceSpec s = Spec();  // 8 GPUs, mu 1000, target 0.5, max 100
  InferenceService svc(s, 4);
  svc.set_record_samples(true);
  EXPECT_EQ(svc.replicas(), 4);
  EXPECT_EQ(svc.IdleReplicas(), 96);
  // 2000 tokens/s on 4 replicas: u = 0.5, stays.
  ServiceSample x = svc.Step(0, 60, 2000);
  EXPECT_EQ(x.replicas, 4);
  EXPECT_DOUBLE_EQ(x.utilization, 0.5);
  EXPECT_EQ(svc.replicas(), 4);
  // 6000 tokens/s: served by 4 (u = 1.5, attainment 0), then 12 replicas.
  x = svc.Step(60, 60, 6000);
  EXPECT_DOUBLE_EQ(x.slo_attainment, 0.0);
  EXPECT_EQ(svc.replicas(), 12);
  x = svc.Step(120, 60, 6000);
  EXPECT_EQ(x.ready_replicas, 12);
  EXPECT_GT(x.slo_attainment, 0.99);
  const ServiceMetrics& m = svc.metrics();
  EXPECT_EQ(m.steps, 3);
  EXPECT_DOUBLE_EQ(m.replica_seconds, (4 + 4 + 12) * 60.0);
  EXPECT_DOUBLE_EQ(svc.GpuHours(), (4 + 4 + 12) * 60.0 / 3600 * 8);
  EXPECT_DOUBLE_EQ(m.idle_replica_seconds, (96 + 96 + 88) * 60.0);
  EXPECT_EQ(m.peak_replicas, 12);
  EXPECT_EQ(m.min_replicas, 4);
  // Demand-weighted: the overloaded step weighs 6000 x 60.
  const double want = (2000 * svc.samples()[0].slo_attainment + 6000 * 0 +
                       6000 * svc.samples()[2].slo_attainment) /
                      14000;
  EXPECT_NEAR(m.SloAttainment(), want, 1e-12);
  EXPECT_DOUBLE_EQ(m.served_tokens, (2000 + 4000 + 6000) * 60.0);
  EXPECT_EQ(svc.samples().size(), 3u);
}

TEST(InferenceService, StartupDelaysServingButNotPaying) {
  ServiceSpec s = Spec();
  s.startup_s = 120;
  InferenceService svc(s, 2);
  svc.Resize(0, 6);  // 4 more, serving from t = 120
  EXPECT_EQ(svc.replicas(), 6);
  ServiceSample x = svc.Serve(0, 60, 1000);
  EXPECT_EQ(x.replicas, 6);
  EXPECT_EQ(x.ready_replicas, 2);
  x = svc.Serve(60, 60, 1000);
  EXPECT_EQ(x.ready_replicas, 2);
  x = svc.Serve(120, 60, 1000);
  EXPECT_EQ(x.ready_replicas, 6);
  EXPECT_DOUBLE_EQ(svc.metrics().replica_seconds, 3 * 6 * 60.0);
  EXPECT_DOUBLE_EQ(svc.metrics().ready_replica_seconds, (2 + 2 + 6) * 60.0);
  // Shrinking cancels starting replicas first, newest first.
  svc.Resize(200, 9);  // 3 starting, ready at 320
  svc.Resize(210, 7);
  EXPECT_EQ(svc.replicas(), 7);
  EXPECT_EQ(svc.ready_replicas(), 6);
  svc.Resize(220, 4);  // the last starting one, then 2 ready
  EXPECT_EQ(svc.replicas(), 4);
  EXPECT_EQ(svc.ready_replicas(), 4);
  x = svc.Serve(400, 60, 0);
  EXPECT_EQ(x.ready_replicas, 4);
  EXPECT_DOUBLE_EQ(x.slo_attainment, 1.0);
  EXPECT_DOUBLE_EQ(x.utilization, 0.0);
}

TEST(InferenceService, DayOnTheConvTraceIsDeterministic) {
  RACKSCALE_REQUIRE_TRACE(path, "llm/AzureLLMInferenceTrace_conv.csv");
  auto t = ReadLlmTrace(path);
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  DemandOptions o;
  o.scale = 50;
  auto c = TraceDemand(*t, o);
  ASSERT_TRUE(c.ok());
  ServiceSpec s;
  s.name = "conv";
  s.tokens_per_s_per_replica = 20000;
  s.tokens_per_request = SummarizeLlmTrace(*t, o.weights, 60).mean_tokens_per_request;
  s.max_replicas = 100;
  auto run = [&] {
    InferenceService svc(s, 1);
    for (size_t b = 0; b < c->tokens_per_s.size(); ++b) {
      svc.Step(static_cast<double>(b) * 60, 60, c->tokens_per_s[b]);
    }
    return svc.metrics();
  };
  const ServiceMetrics a = run(), b = run();
  EXPECT_EQ(a.replica_seconds, b.replica_seconds);
  EXPECT_EQ(a.attained_tokens, b.attained_tokens);
  EXPECT_EQ(a.steps, 1440);
  EXPECT_GT(a.SloAttainment(), 0.95);
  EXPECT_LT(a.peak_replicas, 100);
  EXPECT_GT(a.peak_replicas, 2 * a.min_replicas);  // it follows the day
  // The replicas held run below the target on average: the tolerance band,
  // the scale-down window and whole replicas all round up (0.59 measured).
  const double util = a.demand_tokens / (a.replica_seconds * s.tokens_per_s_per_replica);
  EXPECT_GT(util, 0.5);
  EXPECT_LT(util, 0.7);
}

// ---------------------------------------------------------------- CLI

std::string Bin() { return RACKSCALE_BIN; }

TEST(InferenceServeCli, HelpExitCodesAndErrors) {
  std::string out;
  EXPECT_EQ(testing::RunCommand(Bin() + " inference --help", &out), 0);
  EXPECT_NE(out.find("Usage"), std::string::npos) << out;
  EXPECT_NE(out.find("--tokens-per-replica"), std::string::npos) << out;
  const std::string dir = testing::TempDir();
  // Missing file: I/O, exit 1.
  EXPECT_EQ(testing::RunCommand(Bin() + " inference --trace " + dir + "/nope.csv "
                                "--tokens-per-replica 1000 --out " + dir + "/o",
                                &out),
            1)
      << out;
  // Malformed trace: exit 2, file:line: field.
  Write(dir + "/bad.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.1,1,2\n"
        "2023-11-16 18:15:47.1,x,2\n");
  EXPECT_EQ(testing::RunCommand(Bin() + " inference --trace " + dir + "/bad.csv "
                                "--tokens-per-replica 1000 --out " + dir + "/o",
                                &out),
            2);
  EXPECT_NE(out.find("bad.csv:3: field 'ContextTokens'"), std::string::npos) << out;
  // Bad flags: exit 2, naming the flag.
  Write(dir + "/ok.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.1,100,20\n"
        "2023-11-16 18:15:50.1,300,40\n");
  const std::string base = Bin() + " inference --trace " + dir + "/ok.csv --out " + dir + "/o ";
  EXPECT_EQ(testing::RunCommand(base + "--tokens-per-replica 1000 --scale -1", &out), 2);
  EXPECT_NE(out.find("--scale"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(base + "--tokens-per-replica 1000 --min 5 --max 2", &out), 2);
  EXPECT_NE(out.find("field '--max'"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(base + "--tokens-per-replica 1000 --trough-ratio 2", &out), 2);
  EXPECT_NE(out.find("--trough-ratio: expected a number in [0, 1], got '2'"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(base + "--tokens-per-replica 0", &out), 2);
  EXPECT_NE(out.find("--tokens-per-replica: expected a number in"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(base, &out), 2);  // --tokens-per-replica is required
  EXPECT_EQ(testing::RunCommand(Bin() + " inference --rate 100 --tokens-per-replica 1000 --out " +
                                    dir + "/o",
                                &out),
            2);
  EXPECT_NE(out.find("--tokens-per-request"), std::string::npos) << out;
}

TEST(InferenceServeCli, WritesServiceCsvAndSummary) {
  const std::string dir = testing::TempDir();
  std::string out;
  // A rate curve: 1000 tokens/s all day, 1 replica of 2000 at target 0.5.
  ASSERT_EQ(testing::RunCommand(Bin() + " inference --rate 1000 --tokens-per-request 500 "
                                "--tokens-per-replica 2000 --target-util 0.5 --gpus-per-replica 4 "
                                "--min 1 --max 3 --out " + dir + "/o",
                                &out),
            0)
      << out;
  const std::string csv = Slurp(dir + "/o/service.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "t_s,demand_tokens_s,replicas,utilization,slo_attainment,ready_replicas,"
            "idle_replicas");
  EXPECT_NE(csv.find("\n0,1000.000,1,0.500000,"), std::string::npos) << csv.substr(0, 200);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1441);
  auto j = nlohmann::json::parse(Slurp(dir + "/o/summary.json"));
  EXPECT_EQ(j["schema"], "rackscale.inference.summary");
  EXPECT_EQ(j["steps"], 1440);
  EXPECT_DOUBLE_EQ(j["replica_hours"].get<double>(), 24.0);
  EXPECT_DOUBLE_EQ(j["gpu_hours"].get<double>(), 96.0);
  EXPECT_DOUBLE_EQ(j["idle_gpu_hours"].get<double>(), 2 * 24 * 4.0);
  EXPECT_EQ(j["peak_replicas"], 1);
  EXPECT_EQ(j["fewest_replicas"], 1);
  EXPECT_NEAR(j["slo_attainment"].get<double>(), SloAttainment([] {
                ServiceSpec s;
                s.tokens_per_s_per_replica = 2000;
                s.tokens_per_request = 500;
                return s;
              }(), 1000, 1), 1e-12);
  EXPECT_NE(out.find("GPU-hours  96.0"), std::string::npos) << out;
}

TEST(InferenceServeCli, ConvTraceRunIsDeterministic) {
  RACKSCALE_REQUIRE_TRACE(path, "llm/AzureLLMInferenceTrace_conv.csv");
  const std::string dir = testing::TempDir();
  std::string out1, out2;
  const std::string cmd = Bin() + " inference --trace " + path +
                          " --scale 50 --tokens-per-replica 20000 --max 100 --out ";
  ASSERT_EQ(testing::RunCommand(cmd + dir + "/a", &out1), 0) << out1;
  ASSERT_EQ(testing::RunCommand(cmd + dir + "/b", &out2), 0) << out2;
  EXPECT_EQ(Slurp(dir + "/a/service.csv"), Slurp(dir + "/b/service.csv"));
  EXPECT_EQ(Slurp(dir + "/a/summary.json"), Slurp(dir + "/b/summary.json"));
  auto j = nlohmann::json::parse(Slurp(dir + "/a/summary.json"));
  EXPECT_EQ(j["requests"], 19366);
  EXPECT_EQ(j["format"], "azure");
  EXPECT_GT(j["slo_attainment"].get<double>(), 0.95);
}

}  // namespace
}  // namespace rackscale
