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
#include "workload/generate.h"

namespace rackscale {
namespace {

// sha256 of jobs.csv from `rackscale sim --cluster flat:100 --trace KTH... --policy P`.
constexpr const char* kKthFifoDigest =
    "08d57b5c88d1922feb9040d149ba8f16367306e0e11415f61e7b566743401967";
constexpr const char* kKthEasyDigest =
    "2d0053d3ce4d43d7283e04cb7a2e94c4ca049f4911a2632761122993a6693bfd";

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

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
