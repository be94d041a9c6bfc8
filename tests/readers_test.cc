// Trace readers: field mappings, format detection and errors that name the
// file, the line and the field.
#include <gtest/gtest.h>

#include "base/file.h"
#include "test_util.h"
#include "workload/ai_trace.h"
#include "workload/generate.h"

namespace rackscale {
namespace {

Result<Workload> Parse(const std::string& text, const std::string& name, bool skip = false,
                       TraceFormat f = TraceFormat::kAuto) {
  ReadOptions o;
  o.format = f;
  o.skip_bad_lines = skip;
  return ParseTrace(text, name, o);
}

void ExpectError(const Result<Workload>& r, int64_t line, const std::string& field,
                 const std::string& fragment) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().line, line) << r.error().ToString();
  EXPECT_EQ(r.error().field, field) << r.error().ToString();
  EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().ToString();
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
}

const char* kSwf =
    "; Version: 2.2\n"
    ";   MaxProcs: 100\n"
    "\n"
    "1 0 5 100 4 -1 -1 8 3600 -1 1 1 1 -1 1 -1 -1 -1\n"
    "2 10.7 -1 50.9 16 -1 -1 -1 -1 -1 1 2 1 -1 1 -1 -1 -1\r\n"
    "  3\t20  0 -1 0 -1 -1 -1 60 -1 0 2 1 -1 1 -1 -1 -1\n";

TEST(SwfReader, MapsFieldsAsDesignSays) {
  auto r = Parse(kSwf, "x.swf");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->jobs.size(), 3u);
  EXPECT_EQ(r->format, TraceFormat::kSwf);
  const Job& a = r->jobs[0];
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(a.submit, 0);
  EXPECT_EQ(a.runtime, 100);
  EXPECT_EQ(a.size, 8);  // requested processors (field 8) win when > 0
  EXPECT_EQ(a.requested, 3600);
  const Job& b = r->jobs[1];
  EXPECT_EQ(b.submit, 10);   // 10.7 truncated
  EXPECT_EQ(b.runtime, 50);  // 50.9 truncated
  EXPECT_EQ(b.size, 16);     // field 8 is -1: allocated processors (field 5)
  EXPECT_EQ(b.Walltime(), 50);
  const Job& c = r->jobs[2];
  EXPECT_EQ(c.runtime, -1);  // kept; the simulator marks it invalid
  EXPECT_EQ(c.size, 0);
}

TEST(SwfReader, ErrorsNameLineAndField) {
  std::string bad = std::string(kSwf) + "4 30 -1 abc 1 -1 -1 1 60 -1 1 1 1 -1 1 -1 -1 -1\n";
  ExpectError(Parse(bad, "x.swf"), 7, "run time", "expected a number");
  ExpectError(Parse(std::string(kSwf) + "5 40 -1 10 1\n", "x.swf"), 7, "average CPU time",
              "expected 18");
  ExpectError(Parse(std::string(kSwf) + "1 40 -1 10 1 -1 -1 1 60 -1 1 1 1 -1 1 -1 -1 -1\n", "x.swf"),
              7, "id", "already used on line 4");
  auto e = Parse(bad, "x.swf");
  EXPECT_EQ(e.error().ToString().substr(0, 8), "x.swf:7:");
}

TEST(SwfReader, SkipBadLinesKeepsTheGoodOnes) {
  std::string text = std::string(kSwf) + "oops\n" +
                     "9 40 -1 10 1 -1 -1 1 60 -1 1 1 1 -1 1 -1 -1 -1\n";
  auto r = Parse(text, "x.swf", /*skip=*/true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->jobs.size(), 4u);
  EXPECT_EQ(r->bad_lines, 1);
  ASSERT_EQ(r->bad_line_errors.size(), 1u);
  EXPECT_EQ(r->bad_line_errors[0].line, 7);
}

TEST(PhillyReader, MapsRowsAndSubmitsRelativeToTheEarliest) {
  std::string text =
      "timestamp,duration,num_gpus,gpu_time,cluster\n"
      "2017-10-09 07:01:55,66.0,1,66.0,11cb48\n"
      "2017-10-09 06:13:03,2951.5,4,2951.0,6214e9\n"
      "\n"
      "2017-10-09 06:13:03,0.4,8,0,11cb48\n";
  auto r = Parse(text, "philly.csv");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->jobs.size(), 3u);
  EXPECT_EQ(r->format, TraceFormat::kPhilly);
  EXPECT_EQ(r->jobs[0].id, 1);
  EXPECT_EQ(r->jobs[0].submit, 48 * 60 + 52);  // 07:01:55 - 06:13:03
  EXPECT_EQ(r->jobs[0].runtime, 66);
  EXPECT_EQ(r->jobs[1].submit, 0);
  EXPECT_EQ(r->jobs[1].runtime, 2952);  // 2951.5 rounds half away from zero
  EXPECT_EQ(r->jobs[1].size, 4);
  EXPECT_EQ(r->jobs[2].id, 3);  // blank lines are not data rows
  EXPECT_EQ(r->jobs[2].runtime, 0);
  EXPECT_EQ(r->tenants[r->jobs[0].tenant], "11cb48");
  EXPECT_EQ(r->tenants[r->jobs[1].tenant], "6214e9");
  EXPECT_EQ(r->jobs[0].tenant, r->jobs[2].tenant);
}

TEST(PhillyReader, Errors) {
  const std::string h = "timestamp,duration,num_gpus,gpu_time,cluster\n";
  ExpectError(Parse(h + "2017-13-09 07:01:55,66.0,1,66.0,a\n", "p.csv"), 2, "timestamp",
              "YYYY-MM-DD");
  ExpectError(Parse(h + "2017-10-09 07:01:55,x,1,66.0,a\n", "p.csv"), 2, "duration", "seconds");
  ExpectError(Parse(h + "2017-10-09 07:01:55,6,1.5,66.0,a\n", "p.csv"), 2, "num_gpus", "whole");
  ExpectError(Parse(h + "2017-10-09 07:01:55,6,1\n", "p.csv"), 2, "", "expected 5");
  ExpectError(Parse("timestamp,duration\n", "p.csv", false, TraceFormat::kPhilly), 1, "header",
              "Philly header");
  EXPECT_EQ(*ParseUtcTimestamp("1970-01-02 00:00:01"), 86401);
  EXPECT_EQ(*ParseUtcTimestamp("2000-02-29T12:00:00"), 951825600);
  EXPECT_FALSE(ParseUtcTimestamp("2001-02-29 12:00:00"));
}

TEST(PhillyReader, BadRowsKeepTheirIdWhenSkipped) {
  std::string text =
      "timestamp,duration,num_gpus,gpu_time,cluster\n"
      "2017-10-09 07:01:55,66.0,1,66.0,a\n"
      "garbage\n"
      "2017-10-09 07:01:56,66.0,1,66.0,a\n";
  auto r = Parse(text, "p.csv", true);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->jobs.size(), 2u);
  EXPECT_EQ(r->jobs[1].id, 3);
  EXPECT_EQ(r->bad_lines, 1);
}

TEST(NativeCsvReader, ColumnsByHeaderInAnyOrder) {
  auto r = Parse("size,id,runtime,submit,tenant,walltime\n4,7,100,5,alice,\n2,8,10,6,,20\n",
                 "w.csv");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->jobs.size(), 2u);
  EXPECT_EQ(r->jobs[0].id, 7);
  EXPECT_EQ(r->jobs[0].size, 4);
  EXPECT_EQ(r->jobs[0].submit, 5);
  EXPECT_EQ(r->jobs[0].requested, 0);
  EXPECT_EQ(r->tenants[r->jobs[0].tenant], "alice");
  EXPECT_EQ(r->jobs[1].tenant, 0u);
  EXPECT_EQ(r->jobs[1].requested, 20);
}

TEST(NativeCsvReader, Errors) {
  ExpectError(Parse("id,submit,runtime\n", "w.csv"), 1, "header", "missing required column 'size'");
  ExpectError(Parse("id,submit,runtime,size,colour\n", "w.csv"), 1, "header", "unknown column");
  ExpectError(Parse("id,submit,runtime,size,size\n", "w.csv"), 1, "header", "twice");
  ExpectError(Parse("id,submit,runtime,size\n1,0,10,4\n2,1,x,4\n", "w.csv"), 3, "runtime",
              "expected an integer");
  ExpectError(Parse("id,submit,runtime,size\n1,0,10,4\n2,1,4\n", "w.csv"), 3, "",
              "expected 4 comma-separated");
  ExpectError(Parse("id,submit,runtime,size\n1,0,10,4\n1,1,4,1\n", "w.csv"), 3, "id",
              "already used on line 2");
  ExpectError(Parse("id,submit,runtime,size\n1,0,10,4\n2,1,4,9999999999999999\n", "w.csv"), 3,
              "size", "out of range");
  ExpectError(Parse("", "w.csv", false, TraceFormat::kCsv), 0, "header", "empty file");
}

TEST(AiCsvReader, ColumnsAndErrors) {
  auto r = ParseAiCsv("id,submit,runtime,gpus,tenant,models,topology,priority,preemptible\n"
                      "1,0,100,8,lab,GB200|H100,domain,5,1\n2,3,50,0,,,,,\n",
                      "ai.csv", false);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->jobs.size(), 2u);
  EXPECT_EQ(r->jobs[0].topology, TopologyScope::kDomain);
  EXPECT_EQ(r->jobs[0].priority, 5);
  EXPECT_TRUE(r->jobs[0].preemptible);
  EXPECT_EQ(r->models.size(), 2u);
  EXPECT_EQ(r->tenants[r->jobs[0].tenant], "lab");
  EXPECT_EQ(r->jobs[1].topology, TopologyScope::kAny);
  auto bad = ParseAiCsv("id,submit,runtime,gpus,topology\n1,0,1,1,rack\n", "ai.csv", false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 2);
  EXPECT_EQ(bad.error().field, "topology");
  auto dup = ParseAiCsv("id,submit,runtime,gpus\n1,0,1,1\n1,5,1,1\n", "ai.csv", false);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().field, "id");
  EXPECT_EQ(dup.error().line, 3);
  auto skipped = ParseAiCsv("id,submit,runtime,gpus\n1,0,1,1\n1,5,1,1\n2,x,1,1\n", "ai.csv", true);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->jobs.size(), 1u);
  EXPECT_EQ(skipped->bad_lines, 2);
  // Shares of a GPU: gpu_milli in [1, 1000], and only with gpus = 1.
  auto share = ParseAiCsv("id,submit,runtime,gpus,gpu_milli\n1,0,1,1,250\n2,0,1,2,\n", "ai.csv",
                          false);
  ASSERT_TRUE(share.ok()) << share.error().ToString();
  EXPECT_TRUE(share->jobs[0].fractional());
  EXPECT_DOUBLE_EQ(share->jobs[0].gpu_share(), 0.25);
  EXPECT_EQ(share->jobs[1].gpu_milli, 1000);
  auto two = ParseAiCsv("id,submit,runtime,gpus,gpu_milli\n1,0,1,1,250\n2,0,1,2,500\n", "ai.csv",
                        false);
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error().line, 3);
  EXPECT_EQ(two.error().field, "gpu_milli");
  auto zero = ParseAiCsv("id,submit,runtime,gpus,gpu_milli\n1,0,1,1,0\n", "ai.csv", false);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().field, "gpu_milli");
  // The writer adds the column only when some pod shares a GPU; either way
  // the text reads back to the same jobs.
  AiGenParams g;
  g.jobs = 2000;
  g.seed = 5;
  g.share_fraction = 0.4;
  auto gen = GenerateAi(g);
  ASSERT_TRUE(gen.ok());
  int64_t shares = 0;
  for (const AiJob& j : gen->jobs) shares += j.fractional();
  EXPECT_GT(shares, 100);
  const std::string text = FormatAiCsv(*gen);
  EXPECT_NE(text.find(",gpu_milli\n"), std::string::npos);
  auto back = ParseAiCsv(text, "gen.csv", false);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  for (size_t i = 0; i < gen->jobs.size(); ++i) {
    ASSERT_EQ(back->jobs[i].gpu_milli, gen->jobs[i].gpu_milli) << i;
  }
  // Checkpoint intervals per job: seconds, auto or none; empty: the sim's.
  auto ck = ParseAiCsv("id,submit,runtime,gpus,checkpoint\n1,0,9,8,600\n2,0,9,8,auto\n3,0,9,8,none\n"
                       "4,0,9,8,\n",
                       "ai.csv", false);
  ASSERT_TRUE(ck.ok()) << ck.error().ToString();
  EXPECT_DOUBLE_EQ(ck->jobs[0].checkpoint, 600);
  EXPECT_DOUBLE_EQ(ck->jobs[1].checkpoint, kCheckpointAuto);
  EXPECT_DOUBLE_EQ(ck->jobs[2].checkpoint, kCheckpointNone);
  EXPECT_DOUBLE_EQ(ck->jobs[3].checkpoint, kCheckpointDefault);
  auto back_ck = ParseAiCsv(FormatAiCsv(*ck), "again.csv", false);
  ASSERT_TRUE(back_ck.ok()) << back_ck.error().ToString();
  EXPECT_DOUBLE_EQ(back_ck->jobs[1].checkpoint, kCheckpointAuto);
  auto bad_ck = ParseAiCsv("id,submit,runtime,gpus,checkpoint\n1,0,9,8,hourly\n", "ai.csv", false);
  ASSERT_FALSE(bad_ck.ok());
  EXPECT_EQ(bad_ck.error().field, "checkpoint");
  EXPECT_EQ(bad_ck.error().line, 2);
  auto missing = ParseAiCsv("id,submit,runtime\n", "ai.csv", false);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("gpus"), std::string::npos);
}

TEST(FormatDetection, ByNameThenByContent) {
  EXPECT_EQ(*GuessTraceFormat("a.swf.gz", ""), TraceFormat::kSwf);
  EXPECT_EQ(*GuessTraceFormat("a", "; comment\n"), TraceFormat::kSwf);
  EXPECT_EQ(*GuessTraceFormat("a", "\n1 2 3\n"), TraceFormat::kSwf);
  EXPECT_EQ(*GuessTraceFormat("a", "timestamp,duration,num_gpus,gpu_time,cluster\n"),
            TraceFormat::kPhilly);
  EXPECT_EQ(*GuessTraceFormat("a", "id,submit,runtime,size\n"), TraceFormat::kCsv);
  EXPECT_FALSE(GuessTraceFormat("a", "hello\n").ok());
}

TEST(NativeCsv, GeneratedWorkloadRoundTrips) {
  FlatGenParams p;
  p.jobs = 2000;
  p.slots = 64;
  p.seed = 9;
  auto w = GenerateFlat(p);
  ASSERT_TRUE(w.ok());
  std::string csv = FormatNativeCsv(*w);
  auto back = Parse(csv, "gen.csv");
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  ASSERT_EQ(back->jobs.size(), w->jobs.size());
  for (size_t i = 0; i < w->jobs.size(); ++i) {
    EXPECT_EQ(back->jobs[i].id, w->jobs[i].id);
    EXPECT_EQ(back->jobs[i].submit, w->jobs[i].submit);
    EXPECT_EQ(back->jobs[i].runtime, w->jobs[i].runtime);
    EXPECT_EQ(back->jobs[i].size, w->jobs[i].size);
    EXPECT_EQ(back->jobs[i].requested, w->jobs[i].requested);
  }
}

TEST(Generator, ShapeAndLoad) {
  FlatGenParams p;
  p.jobs = 50000;
  p.slots = 4096;
  p.load = 0.8;
  p.seed = 5;
  auto w = GenerateFlat(p);
  ASSERT_TRUE(w.ok());
  double work = 0;
  int small = 0;
  SlotCount biggest = 0;
  Seconds last = 0;
  for (const Job& j : w->jobs) {
    ASSERT_GE(j.size, 1);
    ASSERT_LE(j.size, p.slots);
    ASSERT_GE(j.runtime, 1);
    ASSERT_GE(j.requested, j.runtime);
    ASSERT_GE(j.submit, last);
    last = j.submit;
    work += static_cast<double>(j.size) * static_cast<double>(j.runtime);
    small += j.size <= 16;
    biggest = std::max(biggest, j.size);
  }
  // Offered load = work / (slots * span) within 2% of the request.
  EXPECT_NEAR(work / (4096.0 * static_cast<double>(last)), 0.8, 0.016);
  EXPECT_GT(small, 50000 / 2);     // most jobs are small ...
  EXPECT_GE(biggest, 4096 / 2);    // ... with a heavy tail up to the machine
  EXPECT_FALSE(GenerateFlat(FlatGenParams{0, 10, 0.5, 1}).ok());
  EXPECT_FALSE(GenerateFlat(FlatGenParams{10, 10, 0.0, 1}).ok());
}

TEST(RealTraces, ReadWithoutErrors) {
  RACKSCALE_REQUIRE_TRACE(kth, "swf/KTH-SP2-1996-2.1-cln.swf.gz");
  RACKSCALE_REQUIRE_TRACE(philly, "philly/philly.csv");
  auto a = ReadTrace(kth, ReadOptions{});
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_EQ(a->jobs.size(), 28476u);
  auto b = ReadTrace(philly, ReadOptions{});
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_EQ(b->jobs.size(), 82247u);
  EXPECT_EQ(b->tenants.size(), 16u);  // 15 virtual clusters + the default
}

}  // namespace
}  // namespace rackscale
