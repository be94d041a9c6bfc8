#include <gtest/gtest.h>

#include "report/metrics.h"
#include "report/writers.h"
#include "test_util.h"

namespace rackscale {
namespace {

TEST(Metrics, HandComputedSummary) {
  // N=4, FIFO. Job 1 (4 slots) runs 0..100. Job 2 (2 slots, 5 s) arrives at
  // 10 and waits 90 s: starts 100, ends 105. Job 3 (2 slots, 20 s) arrives
  // at 20, starts 100, ends 120: wait 80. Job 4 rejected (size 5), job 5 invalid.
  auto w = testing::MakeWorkload(
      {{1, 0, 100, 4}, {2, 10, 5, 2}, {3, 20, 20, 2}, {4, 0, 1, 5}, {5, 0, 0, 1}});
  FlatSimOptions o;
  o.slots = 4;
  o.policy = QueuePolicy::kFifo;
  FlatSimResult r = SimulateFlat(w, o).value();
  FlatSummary s = Summarize(w, r, 4);
  EXPECT_EQ(s.jobs, 5);
  EXPECT_EQ(s.done, 3);
  EXPECT_EQ(s.rejected, 1);
  EXPECT_EQ(s.invalid, 1);
  // makespan = last end 120 - first submit 0.
  EXPECT_EQ(s.makespan, 120);
  // utilization = (4*100 + 2*5 + 2*20) / (4 * 120) = 450 / 480.
  EXPECT_DOUBLE_EQ(s.utilization, 450.0 / 480.0);
  // waits 0, 90, 80: mean 170/3; nearest rank p50 = 2nd of (0, 80, 90) = 80.
  EXPECT_DOUBLE_EQ(s.mean_wait, 170.0 / 3.0);
  EXPECT_EQ(s.p50_wait, 80);
  EXPECT_EQ(s.p95_wait, 90);
  EXPECT_EQ(s.p99_wait, 90);
  EXPECT_EQ(s.max_wait, 90);
  // bounded slowdowns: job 1: 100/100 = 1; job 2: (90+5)/max(5,10) = 9.5;
  // job 3: (80+20)/20 = 5.  Mean 15.5 / 3.
  EXPECT_DOUBLE_EQ(s.mean_bounded_slowdown, 15.5 / 3.0);
  // events: 3 arrivals + 3 completions; passes at t = 0, 10, 20, 100, 105, 120.
  EXPECT_EQ(s.events, 6);
  EXPECT_EQ(s.passes, 6);
}

TEST(Metrics, JobsCsvIsInIdOrderWithEmptyTimesForJobsThatDidNotRun) {
  auto w = testing::MakeWorkload({{3, 0, 10, 1}, {1, 0, 10, 9}, {2, 5, 0, 1}});
  FlatSimOptions o;
  o.slots = 4;
  FlatSimResult r = SimulateFlat(w, o).value();
  EXPECT_EQ(FormatJobsCsv(w, r),
            "id,submit,start,end,size,status\n"
            "1,0,,,9,rejected\n"
            "2,5,,,1,invalid\n"
            "3,0,0,10,1,done\n");
}

TEST(Metrics, EmptyWorkload) {
  Workload w = testing::MakeWorkload({});
  FlatSimOptions o;
  o.slots = 4;
  FlatSummary s = Summarize(w, SimulateFlat(w, o).value(), 4);
  EXPECT_EQ(s.done, 0);
  EXPECT_EQ(s.makespan, 0);
  EXPECT_EQ(s.utilization, 0);
}

TEST(HumanDuration, Units) {
  EXPECT_EQ(HumanDuration(42), "42s");
  EXPECT_EQ(HumanDuration(3 * 60 + 5), "3m 05s");
  EXPECT_EQ(HumanDuration(2 * 3600 + 60), "2h 01m");
  EXPECT_EQ(HumanDuration(3 * 86400 + 7200), "3d 02h");
}

}  // namespace
}  // namespace rackscale
