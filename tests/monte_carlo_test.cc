// Monte-Carlo planning (`rackscale plan --monte-carlo N`, docs/planner.md):
// the distributions' sample statistics on a fixed seed, the percentile rule
// on hand-computed cases, [uncertainty]'s errors, and the reproducibility
// the Slurm slices rely on: slices merged and 1 or 2 worker processes give
// the full run's files byte for byte.
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "browser.h"
#include "plan/monte_carlo.h"
#include "plan/scenario.h"
#include "plan/uncertainty.h"
#include "report/mc_report.h"
#include "test_util.h"

namespace rackscale {
namespace {

using testing::Slurp;

std::string SmallPath() { return std::string(RACKSCALE_SOURCE_DIR) + "/scenarios/small.toml"; }

// The small scenario's text with its [uncertainty] table replaced by `table`
// ("" drops it).
std::string SmallWith(const std::string& table) {
  std::string text = Slurp(SmallPath());
  const size_t at = text.find("\n[uncertainty]");
  EXPECT_NE(at, std::string::npos);
  return text.substr(0, at + 1) + table;
}

struct Stats {
  double mean = 0, min = 1e300, max = -1e300;
};
Stats Sample(const Distribution& d, int n, uint64_t seed) {
  Rng rng(seed);
  Stats s;
  for (int i = 0; i < n; ++i) {
    const double x = d.Sample(rng);
    s.mean += x / n;
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
  }
  return s;
}

TEST(Uncertainty, DistributionsHaveTheirMeansOnAFixedSeed) {
  constexpr int kN = 40000;
  Distribution tri;
  tri.kind = Distribution::Kind::kTriangular;
  tri.low = 0.85, tri.mode = 1.0, tri.high = 1.3;
  Stats t = Sample(tri, kN, 7);
  // Mean (a + b + c) / 3 = 1.05; sd = sqrt((a²+b²+c²-ab-ac-bc)/18) = 0.0935, so the
  // sample mean's sd is 0.0005: 0.003 is six of them.
  EXPECT_NEAR(t.mean, (0.85 + 1.0 + 1.3) / 3, 0.003);
  EXPECT_GE(t.min, 0.85);
  EXPECT_LE(t.max, 1.3);
  Distribution uni;
  uni.kind = Distribution::Kind::kUniform;
  uni.low = -2, uni.high = 4;
  Stats u = Sample(uni, kN, 8);
  EXPECT_NEAR(u.mean, 1.0, 0.06);  // sd 6/sqrt(12) = 1.73; /sqrt(N) = 0.0087
  EXPECT_GE(u.min, -2);
  EXPECT_LT(u.max, 4);
  // A normal truncated far out keeps its mean; truncated at the mean, the
  // half-normal's mean is mean + sd sqrt(2/pi).
  Distribution nor;
  nor.kind = Distribution::Kind::kNormal;
  nor.mean = 0.2, nor.sd = 0.1, nor.low = -10, nor.high = 10;
  EXPECT_NEAR(Sample(nor, kN, 9).mean, 0.2, 0.003);
  nor.low = 0.2;
  Stats half = Sample(nor, kN, 10);
  EXPECT_NEAR(half.mean, 0.2 + 0.1 * std::sqrt(2 / M_PI), 0.003);
  EXPECT_GE(half.min, 0.2);
  // Lognormal: the mean is median x exp(sigma² / 2).
  Distribution ln;
  ln.kind = Distribution::Kind::kLogNormal;
  ln.median = 6.88, ln.sigma = 0.2, ln.low = 0, ln.high = 1e9;
  EXPECT_NEAR(Sample(ln, kN, 11).mean, 6.88 * std::exp(0.02), 0.03);
  // Discrete: frequencies follow the weights (given on any scale).
  Distribution dis;
  dis.kind = Distribution::Kind::kDiscrete;
  dis.values = {0, 1, 2, 3, 6};
  dis.weights = {45, 25, 15, 10, 5};
  Rng rng(12);
  std::vector<int> count(7, 0);
  for (int i = 0; i < kN; ++i) ++count[static_cast<size_t>(dis.Sample(rng))];
  EXPECT_NEAR(count[0] / double(kN), 0.45, 0.01);
  EXPECT_NEAR(count[1] / double(kN), 0.25, 0.01);
  EXPECT_NEAR(count[6] / double(kN), 0.05, 0.005);
  EXPECT_EQ(count[4] + count[5], 0);
}

TEST(Uncertainty, EachDrawHasItsOwnStream) {
  Rng a = DrawRng(42, 17), b = DrawRng(42, 17), c = DrawRng(42, 18), d = DrawRng(43, 17);
  const uint64_t x = a.Next();
  EXPECT_EQ(x, b.Next());
  EXPECT_NE(x, c.Next());
  EXPECT_NE(x, d.Next());
}

TEST(MonteCarlo, NearestRankPercentilesByHand) {
  std::vector<double> ten = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  // Rank ceil(P/100 x n): P10 -> 1, P50 -> 5, P90 -> 9.
  EXPECT_EQ(NearestRank(ten, 10), 1);
  EXPECT_EQ(NearestRank(ten, 50), 5);
  EXPECT_EQ(NearestRank(ten, 90), 9);
  EXPECT_EQ(NearestRank(ten, 100), 10);
  EXPECT_EQ(NearestRank(ten, 0), 1);
  // n = 3: ceil(0.3) = 1, ceil(1.5) = 2, ceil(2.7) = 3.
  std::vector<double> three = {-5, 2.5, 7};
  EXPECT_EQ(NearestRank(three, 10), -5);
  EXPECT_EQ(NearestRank(three, 50), 2.5);
  EXPECT_EQ(NearestRank(three, 90), 7);
  // n = 7: ceil(0.7) = 1, ceil(3.5) = 4, ceil(6.3) = 7.
  std::vector<double> seven = {10, 20, 30, 40, 50, 60, 70};
  EXPECT_EQ(NearestRank(seven, 10), 10);
  EXPECT_EQ(NearestRank(seven, 50), 40);
  EXPECT_EQ(NearestRank(seven, 90), 70);
  // n = 20: ranks 2, 10, 18.
  std::vector<double> twenty;
  for (int i = 1; i <= 20; ++i) twenty.push_back(i);
  EXPECT_EQ(NearestRank(twenty, 10), 2);
  EXPECT_EQ(NearestRank(twenty, 50), 10);
  EXPECT_EQ(NearestRank(twenty, 90), 18);
}

TEST(Uncertainty, TheSmallScenarioParses) {
  auto s = ReadScenario(SmallPath());
  ASSERT_TRUE(s) << s.error().ToString();
  ASSERT_EQ(s->uncertainty.size(), 4u);
  // In the table's key order (byte-wise).
  EXPECT_EQ(s->uncertainty[0].key, "hardware.*.lead_slip_months");
  EXPECT_EQ(s->uncertainty[1].key, "hardware.*.usd_per_domain_scale");
  EXPECT_EQ(s->uncertainty[2].key, "on_demand.growth_per_year");
  EXPECT_EQ(s->uncertainty[3].key, "sites.*.lead_slip_months");
  EXPECT_EQ(s->uncertainty[1].dist.kind, Distribution::Kind::kTriangular);
  auto big = ReadScenario(std::string(RACKSCALE_SOURCE_DIR) + "/scenarios/reallocation-2025.toml");
  ASSERT_TRUE(big) << big.error().ToString();
  EXPECT_EQ(big->uncertainty.size(), 5u);
}

TEST(Uncertainty, SlipsAddToLeadTimes) {
  auto s = ReadScenario(SmallPath());
  ASSERT_TRUE(s);
  Scenario c = *s;
  ASSERT_TRUE(SetScenarioValue(c, "hardware.*.lead_slip_months", 2));
  EXPECT_EQ(c.hardware[0].lead_months, s->hardware[0].lead_months + 2);
  EXPECT_EQ(c.hardware[1].lead_months, s->hardware[1].lead_months + 2);
  ASSERT_TRUE(SetScenarioValue(c, "sites.east.lead_slip_months", -10));
  EXPECT_EQ(c.sites[0].lead_months, 0);  // clamped at 0
  EXPECT_EQ(c.sites[1].lead_months, s->sites[1].lead_months);
  EXPECT_FALSE(SetScenarioValue(c, "sites.mars.lead_slip_months", 1));
  EXPECT_EQ(*GetScenarioValue(*s, "hardware.*.lead_slip_months"), 0);
}

TEST(Uncertainty, BadTablesNameFileLineAndField) {
  struct Case {
    std::string table, field, message;
  };
  const std::vector<Case> cases = {
      {"[uncertainty]\n\"hardware.*.usd_per_domain_scale\" = { dist = \"beta\", low = 1, high = 2 }\n",
       "uncertainty[\"hardware.*.usd_per_domain_scale\"].dist", "unknown distribution 'beta'"},
      {"[uncertainty]\n\"hardware.*.usd_per_domain_scale\" = { dist = \"triangular\", low = 1.2, mode = 1, high = 1.1 }\n",
       "uncertainty[\"hardware.*.usd_per_domain_scale\"]", "expected low < high"},
      {"[uncertainty]\n\"hardware.*.usd_per_domain_scale\" = { dist = \"triangular\", low = 0.9, mode = 1.5, high = 1.1 }\n",
       "uncertainty[\"hardware.*.usd_per_domain_scale\"]", "low <= mode <= high"},
      {"[uncertainty]\n\"hardware.*.usd_per_domain_scale\" = { dist = \"uniform\", low = nan, high = 2 }\n",
       "uncertainty[\"hardware.*.usd_per_domain_scale\"].low", "expected a number"},
      {"[uncertainty]\n\"on_demand.usd_per_gpu_hour\" = { dist = \"uniform\", low = 1, high = inf }\n",
       "uncertainty[\"on_demand.usd_per_gpu_hour\"].high", "expected a number"},
      {"[uncertainty]\n\"hardware.*.usd_per_domain_scale\" = { dist = \"uniform\", low = -0.1, high = 1.2 }\n",
       "uncertainty[\"hardware.*.usd_per_domain_scale\"]", "must lie in [0, 100]"},
      {"[uncertainty]\n\"on_demand.usd_per_gpu_hour\" = { dist = \"normal\", mean = 5, sd = -1 }\n",
       "uncertainty[\"on_demand.usd_per_gpu_hour\"].sd", "expected sd > 0"},
      {"[uncertainty]\n\"on_demand.usd_per_gpu_hour\" = { dist = \"normal\", mean = 5, sd = 1, low = -3 }\n",
       "uncertainty[\"on_demand.usd_per_gpu_hour\"]", "must lie in [0, 10000]"},
      {"[uncertainty]\n\"on_demand.usd_per_gpu_hour\" = { dist = \"normal\", mean = 5, sd = 0.1, low = 9, high = 10 }\n",
       "uncertainty[\"on_demand.usd_per_gpu_hour\"]", "of the distribution"},
      {"[uncertainty]\n\"on_demand.usd_per_gpu_hour\" = { dist = \"lognormal\", median = 0, sigma = 1 }\n",
       "uncertainty[\"on_demand.usd_per_gpu_hour\"].median", "expected median > 0"},
      {"[uncertainty]\n\"hardware.*.lead_slip_months\" = { dist = \"discrete\", values = [0, 1], weights = [1] }\n",
       "uncertainty[\"hardware.*.lead_slip_months\"]", "as many weights as values"},
      {"[uncertainty]\n\"hardware.*.lead_slip_months\" = { dist = \"discrete\", values = [0, 1], weights = [1, -1] }\n",
       "uncertainty[\"hardware.*.lead_slip_months\"]", "weights[1]"},
      {"[uncertainty]\n\"hardware.*.lead_slip_months\" = { dist = \"discrete\", values = [0, \"x\"] }\n",
       "uncertainty[\"hardware.*.lead_slip_months\"].values[1]", "expected a finite number"},
      {"[uncertainty]\n\"hardware.*.lead_slip_months\" = { dist = \"discrete\", values = [0, 1], wieghts = [1, 1] }\n",
       "uncertainty[\"hardware.*.lead_slip_months\"].wieghts", "unknown key"},
      {"[uncertainty]\n\"hardware.NOPE.usd_per_domain\" = { dist = \"uniform\", low = 1, high = 2 }\n",
       "uncertainty[\"hardware.NOPE.usd_per_domain\"]", "not a numeric scenario value"},
      {"[uncertainty]\n\"sites.mars.lead_slip_months\" = { dist = \"uniform\", low = 1, high = 2 }\n",
       "uncertainty[\"sites.mars.lead_slip_months\"]", "no site 'mars'"},
      {"[uncertainty]\nfinance.discount_rate = { dist = \"uniform\", low = 0.05, high = 0.1 }\n", "uncertainty[\"finance\"]",
       "quoted --vary key"},
      {"[uncertainty]\n\"finance.discount_rate\" = 0.08\n", "uncertainty[\"finance.discount_rate\"]", "expected a table"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.table);
    const std::string text = SmallWith(c.table);
    // The line of the entry: the one after [uncertainty].
    int64_t line = 1;
    for (size_t i = 0; i < text.find("\n[uncertainty]") + 1; ++i) line += text[i] == '\n';
    auto s = ParseScenario(text, "x.toml");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().source, "x.toml");
    EXPECT_EQ(s.error().line, line + 1) << s.error().ToString();
    EXPECT_EQ(s.error().field, c.field) << s.error().ToString();
    EXPECT_NE(s.error().message.find(c.message), std::string::npos) << s.error().ToString();
  }
}

// The small scenario's run, in memory.
McRun RunMc(const Scenario& s, int64_t n, int64_t begin, int64_t end, int jobs, uint64_t seed = 5) {
  McOptions o;
  o.draws = n;
  o.seed = seed;
  o.begin = begin;
  o.end = end;
  o.jobs = jobs;
  auto r = RunMonteCarlo(s, "fnv1a64:test", o);
  EXPECT_TRUE(r) << r.error().ToString();
  return r ? *r : McRun{};
}

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> out;
  for (const char* f : {"mc_draws.csv", "mc_summary.json", "mc_report.html"}) out.push_back(Slurp(dir + "/" + f));
  return out;
}

TEST(MonteCarlo, SlicesMergedAndWorkersGiveTheFullRunByteForByte) {
  auto s = ReadScenario(SmallPath());
  ASSERT_TRUE(s);
  const std::string dir = testing::TempDir();
  const McRun full = RunMc(*s, 12, 0, 12, 1);
  ASSERT_EQ(full.draws.size(), 12u);
  ASSERT_TRUE(WriteMonteCarlo(full, dir + "/full"));
  // Two worker processes.
  ASSERT_TRUE(WriteMonteCarlo(RunMc(*s, 12, 0, 12, 2), dir + "/jobs2"));
  EXPECT_EQ(Files(dir + "/jobs2"), Files(dir + "/full"));
  // Three slices, each on its own, written, read back and merged (given out of order).
  std::vector<McRun> slices;
  std::vector<std::string> dirs;
  for (auto [b, e, j] : std::vector<std::tuple<int64_t, int64_t, int>>{{9, 12, 2}, {0, 4, 1}, {4, 9, 3}}) {
    const std::string d = dir + fmt::format("/slice-{}", b);
    ASSERT_TRUE(WriteMonteCarlo(RunMc(*s, 12, b, e, j), d));
    auto r = ReadMonteCarloDir(d);
    ASSERT_TRUE(r) << r.error().ToString();
    slices.push_back(*r);
    dirs.push_back(d);
  }
  auto merged = MergeMonteCarlo(slices, dirs);
  ASSERT_TRUE(merged) << merged.error().ToString();
  ASSERT_TRUE(WriteMonteCarlo(*merged, dir + "/merged"));
  const auto want = Files(dir + "/full");
  const auto got = Files(dir + "/merged");
  for (size_t k = 0; k < want.size(); ++k) {
    EXPECT_FALSE(want[k].empty());
    EXPECT_EQ(got[k], want[k]) << "file " << k << " differs: diff " << dir << "/full " << dir << "/merged";
  }
  // The draws vary, and the summary counts them.
  const auto j = nlohmann::json::parse(want[1]);
  EXPECT_EQ(j["plans"]["ok"], 12);
  EXPECT_EQ(j["slice"]["begin"], 0);
  EXPECT_EQ(j["slice"]["end"], 12);
  EXPECT_LT(j["npv_usd"]["p10"].get<double>(), j["npv_usd"]["p90"].get<double>());
  // A different seed draws differently.
  EXPECT_NE(FormatMcDrawsCsv(RunMc(*s, 3, 0, 3, 1, 6)), FormatMcDrawsCsv(RunMc(*s, 3, 0, 3, 1, 5)));
}

TEST(MonteCarlo, SummaryFollowsTheDraws) {
  // A run made by hand: 10 draws with NPVs 1..10 ($B), contract met in 7,
  // full delivery in months 3..11 and never once.
  McRun r;
  r.id.scenario = "hand";
  r.id.digest = "fnv1a64:0";
  r.id.start = "2026-01";
  r.id.months = 24;
  r.id.draws = 10;
  r.id.contracts = {"lab"};
  r.id.inputs = {{"on_demand.gpus", "on-demand gpus", "uniform(1 .. 2)", 1.5}};
  r.begin = 0;
  r.end = 10;
  for (int i = 0; i < 10; ++i) {
    McDraw d;
    d.index = i;
    d.values = {1 + i / 10.0};
    d.npv_usd = (10 - i) * 1e9;  // not in order: the percentiles sort
    d.first_full_month = i == 4 ? -1 : 3 + i;
    d.met = {i < 7 ? 1 : 0};
    d.stopped_by = "gap";
    r.draws.push_back(d);
  }
  const auto j = McSummaryJson(r);
  EXPECT_EQ(j["npv_usd"]["p10"], 1e9);
  EXPECT_EQ(j["npv_usd"]["p50"], 5e9);
  EXPECT_EQ(j["npv_usd"]["p90"], 9e9);
  EXPECT_DOUBLE_EQ(j["npv_usd"]["mean"].get<double>(), 5.5e9);
  // Months 3, 4, 5, 6, 8, ..., 12, never: P10 = rank 1 (2026-04), P50 = rank 5
  // (month 8: 2026-09), P90 = rank 9 (month 12: 2027-01); never ranks last.
  EXPECT_EQ(j["first_full_month"]["p10"], "2026-04");
  EXPECT_EQ(j["first_full_month"]["p50"], "2026-09");
  EXPECT_EQ(j["first_full_month"]["p90"], "2027-01");
  EXPECT_DOUBLE_EQ(j["first_full_month"]["never_share"].get<double>(), 0.1);
  EXPECT_EQ(j["contracts"][0]["met_on_time"], 7);
  EXPECT_DOUBLE_EQ(j["contracts"][0]["p_met_on_time"].get<double>(), 0.7);
  // Rows round-trip, errors with commas and quotes too.
  McDraw bad;
  bad.index = 3;
  bad.values = {1.2345678901234567};
  bad.ok = false;
  bad.error = "x.toml:3: field 'a, b': \"quoted\"";
  bad.met = {0};
  for (const McDraw& d : {r.draws[4], bad}) {
    const std::string row = FormatMcDrawRow(r.id, d);
    auto back = ParseMcDrawRow(r.id, row, "t", 1);
    ASSERT_TRUE(back) << back.error().ToString() << "\n" << row;
    EXPECT_EQ(FormatMcDrawRow(r.id, *back), row);
    EXPECT_EQ(back->error, d.error);
    EXPECT_EQ(back->values, d.values);
  }
}

TEST(MonteCarlo, MergeRefusesGapsOverlapsAndOtherRuns) {
  auto s = ReadScenario(SmallPath());
  ASSERT_TRUE(s);
  const McRun a = RunMc(*s, 6, 0, 3, 1), b = RunMc(*s, 6, 3, 6, 1), c = RunMc(*s, 6, 2, 6, 1), other = RunMc(*s, 6, 3, 6, 1, 99);
  EXPECT_TRUE(MergeMonteCarlo({a, b}, {"a", "b"}));
  auto gap = MergeMonteCarlo({a}, {"a"});
  ASSERT_FALSE(gap);
  EXPECT_NE(gap.error().message.find("draws 3..5 are in no slice"), std::string::npos) << gap.error().ToString();
  auto overlap = MergeMonteCarlo({a, c}, {"a", "c"});
  ASSERT_FALSE(overlap);
  EXPECT_NE(overlap.error().message.find("draws 2..2 are in more than one slice"), std::string::npos) << overlap.error().ToString();
  auto seed = MergeMonteCarlo({a, other}, {"a", "other"});
  ASSERT_FALSE(seed);
  EXPECT_EQ(seed.error().source, "other");
  EXPECT_NE(seed.error().message.find("seed 5 vs 99"), std::string::npos) << seed.error().ToString();
}

TEST(MonteCarloCli, BadFlagsExitTwoNamingTheFlag) {
  const std::string dir = testing::TempDir();
  const std::string plain = dir + "/plain.toml";
  std::ofstream(plain) << SmallWith("");
  const std::string bin = std::string(RACKSCALE_BIN) + " plan " + SmallPath() + " -q ";
  struct Case {
    std::string args, want;
  };
  for (const Case& c : std::vector<Case>{
           {"--draws 0:2", "--draws: applies only with --monte-carlo N"},
           {"--seed 3", "--seed: applies only with --monte-carlo N"},
           {"--jobs 2", "--jobs: applies only with --monte-carlo N"},
           {"--monte-carlo 0", "--monte-carlo: expected a whole number in [1, 100000], got '0'"},
           {"--monte-carlo 100001", "expected a whole number in [1, 100000]"},
           {"--monte-carlo x", "--monte-carlo"},
           {"--monte-carlo 10 --draws 5:3", "--draws: expected 0 <= START < END <= N = 10, got 5:3"},
           {"--monte-carlo 10 --draws 0:11", "--draws: expected 0 <= START < END <= N = 10, got 0:11"},
           {"--monte-carlo 10 --draws 3", "--draws: expected START:END"},
           {"--monte-carlo 10 --jobs 0", "--jobs: expected a whole number in [1, 1024]"},
       }) {
    std::string out;
    EXPECT_EQ(testing::RunCommand(bin + c.args + " 2>&1", &out), 2) << c.args << ": " << out;
    EXPECT_NE(out.find(c.want), std::string::npos) << c.args << ": " << out;
  }
  std::string out;
  EXPECT_EQ(testing::RunCommand(std::string(RACKSCALE_BIN) + " plan " + plain + " --monte-carlo 3 2>&1", &out), 2) << out;
  EXPECT_NE(out.find("field 'uncertainty': --monte-carlo needs an [uncertainty] table"), std::string::npos) << out;
  // plan-merge: a folder that is not a slice.
  EXPECT_EQ(testing::RunCommand(std::string(RACKSCALE_BIN) + " plan-merge --out " + dir + "/m " + dir + " 2>&1", &out), 1) << out;
  EXPECT_NE(out.find("mc_summary.json"), std::string::npos) << out;
}

TEST(MonteCarloCli, SlicesOnTheCommandLineMergeToTheFullRun) {
  const std::string dir = testing::TempDir();
  const std::string bin = std::string(RACKSCALE_BIN) + " plan " + SmallPath() + " --monte-carlo 7 --seed 11 -q ";
  std::string out;
  ASSERT_EQ(testing::RunCommand(bin + "--jobs 2 --out " + dir + "/full 2>&1", &out), 0) << out;
  ASSERT_EQ(testing::RunCommand(bin + "--draws 0:3 --jobs 1 --out " + dir + "/s0 2>&1", &out), 0) << out;
  ASSERT_EQ(testing::RunCommand(bin + "--draws 3:7 --out " + dir + "/s1 2>&1", &out), 0) << out;
  ASSERT_EQ(testing::RunCommand(std::string(RACKSCALE_BIN) + " plan-merge -q --out " + dir + "/merged " + dir + "/s1 " + dir + "/s0 2>&1", &out), 0)
      << out;
  EXPECT_EQ(Files(dir + "/merged"), Files(dir + "/full"));
  // The summary on stdout.
  ASSERT_EQ(testing::RunCommand(std::string(RACKSCALE_BIN) + " plan " + SmallPath() + " --monte-carlo 7 --seed 11 --no-timing 2>&1", &out), 0)
      << out;
  EXPECT_NE(out.find("Monte Carlo: 7 draws of 'small', seed 11, 4 uncertain inputs"), std::string::npos) << out;
  EXPECT_NE(out.find("contract lab met on time in"), std::string::npos) << out;
}

TEST(BrowserReport, MonteCarloReportDrawsEveryChart) {
  auto s = ReadScenario(SmallPath());
  ASSERT_TRUE(s);
  const std::string dir = testing::TempDir();
  const McRun r = RunMc(*s, 20, 0, 20, 2);
  const HtmlReport rep = McReport(r);
  ASSERT_EQ(rep.sections.size(), 1u);
  ASSERT_EQ(rep.sections[0].charts.size(), 3u);
  EXPECT_EQ(rep.sections[0].charts[0].id, "mc-npv");
  // The histogram's rules sit at the summary's percentiles ($B).
  const auto j = McSummaryJson(r);
  const auto& rules = rep.sections[0].charts[0].spec["layer"][1]["data"]["values"];
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0]["percentile"], "P10");
  EXPECT_DOUBLE_EQ(rules[1]["npv"].get<double>(), j["npv_usd"]["p50"].get<double>() / 1e9);
  EXPECT_EQ(rep.sections[0].charts[0].spec["layer"][0]["data"]["values"].size(), 20u);
  ASSERT_TRUE(WriteMonteCarlo(r, dir));
  for (int width : {800, 1400}) {
    testing::BrowserResult b = testing::RenderInBrowser(dir + "/mc_report.html", width);
    RACKSCALE_REQUIRE_BROWSER_OR_SKIP(b);
    ASSERT_TRUE(b.ran) << b.failure;
    EXPECT_EQ(b.errors, 0) << b.error_text;
    EXPECT_EQ(b.warnings, 0) << b.warning_text;
    EXPECT_EQ(b.charts, 3);
    EXPECT_EQ(b.rendered, 3);
    EXPECT_EQ(b.layout_issues, 0) << b.layout_text;
  }
}

}  // namespace
}  // namespace rackscale
