// End-to-end: the binary's exit codes, messages and outputs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace rackscale {
namespace {

std::string Bin() { return RACKSCALE_BIN; }

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(Cli, HelpOnEveryCommand) {
  std::string out;
  for (const char* cmd : {"--help", "sim --help", "gen --help", "gen flat --help", "gen ai --help",
                          "pack --help", "cluster --help", "ettr --help", "inference --help", "agent --help"}) {
    EXPECT_EQ(testing::RunCommand(Bin() + " " + cmd, &out), 0) << cmd;
    EXPECT_NE(out.find("Usage"), std::string::npos) << cmd << ": " << out;
  }
}

TEST(Cli, BadArgumentsExit2) {
  std::string out;
  EXPECT_EQ(testing::RunCommand(Bin() + " sim --cluster flat:10", &out), 2);
  EXPECT_EQ(testing::RunCommand(Bin() + " frobnicate", &out), 2);
  EXPECT_EQ(testing::RunCommand(Bin() + " sim --cluster flat:x --trace a --out b", &out), 2);
  EXPECT_NE(out.find("--cluster"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(Bin() + " sim --cluster flat:4 --policy sjf --trace a --out b", &out), 2);
  EXPECT_NE(out.find("--policy: expected one of fifo, easy, fairshare, priority, got 'sjf'"), std::string::npos) << out;
  // The fleet-over-time flags name themselves.
  const std::string fleet = Bin() + " sim --cluster " + std::string(RACKSCALE_SOURCE_DIR) +
                            "/examples/llama3-16k.toml --trace " + std::string(RACKSCALE_SOURCE_DIR) +
                            "/examples/llama3-16k.csv --out " + testing::TempDir() + "/bad ";
  EXPECT_EQ(testing::RunCommand(fleet + "--power cap", &out), 2);
  EXPECT_NE(out.find("--power: expected one of none, admit, throttle, got 'cap'"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(fleet + "--checkpoint auto", &out), 2);
  EXPECT_NE(out.find("auto needs --checkpoint-cost"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(fleet + "--checkpoint often", &out), 2);
  EXPECT_NE(out.find("field 'checkpoint'"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(fleet + "--repair-hours 0", &out), 2);
  EXPECT_NE(out.find("repair-hours"), std::string::npos) << out;
}

// issue 12: --time-limit is checked before any use (a float that would
// overflow the deadline, NaN, 0, negatives), exit 2 naming the flag.
TEST(Cli, PlanTimeLimitOutOfRangeIsRejected) {
  std::string out;
  const std::string plan = Bin() + " plan " + std::string(RACKSCALE_SOURCE_DIR) + "/scenarios/small.toml -q --time-limit ";
  for (const char* v : {"nan", "inf", "-inf", "-1", "0", "1e10", "604801", "1e308"}) {
    EXPECT_EQ(testing::RunCommand(plan + v, &out), 2) << v;
    EXPECT_NE(out.find("--time-limit"), std::string::npos) << v << ": " << out;
  }
  EXPECT_EQ(testing::RunCommand(plan + "5", &out), 0) << out;
}

TEST(Cli, MissingFileExits1AndMalformedFileExits2WithFileLineField) {
  std::string dir = testing::TempDir();
  std::string out;
  EXPECT_EQ(testing::RunCommand(Bin() + " sim --cluster flat:4 --trace " + dir +
                                    "/nope.csv --out " + dir + "/o",
                                &out),
            1);
  EXPECT_NE(out.find("nope.csv: cannot open"), std::string::npos) << out;
  Write(dir + "/bad.csv", "id,submit,runtime,size\n1,0,10,2\n2,5,ten,1\n");
  EXPECT_EQ(testing::RunCommand(Bin() + " sim --cluster flat:4 --trace " + dir +
                                    "/bad.csv --out " + dir + "/o",
                                &out),
            2);
  EXPECT_NE(out.find("bad.csv:3: field 'runtime': expected an integer, got 'ten'"),
            std::string::npos)
      << out;
  // --skip-bad-lines: runs, reports the skipped line, counts it in the summary.
  EXPECT_EQ(testing::RunCommand(Bin() + " sim --cluster flat:4 --skip-bad-lines --trace " + dir +
                                    "/bad.csv --out " + dir + "/o",
                                &out),
            0)
      << out;
  EXPECT_NE(out.find("skipped: " + dir + "/bad.csv:3"), std::string::npos) << out;
  auto summary = nlohmann::json::parse(std::ifstream(dir + "/o/summary.json"));
  EXPECT_EQ(summary["bad_lines"], 1);
  EXPECT_EQ(summary["jobs"], 1);
}

TEST(Cli, RuntimesThatWouldOverflowTheClockAreRejected) {
  // Each runtime passes the reader's 2^50 bound, but 5000 of them in a row
  // on one slot would push the clock past 2^62.
  std::string dir = testing::TempDir();
  std::string csv = "id,submit,runtime,size\n";
  for (int i = 1; i <= 5000; ++i) csv += std::to_string(i) + ",0,1125899906842624,1\n";
  Write(dir + "/w.csv", csv);
  std::string out;
  EXPECT_EQ(testing::RunCommand(Bin() + " sim --cluster flat:1 --trace " + dir + "/w.csv --out " +
                                    dir + "/o",
                                &out),
            2);
  EXPECT_NE(out.find("past 2^62"), std::string::npos) << out;
}

TEST(Cli, NonUtf8PathIsWrittenNotFatal) {
  std::string dir = testing::TempDir();
  std::string path = dir + "/w\xff.csv";
  Write(path, "id,submit,runtime,size\n1,0,10,1\n");
  std::string out;
  EXPECT_EQ(testing::RunCommand(Bin() + " sim --cluster flat:1 --trace '" + path + "' --out " +
                                    dir + "/o",
                                &out),
            0)
      << out;
  EXPECT_TRUE(std::filesystem::exists(dir + "/o/summary.json"));
}

TEST(Cli, SimWritesSchemasAndSummary) {
  std::string dir = testing::TempDir();
  Write(dir + "/w.csv", "id,submit,runtime,size,walltime\n1,0,10,4,20\n2,1,5,2,5\n3,1,5,9,\n");
  std::string out;
  ASSERT_EQ(testing::RunCommand(Bin() + " sim --cluster flat:4 --policy easy --trace " + dir +
                                    "/w.csv --out " + dir + "/o",
                                &out),
            0)
      << out;
  EXPECT_NE(out.find("policy easy"), std::string::npos) << out;
  std::ifstream jobs(dir + "/o/jobs.csv");
  std::string header;
  std::getline(jobs, header);
  EXPECT_EQ(header, "id,submit,start,end,size,status");
  auto s = nlohmann::json::parse(std::ifstream(dir + "/o/summary.json"));
  for (const char* key :
       {"jobs", "done", "invalid", "rejected", "utilization", "makespan", "mean_wait", "p50_wait",
        "p95_wait", "p99_wait", "mean_bounded_slowdown", "wall_seconds", "simulated_events"}) {
    EXPECT_TRUE(s.contains(key)) << key;
  }
  EXPECT_EQ(s["done"], 2);
  EXPECT_EQ(s["rejected"], 1);
  EXPECT_EQ(s["makespan"], 15);  // job 2 waits for job 1 (4 slots) until 10
}

TEST(Cli, PackWritesOneRowPerArrivedPercent) {
  std::string dir = testing::TempDir();
  Write(dir + "/nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,65536,4,T4\nn1,32000,65536,2,T4\n");
  Write(dir + "/pods.csv",
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,4000,1024,1,500\np1,2000,1024,1,1000\n"
        "p2,1000,512,0,0\np3,8000,2048,2,1000\n");
  std::string out;
  ASSERT_EQ(testing::RunCommand(Bin() + " pack --nodes " + dir + "/nodes.csv --pods " + dir +
                                    "/pods.csv --policy fgd --seed 3 --out " + dir + "/o",
                                &out),
            0)
      << out;
  std::ifstream f(dir + "/o/pack.csv");
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, "arrived_pct,allocated_pct,fragmented_pct");
  int rows = 0;
  while (std::getline(f, line)) ++rows;
  EXPECT_EQ(rows, 131);
  auto s = nlohmann::json::parse(std::ifstream(dir + "/o/summary.json"));
  EXPECT_EQ(s["runs"][0]["policy"], "fgd");
  EXPECT_EQ(s["runs"][0]["trace_pods"], 4);
  EXPECT_EQ(testing::RunCommand(Bin() + " pack --nodes " + dir + "/nodes.csv --pods " + dir +
                                    "/pods.csv --policy tetris --out " + dir + "/o",
                                &out),
            2);
  EXPECT_EQ(testing::RunCommand(Bin() + " pack --nodes " + dir + "/nodes.csv --pods " + dir +
                                    "/pods.csv --seed 5-1 --out " + dir + "/o",
                                &out),
            2);
}

TEST(Cli, PodsOverTimeOnAFleetsNodes) {
  std::string dir = testing::TempDir();
  Write(dir + "/pods.csv",
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
        "deletion_time,scheduled_time\n"
        "p0,4000,1024,1,500,H100,LS,Running,0,100,0\n"
        "p1,4000,1024,2,1000,,LS,Running,5,50,5\n"
        "p2,4000,1024,1,300,B300,LS,Running,6,60,6\n");
  std::string out;
  ASSERT_EQ(testing::RunCommand(Bin() + " sim --cluster " + RACKSCALE_SOURCE_DIR +
                                    "/examples/small.toml --placement fgd --trace " + dir +
                                    "/pods.csv --out " + dir + "/o",
                                &out),
            0)
      << out;
  std::ifstream jobs(dir + "/o/jobs.csv");
  std::string line;
  std::getline(jobs, line);
  EXPECT_EQ(line, "name,submit,start,end,cpu_milli,num_gpu,gpu_milli,node,status");
  std::getline(jobs, line);
  EXPECT_EQ(line.substr(0, 13), "p0,0,0,100,40");
  EXPECT_NE(line.find("/n8"), std::string::npos) << line;  // an H100 node (nodes 80..87)
  std::getline(jobs, line);
  std::getline(jobs, line);
  EXPECT_NE(line.find(",rejected"), std::string::npos) << line;  // no B300 in the fleet
  EXPECT_EQ(testing::RunCommand(Bin() + " sim --cluster " + RACKSCALE_SOURCE_DIR +
                                    "/examples/small.toml --placement fgd --policy fairshare "
                                    "--trace " + dir + "/pods.csv --out " + dir + "/o",
                                &out),
            2);
}

TEST(Cli, GenFlatValidatesArguments) {
  std::string out;
  EXPECT_EQ(testing::RunCommand(Bin() + " gen flat --jobs 0", &out), 2);
  EXPECT_NE(out.find("--jobs"), std::string::npos) << out;
  for (const char* seed : {"-1", "18446744073709551616", "x"}) {
    EXPECT_EQ(testing::RunCommand(Bin() + " gen flat --jobs 5 --seed " + seed, &out), 2) << seed;
    EXPECT_NE(out.find("--seed"), std::string::npos) << out;
  }
  EXPECT_EQ(testing::RunCommand(Bin() + " gen flat --jobs 5 --slots 8 --seed 1", &out), 0);
  EXPECT_EQ(out.substr(0, 31), "id,submit,runtime,size,walltime");
}

}  // namespace
}  // namespace rackscale
