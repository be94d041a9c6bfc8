// Hand-computed scenarios for the flat-pool semantics of docs/semantics.md. Each test
// carries its arithmetic in comments. Notation: J(id, submit, runtime, size
// [, requested walltime]); N = slots.
#include <gtest/gtest.h>

#include "test_util.h"

namespace rackscale {
namespace {

using testing::J;
using testing::MakeWorkload;
using testing::Starts;
constexpr auto kFifo = QueuePolicy::kFifo;
constexpr auto kEasy = QueuePolicy::kEasy;

TEST(FlatSemantics, TiesAtOneSubmitTimeQueueInIdOrderNotFileOrder) {
  // N=4. Both arrive at t=0; queue order is (submit, id): job 1, then job 2.
  // Job 1 (size 3) starts; job 2 (size 2) does not fit the 1 free slot and
  // starts when job 1 ends at 5. File order would have started job 2 first.
  Workload w = MakeWorkload({{2, 0, 10, 2}, {1, 0, 5, 3}});
  for (QueuePolicy p : {kFifo, kEasy}) {
    auto s = Starts(w, 4, p);
    EXPECT_EQ(s[1], 0);
    EXPECT_EQ(s[2], 5);
  }
}

TEST(FlatSemantics, EndsAreFreedBeforeArrivalsAtTheSameTime) {
  // N=2. Job 1 holds both slots until t=10; job 2 arrives at t=10. At t=10
  // job 1 frees first, then job 2 joins, then the pass starts it at 10.
  Workload w = MakeWorkload({{1, 0, 10, 2}, {2, 10, 5, 2}});
  for (QueuePolicy p : {kFifo, kEasy}) EXPECT_EQ(Starts(w, 2, p)[2], 10);
}

TEST(FlatSemantics, FifoStopsAtTheFirstJobThatDoesNotFit) {
  // N=4. t=0: job 1 (3) starts, 1 free. t=1: job 2 (2) waits. t=2: job 3 (1)
  // would fit, but FIFO stops at the head (job 2). t=10: job 1 ends, 4 free:
  // job 2 starts (2 left), then job 3 (1 left).
  Workload w = MakeWorkload({{1, 0, 10, 3}, {2, 1, 10, 2}, {3, 2, 5, 1}});
  auto s = Starts(w, 4, kFifo);
  EXPECT_EQ(s[1], 0);
  EXPECT_EQ(s[2], 10);
  EXPECT_EQ(s[3], 10);
}

TEST(FlatSemantics, EasyBackfillsAJobThatEndsByTheShadowTime) {
  // Same jobs as above under EASY. t=2: head job 2 needs 2, 1 free. Running:
  // job 1, estimated end 10, frees 3 -> 1+3 = 4 >= 2, so shadow = 10 and
  // extra = 4 - 2 = 2. Job 3: fits 1 free, and 2 + 5 = 7 <= 10: starts at 2.
  Workload w = MakeWorkload({{1, 0, 10, 3}, {2, 1, 10, 2}, {3, 2, 5, 1}});
  auto s = Starts(w, 4, kEasy);
  EXPECT_EQ(s[1], 0);
  EXPECT_EQ(s[2], 10);
  EXPECT_EQ(s[3], 2);
}

TEST(FlatSemantics, EasyRefusesABackfillThatWouldDelayTheHead) {
  // N=4. Job 1 (3) runs 0..10. Head job 2 needs all 4 slots. t=2: shadow =
  // 10 (1 + 3 = 4), extra = 4 - 4 = 0. Job 3 (1 slot, 20 s): 2 + 20 = 22 > 10
  // and size 1 > extra 0, so it must not start: it would hold a slot the head
  // needs at 10. It starts when job 2 ends at 20.
  Workload w = MakeWorkload({{1, 0, 10, 3}, {2, 1, 10, 4}, {3, 2, 20, 1}});
  auto s = Starts(w, 4, kEasy);
  EXPECT_EQ(s[2], 10);
  EXPECT_EQ(s[3], 20);
}

TEST(FlatSemantics, EasyExtraSlotsAreConsumedWithinOnePass) {
  // N=6. Job 1 (4) runs 0..10; head job 2 (5) arrives at 1. Jobs 3 and 4
  // (1 slot, 100 s each) arrive together at 2. Pass at t=2: free 2, shadow 10
  // (2 + 4 = 6 >= 5), extra = 6 - 5 = 1. Job 3: 102 > 10 but 1 <= extra ->
  // starts, extra = 0, free 1. Job 4: fits, but 102 > 10 and 1 > 0 -> waits.
  // t=10: job 1 ends, free 5, job 2 starts (free 0). t=20: job 2 ends, job 4
  // starts.
  Workload w = MakeWorkload({{1, 0, 10, 4}, {2, 1, 10, 5}, {3, 2, 100, 1}, {4, 2, 100, 1}});
  auto s = Starts(w, 6, kEasy);
  EXPECT_EQ(s[2], 10);
  EXPECT_EQ(s[3], 2);
  EXPECT_EQ(s[4], 20);
}

TEST(FlatSemantics, EasyShortBackfillDoesNotConsumeExtra) {
  // As above, but job 3 runs 5 s: 2 + 5 = 7 <= shadow 10, so it starts
  // without touching extra (still 1), and job 4 then starts on the extra slot.
  Workload w = MakeWorkload({{1, 0, 10, 4}, {2, 1, 10, 5}, {3, 2, 5, 1}, {4, 2, 100, 1}});
  auto s = Starts(w, 6, kEasy);
  EXPECT_EQ(s[3], 2);
  EXPECT_EQ(s[4], 2);
  EXPECT_EQ(s[2], 10);
}

TEST(FlatSemantics, EasyExtraCountsEveryJobEndingByTheShadow) {
  // N=10. At t=0 jobs 1 (2, ends 10), 2 (3, ends 10), 3 (2, ends 20) start;
  // 3 free. t=1: head job 4 needs 5. In (end, id) order job 1 brings 3+2 = 5
  // -> shadow = 10. extra = free 3 + EVERY job ending <= 10 (2 + 3) - 5 = 3.
  // Job 5 (3 slots, 100 s): 101 > 10, but 3 <= extra 3 -> starts at 1.
  // (Counting only up to the job that reached the head's size would give
  // extra 0 and keep job 5 waiting.)
  Workload w = MakeWorkload(
      {{1, 0, 10, 2}, {2, 0, 10, 3}, {3, 0, 20, 2}, {4, 1, 5, 5}, {5, 1, 100, 3}});
  auto s = Starts(w, 10, kEasy);
  EXPECT_EQ(s[5], 1);
  EXPECT_EQ(s[4], 10);
}

TEST(FlatSemantics, EasyShadowUsesRequestedWalltimeNotRuntime) {
  // N=4. Job 1 (3 slots) runs 5 s but requested 100: estimated end 100.
  // t=1: head job 2 (4) -> shadow 100, extra 0. t=2: job 3 (1 slot, requested
  // 50): 2 + 50 = 52 <= 100 -> backfilled at 2. Job 1 really ends at 5, but
  // job 3 holds a slot until 52, so the head starts at 52: EASY trusts the
  // estimates.
  Workload w = MakeWorkload({{1, 0, 5, 3, 100}, {2, 1, 10, 4}, {3, 2, 50, 1, 50}});
  auto s = Starts(w, 4, kEasy);
  EXPECT_EQ(s[3], 2);
  EXPECT_EQ(s[2], 52);
}

TEST(FlatSemantics, WalltimeBelowRuntimeIsRaisedToRuntime) {
  // Job 3 requests 1 s but runs 50: walltime = max(1, 50) = 50, so with
  // shadow 10 it cannot backfill by time (2 + 50 > 10) and extra is 0.
  Workload w = MakeWorkload({{1, 0, 10, 3}, {2, 1, 10, 4}, {3, 2, 50, 1, 1}});
  auto s = Starts(w, 4, kEasy);
  EXPECT_EQ(s[3], 20);
}

TEST(FlatSemantics, ZeroFreeSlotsStartsNothing) {
  // N=2. t=1: no slot free; job 3 (1) waits behind job 2 (2). t=10: job 2
  // starts, 0 free. t=20: job 3 starts.
  Workload w = MakeWorkload({{1, 0, 10, 2}, {2, 1, 10, 2}, {3, 1, 1, 1}});
  for (QueuePolicy p : {kFifo, kEasy}) {
    auto s = Starts(w, 2, p);
    EXPECT_EQ(s[2], 10);
    EXPECT_EQ(s[3], 20);
  }
}

TEST(FlatSemantics, OversizedJobsAreRejectedAndInvalidJobsCounted) {
  // N=4. Job 2 (size 5 > 4) is rejected and must not block job 3. Jobs 4
  // (size 0), 5 (runtime 0) and 6 (runtime -1) are invalid.
  Workload w = MakeWorkload(
      {{1, 0, 10, 4}, {2, 1, 10, 5}, {3, 2, 1, 1}, {4, 3, 5, 0}, {5, 3, 0, 1}, {6, 3, -1, 1}});
  for (QueuePolicy p : {kFifo, kEasy}) {
    auto s = Starts(w, 4, p);
    EXPECT_EQ(s[2], -1);
    EXPECT_EQ(s[3], 10);
    EXPECT_EQ(s[4], -2);
    EXPECT_EQ(s[5], -2);
    EXPECT_EQ(s[6], -2);
  }
}

TEST(FlatSemantics, OnePassPerEventTime) {
  // N=3. Job 1 (3) runs 0..10. At t=10 job 1 ends and jobs 2 (2 slots) and
  // 3 (1 slot) both start in the one pass at 10; job 4 (3 slots) arrives at
  // 10 too and waits for both.
  Workload w = MakeWorkload({{1, 0, 10, 3}, {2, 5, 7, 2}, {3, 6, 3, 1}, {4, 10, 1, 3}});
  for (QueuePolicy p : {kFifo, kEasy}) {
    auto s = Starts(w, 3, p);
    EXPECT_EQ(s[2], 10);
    EXPECT_EQ(s[3], 10);
    EXPECT_EQ(s[4], 17);
  }
}

TEST(FlatScheduler, DirectUseWithoutASimulator) {
  // The core is driven by calls, with no clock of its own.
  FlatScheduler s(8, kEasy);
  std::vector<FlatScheduler::Ticket> started;
  auto a = s.Submit(6, 100);
  auto b = s.Submit(4, 50);
  auto c = s.Submit(2, 30);
  s.Schedule(0, &started);
  // a starts (2 free); b waits; shadow = 100, extra = 8 - 4 = 4; c fits 2 free.
  EXPECT_EQ(started, (std::vector<FlatScheduler::Ticket>{a, c}));
  EXPECT_EQ(s.free_slots(), 0);
  EXPECT_EQ(s.queued(), 1u);
  EXPECT_EQ(s.running(), 2u);
  EXPECT_EQ(s.backfilled(), 1);
  s.Finish(a);
  started.clear();
  s.Schedule(100, &started);
  EXPECT_EQ(started, (std::vector<FlatScheduler::Ticket>{b}));
  EXPECT_EQ(s.free_slots(), 2);
}

TEST(FlatScheduler, PolicyNames) {
  EXPECT_EQ(*ParseQueuePolicy("fifo", "x"), kFifo);
  EXPECT_EQ(*ParseQueuePolicy("easy", "x"), kEasy);
  auto bad = ParseQueuePolicy("sjf", "--policy");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().ToString().find("expected 'fifo' or 'easy'"), std::string::npos);
}

}  // namespace
}  // namespace rackscale
