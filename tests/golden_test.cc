// Golden and determinism tests. The KTH-SP2 digests pin the simulator's
// per-job output on a real log; regenerate them only on purpose (see
// docs/testing.md), never to make a failing test pass.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "report/metrics.h"
#include "report/writers.h"
#include "test_util.h"
#include "report/fleet_report.h"
#include "report/verify.h"
#include "base/file.h"
#include "sim/fleet_sim.h"
#include "workload/ai_trace.h"
#include "workload/generate.h"

namespace rackscale {
namespace {

// sha256 of jobs.csv from `rackscale sim --cluster flat:100 --trace KTH... --policy P`.
constexpr const char* kKthFifoDigest =
    "08d57b5c88d1922feb9040d149ba8f16367306e0e11415f61e7b566743401967";
constexpr const char* kKthEasyDigest =
    "2d0053d3ce4d43d7283e04cb7a2e94c4ca049f4911a2632761122993a6693bfd";

using testing::Slurp;

TEST(Golden, KthSp2JobsCsvDigest) {
  RACKSCALE_REQUIRE_TRACE(path, "swf/KTH-SP2-1996-2.1-cln.swf.gz");
  auto w = ReadTrace(path, ReadOptions{});
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  for (auto [policy, digest] : {std::pair{QueuePolicy::kFifo, kKthFifoDigest},
                                std::pair{QueuePolicy::kEasy, kKthEasyDigest}}) {
    FlatSimOptions o;
    o.slots = 100;
    o.policy = policy;
    FlatSimResult r = SimulateFlat(*w, o).value();
    std::string csv = FormatJobsCsv(*w, r);
    EXPECT_EQ(testing::Sha256Hex(csv), digest) << QueuePolicyName(policy);
    FlatSummary s = Summarize(*w, r, 100);
    EXPECT_EQ(s.jobs, 28476);
    EXPECT_EQ(s.invalid, 9);
    EXPECT_EQ(s.rejected, 0);
  }
}

// The generated workload of the small fleet scenarios.
AiGenParams SmallFleetWorkload() {
  AiGenParams g;
  g.jobs = 3000;
  g.days = 7;
  g.tenants = 3;
  g.seed = 11;
  g.gang_fraction = 0.01;
  g.max_gang = 256;
  g.load = 0.7;
  g.capacity_gpus = 352;
  return g;
}

// A small fleet scenario pinned end to end: examples/small.toml with
// examples/tenants-small.toml (a dedicated cluster lent out, a quota cohort)
// and `rackscale gen ai --jobs 3000 --days 7 --tenants 3 --seed 11
// --gang-fraction 0.01 --max-gang 256 --load 0.7 --gpus 352`.
TEST(Golden, SmallFleetScenario) {
  const AiGenParams g = SmallFleetWorkload();
  auto w = GenerateAi(g);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(testing::Sha256Hex(FormatAiCsv(*w)),
            "c2588672e65e975174c357a2c234a59fb674aa926d197111dcf9eea80e815ac6");
  auto fleet = ReadFleetToml(std::string(RACKSCALE_SOURCE_DIR) + "/examples/small.toml");
  ASSERT_TRUE(fleet.ok()) << fleet.error().ToString();
  auto tenants = ReadTenantsToml(std::string(RACKSCALE_SOURCE_DIR) + "/examples/tenants-small.toml");
  ASSERT_TRUE(tenants.ok()) << tenants.error().ToString();
  FleetSimOptions o;
  o.tenants = *tenants;
  auto r = SimulateFleet(*fleet, &*w, o);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(testing::Sha256Hex(FormatFleetJobsCsv(*w, *r)),
            "19566c6ae39fd8c2e437fd6cf3734cf51d221db06264a6b070af0cbcf72c26c9");
  EXPECT_EQ(testing::Sha256Hex(FormatTenantsCsv(*r)),
            "4fbb0a03d137b71d5ea0d1a1753772a91ab80cd07f8c551a9c8e8c43fec07d02");
  // A second run on the same inputs gives the same bytes.
  auto w2 = GenerateAi(g);
  auto r2 = SimulateFleet(*fleet, &*w2, o);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(FormatFleetJobsCsv(*w, *r), FormatFleetJobsCsv(*w2, *r2));
}

// The fleet over time on the same scenario: node failures (seed 5) with
// Young/Daly checkpoints, east throttled at a cap just under its peak, a rate-curve
// inference service, hourly time series. Pinned, and identical twice.
TEST(Golden, SmallFleetOverTime) {
  const AiGenParams g = SmallFleetWorkload();
  auto fleet = ReadFleetToml(std::string(RACKSCALE_SOURCE_DIR) + "/examples/small.toml");
  ASSERT_TRUE(fleet.ok());
  fleet->sites[0].power_cap_mw = 0.55;  // east peaks at 0.57 MW uncapped
  // Failures often enough to matter on 352 GPUs in a few weeks.
  for (AcceleratorType& a : fleet->accelerators) a.failures_per_year = 5;
  auto tenants = ReadTenantsToml(std::string(RACKSCALE_SOURCE_DIR) + "/examples/tenants-small.toml");
  ASSERT_TRUE(tenants.ok());
  FleetSimOptions o;
  o.tenants = *tenants;
  o.failures = true;
  o.seed = 5;
  o.checkpoint_interval = kAutoCheckpoint;
  o.checkpoint_cost = 120;
  o.restart_cost = 600;
  o.power = PowerPolicy::kThrottle;
  o.services = {testing::RateCurveService("t1", 4, 1, 6, "0:4000,43200:20000,86399:4000")};
  std::string first;
  for (int run = 0; run < 2; ++run) {
    auto w = GenerateAi(g);
    ASSERT_TRUE(w.ok());
    auto r = SimulateFleet(*fleet, &*w, o);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_GT(r->failures, 10);
    EXPECT_GT(r->sites[0].throttled_seconds, 0);
    const std::string all = FormatFleetJobsCsv(*w, *r) + FormatTenantsCsv(*r) + FormatSitesCsv(*r) +
                            FormatTimeseriesCsv(*r) + FormatServicesCsv(*r);
    if (run == 0) {
      // The pinned outputs agree with each other (rackscale verify).
      const std::string dir = testing::TempDir() + "/golden-over-time";
      ASSERT_TRUE(MakeDirs(dir).ok());
      FleetRunInfo info;
      info.timing = false;
      ASSERT_TRUE(WriteFile(dir + "/jobs.csv", FormatFleetJobsCsv(*w, *r)).ok());
      ASSERT_TRUE(WriteFile(dir + "/tenants.csv", FormatTenantsCsv(*r)).ok());
      ASSERT_TRUE(WriteFile(dir + "/sites.csv", FormatSitesCsv(*r)).ok());
      ASSERT_TRUE(WriteFile(dir + "/timeseries.csv", FormatTimeseriesCsv(*r)).ok());
      ASSERT_TRUE(WriteFile(dir + "/services.csv", FormatServicesCsv(*r)).ok());
      ASSERT_TRUE(WriteFile(dir + "/summary.json", FormatFleetSummaryJson(*w, *r, info)).ok());
      const VerifyResult v = VerifyOutputs(dir);
      for (const std::string& p : v.problems) ADD_FAILURE() << p;
      EXPECT_GT(v.checks, 1000);
      first = all;
      EXPECT_EQ(testing::Sha256Hex(all),
                "a3c6ad2b95b5334ee99163ac39b8a713f8d1d1f145a2c6af915afa0de5096198");
    } else {
      EXPECT_EQ(all, first);
    }
  }
}

TEST(Determinism, CliTwiceGivesIdenticalBytes) {
  std::string dir = testing::TempDir();
  std::string out;
  std::string gen = std::string(RACKSCALE_BIN) + " gen flat --jobs 20000 --slots 512 --load 0.95 " +
                    "--seed 11 --out " + dir + "/w.csv";
  ASSERT_EQ(testing::RunCommand(gen, &out), 0) << out;
  for (const char* policy : {"fifo", "easy"}) {
    for (const char* run : {"a", "b"}) {
      std::string cmd = std::string(RACKSCALE_BIN) + " sim --cluster flat:512 --policy " + policy +
                        " --trace " + dir + "/w.csv --no-timing -q --out " + dir + "/" + policy +
                        run;
      ASSERT_EQ(testing::RunCommand(cmd, &out), 0) << out;
    }
    std::string a = dir + "/" + policy + "a/", b = dir + "/" + policy + "b/";
    EXPECT_EQ(Slurp(a + "jobs.csv"), Slurp(b + "jobs.csv"));
    EXPECT_EQ(Slurp(a + "summary.json"), Slurp(b + "summary.json"));
    EXPECT_GT(Slurp(a + "jobs.csv").size(), 20000u * 10);
  }
  // The generator too: same seed, same bytes; another seed, other bytes.
  ASSERT_EQ(testing::RunCommand(gen + "2", &out), 0);
  EXPECT_EQ(Slurp(dir + "/w.csv"), Slurp(dir + "/w.csv2"));
  std::string other = std::string(RACKSCALE_BIN) +
                      " gen flat --jobs 20000 --slots 512 --load 0.95 --seed 12";
  ASSERT_EQ(testing::RunCommand(other, &out), 0);
  EXPECT_NE(out, Slurp(dir + "/w.csv"));
}

}  // namespace
}  // namespace rackscale
