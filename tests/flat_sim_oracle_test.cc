// The simulator against the plain reference implementation of docs/semantics.md's
// semantics (test_util.cc: ReferenceStarts), job by job: on random workloads
// built to collide (many ties in submit times and estimated ends, invalid and
// oversized jobs, ids out of order), and on the public SWF logs.
#include <gtest/gtest.h>

#include <numeric>

#include "base/random.h"
#include "test_util.h"

namespace rackscale {
namespace {

using testing::ReferenceStarts;

void ExpectSameStarts(const Workload& w, SlotCount slots, QueuePolicy policy,
                      const std::string& what) {
  FlatSimOptions o;
  o.slots = slots;
  o.policy = policy;
  FlatSimResult r = SimulateFlat(w, o).value();
  std::vector<Seconds> ref = ReferenceStarts(w, slots, policy);
  size_t mismatches = 0;
  for (size_t i = 0; i < w.jobs.size(); ++i) {
    const JobOutcome& x = r.outcomes[i];
    Seconds got = x.status == JobStatus::kDone       ? x.start
                  : x.status == JobStatus::kRejected ? -1
                                                     : -2;
    if (got != ref[i] && ++mismatches <= 5) {
      ADD_FAILURE() << what << " policy " << QueuePolicyName(policy) << ": job "
                    << w.jobs[i].id << " starts at " << got << ", reference " << ref[i];
    }
  }
  EXPECT_EQ(mismatches, 0u) << what;
}

Workload RandomWorkload(uint64_t seed, SlotCount slots, int n) {
  Rng rng(seed);
  std::vector<JobId> ids(static_cast<size_t>(n));
  std::iota(ids.begin(), ids.end(), 1);
  for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[rng.Below(i)]);
  Workload w;
  w.tenants.emplace_back();
  Seconds t = 0;
  for (int i = 0; i < n; ++i) {
    Job j;
    j.id = ids[static_cast<size_t>(i)];
    if (rng.Bernoulli(0.6)) t += static_cast<Seconds>(rng.Below(4));  // many ties
    j.submit = rng.Bernoulli(0.05) ? static_cast<Seconds>(rng.Below(static_cast<uint64_t>(t + 1)))
                                   : t;  // a few out of order
    j.runtime = static_cast<Seconds>(rng.Below(30)) - 1;     // -1 .. 28
    j.size = static_cast<SlotCount>(rng.Below(static_cast<uint64_t>(slots) + 2));  // 0 .. N+1
    int kind = static_cast<int>(rng.Below(4));
    j.requested = kind == 0   ? 0
                  : kind == 1 ? -1
                  : kind == 2 ? j.runtime - static_cast<Seconds>(rng.Below(5))
                              : j.runtime + static_cast<Seconds>(rng.Below(40));
    j.line = i + 2;
    w.jobs.push_back(j);
  }
  return w;
}

TEST(FlatSimOracle, RandomCollidingWorkloads) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SlotCount slots = 1 + static_cast<SlotCount>(seed % 16);
    Workload w = RandomWorkload(seed, slots, 300);
    for (QueuePolicy p : {QueuePolicy::kFifo, QueuePolicy::kEasy}) {
      ExpectSameStarts(w, slots, p, "seed " + std::to_string(seed));
    }
    if (HasFailure()) return;
  }
}

TEST(FlatSimOracle, KthSp2Log) {
  RACKSCALE_REQUIRE_TRACE(path, "swf/KTH-SP2-1996-2.1-cln.swf.gz");
  auto w = ReadTrace(path, ReadOptions{});
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  for (QueuePolicy p : {QueuePolicy::kFifo, QueuePolicy::kEasy}) ExpectSameStarts(*w, 100, p, "KTH");
}

TEST(FlatSimOracle, LublinLogOnSeveralPoolSizes) {
  RACKSCALE_REQUIRE_TRACE(path, "swf/lublin_256.swf.gz");
  auto w = ReadTrace(path, ReadOptions{});
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  // 256 is the log's machine; 200 rejects the largest jobs; 300 eases load.
  for (SlotCount n : {256, 200, 300}) {
    for (QueuePolicy p : {QueuePolicy::kFifo, QueuePolicy::kEasy}) {
      ExpectSameStarts(*w, n, p, "lublin N=" + std::to_string(n));
    }
  }
}

}  // namespace
}  // namespace rackscale
