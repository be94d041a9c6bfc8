// Failures and checkpoints (sim/reliability.h): the attempt calculator by
// hand, the failure sampler against its mean, the Monte-Carlo single job
// against Daly's exact expectation, the Young/Daly interval against the
// simulated optimum, and `rackscale ettr` end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/reliability.h"
#include "test_util.h"

namespace rackscale {
namespace {

constexpr double kMinute = 60, kHour = 3600, kDay = 86400;

// tau = 100, C = 10, R = 50 throughout the hand-computed cases: a period of
// work + checkpoint is 110 s.
CheckpointPolicy Hand() { return CheckpointPolicy{100, 10, 50}; }

void ExpectUsage(const AttemptUsage& u, AttemptPhase phase, double committed, double work,
                 double checkpoint, double restart, double wasted) {
  EXPECT_EQ(u.phase, phase);
  EXPECT_DOUBLE_EQ(u.committed_work_s, committed);
  EXPECT_DOUBLE_EQ(u.work_s, work);
  EXPECT_DOUBLE_EQ(u.checkpoint_s, checkpoint);
  EXPECT_DOUBLE_EQ(u.restart_s, restart);
  EXPECT_DOUBLE_EQ(u.wasted_s, wasted);
}

TEST(ReliabilityAttempt, FinishTimeCountsOneCheckpointBetweenPieces) {
  // W = 350: pieces 100 | 100 | 100 | 50, three checkpoints, none after the last.
  Attempt a(Hand(), 350, 0, /*restart=*/false, 1000);
  EXPECT_DOUBLE_EQ(a.pieces(), 4);
  EXPECT_DOUBLE_EQ(a.end_s(), 1000 + 350 + 3 * 10);
  ExpectUsage(a.Usage(a.end_s()), AttemptPhase::kDone, 350, 350, 30, 0, 0);
  // The same with a restart first: R = 50 more.
  Attempt r(Hand(), 350, 0, /*restart=*/true, 1000);
  EXPECT_DOUBLE_EQ(r.end_s(), 1000 + 50 + 350 + 30);
  // Resuming from 200 committed: 150 left = 100 | 50, one checkpoint.
  Attempt c(Hand(), 350, 200, /*restart=*/true, 0);
  EXPECT_DOUBLE_EQ(c.pieces(), 2);
  EXPECT_DOUBLE_EQ(c.end_s(), 50 + 150 + 10);
  ExpectUsage(c.Usage(c.end_s()), AttemptPhase::kDone, 350, 150, 10, 50, 0);
}

TEST(ReliabilityAttempt, WorkThatIsAMultipleOfTheIntervalHasNoTrailingCheckpoint) {
  Attempt a(Hand(), 300, 0, false, 0);
  EXPECT_DOUBLE_EQ(a.pieces(), 3);
  EXPECT_DOUBLE_EQ(a.end_s(), 300 + 2 * 10);
  // The moment before the end is in the last piece of work, not a checkpoint.
  AttemptUsage u = a.Usage(319);
  ExpectUsage(u, AttemptPhase::kWork, 200, 200, 20, 0, 99);
  // Committed work that is a sum of intervals up to rounding: tau irrational.
  const double tau = std::sqrt(2.0) * 100;
  CheckpointPolicy p{tau, 10, 0};
  double committed = 0;
  for (int i = 0; i < 3; ++i) committed += tau;
  Attempt b(p, 10 * tau, committed, false, 0);
  EXPECT_DOUBLE_EQ(b.pieces(), 7);
  EXPECT_NEAR(b.end_s(), 7 * tau + 6 * 10, 1e-9);
}

TEST(ReliabilityAttempt, FailureMidWorkKeepsTheLastCompletedCheckpoint) {
  Attempt a(Hand(), 350, 0, false, 0);
  // t = 150: one period done (100 committed at 110), 40 s into the 2nd piece.
  ExpectUsage(a.Usage(150), AttemptPhase::kWork, 100, 100, 10, 0, 40);
  // In the first piece: nothing committed.
  ExpectUsage(a.Usage(99), AttemptPhase::kWork, 0, 0, 0, 0, 99);
  // In the final, short piece (starts at 330, ends at 380).
  ExpectUsage(a.Usage(379), AttemptPhase::kWork, 300, 300, 30, 0, 49);
  // A failure at the start loses nothing.
  ExpectUsage(a.Usage(0), AttemptPhase::kWork, 0, 0, 0, 0, 0);
}

TEST(ReliabilityAttempt, FailureMidCheckpointCommitsNothingNew) {
  Attempt a(Hand(), 350, 0, false, 0);
  // t = 105: 5 s into the first checkpoint: the 100 s of work and the 5 s are lost.
  ExpectUsage(a.Usage(105), AttemptPhase::kCheckpoint, 0, 0, 0, 0, 105);
  // t = 215: 5 s into the second checkpoint; the first one holds.
  ExpectUsage(a.Usage(215), AttemptPhase::kCheckpoint, 100, 100, 10, 0, 105);
  // A checkpoint completing exactly at the failure counts.
  ExpectUsage(a.Usage(110), AttemptPhase::kWork, 100, 100, 10, 0, 0);
  ExpectUsage(a.Usage(220), AttemptPhase::kWork, 200, 200, 20, 0, 0);
}

TEST(ReliabilityAttempt, FailureMidRestartCommitsNothingNew) {
  // Resuming from 100 at t = 500 with a restart of 50.
  Attempt a(Hand(), 350, 100, true, 500);
  EXPECT_DOUBLE_EQ(a.end_s(), 500 + 50 + 250 + 2 * 10);
  ExpectUsage(a.Usage(530), AttemptPhase::kRestart, 100, 0, 0, 30, 0);
  ExpectUsage(a.Usage(500), AttemptPhase::kRestart, 100, 0, 0, 0, 0);
  // The restart done, work starts: nothing lost yet but the restart itself.
  ExpectUsage(a.Usage(550), AttemptPhase::kWork, 100, 0, 0, 50, 0);
  // 130 s after the restart: one period done, 20 s into the next piece.
  ExpectUsage(a.Usage(680), AttemptPhase::kWork, 200, 100, 10, 50, 20);
}

TEST(ReliabilityAttempt, WithoutCheckpointsAFailureLosesEverything) {
  CheckpointPolicy p{0, 10, 50};  // interval 0: never checkpoint; C is then unused
  EXPECT_FALSE(p.checkpoints());
  Attempt a(p, 350, 0, false, 0);
  EXPECT_DOUBLE_EQ(a.pieces(), 1);
  EXPECT_DOUBLE_EQ(a.end_s(), 350);
  ExpectUsage(a.Usage(349), AttemptPhase::kWork, 0, 0, 0, 0, 349);
  ExpectUsage(a.Usage(350), AttemptPhase::kDone, 350, 350, 0, 0, 0);
  Attempt r(p, 350, 0, true, 1000);
  EXPECT_DOUBLE_EQ(r.end_s(), 1000 + 50 + 350);
  ExpectUsage(r.Usage(1200), AttemptPhase::kWork, 0, 0, 0, 50, 150);
}

TEST(ReliabilityAttempt, LongJobIsConstantTimeAndTimesAddUp) {
  // 54 days in 5-minute intervals: 15,552 pieces, found by division.
  CheckpointPolicy p{300, 60, 600};
  const double w = 54 * kDay;
  Attempt a(p, w, 0, false, 0);
  EXPECT_DOUBLE_EQ(a.pieces(), 15552);
  EXPECT_DOUBLE_EQ(a.end_s(), w + 15551 * 60);
  // 10,000 periods and 100 s in: 10,000 checkpoints done.
  const double t = 10000 * 360.0 + 100;
  AttemptUsage u = a.Usage(t);
  ExpectUsage(u, AttemptPhase::kWork, 10000 * 300.0, 10000 * 300.0, 10000 * 60.0, 0, 100);
  EXPECT_DOUBLE_EQ(u.elapsed_s(), t);
  EXPECT_DOUBLE_EQ(u.lost_s(), t - u.work_s);
  // Every moment: the parts add up to the elapsed time, committed never
  // decreases and is a whole number of intervals.
  double last = 0;
  for (double s = 0; s <= a.end_s(); s += 7777.7) {
    AttemptUsage v = a.Usage(s);
    EXPECT_NEAR(v.elapsed_s(), s, 1e-6 * s + 1e-9);
    EXPECT_GE(v.committed_work_s, last);
    EXPECT_DOUBLE_EQ(std::fmod(v.committed_work_s, 300), 0);
    last = v.committed_work_s;
  }
}

TEST(ReliabilityFormulas, YoungDalyAndDaly) {
  EXPECT_DOUBLE_EQ(YoungDalyInterval(3 * kHour, 2 * kMinute), std::sqrt(2.0 * 10800 * 120));
  EXPECT_EQ(YoungDalyInterval(3 * kHour, 0), 0);
  EXPECT_EQ(YoungDalyInterval(0, 120), 0);
  // Without failures (M -> inf) the ratio tends to tau / (tau + C).
  EXPECT_NEAR(DalyExpectedEttr(300, 60, 600, 1e15), 300.0 / 360.0, 1e-9);
  // tau = C = R = M = 1: 1 / (e (e^2 - 1)).
  EXPECT_NEAR(DalyExpectedEttr(1, 1, 1, 1), 1 / (std::exp(1.0) * (std::exp(2.0) - 1)), 1e-15);
  EXPECT_EQ(DalyExpectedEttr(0, 1, 1, 1), 0);
  EXPECT_EQ(DalyExpectedEttr(1e6, 1, 1, 1), 0);  // the expected time overflows
}

TEST(ReliabilityFailures, H100RateGivesTheLlama3Interruptions) {
  // 16,384 H100s for 54 days at 0.173 failures per GPU-year: 419 expected.
  ExponentialFailures f(kH100FailuresPerAcceleratorYear, 16384);
  EXPECT_NEAR(f.mtbf_s() / kHour, 3.09, 0.005);
  EXPECT_NEAR(f.ExpectedFailures(54 * kDay), 419.3, 0.1);
  // The sampler: failures counted over 54 days, 2,000 times (sd of the mean ~0.5).
  Rng rng(173);
  const int trials = 2000;
  int64_t total = 0;
  for (int i = 0; i < trials; ++i) {
    for (double t = f.NextFailure(0, rng); t < 54 * kDay; t = f.NextFailure(t, rng)) ++total;
  }
  const double mean = static_cast<double>(total) / trials;
  EXPECT_NEAR(mean, 419.3, 0.02 * 419.3) << mean;
}

TEST(ReliabilityFailures, PickFailedIsUniform) {
  ExponentialFailures f(1, 8);
  EXPECT_DOUBLE_EQ(f.mtbf_s(), kSecondsPerYear / 8);
  Rng rng(5);
  std::vector<int> hits(8);
  for (int i = 0; i < 80000; ++i) {
    int64_t k = f.PickFailed(rng);
    ASSERT_GE(k, 0);
    ASSERT_LT(k, 8);
    ++hits[k];
  }
  for (int h : hits) EXPECT_NEAR(h, 10000, 500);  // ~5 sd
  EXPECT_EQ(ExponentialFailures::FromMtbf(1234).mtbf_s(), 1234);
}

TEST(ReliabilitySingleJob, WithoutFailuresEttrIsWorkOverWorkPlusCheckpoints) {
  Rng rng(1);
  CheckpointPolicy p{300, 60, 600};
  SingleJobRun r = SimulateSingleJobEttr(3000, p, 1e18, rng);
  EXPECT_TRUE(r.completed);
  EXPECT_EQ(r.interruptions, 0);
  EXPECT_DOUBLE_EQ(r.wall_s, 3000 + 9 * 60);
  EXPECT_DOUBLE_EQ(r.checkpoint_s, 9 * 60);
  EXPECT_DOUBLE_EQ(r.lost_s, 9 * 60);
  EXPECT_DOUBLE_EQ(r.ettr, 3000.0 / 3540.0);
}

TEST(ReliabilitySingleJob, DeterministicForASeedAndPartsAddUp) {
  CheckpointPolicy p{900, 120, 600};
  Rng a(42), b(42);
  SingleJobRun x = SimulateSingleJobEttr(30 * kDay, p, 6 * kHour, a);
  SingleJobRun y = SimulateSingleJobEttr(30 * kDay, p, 6 * kHour, b);
  EXPECT_EQ(x.interruptions, y.interruptions);
  EXPECT_EQ(x.wall_s, y.wall_s);
  EXPECT_GT(x.interruptions, 50);
  EXPECT_NEAR(x.lost_s, x.checkpoint_s + x.restart_s + x.wasted_s, 1e-6 * x.wall_s);
  // Every restart but those cut short by another failure lasts R.
  EXPECT_LE(x.restart_s, static_cast<double>(x.interruptions) * 600 + 1e-6);
  // The limit stops a job that cannot finish.
  Rng c(1);
  SingleJobRun z = SimulateSingleJobEttr(100 * kDay, CheckpointPolicy{}, kHour, c, 1000);
  EXPECT_FALSE(z.completed);
  EXPECT_EQ(z.interruptions, 1000);
}

TEST(ReliabilitySingleJob, WithoutCheckpointsMatchesTheOneSegmentExpectation) {
  // A job of W = M without checkpoints is one segment: Daly's formula with
  // tau = W and C = 0 is exact, and E[wall] = W / ETTR.
  const double m = 10 * kHour, w = m, r = 0.1 * m;
  const double expected_wall = w / DalyExpectedEttr(w, 0, r, m);
  Rng rng(11);
  const int runs = 40000;
  double wall = 0;
  for (int i = 0; i < runs; ++i) {
    wall += SimulateSingleJobEttr(w, CheckpointPolicy{0, 0, r}, m, rng).wall_s;
  }
  EXPECT_NEAR(wall / runs / expected_wall, 1.0, 0.015);
}

// C = 2 min, R = 10 min: a large job's checkpoint to a parallel file system
// and a restart that reloads it (docs/reliability.md).
constexpr double kC = 2 * kMinute, kR = 10 * kMinute;
// Work per unit of MTBF: >= 100,000 failures per job, so the simulated ETTR's
// standard error is at most ~0.16 percentage points (at ETTR ~0.5).
constexpr double kWorkPerMtbf = 100000;

TEST(ReliabilityDaly, SimulatedEttrMatchesDalyWithin1PointOverTheGrid) {
  std::printf("  tau_min  M_h   daly_ettr  sim_ettr  diff_pp  interruptions\n");
  uint64_t seed = 1;
  for (double tau_min : {5, 15, 30, 60, 120}) {
    for (double m_h : {2, 6, 12, 24, 48}) {
      const double m = m_h * kHour;
      const CheckpointPolicy p{tau_min * kMinute, kC, kR};
      Rng rng(seed++);
      SingleJobRun r = SimulateSingleJobEttr(kWorkPerMtbf * m, p, m, rng);
      const double daly = DalyExpectedEttr(p.interval_s, kC, kR, m);
      std::printf("  %7.0f %4.0f   %9.4f  %8.4f  %+7.2f  %13lld\n", tau_min, m_h, daly, r.ettr,
                  100 * (r.ettr - daly), static_cast<long long>(r.interruptions));
      ASSERT_TRUE(r.completed);
      EXPECT_NEAR(r.ettr, daly, 0.01) << "tau " << tau_min << " min, M " << m_h << " h";
    }
  }
}

TEST(ReliabilityDaly, YoungDalyIntervalIsNearTheSimulatedOptimum) {
  // Llama 3's job MTBF (3.09 h) and two longer ones.
  uint64_t seed = 100;
  for (double m_h : {3.09, 6.0, 12.0}) {
    const double m = m_h * kHour;
    const double best = YoungDalyInterval(m, kC);
    auto ettr = [&](double tau) {
      Rng rng(seed++);
      return SimulateSingleJobEttr(kWorkPerMtbf * m, CheckpointPolicy{tau, kC, kR}, m, rng).ettr;
    };
    const double at_best = ettr(best);
    EXPECT_GT(at_best, ettr(best / 3)) << m_h;
    EXPECT_GT(at_best, ettr(best * 3)) << m_h;
    EXPECT_GT(at_best, ettr(best / 1.5) - 0.004) << m_h;  // flat near the top: within noise
    EXPECT_GT(at_best, ettr(best * 1.5) - 0.004) << m_h;
    // And by the formula: within 0.1 point of its maximum over tau.
    double max_daly = 0;
    for (double tau = 60; tau < 4 * best; tau += 10) {
      max_daly = std::max(max_daly, DalyExpectedEttr(tau, kC, kR, m));
    }
    EXPECT_GT(DalyExpectedEttr(best, kC, kR, m), max_daly - 0.001) << m_h;
  }
}

std::string Bin() { return RACKSCALE_BIN; }

TEST(ReliabilityCli, EttrHelpAndBadArguments) {
  std::string out;
  EXPECT_EQ(testing::RunCommand(Bin() + " ettr --help", &out), 0);
  EXPECT_NE(out.find("Usage"), std::string::npos) << out;
  EXPECT_NE(out.find("--interval"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(Bin() + " ettr --interval soon", &out), 2);
  EXPECT_NE(out.find("field '--interval': expected 'auto', 'none' or a duration"),
            std::string::npos)
      << out;
  EXPECT_EQ(testing::RunCommand(Bin() + " ettr --interval 0", &out), 2);
  EXPECT_EQ(testing::RunCommand(Bin() + " ettr --gpus 0", &out), 2);
  EXPECT_NE(out.find("--gpus"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(Bin() + " ettr --gpus ten", &out), 2);
  EXPECT_EQ(testing::RunCommand(Bin() + " ettr --rate -1", &out), 2);
  EXPECT_EQ(testing::RunCommand(Bin() + " ettr --seed -1", &out), 2);
  EXPECT_EQ(testing::RunCommand(Bin() + " ettr --runs 0", &out), 2);
  EXPECT_EQ(testing::RunCommand(Bin() + " ettr --ckpt-min -2", &out), 2);
  EXPECT_EQ(testing::RunCommand(Bin() + " ettr --ckpt-min 0", &out), 2);  // auto needs C > 0
  EXPECT_NE(out.find("'auto' needs --ckpt-min > 0"), std::string::npos) << out;
  // 16,384 GPUs for 54 days without checkpoints would never finish.
  EXPECT_EQ(testing::RunCommand(Bin() + " ettr --interval none", &out), 2);
  EXPECT_NE(out.find("never finish"), std::string::npos) << out;
}

TEST(ReliabilityCli, EttrJsonMatchesTheLibraryAndIsDeterministic) {
  std::string out, again;
  const std::string cmd = Bin() + " ettr --json --runs 50 --seed 7";
  ASSERT_EQ(testing::RunCommand(cmd, &out), 0) << out;
  ASSERT_EQ(testing::RunCommand(cmd, &again), 0) << again;
  EXPECT_EQ(out, again);
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["schema"], "rackscale.ettr");
  EXPECT_EQ(j["gpus"], 16384);
  EXPECT_EQ(j["interval"], "auto");
  const double m = kSecondsPerYear / (0.173 * 16384);
  EXPECT_NEAR(j["job_mtbf_hours"].get<double>(), m / kHour, 1e-9);
  EXPECT_NEAR(j["expected_failures_in_work_time"].get<double>(), 419.3, 0.1);
  EXPECT_NEAR(j["interval_min"].get<double>(), YoungDalyInterval(m, kC) / kMinute, 1e-9);
  const double daly = DalyExpectedEttr(YoungDalyInterval(m, kC), kC, kR, m);
  EXPECT_NEAR(j["daly_ettr"].get<double>(), daly, 1e-12);
  EXPECT_NEAR(j["ettr_mean"].get<double>(), daly, 0.01);
  // The first of the runs, redone by the library with the same seed.
  Rng rng(7);
  SingleJobRun first =
      SimulateSingleJobEttr(54 * kDay, CheckpointPolicy{YoungDalyInterval(m, kC), kC, kR}, m, rng);
  EXPECT_GE(first.ettr, j["ettr_min"].get<double>());
  EXPECT_LE(first.ettr, j["ettr_max"].get<double>());
  const double interruptions = 54 * kDay / (daly * m);
  EXPECT_NEAR(j["interruptions_mean"].get<double>(), interruptions, 0.05 * interruptions);
  EXPECT_GT(j["lost_gpu_hours_mean"].get<double>(), 0);

  // A fixed interval and the human table.
  ASSERT_EQ(testing::RunCommand(Bin() + " ettr --gpus 1024 --interval 30 --runs 5", &out), 0)
      << out;
  EXPECT_NE(out.find("interval            30.00 min;"), std::string::npos) << out;
  EXPECT_NE(out.find("Daly expected"), std::string::npos) << out;
  EXPECT_NE(out.find("lost GPU-hours"), std::string::npos) << out;
}

}  // namespace
}  // namespace rackscale
