// `rackscale run`'s outputs agree with each other: the report shows what the
// files say, sim/daily.csv is the time series' daily mean, `rackscale sim` on
// sim/ repeats the run, and --json prints the documents the files hold.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report/report_check.h"
#include "report/verify.h"
#include "test_util.h"

namespace rackscale {
namespace {

using testing::Slurp;

// One run of the small scenario with two ranges, shared by the tests here
// (in a directory of its own: TempDir() is each test's, and wiped when asked
// for), removed when the process ends.
const std::string& SmallRun() {
  struct Dir {
    std::string path = (std::filesystem::temp_directory_path() / ("rackscale-run-small-" + std::to_string(getpid()))).string();
    ~Dir() { std::filesystem::remove_all(path); }
  };
  static const Dir holder;
  static const std::string dir = [] {
    const std::string d = holder.path;
    std::filesystem::remove_all(d);
    std::string out;
    const std::string cmd = std::string(RACKSCALE_BIN) + " run " + RACKSCALE_SOURCE_DIR +
                            "/scenarios/small.toml --no-timing -q --out " + d +
                            " --vary 'hardware.*.usd_per_domain_scale=0.8:1.2' --vary 'sites.*.lead_months=3:12:3'";
    if (testing::RunCommand(cmd, &out) != 0) return std::string("FAILED: ") + out;
    return d;
  }();
  return dir;
}

TEST(ParseDisplayed, ReadsTheReportsFormats) {
  double v, tol;
  ASSERT_TRUE(ParseDisplayed("$65.8B", &v, &tol));
  EXPECT_DOUBLE_EQ(v, 65.8e9);
  EXPECT_DOUBLE_EQ(tol, 0.05e9);
  ASSERT_TRUE(ParseDisplayed("-$26.2B", &v, &tol));
  EXPECT_DOUBLE_EQ(v, -26.2e9);
  ASSERT_TRUE(ParseDisplayed("81.5%", &v, &tol));
  EXPECT_NEAR(v, 0.815, 1e-12);
  EXPECT_NEAR(tol, 0.0005, 1e-12);
  ASSERT_TRUE(ParseDisplayed("6.2 h", &v, &tol));
  EXPECT_NEAR(v, 6.2 * 3600, 1e-9);
  ASSERT_TRUE(ParseDisplayed("1,234", &v, &tol));
  EXPECT_EQ(v, 1234);
  EXPECT_EQ(tol, 0.5);
  ASSERT_TRUE(ParseDisplayed("880 MW", &v, &tol));
  EXPECT_EQ(v, 880);
  EXPECT_FALSE(ParseDisplayed("2026-12", &v, &tol));
  EXPECT_FALSE(ParseDisplayed("lead time", &v, &tol));
}

TEST(RunReport, EveryTracedFigureEqualsTheFileItNames) {
  const std::string& dir = SmallRun();
  ASSERT_EQ(dir.rfind("FAILED", 0), std::string::npos) << dir;
  const ReportCheck c = CheckReport(dir);
  for (const std::string& p : c.problems) ADD_FAILURE() << p;
  // Every chart is traced, and so are the headline cards and the figure tables.
  EXPECT_EQ(c.untraced_charts, 0);
  EXPECT_EQ(c.charts, 15);
  EXPECT_GT(c.points, 500);
  EXPECT_GT(c.cells, 60);
}

TEST(RunReport, TheCheckFindsAFigureThatDiffers) {
  const std::string& dir = SmallRun();
  ASSERT_EQ(dir.rfind("FAILED", 0), std::string::npos) << dir;
  const std::string copy = testing::TempDir() + "/run-small-altered";
  std::filesystem::remove_all(copy);
  std::filesystem::copy(dir, copy, std::filesystem::copy_options::recursive);
  // A chart's file: one month of GPUs contracted.
  {
    std::string csv = Slurp(copy + "/plan.csv");
    const auto line = csv.find("\n12,");
    ASSERT_NE(line, std::string::npos);
    const auto c1 = csv.find(',', csv.find(',', line + 1) + 1);  // after month and date
    csv.insert(c1 + 1, "9");
    std::ofstream(copy + "/plan.csv") << csv;
  }
  ReportCheck c = CheckReport(copy);
  ASSERT_FALSE(c.problems.empty());
  EXPECT_NE(c.problems.front().find("chart-gpus"), std::string::npos) << c.problems.front();
  // A card's file: the simulated utilization.
  std::filesystem::copy_file(dir + "/plan.csv", copy + "/plan.csv", std::filesystem::copy_options::overwrite_existing);
  {
    auto j = nlohmann::json::parse(Slurp(copy + "/summary.json"));
    j["simulation"]["summary"]["gpu_utilization"] = j["simulation"]["summary"]["gpu_utilization"].get<double>() + 0.01;
    std::ofstream(copy + "/summary.json") << j.dump(2);
  }
  c = CheckReport(copy);
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_NE(c.problems.front().find("gpu_utilization"), std::string::npos) << c.problems.front();
}

// Daily means weigh each hour by the seconds simulated; the window's hours
// are whole here, so the daily mean is the plain mean of its hours' rows
// (site rows summed per hour), to the CSVs' rounding.
TEST(RunReport, DailyCsvIsTheDailyMeanOfTheTimeSeries) {
  const std::string& dir = SmallRun();
  ASSERT_EQ(dir.rfind("FAILED", 0), std::string::npos) << dir;
  struct Sum {
    std::map<int64_t, double> online, busy;  // by hour
  };
  Sum sum;
  {
    std::istringstream in(Slurp(dir + "/sim/timeseries.csv"));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ls(line);
      for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
      if (f.size() < 5 || f[1] != "site") continue;
      const int64_t hour = std::llround(std::stod(f[0]));
      sum.online[hour] += std::stod(f[3]);
      sum.busy[hour] += std::stod(f[4]);
    }
  }
  const auto summary = nlohmann::json::parse(Slurp(dir + "/sim/summary.json"));
  const double window_hours = summary["window_end"].get<double>() / 3600;
  std::istringstream in(Slurp(dir + "/sim/daily.csv"));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("day,date,gpus_online,gpus_busy,", 0), 0u) << line;
  int days = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
    const int64_t day = std::stoll(f[0]);
    double online = 0, busy = 0;
    int hours = 0;
    for (int64_t h = day * 24; h < day * 24 + 24 && h < window_hours; ++h) {
      online += sum.online[h];
      busy += sum.busy[h];
      ++hours;
    }
    ASSERT_GT(hours, 0) << line;
    EXPECT_NEAR(std::stod(f[2]), online / hours, 0.01 * 24) << line;
    EXPECT_NEAR(std::stod(f[3]), busy / hours, 0.01 * 24) << line;
    ++days;
  }
  // The window, and not a day past it.
  EXPECT_EQ(days, static_cast<int>(std::ceil(window_hours / 24)));
}

TEST(RunReport, SimOnTheWrittenInputsRepeatsTheRun) {
  const std::string& dir = SmallRun();
  ASSERT_EQ(dir.rfind("FAILED", 0), std::string::npos) << dir;
  const auto summary = nlohmann::json::parse(Slurp(dir + "/summary.json"));
  ASSERT_EQ(summary["schema"], "rackscale.run/1");
  std::string rerun = summary["simulation"]["rerun"].get<std::string>();
  ASSERT_EQ(rerun.rfind("rackscale sim ", 0), 0u) << rerun;
  rerun = std::string(RACKSCALE_BIN) + rerun.substr(9) + " --no-timing -q";
  std::string out;
  ASSERT_EQ(testing::RunCommand("cd " + dir + "/sim && " + rerun, &out), 0) << out;
  for (const char* f : {"jobs.csv", "tenants.csv", "sites.csv", "timeseries.csv", "services.csv"}) {
    EXPECT_EQ(Slurp(dir + "/sim/rerun/" + f), Slurp(dir + "/sim/" + f)) << f;
  }
  auto a = nlohmann::json::parse(Slurp(dir + "/sim/summary.json"));
  auto b = nlohmann::json::parse(Slurp(dir + "/sim/rerun/summary.json"));
  for (const char* k : {"trace", "cluster", "tenants_file"}) {
    a.erase(k);
    b.erase(k);
  }
  EXPECT_EQ(a, b);
  // And the run's summary.json holds the simulation's summary as written.
  auto c = summary["simulation"]["summary"];
  auto d = nlohmann::json::parse(Slurp(dir + "/sim/summary.json"));
  EXPECT_EQ(c, d);
}

TEST(RunReport, JsonFlagPrintsTheDocumentTheFileHolds) {
  const std::string dir = testing::TempDir() + "/json-flags";
  const std::string bin = RACKSCALE_BIN;
  const std::string small = std::string(RACKSCALE_SOURCE_DIR) + "/scenarios/small.toml";
  std::string out;
  ASSERT_EQ(testing::RunCommand(bin + " plan " + small + " --no-timing --json --out " + dir + "/plan 2>/dev/null", &out), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out), nlohmann::json::parse(Slurp(dir + "/plan/plan.json")));
  ASSERT_EQ(testing::RunCommand(bin + " run " + small + " --no-timing --no-sim --json --out " + dir + "/run 2>/dev/null", &out), 0) << out;
  const auto run = nlohmann::json::parse(out);
  EXPECT_EQ(run, nlohmann::json::parse(Slurp(dir + "/run/summary.json")));
  EXPECT_EQ(run["schema"], "rackscale.run/1");
  EXPECT_TRUE(run["simulation"].is_null());
  EXPECT_EQ(run["plan"], nlohmann::json::parse(Slurp(dir + "/run/plan.json")));
  ASSERT_EQ(testing::RunCommand(bin + " gen ai --jobs 300 --days 2 --tenants 2 --seed 3 --out " + dir + "/ai.csv", &out), 0) << out;
  ASSERT_EQ(testing::RunCommand(bin + " sim --cluster " + RACKSCALE_SOURCE_DIR + "/examples/small.toml --trace " + dir +
                                    "/ai.csv --no-timing --json --out " + dir + "/sim 2>/dev/null",
                                &out),
            0)
      << out;
  EXPECT_EQ(out, Slurp(dir + "/sim/summary.json"));
  ASSERT_EQ(testing::RunCommand(bin + " gen flat --jobs 200 --slots 64 --seed 3 --out " + dir + "/flat.csv", &out), 0) << out;
  ASSERT_EQ(testing::RunCommand(bin + " sim --cluster flat:64 --trace " + dir + "/flat.csv --no-timing --json --out " + dir +
                                    "/flat 2>/dev/null",
                                &out),
            0)
      << out;
  EXPECT_EQ(out, Slurp(dir + "/flat/summary.json"));
  // A failed write to stdout is an error (exit 1), not a silent success.
  EXPECT_EQ(testing::RunCommand(bin + " plan " + small + " --no-timing --json > /dev/full 2>/dev/null", &out), 1);
  EXPECT_EQ(testing::RunCommand(bin + " gen flat --jobs 50 > /dev/full 2>/dev/null", &out), 1);
  EXPECT_EQ(testing::RunCommand(bin + " cluster " + RACKSCALE_SOURCE_DIR + "/examples/small.toml > /dev/full 2>/dev/null", &out), 1);
}

TEST(RunReport, VerifyPassesOnTheRunsOutputs) {
  const std::string& dir = SmallRun();
  ASSERT_EQ(dir.rfind("FAILED", 0), std::string::npos) << dir;
  const VerifyResult v = VerifyOutputs(dir);
  for (const std::string& p : v.problems) ADD_FAILURE() << p;
  EXPECT_GT(v.checks, 1000);
}

TEST(RunReport, OneUtilizationEverywhere) {
  const std::string& dir = SmallRun();
  ASSERT_EQ(dir.rfind("FAILED", 0), std::string::npos) << dir;
  const auto sim = nlohmann::json::parse(Slurp(dir + "/sim/summary.json"));
  const double u = sim["gpu_utilization"].get<double>();
  EXPECT_NEAR(u, sim["busy_gpu_hours"].get<double>() / sim["online_gpu_hours"].get<double>(), 1e-12);
  // The window is the simulated months from day 0, not the drain after it.
  const auto run = nlohmann::json::parse(Slurp(dir + "/summary.json"));
  EXPECT_EQ(sim["window_start"], 0);
  EXPECT_NEAR(sim["window_end"].get<double>(), run["simulation"]["window_days"].get<double>() * 86400, 1);
}

}  // namespace
}  // namespace rackscale

namespace rackscale {
namespace {

TEST(RunReport, PackJsonPrintsItsSummary) {
  RACKSCALE_REQUIRE_TRACE(nodes, "openb/openb_node_list_gpu_node.csv");
  RACKSCALE_REQUIRE_TRACE(pods, "openb/openb_pod_list_default.csv");
  const std::string dir = testing::TempDir() + "/pack";
  std::string out;
  ASSERT_EQ(testing::RunCommand(std::string(RACKSCALE_BIN) + " pack --nodes " + nodes + " --pods " + pods +
                                    " --policy fgd --seed 42 --no-timing --json --out " + dir + " 2>/dev/null",
                                &out),
            0)
      << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["schema"], "rackscale.pack.summary");
  EXPECT_EQ(out, Slurp(dir + "/summary.json"));
}

}  // namespace
}  // namespace rackscale

namespace rackscale {
namespace {

TEST(CliErrors, UnknownCommandsAndParserErrorsNameTheCulprit) {
  std::string out;
  EXPECT_EQ(testing::RunCommand(std::string(RACKSCALE_BIN) + " simm 2>&1", &out), 2);
  EXPECT_NE(out.find("rackscale: error: unknown command 'simm'; did you mean 'sim'?"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(std::string(RACKSCALE_BIN) + " frobnicate 2>&1", &out), 2);
  EXPECT_NE(out.find("unknown command 'frobnicate'"), std::string::npos) << out;
  EXPECT_EQ(out.find("did you mean"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(std::string(RACKSCALE_BIN) + " gen flat --jobs abc 2>&1", &out), 2);
  EXPECT_EQ(out.rfind("rackscale: error: ", 0), 0u) << out;
  EXPECT_NE(out.find("--jobs"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(std::string(RACKSCALE_BIN) + " --help > /dev/null 2>&1", &out), 0);
}

}  // namespace
}  // namespace rackscale

namespace rackscale {
namespace {

// sim's numeric flags refuse negative, NaN, infinite and out-of-range values
// naming the flag, and writes nothing; fleet-only flags on a flat pool are an
// error, not ignored.
TEST(CliErrors, SimFlagsOutOfRangeAreRefusedNamingTheFlag) {
  const std::string dir = testing::TempDir();
  const std::string bin = RACKSCALE_BIN;
  std::string out;
  ASSERT_EQ(testing::RunCommand(bin + " gen ai --jobs 50 --days 1 --tenants 2 --seed 2 --out " + dir + "/ai.csv", &out), 0) << out;
  ASSERT_EQ(testing::RunCommand(bin + " gen flat --jobs 20 --out " + dir + "/flat.csv", &out), 0) << out;
  const std::string fleet = bin + " sim --cluster " + RACKSCALE_SOURCE_DIR + "/examples/small.toml --trace " + dir + "/ai.csv -q";
  struct Case {
    std::string flag, value;
  };
  const std::vector<Case> cases = {{"--seed", "-1"},          {"--starve-after", "-5"}, {"--starve-after", "nan"},
                                   {"--starve-after", "1e300"}, {"--horizon", "-3"},      {"--horizon", "nan"},
                                   {"--horizon", "1e9"},        {"--step", "0.0001"},     {"--step", "-1"},
                                   {"--window", "-2"},          {"--window", "inf"},      {"--repair-hours", "nan"},
                                   {"--failure-rate", "-1"},    {"--checkpoint", "-5"}};
  for (const Case& c : cases) {
    const std::string o = dir + "/out-" + c.flag.substr(2) + "-" + c.value;
    EXPECT_EQ(testing::RunCommand(fleet + " --out " + o + " " + c.flag + " " + c.value + " 2>&1", &out), 2) << c.flag << " " << c.value;
    EXPECT_NE(out.find(c.flag), std::string::npos) << c.flag << " " << c.value << ": " << out;
    EXPECT_FALSE(std::filesystem::exists(o + "/summary.json")) << c.flag << " " << c.value;
  }
  for (const char* flag : {"--failures", "--power throttle", "--tenants x.toml", "--step 2"}) {
    EXPECT_EQ(testing::RunCommand(bin + " sim --cluster flat:4 --trace " + dir + "/flat.csv --out " + dir + "/flat " + flag + " 2>&1", &out), 2)
        << flag;
    EXPECT_NE(out.find(std::string(flag).substr(0, std::string(flag).find(' '))), std::string::npos) << flag << ": " << out;
    EXPECT_NE(out.find("flat pool"), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace rackscale
