// The scheduler core (sched/fleet_scheduler.h) driven directly, as a live
// control plane drives it: hand-checked passes for every policy, live
// changes (jobs, tenants, dedicated clusters at run time), Restore after a
// restart, and randomized event sequences with every invariant of the
// header's contract recomputed from scratch after every call.
//
// Notation in comments: D4 = a domain of 2 nodes x 2 GPUs; "a+" a job
// started in the pass, "a-" one preempted, "a-+" preempted and started again
// (Show below prints decisions that way, by ref).
#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "model/fleet.h"
#include "sched/fleet_scheduler.h"

namespace rackscale {
namespace {

using Ref = FleetScheduler::JobRef;

// ---------------------------------------------------------------------------
// Fleets and jobs.

const char* kCatalog = R"(
[accelerators.A]
busy_watts = 1000
[accelerators.B]
busy_watts = 1000
[nodes.na]
cpu_milli = 16000
memory_mib = 1000
gpus = 2
accelerator = "A"
[nodes.nb]
cpu_milli = 16000
memory_mib = 1000
gpus = 4
accelerator = "B"
[nodes.n8]
cpu_milli = 16000
memory_mib = 1000
gpus = 8
accelerator = "A"
[nodes.cpu]
cpu_milli = 4000
memory_mib = 1000
[domains.DA]
node = "na"
nodes = 2
[domains.D1]
node = "na"
nodes = 1
[domains.DB]
node = "nb"
nodes = 1
[domains.S8]
node = "n8"
nodes = 1
)";

Fleet FleetOf(const std::string& sites) {
  auto f = ParseFleetToml(std::string(kCatalog) + sites, "core.toml");
  EXPECT_TRUE(f.ok()) << f.error().ToString();
  return std::move(f).value();
}

std::string Pool(const std::string& domain, int count, int per_block = 0) {
  std::string t = fmt::format("  [[sites.pools]]\n  domain = \"{}\"\n  count = {}\n", domain, count);
  if (per_block > 0) t += fmt::format("  per_block = {}\n", per_block);
  return t;
}

std::string SiteHead(const std::string& name, double cap_w = 0) {
  std::string t = fmt::format("[[sites]]\nname = \"{}\"\n", name);
  if (cap_w > 0) t += fmt::format("power_cap_mw = {}\n", cap_w / 1e6);
  return t;
}

// One site of `domains` D4 domains (nodes 2d and 2d+1 make domain d), in
// blocks of `per_block` (0: one block).
Fleet Quads(int domains, int per_block = 0) { return FleetOf(SiteHead("s") + Pool("DA", domains, per_block)); }

AiJob Job(int gpus, Seconds runtime = 100, TenantId tenant = 0) {
  static JobId next_id = 1;
  AiJob j;
  j.id = next_id++;
  j.gpus = gpus;
  j.runtime = runtime;
  j.tenant = tenant;
  return j;
}

AiJob Pod(int milli, TenantId tenant, Seconds runtime = 100) {
  AiJob j = Job(1, runtime, tenant);
  j.gpu_milli = milli;
  return j;
}

std::unique_ptr<FleetScheduler> Make(const Fleet& f, FleetSchedulerOptions o) {
  auto s = FleetScheduler::Create(f, std::move(o));
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return std::move(s).value();
}

FleetSchedulerOptions Policy(FleetQueuePolicy p) {
  FleetSchedulerOptions o;
  o.policy = p;
  return o;
}

// Decisions as "job[-][+][pN]": '-' stopped, '+' started, pN preemptions
// when they are not the one a '-' implies.
std::string Show(const Decisions& d) {
  std::string s;
  for (const JobChange& c : d.changes) {
    if (!s.empty()) s += ' ';
    s += fmt::format("{}{}{}", c.job, c.stopped ? "-" : "", c.started ? "+" : "");
    if (c.preemptions != (c.stopped ? 1 : 0)) s += fmt::format("p{}", c.preemptions);
  }
  return s;
}

std::string Pass(FleetScheduler& s, Seconds now) {
  Decisions d;
  s.Schedule(now, &d);
  return Show(d);
}

// Adds and submits a job.
Ref Sub(FleetScheduler& s, const AiJob& j, Seconds now) {
  const Ref r = s.AddJob(j);
  s.Submit(r, now);
  return r;
}

// A placement's parts one node each (a part may be a run of `nodes` nodes
// with `units` on each: a whole domain).
std::vector<GangPart> Expand(const Placement& p) {
  std::vector<GangPart> out;
  for (const GangPart& x : p.parts) {
    for (int32_t i = 0; i < x.nodes; ++i) out.push_back({x.node + i, x.units, 1});
  }
  return out;
}

std::set<int32_t> DomainsOf(const Fleet& f, const Placement& p) {
  std::set<int32_t> d;
  for (const GangPart& x : Expand(p)) d.insert(f.nodes[static_cast<size_t>(x.node)].domain);
  return d;
}

int32_t DomainOf(const Fleet& f, const FleetScheduler& s, Ref j) {
  return f.nodes[static_cast<size_t>(s.placement(j).parts.at(0).node)].domain;
}

int64_t Units(const Placement& p) {
  int64_t u = 0;
  for (const GangPart& x : Expand(p)) u += x.units;
  return u;
}

// ---------------------------------------------------------------------------
// Hand-checked passes, one policy at a time.

// fifo on one D4 (4 GPUs): a (3), b (2), c (1) arrive at 0. a starts; b
// does not fit the 1 GPU left, and c, which would, waits behind it. When a
// ends, b and c start.
TEST(FleetCore, FifoHeadOfLineBlocking) {
  const Fleet f = Quads(1);
  auto s = Make(f, Policy(FleetQueuePolicy::kFifo));
  const Ref a = Sub(*s, Job(3), 0), b = Sub(*s, Job(2), 0), c = Sub(*s, Job(1), 0);
  EXPECT_EQ(Pass(*s, 0), "0+");
  EXPECT_TRUE(s->running(a));
  EXPECT_TRUE(s->waiting(b));
  EXPECT_TRUE(s->waiting(c));
  EXPECT_EQ(s->index().free_gpus(), 1);
  EXPECT_EQ(Pass(*s, 5), "");  // nothing changed: nothing starts
  s->Finish(a, 10);
  EXPECT_EQ(Pass(*s, 10), "1+ 2+");
  EXPECT_EQ(s->waiting(), 0);
  EXPECT_EQ(s->used_gpus(0), 3);
}

// easy on two D4 (X, Y). At 0: a (2 GPUs, 100 s) packs into one domain X,
// e (3 GPUs, 1000 s) needs a domain with 3 free: Y. At 1 the head b (4
// GPUs, 100 s) fits no domain; its reservation: releasing a (ends at 100)
// frees X, so shadow = 100 and R = X's nodes. Then in queue order:
//   d1 (1 GPU, 500 s) ends after 100: it may start only off R -- Y's last GPU;
//   c  (1 GPU, 50 s) ends by 100: it may use R -- X's free node;
//   d2 (1 GPU, 500 s) ends after 100 and only R has room: it waits.
// At 51 c ends (on time): nothing moves. At 100 a ends and b takes X; the
// new head d2 is reserved behind b's end (200).
TEST(FleetCore, EasyBackfillsShortJobsAroundTheReservation) {
  const Fleet f = Quads(2);
  auto s = Make(f, Policy(FleetQueuePolicy::kEasy));
  const Ref a = Sub(*s, Job(2, 100), 0), e = Sub(*s, Job(3, 1000), 0);
  EXPECT_EQ(Pass(*s, 0), "0+ 1+");
  const int32_t X = DomainOf(f, *s, a), Y = DomainOf(f, *s, e);
  ASSERT_NE(X, Y);
  EXPECT_EQ(s->shadow_time(), -1);  // nobody waits
  const Ref b = Sub(*s, Job(4, 100), 1), d1 = Sub(*s, Job(1, 500), 1), c = Sub(*s, Job(1, 50), 1),
            d2 = Sub(*s, Job(1, 500), 1);
  EXPECT_EQ(Pass(*s, 1), "3+ 4+");
  EXPECT_EQ(s->shadow_time(), 100);
  EXPECT_EQ(DomainOf(f, *s, d1), Y);
  EXPECT_EQ(DomainOf(f, *s, c), X);
  EXPECT_TRUE(s->waiting(b));
  EXPECT_TRUE(s->waiting(d2));
  s->Finish(c, 51);
  EXPECT_EQ(Pass(*s, 51), "");  // d2 still may not touch X
  EXPECT_EQ(s->shadow_time(), 100);
  s->Finish(a, 100);
  EXPECT_EQ(Pass(*s, 100), "2+");
  EXPECT_EQ(DomainOf(f, *s, b), X);
  EXPECT_EQ(s->shadow_time(), 200);  // d2 fits once b (100 + 100) ends
  (void)d2;
}

// A head that cannot fit even when every running job has ended gets no
// reservation: later jobs start as they fit, however long they run.
TEST(FleetCore, EasyHeadThatCannotFitGetsNoReservation) {
  const Fleet f = Quads(2);
  auto s = Make(f, Policy(FleetQueuePolicy::kEasy));
  const Ref big = Sub(*s, Job(12, 100, 1), 0);  // 12 GPUs on an 8-GPU fleet
  EXPECT_FALSE(s->CanEverRun(s->job(big)));
  const Ref small = Sub(*s, Job(1, 5000, 1), 0);
  EXPECT_EQ(Pass(*s, 0), "1+");
  EXPECT_EQ(s->shadow_time(), -1);
  EXPECT_TRUE(s->running(small));
}

// fairshare on 8 GPUs: tenant 0 (weight 1) and tenant 1 (weight 3) each
// queue 1-GPU jobs. Shares are used/8/weight; ties go to the lower rank
// (tenant 0):
//   both 0: t0 x0 (1/8); t1 y0 (1/24) y1 (2/24) y2 (3/24 = 1/8, a tie);
//   t0 x1 (2/8); t1 y3 (4/24) y4 (5/24) y5 (6/24) -- full.
// Tenant 0 holds 2, tenant 1 6 (3 times as much: its weight).
// Then x0, y0 and y1 end: t0 at 1/8, t1 at 4/24: t0 is lower: x2 (2/8);
// then t1 (4/24 < 2/8): y6 (5/24), its last job; then t0 again: x3.
TEST(FleetCore, FairshareLowerWeightedShareGoesFirst) {
  const Fleet f = Quads(2);
  FleetSchedulerOptions o = Policy(FleetQueuePolicy::kFairshare);
  o.tenant_weights = {1, 3};
  auto s = Make(f, o);
  std::vector<Ref> x, y;
  for (int i = 0; i < 5; ++i) x.push_back(Sub(*s, Job(1, 100, 0), 0));
  for (int i = 0; i < 7; ++i) y.push_back(Sub(*s, Job(1, 100, 1), 0));
  // x = 0..4, y = 5..11.
  EXPECT_EQ(Pass(*s, 0), "0+ 1+ 5+ 6+ 7+ 8+ 9+ 10+");
  EXPECT_EQ(s->used_gpus(0), 2);
  EXPECT_EQ(s->used_gpus(1), 6);
  s->Finish(x[0], 10);
  s->Finish(y[0], 10);
  s->Finish(y[1], 10);
  EXPECT_EQ(Pass(*s, 10), "2+ 3+ 11+");
}

// Within a tenant, fairshare is best-effort: a head that does not fit does
// not block the tenant's next job that does.
TEST(FleetCore, FairshareIsBestEffortWithinATenant) {
  const Fleet f = Quads(1);
  auto s = Make(f, Policy(FleetQueuePolicy::kFairshare));
  Sub(*s, Job(3), 0);
  EXPECT_EQ(Pass(*s, 0), "0+");
  Sub(*s, Job(2), 1);  // does not fit the 1 GPU left
  Sub(*s, Job(1), 1);  // fits
  EXPECT_EQ(Pass(*s, 1), "2+");
}

// Jobs that join a tenant's queue after it failed are each tried on their
// own: on two D4, a 6-GPU gang leaves 2 GPUs; the head (4 GPUs, a whole
// domain) fails. Two 1-GPU jobs join: both start in the next pass (the
// first one's start must not drop the second).
TEST(FleetCore, FairshareTriesEveryJobThatJoinedAFailedQueue) {
  const Fleet f = Quads(2);
  auto s = Make(f, Policy(FleetQueuePolicy::kFairshare));
  Sub(*s, Job(6, 1000), 0);
  EXPECT_EQ(Pass(*s, 0), "0+");
  Sub(*s, Job(4), 1);
  EXPECT_EQ(Pass(*s, 1), "");
  Sub(*s, Job(1), 2);
  Sub(*s, Job(1), 2);
  EXPECT_EQ(Pass(*s, 2), "2+ 3+");
}

// Starvation, starve_after = 100, on 8 GPUs. Tenant 1 runs y0, y1 from 0.
// At 1 tenant 0's X (8 GPUs) cannot fit; tenant 1's y2 starts (best
// effort, X's queue is another); at 50 y3 starts too. At 200 X has waited
// 199 s: it is served first and alone, and the shared fleet is held for it:
// y4 does not start though 4 GPUs are free, nor at 300 when 7 are. At 400
// the last of tenant 1's jobs ends and X starts. Without starvation
// (starve_after huge) y4 starts at 200.
TEST(FleetCore, FairshareStarvingHeadHoldsCapacity) {
  const Fleet f = Quads(2);
  for (const bool starve : {true, false}) {
    SCOPED_TRACE(starve);
    FleetSchedulerOptions o = Policy(FleetQueuePolicy::kFairshare);
    o.starve_after = starve ? 100 : 1000000;
    o.tenant_weights = {1, 1};
    auto s = Make(f, o);
    const Ref y0 = Sub(*s, Job(1, 1000, 1), 0), y1 = Sub(*s, Job(1, 1000, 1), 0);
    EXPECT_EQ(Pass(*s, 0), "0+ 1+");
    const Ref X = Sub(*s, Job(8, 100, 0), 1), y2 = Sub(*s, Job(1, 1000, 1), 1);
    EXPECT_EQ(Pass(*s, 1), "3+");
    const Ref y3 = Sub(*s, Job(1, 1000, 1), 50);
    EXPECT_EQ(Pass(*s, 50), "4+");
    const Ref y4 = Sub(*s, Job(1, 1000, 1), 200);
    if (!starve) {
      EXPECT_EQ(Pass(*s, 200), "5+");
      continue;
    }
    EXPECT_EQ(Pass(*s, 200), "");
    s->Finish(y0, 300);
    s->Finish(y1, 300);
    s->Finish(y2, 300);
    EXPECT_EQ(Pass(*s, 300), "");
    EXPECT_EQ(s->index().free_gpus(), 7);
    s->Finish(y3, 400);
    EXPECT_EQ(Pass(*s, 400), "2+");
    EXPECT_TRUE(s->running(X));
    EXPECT_TRUE(s->waiting(y4));
  }
}

// priority on four 2-GPU domains (one node each), everything 2 GPUs. Running
// in start order: a (priority 1, preemptible), b and c (priority 0,
// preemptible), d (priority 0, not preemptible). H (priority 5) arrives:
// the victim is the lowest priority, latest start: c. Not d (not
// preemptible), not a (higher priority than b and c). c waits again; it
// cannot preempt anyone (nobody runs below priority 0).
TEST(FleetCore, PriorityPreemptsLowestPriorityLatestStartFirst) {
  const Fleet f = FleetOf(SiteHead("s") + Pool("D1", 4));
  auto s = Make(f, Policy(FleetQueuePolicy::kPriority));
  auto job = [](int prio, bool preemptible) {
    AiJob j = Job(2);
    j.priority = prio;
    j.preemptible = preemptible;
    return j;
  };
  const Ref a = Sub(*s, job(1, true), 0);
  EXPECT_EQ(Pass(*s, 0), "0+");
  const Ref b = Sub(*s, job(0, true), 1);
  EXPECT_EQ(Pass(*s, 1), "1+");
  const Ref c = Sub(*s, job(0, true), 2);
  EXPECT_EQ(Pass(*s, 2), "2+");
  const Ref d = Sub(*s, job(0, false), 3);
  EXPECT_EQ(Pass(*s, 3), "3+");
  const Ref H = Sub(*s, job(5, false), 4);
  EXPECT_EQ(Pass(*s, 4), "2- 4+");
  EXPECT_TRUE(s->running(a) && s->running(b) && s->running(d) && s->running(H));
  EXPECT_TRUE(s->waiting(c));
  // A second high job preempts b next (priority 0, then latest start).
  Sub(*s, job(5, false), 5);
  EXPECT_EQ(Pass(*s, 5), "1- 5+");
  // A third takes a (the only preemptible job left); then nothing is left
  // to preempt and a fourth waits.
  Sub(*s, job(5, false), 6);
  EXPECT_EQ(Pass(*s, 6), "0- 6+");
  Sub(*s, job(5, false), 7);
  EXPECT_EQ(Pass(*s, 7), "");
  // Equal priority never preempts: a priority-1 job waits behind them.
  EXPECT_TRUE(s->running(d));
}

// Priority and quota reclaim each preempt for the other: on one D4, tenant
// 0 (nominal 1) and tenant 1 (nominal 4) share cohort 0 with tenant 2
// (nominal 8, idle, so tenant 0 may borrow). H (tenant 0, 4 GPUs, priority
// 3) starts on borrowed quota; L (tenant 1, 4 GPUs, priority 2,
// preemptible) is within its nominal and reclaims H; H, of higher
// priority, preempts L; L would reclaim H again -- for ever. A job is
// preempted at most once per pass: the pass ends with H running, each
// preempted once (H started, preempted, started: "0+p1"; L started and
// preempted: "1p1").
TEST(FleetCore, PriorityAndReclaimDoNotCycleWithinAPass) {
  const Fleet f = Quads(1);
  FleetSchedulerOptions o = Policy(FleetQueuePolicy::kPriority);
  o.quotas = {TenantQuota{1, 0, -1}, TenantQuota{4, 0, -1}, TenantQuota{8, 0, -1}};
  auto s = Make(f, o);
  AiJob h = Job(4, 100, 0);
  h.priority = 3;
  AiJob l = Job(4, 100, 1);
  l.priority = 2;
  l.preemptible = true;
  const Ref H = Sub(*s, h, 0), L = Sub(*s, l, 0);
  EXPECT_EQ(Pass(*s, 0), "0+p1 1p1");
  EXPECT_TRUE(s->running(H));
  EXPECT_TRUE(s->waiting(L));
}

// Quotas on 8 GPUs (fifo). Tenants 0 and 1 form cohort 0 with nominal 4
// each; tenant 0 may borrow at most 2. Tenant 2 has nominal 2, no cohort.
//   - tenant 2's 3-GPU job can never run (its ceiling is 2);
//   - tenant 0's a0..a5 (1 GPU each) start: a4, a5 on borrowed quota; a6
//     would borrow 3 > its limit: it waits (and blocks the queue: fifo);
//   - a6 leaves; tenant 1's b0 (2 GPUs) fits the 2 free GPUs;
//   - tenant 1's b1 (2 GPUs) is within its nominal but does not fit: it
//     reclaims from tenant 0's borrowed work, latest start first (a5, a4:
//     tenant 0 is 2 over), and starts. a4 and a5 wait again: tenant 0 is at
//     its nominal and tenant 1 has nothing left to lend.
TEST(FleetCore, QuotaNominalBorrowingAndReclaim) {
  const Fleet f = Quads(2);
  FleetSchedulerOptions o = Policy(FleetQueuePolicy::kFifo);
  o.quotas = {TenantQuota{4, 0, 2}, TenantQuota{4, 0, -1}, TenantQuota{2, -1, -1}};
  auto s = Make(f, o);
  EXPECT_FALSE(s->CanEverRun(Job(3, 100, 2)));
  EXPECT_TRUE(s->CanEverRun(Job(2, 100, 2)));
  EXPECT_FALSE(s->CanEverRun(Job(7, 100, 0)));  // 4 + at most 2 borrowed
  EXPECT_TRUE(s->CanEverRun(Job(8, 100, 1)));   // 4 + tenant 0's 4
  std::vector<Ref> a;
  for (int i = 0; i < 7; ++i) a.push_back(Sub(*s, Job(1, 100, 0), i));
  EXPECT_EQ(Pass(*s, 10), "0+ 1+ 2+ 3+ 4+ 5+");
  for (int i = 0; i < 6; ++i) { EXPECT_EQ(s->on_borrowed_quota(a[static_cast<size_t>(i)]), i >= 4) << i; }
  EXPECT_EQ(s->used_gpus(0), 6);
  s->Withdraw(a[6]);
  const Ref b0 = Sub(*s, Job(2, 100, 1), 20);
  EXPECT_EQ(Pass(*s, 20), "7+");
  EXPECT_FALSE(s->on_borrowed_quota(b0));
  Sub(*s, Job(2, 100, 1), 30);
  EXPECT_EQ(Pass(*s, 30), "4- 5- 8+");
  EXPECT_EQ(s->used_gpus(0), 4);
  EXPECT_EQ(s->used_gpus(1), 4);
  EXPECT_TRUE(s->waiting(a[4]) && s->waiting(a[5]));
  EXPECT_EQ(Pass(*s, 31), "");
}

// A dedicated cluster: tenant 1 owns domain 1 (of two D4), window [0,
// 1000), lending. Fairshare (a queue per tenant).
//   0:   tenant 0's q (4, not preemptible) takes the shared domain 0; p (4,
//        preemptible) borrows domain 1; r (4, not preemptible) may not
//        borrow: it waits.
//   10:  the owner's o (2) finds its cluster full of borrowed work: p is
//        preempted (reclaim) and o starts there.
//   11:  p no longer fits (2 GPUs left in the cluster), r neither.
//   1000: the window closes; domain 1 is shared again; o ends. p (before r
//        in arrival order) takes it.
// With lend = false, p does not start at 0.
TEST(FleetCore, DedicatedOwnerFirstLendingAndReclaim) {
  const Fleet f = Quads(2);
  for (const bool lend : {true, false}) {
    SCOPED_TRACE(lend);
    FleetSchedulerOptions o = Policy(FleetQueuePolicy::kFairshare);
    o.dedicated = {DedicatedCluster{1, {1}, 0, 1000, lend}};
    o.tenant_weights = {1, 1};
    auto s = Make(f, o);
    EXPECT_EQ(s->NextWindowChange(), 0);
    std::vector<WindowChange> changed;
    s->ApplyWindows(0, &changed);
    ASSERT_EQ(changed.size(), 1u);
    EXPECT_TRUE(changed[0].active);
    EXPECT_TRUE(s->dedicated_active(0));
    EXPECT_EQ(s->NextWindowChange(), 1000);
    AiJob pj = Job(4, 100, 0);
    pj.preemptible = true;
    const Ref q = Sub(*s, Job(4, 100, 0), 0), p = Sub(*s, pj, 0), r = Sub(*s, Job(4, 100, 0), 0);
    if (!lend) {
      EXPECT_EQ(Pass(*s, 0), "0+");
      EXPECT_EQ(s->dedicated_free_gpus(1), 4);
      continue;
    }
    EXPECT_EQ(Pass(*s, 0), "0+ 1+");
    EXPECT_EQ(DomainOf(f, *s, q), 0);
    EXPECT_EQ(DomainOf(f, *s, p), 1);
    EXPECT_EQ(s->borrowed_from(p), 0);
    EXPECT_EQ(s->used_gpus_preemptible(0), 4);
    EXPECT_EQ(s->dedicated_free_gpus(1), 0);
    const Ref own = Sub(*s, Job(2, 100, 1), 10);
    EXPECT_EQ(Pass(*s, 10), "1- 3+");
    EXPECT_TRUE(s->in_own_dedicated(own));
    EXPECT_EQ(s->used_gpus_own_dedicated(1), 2);
    EXPECT_EQ(s->dedicated_free_gpus(1), 2);
    EXPECT_EQ(Pass(*s, 11), "");
    changed.clear();
    s->ApplyWindows(1000, &changed);
    ASSERT_EQ(changed.size(), 1u);
    EXPECT_FALSE(changed[0].active);
    EXPECT_EQ(s->dedicated_free_gpus(1), 0);
    s->Finish(own, 1000);
    EXPECT_EQ(Pass(*s, 1000), "1+");
    EXPECT_EQ(s->borrowed_from(p), -1);
    EXPECT_TRUE(s->waiting(r));
  }
}

// The owner's jobs go to its cluster before the shared fleet, even when the
// shared fleet is empty; others' non-preemptible work never starts there.
TEST(FleetCore, DedicatedOwnerGoesToItsClusterFirst) {
  const Fleet f = Quads(2);
  FleetSchedulerOptions o = Policy(FleetQueuePolicy::kFifo);
  o.dedicated = {DedicatedCluster{1, {1}, 0, 100, true}};
  auto s = Make(f, o);
  s->ApplyWindows(0, nullptr);
  const Ref own = Sub(*s, Job(1, 100, 1), 0);
  const Ref other = Sub(*s, Job(4, 100, 0), 0);
  const Ref more = Sub(*s, Job(1, 100, 0), 0);
  EXPECT_EQ(Pass(*s, 0), "0+ 1+");
  EXPECT_EQ(DomainOf(f, *s, own), 1);
  EXPECT_EQ(DomainOf(f, *s, other), 0);
  EXPECT_TRUE(s->waiting(more));  // domain 1 has 3 free, but it is tenant 1's
}

// Gangs on four D4 in two blocks {0, 1}, {2, 3}. One GPU busy on domain 0.
// A 6-GPU gang (scope any) takes ceil(6/4) = 2 fully free domains, both in
// one block (block 1: domains 2 and 3), 4 + 2 GPUs. A 12-GPU gang then
// needs 3 whole domains and only domain 1 is fully free: it takes nothing
// (all or nothing). A 5-GPU scope-block gang fits no block (block 0 has one
// free domain, block 1 none fully free); scope domain 5 > 4 never fits.
TEST(FleetCore, GangsTakeWholeDomainsAllOrNothing) {
  const Fleet f = Quads(4, 2);
  auto s = Make(f, Policy(FleetQueuePolicy::kFairshare));
  const Ref one = Sub(*s, Job(1), 0);
  EXPECT_EQ(Pass(*s, 0), "0+");
  const int32_t d_one = DomainOf(f, *s, one);
  const int32_t busy_block = f.domains[static_cast<size_t>(d_one)].block;
  const Ref g = Sub(*s, Job(6), 1);
  EXPECT_EQ(Pass(*s, 1), "1+");
  const Placement& p = s->placement(g);
  EXPECT_EQ(Units(p), 6);
  EXPECT_EQ(p.domains, 2);
  EXPECT_EQ(p.blocks, 1);
  for (int32_t d : DomainsOf(f, p)) {
    EXPECT_NE(f.domains[static_cast<size_t>(d)].block, busy_block);
  }
  const int64_t free_before = s->index().free_gpus();
  AiJob big = Job(12, 100, 1);
  const Ref h = Sub(*s, big, 2);
  AiJob blk = Job(5, 100, 2);
  blk.topology = TopologyScope::kBlock;
  const Ref k = Sub(*s, blk, 2);
  EXPECT_EQ(Pass(*s, 2), "");
  EXPECT_EQ(s->index().free_gpus(), free_before);
  EXPECT_TRUE(s->waiting(h) && s->waiting(k));
  AiJob dom = Job(5);
  dom.topology = TopologyScope::kDomain;
  EXPECT_FALSE(s->CanEverRun(dom));
  AiJob node = Job(3);
  node.topology = TopologyScope::kNode;
  EXPECT_FALSE(s->CanEverRun(node));
  // When the 6-GPU gang ends, the 12-GPU one takes 3 whole domains at once.
  s->Finish(g, 3);
  EXPECT_EQ(Pass(*s, 3), "2+");
  EXPECT_EQ(s->placement(h).domains, 3);
  EXPECT_EQ(Units(s->placement(h)), 12);
}

// Multi-site gangs on sites a (2 servers of 8 GPUs) and b (3 servers). A
// 36-GPU gang (5 servers): no site holds it; scope any can never run; scope
// multi-site takes b's 3 servers (the site with the most free first) and
// a's 2: 24 + 12 GPUs, named by site b. Once it ends, a 24-GPU multi-site
// gang fits site b alone and stays there.
TEST(FleetCore, MultiSiteGangSpansSitesOnlyWhenNoSiteHoldsIt) {
  const Fleet f = FleetOf(SiteHead("a") + Pool("S8", 2) + SiteHead("b") + Pool("S8", 3));
  auto s = Make(f, Policy(FleetQueuePolicy::kFifo));
  AiJob any = Job(36);
  EXPECT_FALSE(s->CanEverRun(any));
  AiJob m = Job(36);
  m.topology = TopologyScope::kMultiSite;
  EXPECT_TRUE(s->CanEverRun(m));
  const Ref big = Sub(*s, m, 0);
  EXPECT_EQ(Pass(*s, 0), "0+");
  EXPECT_TRUE(s->multi_site(big));
  EXPECT_EQ(s->placement(big).sites, 2);
  EXPECT_EQ(s->placement(big).domains, 5);
  EXPECT_EQ(s->site_of(big), 1);
  EXPECT_EQ(s->site_busy_gpus(0), 12);
  EXPECT_EQ(s->site_busy_gpus(1), 24);
  s->Finish(big, 10);
  AiJob m2 = Job(24);
  m2.topology = TopologyScope::kMultiSite;
  const Ref small = Sub(*s, m2, 10);
  EXPECT_EQ(Pass(*s, 10), "1+");
  EXPECT_FALSE(s->multi_site(small));
  EXPECT_EQ(s->site_of(small), 1);
  EXPECT_EQ(s->site_busy_gpus(0), 0);
  EXPECT_EQ(s->site_busy_gpus(1), 24);
  // A multi-site gang that some site holds now never spans sites: 16 GPUs
  // when b is full and a has 2 free servers.
  AiJob m3 = Job(16);
  m3.topology = TopologyScope::kMultiSite;
  const Ref third = Sub(*s, m3, 11);
  EXPECT_EQ(Pass(*s, 11), "2+");
  EXPECT_FALSE(s->multi_site(third));
  EXPECT_EQ(s->site_of(third), 0);
}

// Fractional pods on two D4. Tenant 0's pods of 500, 300, 400 milli: the
// first opens a GPU (500 left), the second joins it (200 left), the third
// fits none and opens another. Tenant 1's 200 does not join tenant 0's GPU
// (200 left there): it opens its own. Tenant 0 holds 2 GPUs, tenant 1 one.
// When the first two end, their GPU goes back. (fairshare: tenant 0's pods
// and tenant 1's interleave, which changes nothing here.)
TEST(FleetCore, FractionalPodsPackOntoOneGpuPerTenant) {
  const Fleet f = Quads(2);
  auto s = Make(f, Policy(FleetQueuePolicy::kFairshare));
  const Ref p1 = Sub(*s, Pod(500, 0), 0), p2 = Sub(*s, Pod(300, 0), 0), p3 = Sub(*s, Pod(400, 0), 0),
            p4 = Sub(*s, Pod(200, 1), 0);
  EXPECT_EQ(Pass(*s, 0), "0+ 1+ 2+ 3+");
  EXPECT_EQ(s->shared_gpu_of(p1), s->shared_gpu_of(p2));
  EXPECT_NE(s->shared_gpu_of(p1), s->shared_gpu_of(p3));
  EXPECT_NE(s->shared_gpu_of(p4), s->shared_gpu_of(p1));
  EXPECT_NE(s->shared_gpu_of(p4), s->shared_gpu_of(p3));
  EXPECT_EQ(s->used_gpus(0), 2);
  EXPECT_EQ(s->used_gpus(1), 1);
  EXPECT_EQ(s->index().free_gpus(), 5);
  EXPECT_EQ(s->site_busy_gpus(0), 3);
  EXPECT_NEAR(s->shared_slack_gpus(0, 0), 0.8, 1e-9);
  EXPECT_NEAR(s->shared_slack_gpus(1, 0), 0.8, 1e-9);
  EXPECT_EQ(Units(s->placement(p1)), 0);
  s->Finish(p1, 10);
  EXPECT_EQ(s->used_gpus(0), 2);  // p2 still holds it
  s->Finish(p2, 10);
  EXPECT_EQ(s->used_gpus(0), 1);
  EXPECT_EQ(s->index().free_gpus(), 6);
  EXPECT_NEAR(s->shared_slack_gpus(0, 0), 0.6, 1e-9);
  // A pod over its tenant's quota may still join a GPU the tenant holds.
  s->SetTenant(1, TenantSettings{1, TenantQuota{1, -1, -1}, -1});
  // p5 (900) fits no GPU tenant 1 holds (800 left) and may not open one;
  // p6 (200) joins p4's.
  const Ref p5 = Sub(*s, Pod(900, 1), 11), p6 = Sub(*s, Pod(200, 1), 11);
  EXPECT_EQ(Pass(*s, 11), "5+");
  EXPECT_TRUE(s->waiting(p5));
  EXPECT_EQ(s->shared_gpu_of(p6), s->shared_gpu_of(p4));
  EXPECT_EQ(s->used_gpus(1), 1);
}

// admit on one site of 8-GPU servers (1 kW per busy GPU, nothing idle), cap
// 12 kW: a (8 GPUs, 8 kW) starts; b (8 GPUs) would make 16 kW: refused
// though a server is free; c (4 GPUs, 12 kW exactly) starts. Under `none`
// b starts and c does not fit.
TEST(FleetCore, AdmitPowerRefusesStartsOverTheCap) {
  const Fleet f = FleetOf(SiteHead("s", 12000) + Pool("S8", 2));
  for (PowerPolicy pp : {PowerPolicy::kAdmit, PowerPolicy::kNone}) {
    SCOPED_TRACE(PowerPolicyName(pp));
    FleetSchedulerOptions o = Policy(FleetQueuePolicy::kFairshare);
    o.power = pp;
    auto s = Make(f, o);
    Sub(*s, Job(8), 0);
    Sub(*s, Job(8), 0);
    Sub(*s, Job(4), 0);
    if (pp == PowerPolicy::kAdmit) {
      EXPECT_EQ(Pass(*s, 0), "0+ 2+");
      EXPECT_DOUBLE_EQ(s->site_draw_w(0), 12000);
    } else {
      EXPECT_EQ(Pass(*s, 0), "0+ 1+");
      EXPECT_DOUBLE_EQ(s->site_draw_w(0), 16000);
    }
  }
}

// ---------------------------------------------------------------------------
// Live changes.

// fifo on one D4. Jobs added and submitted mid-run; a removed waiting job
// leaves the queue and its ref is handed out again; a running job cannot
// be removed; queue order is AddJob order, not ref order.
TEST(FleetCore, JobsAddedAndRemovedMidRun) {
  const Fleet f = Quads(1);
  auto s = Make(f, Policy(FleetQueuePolicy::kFifo));
  const Ref a = Sub(*s, Job(4), 0);
  EXPECT_EQ(Pass(*s, 0), "0+");
  EXPECT_FALSE(s->RemoveJob(a).ok());
  const Ref b = s->AddJob(Job(2));  // added, not submitted
  EXPECT_EQ(Pass(*s, 5), "");
  EXPECT_FALSE(s->waiting(b));
  EXPECT_EQ(s->waiting(), 0);
  s->Submit(b, 6);
  const Ref c = Sub(*s, Job(2), 6);
  const Ref y = Sub(*s, Job(2), 6);  // ref 3
  EXPECT_EQ(s->waiting(), 3);
  EXPECT_TRUE(s->RemoveJob(b).ok());
  EXPECT_FALSE(s->has_job(b));
  EXPECT_FALSE(s->RemoveJob(b).ok());
  EXPECT_EQ(s->waiting(), 2);
  AiJob xj = Job(2);
  const Ref x = Sub(*s, xj, 7);  // b's ref again, but after y in the queue
  EXPECT_EQ(x, b);
  EXPECT_EQ(s->job(x).id, xj.id);
  s->Finish(a, 10);
  // c (2) and y (2) fill the domain; x, with the lowest ref, waits.
  EXPECT_EQ(Pass(*s, 10), "2+ 3+");
  EXPECT_TRUE(s->waiting(x));
  (void)c;
  (void)y;
}

// fifo: the head does not fit, the job behind it would. Once the head is
// removed (or withdrawn), the next pass starts the job behind it -- nothing
// else changed.
TEST(FleetCore, RemovingABlockedHeadUnblocksTheQueue) {
  const Fleet f = Quads(1);
  for (FleetQueuePolicy pol : {FleetQueuePolicy::kFifo, FleetQueuePolicy::kPriority, FleetQueuePolicy::kEasy,
                               FleetQueuePolicy::kFairshare}) {
    for (const bool remove : {true, false}) {
      SCOPED_TRACE(fmt::format("{} {}", FleetQueuePolicyName(pol), remove ? "remove" : "withdraw"));
      auto s = Make(f, Policy(pol));
      Sub(*s, Job(3, 1000), 0);
      EXPECT_EQ(Pass(*s, 0), "0+");
      const Ref head = Sub(*s, Job(2), 1);
      // Fairshare tries 16 jobs behind the head: put the fitting one 17th.
      const int fillers = pol == FleetQueuePolicy::kFairshare ? 15 : 0;
      for (int i = 0; i < fillers; ++i) Sub(*s, Job(2), 1);
      const Ref next = Sub(*s, Job(1, 10), 1);
      EXPECT_EQ(Pass(*s, 1), pol == FleetQueuePolicy::kEasy ? fmt::format("{}+", next) : "");
      if (pol == FleetQueuePolicy::kEasy) continue;  // backfilled at once
      if (remove) {
        EXPECT_TRUE(s->RemoveJob(head).ok());
      } else {
        s->Withdraw(head);
      }
      EXPECT_EQ(Pass(*s, 2), fmt::format("{}+", next));
    }
  }
}

// fairshare, two D4. Tenant 0 runs 2 GPUs on one node, tenant 1 one GPU
// beside it (the fullest domain): domain X has 1 GPU free, Y 4. Then x1
// (tenant 0, 3 GPUs) and y1 (tenant 1, 3 GPUs) queue: only one of them fits
// (Y). With equal weights tenant 1 (1/8) goes before tenant 0 (2/8): y1.
// SetTenant at 5 giving tenant 0 weight 4 (2/8/4 = 1/16): x1. Giving tenant
// 1 a quota of 1 GPU instead: y1 may not start, x1 does.
TEST(FleetCore, SetTenantMidRunChangesLaterDecisions) {
  const Fleet f = Quads(2);
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    FleetSchedulerOptions o = Policy(FleetQueuePolicy::kFairshare);
    auto s = Make(f, o);
    const Ref x0 = Sub(*s, Job(2, 1000, 0), 0);
    EXPECT_EQ(Pass(*s, 0), "0+");
    const Ref y0 = Sub(*s, Job(1, 1000, 1), 1);
    EXPECT_EQ(Pass(*s, 1), "1+");
    ASSERT_EQ(DomainOf(f, *s, x0), DomainOf(f, *s, y0));
    const Ref x1 = Sub(*s, Job(3, 100, 0), 2), y1 = Sub(*s, Job(3, 100, 1), 2);
    if (variant == 1) s->SetTenant(0, TenantSettings{4, {}, -1});
    if (variant == 2) s->SetTenant(1, TenantSettings{1, TenantQuota{1, -1, -1}, -1});
    EXPECT_EQ(Pass(*s, 5), variant == 0 ? "3+" : "2+");
    EXPECT_EQ(s->running(x1), variant != 0);
    EXPECT_EQ(s->running(y1), variant == 0);
    if (variant == 2) {
      // A lower quota does not preempt running work; it counts against it.
      EXPECT_TRUE(s->running(y0));
      EXPECT_EQ(s->used_gpus(1), 1);
    }
  }
}

TEST(FleetCore, RemoveTenantFailsWhileItHasJobsOrClusters) {
  const Fleet f = Quads(2);
  FleetSchedulerOptions o = Policy(FleetQueuePolicy::kFairshare);
  o.tenant_weights = {1, 2};
  auto s = Make(f, o);
  EXPECT_EQ(s->num_tenants(), 2u);
  EXPECT_FALSE(s->RemoveTenant(7).ok());  // never seen
  const Ref a = Sub(*s, Job(1, 100, 1), 0);
  const Ref w = Sub(*s, Job(8, 100, 1), 0);
  EXPECT_EQ(Pass(*s, 0), "0+");
  EXPECT_FALSE(s->RemoveTenant(1).ok());
  EXPECT_TRUE(s->RemoveJob(w).ok());
  EXPECT_FALSE(s->RemoveTenant(1).ok());  // a still runs
  s->Finish(a, 1);
  EXPECT_FALSE(s->RemoveTenant(1).ok());  // a is still added
  EXPECT_TRUE(s->RemoveJob(a).ok());
  EXPECT_TRUE(s->RemoveTenant(1).ok());
  EXPECT_EQ(s->tenant(1).weight, 1);  // reset
  // A tenant with a dedicated cluster cannot be removed until it goes.
  s->SetTenant(3, TenantSettings{2, {}, -1});
  auto k = s->AddDedicated(DedicatedCluster{3, {0}, 0, 10, true});
  ASSERT_TRUE(k.ok());
  EXPECT_FALSE(s->RemoveTenant(3).ok());
  EXPECT_TRUE(s->RemoveDedicated(*k).ok());
  EXPECT_TRUE(s->RemoveTenant(3).ok());
  EXPECT_TRUE(s->RemoveTenant(0).ok());  // no jobs ever
}

// Dedicated clusters at run time, fairshare on two D4.
//   0:  tenant 0's a (4) takes a domain.
//   5:  tenant 1's cluster on the other domain is added, window [10, 100),
//       not lending; it is inactive until ApplyWindows(10). Tenant 0's b
//       (4, not preemptible) still starts there at 5 (shared until then).
//   10: the window opens: b stays, running on borrowed capacity (it started
//       before); tenant 1's o (4) cannot reclaim a non-preemptible job.
//   20: b ends; o takes its cluster; tenant 0's c (4) waits (no lending).
//   30: the window is moved to [10, 50): it closes at 50; the cluster is
//       then removed, its domain shared for good; o ends at 60 and c starts.
TEST(FleetCore, DedicatedClustersAddedMovedAndRemovedAtRunTime) {
  const Fleet f = Quads(2);
  auto s = Make(f, Policy(FleetQueuePolicy::kFairshare));
  const Ref a = Sub(*s, Job(4, 1000, 0), 0);
  EXPECT_EQ(Pass(*s, 0), "0+");
  const int32_t other = 1 - DomainOf(f, *s, a);
  EXPECT_FALSE(s->AddDedicated(DedicatedCluster{1, {7}, 10, 100, false}).ok());
  EXPECT_FALSE(s->AddDedicated(DedicatedCluster{1, {other, other}, 10, 100, false}).ok());
  auto k = s->AddDedicated(DedicatedCluster{1, {other}, 10, 100, false});
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, 0u);
  EXPECT_FALSE(s->AddDedicated(DedicatedCluster{2, {other}, 10, 100, false}).ok());  // taken
  EXPECT_FALSE(s->dedicated_active(0));
  EXPECT_EQ(s->NextWindowChange(), 10);
  const Ref b = Sub(*s, Job(4, 100, 0), 5);
  EXPECT_EQ(Pass(*s, 5), "1+");
  EXPECT_EQ(DomainOf(f, *s, b), other);
  std::vector<WindowChange> changed;
  s->ApplyWindows(10, &changed);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_TRUE(s->dedicated_active(0));
  EXPECT_EQ(s->borrowed_from(b), 0);
  const Ref o = Sub(*s, Job(4, 100, 1), 10);
  EXPECT_EQ(Pass(*s, 10), "");
  s->Finish(b, 20);
  const Ref c = Sub(*s, Job(4, 100, 0), 20);
  EXPECT_EQ(Pass(*s, 20), "2+");
  EXPECT_TRUE(s->in_own_dedicated(o));
  EXPECT_TRUE(s->waiting(c));
  ASSERT_TRUE(s->SetDedicatedWindow(0, 10, 50).ok());
  EXPECT_LE(s->NextWindowChange(), 50);
  changed.clear();
  s->ApplyWindows(50, &changed);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_FALSE(changed[0].active);
  EXPECT_EQ(Pass(*s, 50), "");  // o still holds the domain
  ASSERT_TRUE(s->RemoveDedicated(0).ok());
  EXPECT_FALSE(s->RemoveDedicated(0).ok());
  EXPECT_FALSE(s->SetDedicatedWindow(0, 0, 10).ok());
  EXPECT_EQ(s->NextWindowChange(), INT64_MAX);
  s->Finish(o, 60);
  EXPECT_EQ(Pass(*s, 60), "3+");
  // The domain can be dedicated again (a new index).
  auto k2 = s->AddDedicated(DedicatedCluster{1, {other}, 100, 200, true});
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(*k2, 1u);
}

// A window moved while the cluster is open: to one that has already ended,
// the cluster closes at the next ApplyWindows; to one that starts later,
// it closes too (it is not open outside its window) and opens at its start.
TEST(FleetCore, MovingAnOpenWindowClosesTheCluster) {
  const Fleet f = Quads(2);
  for (const bool later : {false, true}) {
    SCOPED_TRACE(later);
    FleetSchedulerOptions o = Policy(FleetQueuePolicy::kFifo);
    o.dedicated = {DedicatedCluster{1, {1}, 0, 1000, false}};
    auto s = Make(f, o);
    s->ApplyWindows(0, nullptr);
    ASSERT_TRUE(s->dedicated_active(0));
    if (later) {
      ASSERT_TRUE(s->SetDedicatedWindow(0, 500, 600).ok());
    } else {
      ASSERT_TRUE(s->SetDedicatedWindow(0, 0, 40).ok());
    }
    EXPECT_LE(s->NextWindowChange(), 50);
    s->ApplyWindows(50, nullptr);
    EXPECT_FALSE(s->dedicated_active(0));
    // Tenant 0 may use domain 1 now.
    Sub(*s, Job(8, 100, 0), 50);
    EXPECT_EQ(Pass(*s, 50), "0+");
    if (later) {
      EXPECT_EQ(s->NextWindowChange(), 500);
      s->ApplyWindows(500, nullptr);
      EXPECT_TRUE(s->dedicated_active(0));
      EXPECT_EQ(s->NextWindowChange(), 600);
    }
  }
}


// ---------------------------------------------------------------------------
// A driver that keeps its own model of every job's state (updated only from
// the calls it makes and the Decisions it gets back) and, after every call,
// recomputes the contract's invariants from scratch: brute force over the
// fleet and the running jobs.

class Driver {
 public:
  enum class St { kAdded, kWaiting, kRunning, kRemoved };
  struct Model {
    St st = St::kRemoved;
    uint64_t order = 0;      // AddJob order
    int64_t start_call = -1; // call that started its running attempt
    Seconds started = 0;     // when
    Seconds since = 0;       // when it last began waiting
  };

  Driver(const Fleet& f, FleetSchedulerOptions o, bool check = true)
      : f_(f), policy_(o.policy), power_(o.power), check_(check) {
    offline_call_.assign(f.domains.size(), -1);
    for (size_t d = 0; d < o.offline.size() && d < f.domains.size(); ++d) {
      if (o.offline[d]) offline_call_[d] = 0;
    }
    for (const DedicatedCluster& c : o.dedicated) {
      for (int32_t d : c.domains) dom_cluster_[d] = static_cast<int32_t>(owners_.size());
      owners_.push_back(c.tenant);
      cluster_removed_.push_back(false);
      active_call_.push_back(-1);
    }
    auto s = FleetScheduler::Create(f, std::move(o));
    EXPECT_TRUE(s.ok());
    s_ = std::move(s).value();
    calls_ = 1;
    prev_used_.assign(s_->num_tenants(), 0);
    Check("create");
  }

  FleetScheduler& s() { return *s_; }
  const FleetScheduler& s() const { return *s_; }
  const std::vector<Model>& jobs() const { return m_; }
  int64_t events() const { return calls_; }
  bool failed() const { return ::testing::Test::HasFailure(); }

  Ref Add(const AiJob& j) {
    const Ref r = s_->AddJob(j);
    if (r >= m_.size()) m_.resize(r + 1);
    EXPECT_NE(m_[r].st, St::kAdded);
    m_[r] = Model{St::kAdded, next_order_++, -1, 0, 0};
    Done("AddJob");
    return r;
  }
  void Submit(Ref j, Seconds now) {
    ASSERT_EQ(m_[j].st, St::kAdded);
    s_->Submit(j, now);
    m_[j].st = St::kWaiting;
    m_[j].since = now;
    Done("Submit");
  }
  void Finish(Ref j, Seconds now) {
    ASSERT_EQ(m_[j].st, St::kRunning);
    s_->Finish(j, now);
    m_[j].st = St::kAdded;
    Done("Finish");
  }
  void Interrupt(Ref j, Seconds now) {
    ASSERT_EQ(m_[j].st, St::kRunning);
    s_->Interrupt(j, now);
    m_[j].st = St::kWaiting;
    m_[j].since = now;
    Done("Interrupt");
  }
  void Withdraw(Ref j) {
    s_->Withdraw(j);
    if (m_[j].st == St::kWaiting) m_[j].st = St::kAdded;
    Done("Withdraw");
  }
  void Remove(Ref j) {
    const Status st = s_->RemoveJob(j);
    const bool ok = j < m_.size() && m_[j].st != St::kRunning && m_[j].st != St::kRemoved;
    EXPECT_EQ(st.ok(), ok) << "RemoveJob " << j;
    if (ok) m_[j].st = St::kRemoved;
    Done("RemoveJob");
  }
  // A node fails: its jobs are interrupted, then it goes down.
  void FailNode(int32_t n, Seconds now) {
    if (s_->node_down(n)) return;
    std::vector<Ref> on = s_->JobsOnNode(n);
    std::vector<Ref> brute;
    for (Ref j = 0; j < m_.size(); ++j) {
      if (m_[j].st != St::kRunning) continue;
      for (const GangPart& x : Expand(s_->placement(j))) {
        if (x.node == n) {
          brute.push_back(j);
          break;
        }
      }
    }
    // JobsOnNode lists the jobs with units there (a pod: its GPU's node).
    EXPECT_EQ(on, brute) << "JobsOnNode " << n;
    for (Ref j : on) Interrupt(j, now);
    s_->SetNodeDown(n, true);
    Done("SetNodeDown");
  }
  void RepairNode(int32_t n) {
    s_->SetNodeDown(n, false);
    Done("SetNodeUp");
  }
  void SetOnline(int32_t d, bool on) {
    if (s_->domain_online(d) == on) return;
    s_->SetDomainOnline(d, on);
    offline_call_[static_cast<size_t>(d)] = on ? -1 : calls_;
    Done("SetDomainOnline");
  }
  void SetTenant(TenantId t, const TenantSettings& ts) {
    s_->SetTenant(t, ts);
    Done("SetTenant");
  }
  void RemoveTenant(TenantId t) {
    bool ok = t < s_->num_tenants();
    for (Ref j = 0; j < m_.size() && ok; ++j) {
      if (m_[j].st != St::kRemoved && s_->job(j).tenant == t) ok = false;
    }
    for (size_t k = 0; k < owners_.size() && ok; ++k) {
      if (!cluster_removed_[k] && owners_[k] == t) ok = false;
    }
    EXPECT_EQ(s_->RemoveTenant(t).ok(), ok) << "RemoveTenant " << t;
    Done("RemoveTenant");
  }
  void AddDedicated(const DedicatedCluster& c) {
    bool ok = true;
    std::set<int32_t> seen;
    for (int32_t d : c.domains) {
      if (d < 0 || static_cast<size_t>(d) >= f_.domains.size() || dom_cluster_.count(d) || !seen.insert(d).second) {
        ok = false;
      }
    }
    auto k = s_->AddDedicated(c);
    EXPECT_EQ(k.ok(), ok);
    if (k.ok()) {
      EXPECT_EQ(*k, owners_.size());
      for (int32_t d : c.domains) dom_cluster_[d] = static_cast<int32_t>(*k);
      owners_.push_back(c.tenant);
      cluster_removed_.push_back(false);
      active_call_.push_back(-1);
    }
    Done("AddDedicated");
  }
  void SetWindow(size_t k, Seconds start, Seconds end) {
    const bool ok = k < owners_.size() && !cluster_removed_[k];
    EXPECT_EQ(s_->SetDedicatedWindow(k, start, end).ok(), ok);
    Done("SetDedicatedWindow");
  }
  void RemoveDedicated(size_t k) {
    const bool ok = k < owners_.size() && !cluster_removed_[k];
    EXPECT_EQ(s_->RemoveDedicated(k).ok(), ok);
    if (ok) {
      cluster_removed_[k] = true;
      for (auto it = dom_cluster_.begin(); it != dom_cluster_.end();) {
        it = it->second == static_cast<int32_t>(k) ? dom_cluster_.erase(it) : std::next(it);
      }
    }
    Done("RemoveDedicated");
  }
  // Applies the windows due at `now` (the caller's duty before anything else
  // at that time).
  void Windows(Seconds now) {
    if (s_->NextWindowChange() > now) return;
    std::vector<WindowChange> changed;
    s_->ApplyWindows(now, &changed);
    for (const WindowChange& c : changed) {
      EXPECT_EQ(s_->dedicated_active(c.cluster), c.active);
      if (c.active) active_call_[c.cluster] = calls_;
    }
    EXPECT_GT(s_->NextWindowChange(), now);
    Done("ApplyWindows");
  }
  // Re-adopts a job (Restore), as a restart does.
  Status Restore(Ref j, const Placement& p, Seconds started) {
    Status st = s_->Restore(j, p, started);
    if (st.ok()) {
      m_[j].st = St::kRunning;
      m_[j].start_call = calls_;
      m_[j].started = started;
      restored_ = true;
    }
    Done("Restore");
    return st;
  }

  const Decisions& Schedule(Seconds now) {
    // The state before the pass, for the checks of its decisions.
    struct Pre {
      bool running;
      Placement where;
      int32_t borrowed_from;
      bool on_borrowed_quota;
    };
    std::vector<Pre> pre(m_.size());
    for (Ref j = 0; j < m_.size(); ++j) {
      if (m_[j].st != St::kRunning) continue;
      pre[j] = Pre{true, s_->placement(j), s_->borrowed_from(j), s_->on_borrowed_quota(j)};
    }
    s_->Schedule(now, &d_);
    for (const JobChange& c : d_.changes) {
      if (c.job >= m_.size()) {
        ADD_FAILURE() << "a decision for job " << c.job << ", never added";
        return d_;
      }
    }
    // Decisions: by ref, each job once; the model follows them.
    int64_t preemptions = 0;
    bool any_start = false;
    int32_t top_priority = INT32_MIN;
    for (size_t i = 0; i < d_.changes.size(); ++i) {
      const JobChange& c = d_.changes[i];
      if (i > 0) { EXPECT_LT(d_.changes[i - 1].job, c.job) << "decisions by ref, each once"; }
      const bool was = pre[c.job].running;
      EXPECT_EQ(m_[c.job].st, was ? St::kRunning : St::kWaiting) << "job " << c.job;
      EXPECT_GE(c.preemptions, c.stopped ? 1 : 0);
      EXPECT_EQ(c.stopped, was) << "stopped iff it ran before the pass: job " << c.job;
      EXPECT_EQ(c.started, s_->running(c.job)) << "job " << c.job;
      if (!c.stopped && !c.started) { EXPECT_GE(c.preemptions, 1) << "job " << c.job; }
      preemptions += c.preemptions;
      if (c.started || (!c.stopped && c.preemptions > 0)) {
        any_start = true;
        top_priority = std::max(top_priority, s_->job(c.job).priority);
      }
    }
    if (preemptions > 0) { EXPECT_TRUE(any_start) << "a preemption without a start"; }
    for (const JobChange& c : d_.changes) {
      Model& m = m_[c.job];
      if (c.started) {
        m.st = St::kRunning;
        m.start_call = calls_;
        m.started = now;
      } else {
        m.st = St::kWaiting;
      }
      if (c.stopped || c.preemptions > 0) m.since = now;
      if (!c.stopped) continue;
      // Who may be preempted: preemptible work (priority, a dedicated
      // cluster's borrowers) or work on borrowed quota (reclaim); never a
      // fractional pod.
      const AiJob& job = s_->job(c.job);
      const Pre& p = pre[c.job];
      EXPECT_FALSE(job.fractional()) << "a pod was preempted: " << c.job;
      EXPECT_TRUE(job.preemptible || p.on_borrowed_quota) << "victim " << c.job;
      if (!p.on_borrowed_quota && p.borrowed_from < 0) {
        EXPECT_EQ(policy_, FleetQueuePolicy::kPriority) << "victim " << c.job << " neither borrows nor is on borrowed quota";
        EXPECT_LT(job.priority, top_priority) << "victim " << c.job << " of no lower priority";
      }
    }
    // Jobs the pass did not name kept their state and placement.
    {
      std::vector<bool> named(m_.size(), false);
      for (const JobChange& c : d_.changes) named[c.job] = true;
      for (Ref j = 0; j < m_.size(); ++j) {
        if (named[j] || m_[j].st == St::kRemoved) continue;
        EXPECT_EQ(s_->running(j), pre[j].running) << "job " << j << " changed but is not in the decisions";
        if (pre[j].running && s_->running(j)) {
          EXPECT_TRUE(SamePlacement(pre[j].where, s_->placement(j))) << "job " << j << " moved";
        }
      }
    }
    // Started jobs: in a tier they may use.
    for (const JobChange& c : d_.changes) {
      if (c.started) CheckStartTier(c.job);
    }
    ++calls_;
    if (Trace()) {
      std::printf("call %lld Schedule(%lld): %s\n", static_cast<long long>(calls_), static_cast<long long>(now),
                  Show(d_).c_str());
      for (Ref j = 0; j < m_.size(); ++j) {
        if (m_[j].st != St::kRunning) continue;
        std::string w;
        for (const GangPart& x : Expand(s_->placement(j))) w += fmt::format(" n{}:{}", x.node, x.units);
        const AiJob& a = s_->job(j);
        std::printf("   run %u t%u g%d m%d pre%d prio%d scope%d b%d:%s\n", j, a.tenant, a.gpus, a.gpu_milli,
                    a.preemptible, a.priority, static_cast<int>(a.topology), s_->borrowed_from(j), w.c_str());
      }
    }
    Check("Schedule");
    if (check_ && !restored_) CheckNoMissedHead();
    return d_;
  }

  static bool SamePlacement(const Placement& a, const Placement& b) {
    const std::vector<GangPart> x = Expand(a), y = Expand(b);
    if (x.size() != y.size() || a.pool != b.pool || a.sites != b.sites) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i].node != y[i].node || x[i].units != y[i].units) return false;
    }
    return true;
  }

  int32_t ClusterOf(int32_t d) const {
    auto it = dom_cluster_.find(d);
    return it == dom_cluster_.end() ? -1 : it->second;
  }
  bool cluster_removed(size_t k) const { return cluster_removed_[k]; }
  bool Active(int32_t k) const { return k >= 0 && s_->dedicated_active(static_cast<size_t>(k)); }

 private:
  void Done(const char* what) {
    ++calls_;
    if (Trace()) std::printf("call %lld %s\n", static_cast<long long>(calls_), what);
    Check(what);
  }
  static bool Trace() {
    static const bool on = std::getenv("FLEET_CORE_TRACE") != nullptr;
    return on;
  }

  // A job started in this pass is in one tier: its tenant's own active
  // clusters, the shared fleet, or one other tenant's active lending
  // cluster (then preemptible and counted a borrower of it).
  void CheckStartTier(Ref j) {
    const AiJob& job = s_->job(j);
    std::set<int32_t> tiers;  // -1 shared, else cluster
    for (int32_t d : DomainsOf(f_, s_->placement(j))) {
      const int32_t k = ClusterOf(d);
      tiers.insert(Active(k) ? k : -1);
    }
    bool own = true;
    for (int32_t k : tiers) own = own && k >= 0 && owners_[static_cast<size_t>(k)] == job.tenant;
    if (own) {
      EXPECT_TRUE(s_->in_own_dedicated(j) || job.fractional()) << "job " << j;
      EXPECT_EQ(s_->borrowed_from(j), -1);
      return;
    }
    EXPECT_FALSE(s_->in_own_dedicated(j)) << "job " << j;
    ASSERT_EQ(tiers.size(), 1u) << "job " << j << " started across tiers";
    const int32_t k = *tiers.begin();
    if (k < 0) {
      EXPECT_EQ(s_->borrowed_from(j), -1) << "job " << j;
      return;
    }
    EXPECT_TRUE(job.preemptible) << "job " << j << " (not preemptible) started on tenant "
                                 << owners_[static_cast<size_t>(k)] << "'s cluster " << k;
    EXPECT_TRUE(s_->dedicated(static_cast<size_t>(k)).lend) << "job " << j;
    EXPECT_EQ(s_->borrowed_from(j), k) << "job " << j;
  }

  // fifo, priority and easy start the head while it fits: after a pass the
  // head does not fit the shared fleet (checked where nothing else could
  // hold it back: no quota, no active dedicated cluster, no power cap).
  void CheckNoMissedHead() {
    if (policy_ == FleetQueuePolicy::kFairshare || power_ == PowerPolicy::kAdmit) return;
    for (size_t k = 0; k < owners_.size(); ++k) {
      if (!cluster_removed_[k] && s_->dedicated_active(k)) return;
    }
    Ref head = 0;
    bool found = false;
    for (Ref j = 0; j < m_.size(); ++j) {
      if (m_[j].st != St::kWaiting) continue;
      const AiJob& a = s_->job(j);
      if (!found) {
        head = j;
        found = true;
        continue;
      }
      const AiJob& h = s_->job(head);
      const bool before = policy_ == FleetQueuePolicy::kPriority && a.priority != h.priority
                              ? a.priority > h.priority
                              : m_[j].order < m_[head].order;
      if (before) head = j;
    }
    if (!found) return;
    const AiJob& h = s_->job(head);
    if (h.fractional() || h.topology == TopologyScope::kMultiSite) return;
    if (h.tenant < s_->num_tenants() && s_->tenant(h.tenant).quota.nominal_gpus >= 0) return;
    for (int32_t pool : s_->index().partition_pools(0)) {
      Placement p;
      EXPECT_FALSE(s_->index().Find(h, pool, &p)) << "the head " << head << " fits pool " << pool << " but waits";
    }
  }

  void Check(const char* what) {
    if (!check_) return;
    SCOPED_TRACE(what);
    const FleetScheduler& s = *s_;
    const size_t N = f_.nodes.size(), S = f_.sites.size();
    std::vector<int64_t> used(N, 0);
    const size_t T = s.num_tenants();
    std::vector<int64_t> used_gpus(T, 0), own(T, 0), spot(T, 0);
    std::vector<int64_t> busy(S, 0);
    std::vector<bool> dom_busy(f_.domains.size(), false);
    struct Share {
      int32_t node = -1;
      TenantId tenant = 0;
      int64_t milli = 0;
    };
    std::map<int32_t, Share> shares;
    std::map<std::pair<TenantId, int32_t>, int64_t> slack_milli;
    int64_t waiting = 0, waiting_gpu = 0;
    std::vector<int64_t> waiting_by(T, 0);
    for (Ref j = 0; j < m_.size(); ++j) {
      const Model& m = m_[j];
      if (m.st == St::kRemoved) {
        EXPECT_FALSE(s.has_job(j));
        continue;
      }
      ASSERT_TRUE(s.has_job(j)) << j;
      EXPECT_EQ(s.running(j), m.st == St::kRunning) << "job " << j;
      EXPECT_EQ(s.waiting(j), m.st == St::kWaiting) << "job " << j;
      const AiJob& job = s.job(j);
      if (m.st == St::kWaiting) {
        ++waiting;
        if (job.gpus > 0) {
          ++waiting_gpu;
          ++waiting_by[job.tenant];
        }
      }
      if (m.st != St::kRunning) continue;
      const Placement& p = s.placement(j);
      ASSERT_FALSE(p.parts.empty()) << j;
      std::set<int32_t> nodes, domains, blocks, sites, types;
      for (const GangPart& x : Expand(p)) {
        ASSERT_GE(x.node, 0);
        ASSERT_LT(static_cast<size_t>(x.node), N);
        const int32_t d = f_.nodes[static_cast<size_t>(x.node)].domain;
        nodes.insert(x.node);
        domains.insert(d);
        blocks.insert(f_.domains[static_cast<size_t>(d)].block);
        sites.insert(f_.site_of_domain(d));
        types.insert(f_.domains[static_cast<size_t>(d)].type);
        dom_busy[static_cast<size_t>(d)] = true;
        // Not on a down node; on an out-of-service domain only if it ran
        // there before the domain went out.
        EXPECT_FALSE(s.node_down(x.node)) << "job " << j << " on down node " << x.node;
        const int64_t off = offline_call_[static_cast<size_t>(d)];
        if (off >= 0) { EXPECT_LT(m.start_call, off) << "job " << j << " started on out-of-service domain " << d; }
        const NodeType& nt = f_.node_type(x.node);
        if (job.gpus > 0) {
          EXPECT_GT(nt.gpus, 0);
          EXPECT_TRUE((job.models >> nt.accelerator) & 1u) << "job " << j << " on a model it excludes";
        } else {
          EXPECT_EQ(nt.gpus, 0);
        }
      }
      EXPECT_EQ(p.sites, static_cast<int32_t>(sites.size())) << j;
      EXPECT_EQ(s.multi_site(j), sites.size() > 1) << j;
      EXPECT_EQ(types.size(), 1u) << "job " << j << " spans domain types";
      if (sites.size() > 1) {
        EXPECT_EQ(job.topology, TopologyScope::kMultiSite) << "job " << j << " spans sites";
        // Across sites: ceil(G / D) whole domains.
        const int32_t D = f_.domain_types[static_cast<size_t>(*types.begin())].gpus;
        EXPECT_EQ(static_cast<int64_t>(domains.size()), (job.gpus + D - 1) / D) << j;
        // Named by a site giving the most domains.
        std::map<int32_t, int> per_site;
        for (int32_t d : domains) ++per_site[f_.site_of_domain(d)];
        int most = 0;
        for (const auto& [site, n] : per_site) most = std::max(most, n);
        EXPECT_EQ(per_site[s.site_of(j)], most) << j;
      } else {
        EXPECT_EQ(s.site_of(j), *sites.begin()) << j;
      }
      if (job.topology == TopologyScope::kNode) { EXPECT_EQ(nodes.size(), 1u) << j; }
      if (job.topology == TopologyScope::kDomain) { EXPECT_EQ(domains.size(), 1u) << j; }
      if (job.topology == TopologyScope::kBlock) { EXPECT_EQ(blocks.size(), 1u) << j; }
      if (job.fractional()) {
        EXPECT_EQ(p.parts.size(), 1u);
        EXPECT_EQ(p.parts[0].units, 0);
        const int32_t g = s.shared_gpu_of(j);
        ASSERT_GE(g, 0) << j;
        Share& sh = shares[g];
        if (sh.node >= 0) {
          EXPECT_EQ(sh.node, p.parts[0].node) << "pods of one GPU on two nodes";
          EXPECT_EQ(sh.tenant, job.tenant) << "a GPU shared across tenants";
        }
        sh.node = p.parts[0].node;
        sh.tenant = job.tenant;
        sh.milli += job.gpu_milli;
        continue;
      }
      EXPECT_EQ(s.shared_gpu_of(j), -1);
      const int64_t u = Units(p);
      if (job.gpus > 0) {
        EXPECT_EQ(u, job.gpus) << "job " << j << " runs on " << u << " GPUs";
        used_gpus[job.tenant] += job.gpus;
        if (s.in_own_dedicated(j)) {
          own[job.tenant] += job.gpus;
        } else if (job.preemptible) {
          spot[job.tenant] += job.gpus;
        }
      } else {
        EXPECT_EQ(p.parts.size(), 1u);
        EXPECT_GE(u * 1000, job.cpu_milli);
      }
      for (const GangPart& x : Expand(p)) {
        EXPECT_GT(x.units, 0);
        used[static_cast<size_t>(x.node)] += x.units;
        if (f_.node_type(x.node).gpus > 0) busy[static_cast<size_t>(f_.site_of_domain(f_.nodes[static_cast<size_t>(x.node)].domain))] += x.units;
      }
    }
    for (const auto& [g, sh] : shares) {
      EXPECT_LE(sh.milli, kMilliPerGpu) << "shared GPU " << g << " over-committed";
      used[static_cast<size_t>(sh.node)] += 1;
      used_gpus[sh.tenant] += 1;
      const int32_t site = f_.site_of_domain(f_.nodes[static_cast<size_t>(sh.node)].domain);
      busy[static_cast<size_t>(site)] += 1;
      slack_milli[{sh.tenant, site}] += kMilliPerGpu - sh.milli;
    }
    // Capacity: no node over-committed; the index's free units agree.
    std::vector<int64_t> dom_free(f_.domains.size(), 0), down_gpus(S, 0), online(S, 0);
    int64_t free_gpus = 0;
    for (size_t n = 0; n < N; ++n) {
      const NodeType& nt = f_.node_type(static_cast<int32_t>(n));
      const int64_t cap = nt.gpus > 0 ? nt.gpus : nt.cpu_milli / 1000;
      EXPECT_LE(used[n], cap) << "node " << n << " over-committed";
      const int32_t d = f_.nodes[n].domain;
      if (s.node_down(static_cast<int32_t>(n))) {
        EXPECT_EQ(used[n], 0) << "work on down node " << n;
        EXPECT_EQ(s.index().node_free(static_cast<int32_t>(n)), 0) << n;
        down_gpus[static_cast<size_t>(f_.site_of_domain(d))] += nt.gpus;
      } else {
        EXPECT_EQ(s.index().node_free(static_cast<int32_t>(n)), cap - used[n]) << "node " << n;
      }
      dom_free[static_cast<size_t>(d)] += s.index().node_free(static_cast<int32_t>(n));
      if (nt.gpus > 0) free_gpus += s.index().node_free(static_cast<int32_t>(n));
    }
    for (size_t d = 0; d < f_.domains.size(); ++d) {
      EXPECT_EQ(s.index().domain_free(static_cast<int32_t>(d)), dom_free[d]) << "domain " << d;
      if (s.domain_online(static_cast<int32_t>(d)) || dom_busy[d]) {
        online[static_cast<size_t>(f_.site_of_domain(static_cast<int32_t>(d)))] += f_.domains[d].gpus;
      }
    }
    EXPECT_EQ(s.index().free_gpus(), free_gpus);
    for (size_t x = 0; x < S; ++x) {
      EXPECT_EQ(s.site_busy_gpus(static_cast<int32_t>(x)), busy[x]) << "site " << x;
      EXPECT_EQ(s.site_down_gpus(static_cast<int32_t>(x)), down_gpus[x]) << "site " << x;
      EXPECT_EQ(s.site_online_gpus(static_cast<int32_t>(x)), online[x]) << "site " << x;
      EXPECT_LE(s.site_busy_gpus(static_cast<int32_t>(x)), s.site_online_gpus(static_cast<int32_t>(x)));
    }
    EXPECT_EQ(s.waiting(), waiting);
    EXPECT_EQ(s.waiting_gpu_jobs(), waiting_gpu);
    for (TenantId t = 0; t < T; ++t) {
      EXPECT_EQ(s.used_gpus(t), used_gpus[t]) << "tenant " << t;
      EXPECT_EQ(s.used_gpus_own_dedicated(t), own[t]) << "tenant " << t;
      EXPECT_EQ(s.used_gpus_preemptible(t), spot[t]) << "tenant " << t;
      EXPECT_EQ(s.waiting_gpu_jobs(t), waiting_by[t]) << "tenant " << t;
      for (size_t x = 0; x < S; ++x) {
        auto it = slack_milli.find({t, static_cast<int32_t>(x)});
        EXPECT_NEAR(s.shared_slack_gpus(t, static_cast<int32_t>(x)),
                    it == slack_milli.end() ? 0.0 : it->second / 1000.0, 1e-9);
      }
      // Quota: at most nominal + what it may borrow (its cohort's nominal,
      // up to its limit). Over it only by a lowered quota or Restore: then
      // it does not grow.
      const TenantQuota& q = s.tenant(t).quota;
      if (q.nominal_gpus >= 0) {
        int64_t lendable = 0;
        if (q.cohort >= 0) {
          for (TenantId u = 0; u < T; ++u) {
            const TenantQuota& o = s.tenant(u).quota;
            if (u != t && o.cohort == q.cohort && o.nominal_gpus >= 0) lendable += o.nominal_gpus;
          }
          if (q.borrowing_limit >= 0) lendable = std::min(lendable, q.borrowing_limit);
        }
        const int64_t ceiling = q.nominal_gpus + lendable;
        if (used_gpus[t] > ceiling && t < prev_used_.size() && !restored_) {
          EXPECT_LE(used_gpus[t], prev_used_[t]) << "tenant " << t << " grew over its quota ceiling " << ceiling;
        }
      }
      int64_t ded_free = 0;
      for (size_t k = 0; k < owners_.size(); ++k) {
        if (cluster_removed_[k] || owners_[k] != t || !s.dedicated_active(k)) continue;
        for (int32_t d : s.dedicated(k).domains) {
          if (s.domain_online(d) && f_.domain_types[static_cast<size_t>(f_.domains[static_cast<size_t>(d)].type)].gpus > 0) {
            ded_free += dom_free[static_cast<size_t>(d)];
          }
        }
      }
      EXPECT_EQ(s.dedicated_free_gpus(t), ded_free) << "tenant " << t;
    }
    prev_used_ = used_gpus;
    // Dedicated clusters: on an active one, only its owner, and others' work
    // that borrows it -- preemptible work, if it lends, or work already
    // running there when it opened.
    for (Ref j = 0; j < m_.size(); ++j) {
      if (m_[j].st != St::kRunning) continue;
      const AiJob& job = s.job(j);
      const int32_t b = s.borrowed_from(j);
      if (b >= 0) {
        EXPECT_TRUE(Active(b)) << "job " << j << " borrows inactive cluster " << b;
        EXPECT_NE(owners_[static_cast<size_t>(b)], job.tenant);
      }
      for (int32_t d : DomainsOf(f_, s.placement(j))) {
        const int32_t k = ClusterOf(d);
        if (!Active(k) || owners_[static_cast<size_t>(k)] == job.tenant) continue;
        EXPECT_GE(b, 0) << "job " << j << " of tenant " << job.tenant << " on cluster " << k << " is no borrower";
        if (m_[j].start_call > active_call_[static_cast<size_t>(k)]) {
          EXPECT_TRUE(job.preemptible && s.dedicated(static_cast<size_t>(k)).lend)
              << "job " << j << " started on tenant " << owners_[static_cast<size_t>(k)] << "'s open cluster " << k;
        }
      }
    }
  }

  const Fleet& f_;
  FleetQueuePolicy policy_;
  PowerPolicy power_;
  bool check_;
  std::unique_ptr<FleetScheduler> s_;
  std::vector<Model> m_;
  uint64_t next_order_ = 0;
  int64_t calls_ = 0;
  Decisions d_;
  std::vector<int64_t> offline_call_;       // by domain: the call it went out of service; -1 in
  std::map<int32_t, int32_t> dom_cluster_;  // domain -> cluster (not removed)
  std::vector<TenantId> owners_;
  std::vector<bool> cluster_removed_;
  std::vector<int64_t> active_call_;  // by cluster: the call it last opened
  std::vector<int64_t> prev_used_;
  bool restored_ = false;
};

// The random fleet: two sites; domain types DA (2 nodes x 2 GPUs of model
// A) and DB (1 node of 4 GPUs of model B); small blocks; CPU nodes. Site
// s1 has a 14 kW cap (14 busy GPUs) for `admit`.
//   s0: DA x4 in blocks of 2, DB x2, cpu x2   (24 GPUs)
//   s1: DA x3 in blocks of 2, DB x2, cpu x1   (20 GPUs)
Fleet RandomFleet() {
  return FleetOf(SiteHead("s0") + Pool("DA", 4, 2) + Pool("DB", 2, 2) +
                 "  [[sites.pools]]\n  node = \"cpu\"\n  count = 2\n" + SiteHead("s1", 14000) + Pool("DA", 3, 2) +
                 Pool("DB", 2) + "  [[sites.pools]]\n  node = \"cpu\"\n  count = 1\n");
}

struct Rng {
  std::mt19937_64 g;
  explicit Rng(uint64_t seed) : g(seed) {}
  int64_t In(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(g() % static_cast<uint64_t>(hi - lo + 1)); }
  bool P(double p) { return static_cast<double>(g() % 1000000) < p * 1e6; }
  template <class V>
  auto& Pick(V& v) { return v[static_cast<size_t>(In(0, static_cast<int64_t>(v.size()) - 1))]; }
};

// What a random sequence may use.
struct Mix {
  bool fractional = true, cpu = true, multi_site = true, cohorts = true, dedicated = true, failures = true,
       offline = true, tenants = true, remove_jobs = true, lend = true;
  int max_gpus = 16;
  int tenants_n = 4;
  bool whole_servers = false;  // jobs of 4 or 8 GPUs only
};

AiJob RandomJob(Rng& r, const Fleet& f, const Mix& mix) {
  static JobId next = 1000000;
  AiJob j;
  j.id = next++;
  j.tenant = static_cast<TenantId>(r.In(0, mix.tenants_n - 1));
  j.runtime = r.In(10, 300);
  j.requested = r.P(0.5) ? j.runtime * r.In(1, 3) : 0;
  j.priority = static_cast<int32_t>(r.In(0, 3));
  j.preemptible = r.P(0.4);
  const int64_t kind = r.In(0, 99);
  if (mix.whole_servers) {
    j.gpus = static_cast<int32_t>(4 * r.In(1, 3));
    j.topology = TopologyScope::kAny;
    return j;
  }
  if (mix.cpu && kind < 8) {
    j.gpus = 0;
    j.cpu_milli = r.In(100, 4000);
    return j;
  }
  if (mix.fractional && kind < 20) {
    j.gpus = 1;
    j.gpu_milli = static_cast<int32_t>(r.In(1, 9) * 100);
    if (r.P(0.3)) j.models = uint64_t{1} << r.In(0, 1);
    return j;
  }
  j.gpus = static_cast<int32_t>(r.P(0.6) ? r.In(1, 4) : r.In(5, mix.max_gpus));
  const int64_t scope = r.In(0, mix.multi_site ? 5 : 4);
  j.topology = scope == 0   ? TopologyScope::kNode
               : scope == 1 ? TopologyScope::kDomain
               : scope == 2 ? TopologyScope::kBlock
               : scope == 5 ? TopologyScope::kMultiSite
                            : TopologyScope::kAny;
  if (r.P(0.25)) j.models = uint64_t{1} << r.In(0, 1);
  (void)f;
  return j;
}

TenantSettings RandomTenant(Rng& r, const Mix& mix) {
  TenantSettings t;
  t.weight = static_cast<double>(r.In(1, 3));
  if (r.P(0.5)) {
    t.quota.nominal_gpus = r.In(0, 16);
    if (mix.cohorts) t.quota.cohort = static_cast<int32_t>(r.In(-1, 1));
    t.quota.borrowing_limit = r.P(0.5) ? -1 : r.In(0, 8);
  }
  return t;
}

DedicatedCluster RandomCluster(Rng& r, const Fleet& f, const Mix& mix, Seconds now) {
  DedicatedCluster c;
  c.tenant = static_cast<TenantId>(r.In(0, mix.tenants_n - 1));
  const int64_t n = r.In(1, 3);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t d = static_cast<int32_t>(r.In(0, static_cast<int64_t>(f.domains.size()) - 1));
    if (f.domain_types[static_cast<size_t>(f.domains[static_cast<size_t>(d)].type)].gpus > 0) c.domains.push_back(d);
  }
  std::sort(c.domains.begin(), c.domains.end());
  c.domains.erase(std::unique(c.domains.begin(), c.domains.end()), c.domains.end());
  c.start = now + r.In(-50, 150);
  c.end = c.start + r.In(0, 400);
  c.lend = mix.lend && r.P(0.6);
  return c;
}

// One random step, chosen from the first driver's state and made on every
// driver alike (the caller applies the windows due first). Returns the
// decisions of each driver if the step was a pass.
bool RandomStep(const std::vector<Driver*>& xs, Rng& r, const Fleet& f, const Mix& mix, Seconds now,
                std::vector<Ref>* pending, std::vector<std::string>* shown = nullptr) {
  Driver& x = *xs[0];
  FleetScheduler& s = x.s();
  auto all = [&](auto&& fn) {
    for (Driver* d : xs) fn(*d);
  };
  auto pick = [&](Driver::St st, Ref* out) {
    std::vector<Ref> v;
    for (Ref j = 0; j < x.jobs().size(); ++j) {
      if (x.jobs()[j].st == st) v.push_back(j);
    }
    if (v.empty()) return false;
    *out = r.Pick(v);
    return true;
  };
  const int64_t e = r.In(0, 99);
  Ref j = 0;
  if (e < 28) {  // a job arrives (sometimes added now, submitted later)
    const AiJob job = RandomJob(r, f, mix);
    Ref ref = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const Ref got = xs[i]->Add(job);
      if (i == 0) ref = got;
      EXPECT_EQ(got, ref);
    }
    if (r.P(0.2)) {
      pending->push_back(ref);
    } else if (s.CanEverRun(job) || r.P(0.1)) {
      all([&](Driver& d) { d.Submit(ref, now); });
    } else if (mix.remove_jobs) {
      all([&](Driver& d) { d.Remove(ref); });
    }
  } else if (e < 33) {
    if (!pending->empty()) {
      const size_t i = static_cast<size_t>(r.In(0, static_cast<int64_t>(pending->size()) - 1));
      const Ref ref = (*pending)[i];
      pending->erase(pending->begin() + static_cast<std::ptrdiff_t>(i));
      if (x.jobs()[ref].st == Driver::St::kAdded) all([&](Driver& d) { d.Submit(ref, now); });
    }
  } else if (e < 48) {
    if (pick(Driver::St::kRunning, &j)) all([&](Driver& d) { d.Finish(j, now); });
  } else if (e < 51) {
    if (pick(Driver::St::kRunning, &j)) all([&](Driver& d) { d.Interrupt(j, now); });
  } else if (e < 54) {
    if (pick(Driver::St::kWaiting, &j)) all([&](Driver& d) { d.Withdraw(j); });
  } else if (e < 57) {
    if (mix.remove_jobs && !x.jobs().empty()) {
      j = static_cast<Ref>(r.In(0, static_cast<int64_t>(x.jobs().size()) - 1));
      all([&](Driver& d) { d.Remove(j); });
    }
  } else if (e < 61) {
    if (mix.failures) {
      const int32_t n = static_cast<int32_t>(r.In(0, static_cast<int64_t>(f.nodes.size()) - 1));
      const bool down = s.node_down(n);
      all([&](Driver& d) {
        if (down) {
          d.RepairNode(n);
        } else {
          d.FailNode(n, now);
        }
      });
    }
  } else if (e < 63) {
    if (mix.offline) {
      const int32_t d = static_cast<int32_t>(r.In(0, static_cast<int64_t>(f.domains.size()) - 1));
      const bool on = !s.domain_online(d);
      all([&](Driver& x2) { x2.SetOnline(d, on); });
    }
  } else if (e < 65) {
    if (mix.tenants) {
      const TenantId t = static_cast<TenantId>(r.In(0, mix.tenants_n));
      const TenantSettings ts = RandomTenant(r, mix);
      all([&](Driver& d) { d.SetTenant(t, ts); });
    }
  } else if (e < 66) {
    if (mix.tenants) {
      const TenantId t = static_cast<TenantId>(r.In(0, mix.tenants_n + 1));
      all([&](Driver& d) { d.RemoveTenant(t); });
    }
  } else if (e < 68) {
    if (mix.dedicated) {
      const int64_t what = r.In(0, 2);
      if (what == 0 || s.num_dedicated() == 0) {
        const DedicatedCluster c = RandomCluster(r, f, mix, now);
        all([&](Driver& d) { d.AddDedicated(c); });
      } else if (what == 1) {
        const Seconds start = now + r.In(-100, 100), end = start + r.In(0, 300);
        const size_t k = static_cast<size_t>(r.In(0, static_cast<int64_t>(s.num_dedicated())));
        all([&](Driver& d) { d.SetWindow(k, start, end); });
      } else {
        const size_t k = static_cast<size_t>(r.In(0, static_cast<int64_t>(s.num_dedicated())));
        all([&](Driver& d) { d.RemoveDedicated(k); });
      }
    }
  } else {
    if (shown != nullptr) shown->clear();
    all([&](Driver& d) {
      const Decisions& dec = d.Schedule(now);
      if (shown != nullptr) shown->push_back(Show(dec));
    });
    return true;
  }
  return false;
}

FleetSchedulerOptions RandomOptions(Rng& r, const Fleet& f, const Mix& mix, FleetQueuePolicy policy) {
  FleetSchedulerOptions o;
  o.policy = policy;
  o.power = r.P(0.3) ? PowerPolicy::kAdmit : PowerPolicy::kNone;
  o.starve_after = r.In(20, 400);
  for (int t = 0; t < mix.tenants_n; ++t) {
    const TenantSettings ts = RandomTenant(r, mix);
    o.tenant_weights.push_back(ts.weight);
    o.quotas.push_back(ts.quota);
  }
  if (mix.dedicated) {
    std::set<int32_t> taken;
    for (int64_t k = r.In(0, 2); k > 0; --k) {
      DedicatedCluster c = RandomCluster(r, f, mix, 0);
      std::vector<int32_t> ds;
      for (int32_t d : c.domains) {
        if (taken.insert(d).second) ds.push_back(d);
      }
      c.domains = ds;
      o.dedicated.push_back(c);
    }
  }
  if (mix.offline && r.P(0.3)) {
    o.offline.assign(f.domains.size(), false);
    o.offline[static_cast<size_t>(r.In(0, static_cast<int64_t>(f.domains.size()) - 1))] = true;
  }
  return o;
}

// Thousands of random sequences over every policy; every invariant after
// every call.
TEST(FleetCore, RandomSequencesKeepEveryInvariant) {
  const Fleet f = RandomFleet();
  const auto t0 = std::chrono::steady_clock::now();
  int64_t sequences = 0, events = 0, starts = 0, preemptions = 0;
  const Mix mix;
  const uint64_t only = std::getenv("FLEET_CORE_SEED") ? std::strtoull(std::getenv("FLEET_CORE_SEED"), nullptr, 10) : 0;
  for (uint64_t seed = only ? only : 1; seed <= (only ? only : 5000) && !::testing::Test::HasFailure(); ++seed) {
    const FleetQueuePolicy policy = static_cast<FleetQueuePolicy>(seed % 4);
    SCOPED_TRACE(fmt::format("seed {} policy {}", seed, FleetQueuePolicyName(policy)));
    Rng r(seed);
    Driver x(f, RandomOptions(r, f, mix, policy));
    std::vector<Ref> pending;
    Seconds now = 0;
    const int64_t steps = r.In(50, 250);
    for (int64_t i = 0; i < steps && !::testing::Test::HasFailure(); ++i) {
      now += r.In(0, 12);
      x.Windows(now);
      RandomStep({&x}, r, f, mix, now, &pending);
    }
    x.Windows(now);
    const Decisions& d = x.Schedule(now);
    for (const JobChange& c : d.changes) {
      starts += c.started;
      preemptions += c.preemptions;
    }
    ++sequences;
    events += x.events();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ fleet_core ] %lld sequences, %lld calls checked, %.2f s\n", static_cast<long long>(sequences),
              static_cast<long long>(events), secs);
  (void)starts;
  (void)preemptions;
}


// ---------------------------------------------------------------------------
// Restore.

// Sites a (nodes 0, 1) and b (nodes 2, 3) of one 8-GPU server each per
// domain; tenant 1's lending cluster is domain 3, open.
TEST(FleetCore, RestoreChecksBeforeItAdopts) {
  const Fleet f = FleetOf(SiteHead("a") + Pool("S8", 2) + SiteHead("b") + Pool("S8", 2) +
                          "  [[sites.pools]]\n  node = \"cpu\"\n  count = 1\n");
  FleetSchedulerOptions o = Policy(FleetQueuePolicy::kFifo);
  o.dedicated = {DedicatedCluster{1, {3}, 0, 100, true}};
  Driver x(f, o);
  FleetScheduler& s = x.s();
  x.Windows(0);
  ASSERT_TRUE(s.dedicated_active(0));
  auto at = [](std::vector<std::pair<int32_t, int32_t>> parts) {
    Placement p;
    for (auto [n, u] : parts) p.parts.push_back({n, u});
    return p;
  };
  auto fails = [&](Ref j, const Placement& p, const std::string& why) {
    const int64_t free = s.index().free_gpus();
    const bool was = s.running(j);
    const Status st = x.Restore(j, p, 0);
    EXPECT_FALSE(st.ok()) << why;
    if (!st.ok()) { EXPECT_NE(st.error().ToString().find(why), std::string::npos) << st.error().ToString(); }
    EXPECT_EQ(s.running(j), was);
    EXPECT_EQ(s.index().free_gpus(), free);
  };
  const Ref j1 = x.Add(Job(8));
  const Ref j2 = x.Add(Job(4));
  EXPECT_TRUE(x.Restore(j1, at({{0, 8}}), 0).ok());
  EXPECT_EQ(s.site_busy_gpus(0), 8);
  fails(j1, at({{1, 8}}), "already running");
  fails(j2, at({{0, 4}}), "units free");
  fails(j2, at({{1, 2}}), "2 GPUs for a job of 4");
  fails(j2, at({{1, 2}, {1, 4}}), "6 GPUs for a job of 4");  // one node named twice: 6
  fails(j2, at({{9, 4}}), "not in the fleet");
  fails(j2, at({}), "no nodes");
  fails(j2, at({{4, 4}}), "CPU node");
  x.FailNode(1, 0);
  fails(j2, at({{1, 4}}), "down");
  x.RepairNode(1);
  x.SetOnline(1, false);
  fails(j2, at({{1, 4}}), "out of service");
  x.SetOnline(1, true);
  // Spanning sites: only a multi-site gang.
  const Ref any = x.Add(Job(16));
  fails(any, at({{1, 8}, {2, 8}}), "spans sites");
  AiJob m = Job(16);
  m.topology = TopologyScope::kMultiSite;
  const Ref multi = x.Add(m);
  EXPECT_TRUE(x.Restore(multi, at({{1, 8}, {2, 8}}), 5).ok());
  EXPECT_TRUE(s.multi_site(multi));
  x.Finish(multi, 6);
  // A node-scope job on two nodes; a domain-scope job on two domains.
  AiJob nj = Job(4);
  nj.topology = TopologyScope::kNode;
  const Ref node_job = x.Add(nj);
  fails(node_job, at({{1, 2}, {2, 2}}), "spans sites");
  // Another tenant's open cluster: only preemptible work, as a borrower.
  const Ref hard = x.Add(Job(8, 100, 0));
  fails(hard, at({{3, 8}}), "another tenant's dedicated cluster");
  AiJob soft = Job(8, 100, 0);
  soft.preemptible = true;
  const Ref spot = x.Add(soft);
  EXPECT_TRUE(x.Restore(spot, at({{3, 8}}), 1).ok());
  EXPECT_EQ(s.borrowed_from(spot), 0);
  // The owner's own work there is fine; a waiting job leaves its queue.
  const Ref mine = x.Add(Job(4, 100, 1));
  x.Submit(mine, 2);
  EXPECT_EQ(s.waiting(), 1);
  x.Finish(spot, 3);
  EXPECT_TRUE(x.Restore(mine, at({{3, 4}}), 3).ok());
  EXPECT_EQ(s.waiting(), 0);
  EXPECT_TRUE(s.in_own_dedicated(mine));
  // Pods: one node, no units; they share a GPU as they pack.
  const Ref p1 = x.Add(Pod(400, 2)), p2 = x.Add(Pod(500, 2)), p3 = x.Add(Pod(300, 2));
  EXPECT_TRUE(x.Restore(p1, at({{2, 0}}), 4).ok());
  EXPECT_TRUE(x.Restore(p2, at({{2, 0}}), 4).ok());
  EXPECT_EQ(s.shared_gpu_of(p1), s.shared_gpu_of(p2));
  fails(p3, at({{2, 0}, {1, 0}}), "one node");
  EXPECT_TRUE(x.Restore(p3, at({{2, 0}}), 4).ok());
  EXPECT_NE(s.shared_gpu_of(p3), s.shared_gpu_of(p1));  // 100 left there
  EXPECT_EQ(s.used_gpus(2), 2);
  // A restored job's expected end counts for easy and its pass lists
  // nothing for it.
  Decisions d = x.Schedule(10);
  EXPECT_TRUE(d.changes.empty());
}

struct RestoreStats {
  int64_t sequences = 0, restored = 0, passes = 0, diverged = 0, moved = 0;
  int64_t borrowed_quota_differs = 0, pods_regrouped = 0;
  std::map<std::string, int64_t> why;
};

std::vector<GangPart> Sorted(const Placement& p) {
  std::vector<GangPart> v = Expand(p);
  std::sort(v.begin(), v.end(), [](const GangPart& a, const GangPart& b) {
    return std::tie(a.node, a.units) < std::tie(b.node, b.units);
  });
  return v;
}
bool SameNodes(const Placement& a, const Placement& b) {
  const auto x = Sorted(a), y = Sorted(b);
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i].node != y[i].node || x[i].units != y[i].units) return false;
  }
  return true;
}

// B, rebuilt from A at `now` as a restarted control plane would: the same
// fleet and options, A's tenants and clusters (windows as A has them), the
// same jobs in the same order, every running job restored where A runs it
// (in A's start order: by pass, then queue order within a pass), waiting
// jobs submitted with A's `since`, failed nodes and out-of-service domains
// as in A, then the windows applied.
std::unique_ptr<Driver> Rebuild(const Fleet& f, FleetSchedulerOptions o, Driver& A, Seconds now, RestoreStats* st) {
  const FleetScheduler& a = A.s();
  const size_t initial = o.dedicated.size();
  o.offline.clear();
  auto B = std::make_unique<Driver>(f, o);
  for (TenantId t = 0; t < a.num_tenants(); ++t) B->SetTenant(t, a.tenant(t));
  // Clusters A removed give their domains back first; then those A added.
  for (size_t k = 0; k < initial; ++k) {
    if (A.cluster_removed(k)) B->RemoveDedicated(k);
  }
  for (size_t k = initial; k < a.num_dedicated(); ++k) {
    B->AddDedicated(a.dedicated(k));
    if (A.cluster_removed(k)) B->RemoveDedicated(k);
  }
  for (size_t k = 0; k < a.num_dedicated(); ++k) {
    if (!A.cluster_removed(k)) B->SetWindow(k, a.dedicated(k).start, a.dedicated(k).end);
  }
  for (Ref j = 0; j < A.jobs().size(); ++j) { EXPECT_EQ(B->Add(a.job(j)), j); }
  std::vector<Ref> running;
  for (Ref j = 0; j < A.jobs().size(); ++j) {
    if (A.jobs()[j].st == Driver::St::kRunning) running.push_back(j);
  }
  const bool by_priority = o.policy == FleetQueuePolicy::kPriority;
  std::sort(running.begin(), running.end(), [&](Ref x, Ref y) {
    const auto& mx = A.jobs()[x];
    const auto& my = A.jobs()[y];
    if (mx.start_call != my.start_call) return mx.start_call < my.start_call;
    if (by_priority && a.job(x).priority != a.job(y).priority) return a.job(x).priority > a.job(y).priority;
    return mx.order < my.order;
  });
  for (Ref j : running) {
    const Status s = B->Restore(j, a.placement(j), A.jobs()[j].started);
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    ++st->restored;
  }
  for (Ref j = 0; j < A.jobs().size(); ++j) {
    if (A.jobs()[j].st == Driver::St::kWaiting) B->Submit(j, A.jobs()[j].since);
  }
  for (int32_t n = 0; n < static_cast<int32_t>(f.nodes.size()); ++n) {
    if (a.node_down(n)) B->FailNode(n, now);
  }
  for (int32_t d = 0; d < static_cast<int32_t>(f.domains.size()); ++d) {
    if (!a.domain_online(d)) B->SetOnline(d, false);
  }
  B->Windows(now);
  // What Restore could not carry over.
  std::map<int32_t, std::set<int32_t>> groups_a, groups_b;  // shared GPU -> pods
  for (Ref j : running) {
    EXPECT_TRUE(SameNodes(a.placement(j), B->s().placement(j))) << j;
    EXPECT_EQ(a.borrowed_from(j), B->s().borrowed_from(j)) << j;
    st->borrowed_quota_differs += a.on_borrowed_quota(j) != B->s().on_borrowed_quota(j);
    if (a.job(j).fractional()) {
      groups_a[a.shared_gpu_of(j)].insert(static_cast<int32_t>(j));
      groups_b[B->s().shared_gpu_of(j)].insert(static_cast<int32_t>(j));
    }
  }
  std::set<std::set<int32_t>> ga, gb;
  for (auto& [g, v] : groups_a) ga.insert(v);
  for (auto& [g, v] : groups_b) gb.insert(v);
  st->pods_regrouped += ga != gb;
  for (TenantId t = 0; t < a.num_tenants(); ++t) {
    if (ga == gb) { EXPECT_EQ(a.used_gpus(t), B->s().used_gpus(t)) << t; }
  }
  for (size_t k = 0; k < a.num_dedicated(); ++k) {
    EXPECT_EQ(a.dedicated_active(k), B->s().dedicated_active(k)) << k;
  }
  return B;
}

// Do A and B hold the same jobs in the same states and places?
std::string StateDiff(const Driver& A, const Driver& B, bool nodes = true) {
  for (Ref j = 0; j < A.jobs().size(); ++j) {
    if (A.jobs()[j].st != B.jobs()[j].st) return fmt::format("job {} state", j);
    if (nodes && A.jobs()[j].st == Driver::St::kRunning && !SameNodes(A.s().placement(j), B.s().placement(j))) {
      return fmt::format("job {} placed elsewhere", j);
    }
  }
  return "";
}

// Runs `sequences` random sequences per policy: A to a random time T,
// B rebuilt from it, then both through the same events. Returns the stats.
RestoreStats RestoreDifferential(const Fleet& f, const Mix& mix, FleetQueuePolicy policy, int sequences,
                                 uint64_t seed0, bool nodes = true) {
  RestoreStats st;
  Mix phase1 = mix;
  phase1.remove_jobs = false;  // refs stay AddJob order
  const uint64_t only = std::getenv("FLEET_CORE_SEED") ? std::strtoull(std::getenv("FLEET_CORE_SEED"), nullptr, 10) : 0;
  for (uint64_t seed = seed0; seed < seed0 + static_cast<uint64_t>(sequences) && !::testing::Test::HasFailure(); ++seed) {
    if (only != 0 && seed != only) continue;
    SCOPED_TRACE(fmt::format("seed {} policy {}", seed, FleetQueuePolicyName(policy)));
    Rng r(seed);
    const FleetSchedulerOptions o = RandomOptions(r, f, mix, policy);
    Driver A(f, o);
    std::vector<Ref> pending;
    Seconds now = 0;
    for (int64_t i = r.In(20, 120); i > 0; --i) {
      now += r.In(0, 12);
      A.Windows(now);
      RandomStep({&A}, r, f, phase1, now, &pending);
    }
    now += r.In(0, 12);
    A.Windows(now);
    auto B = Rebuild(f, o, A, now, &st);
    ++st.sequences;
    std::string why = StateDiff(A, *B);
    EXPECT_EQ(why, "");
    std::vector<std::string> shown;
    for (int64_t i = r.In(20, 120); i > 0 && why.empty(); --i) {
      now += r.In(0, 12);
      A.Windows(now);
      B->Windows(now);
      if (RandomStep({&A, B.get()}, r, f, phase1, now, &pending, &shown)) {
        ++st.passes;
        if (shown[0] != shown[1]) {
          if (std::getenv("FLEET_CORE_DIVERGE")) {
            std::printf("seed %llu %s: A '%s' B '%s' at %lld\n", static_cast<unsigned long long>(seed),
                        FleetQueuePolicyName(policy), shown[0].c_str(), shown[1].c_str(), static_cast<long long>(now));
          }
          why = "decisions";
          break;
        }
      }
      why = StateDiff(A, *B, nodes);
      if (!why.empty()) why = "placement";
    }
    if (!why.empty()) {
      ++st.diverged;
      ++st.why[why];
    }
  }
  return st;
}

// On the random fleet B may place a job on other nodes than A with the same
// free counts (TopoIndex breaks ties by its buckets' order, a history B does
// not share), and from then on the two fleets differ. Until then, their
// decisions are the same: no sequence diverges in decisions first.
TEST(FleetCore, RestoreThenSameDecisionsUntilPlacementsDiffer) {
  const Fleet f = RandomFleet();
  Mix mix;
  for (FleetQueuePolicy p : {FleetQueuePolicy::kFifo, FleetQueuePolicy::kFairshare, FleetQueuePolicy::kPriority,
                             FleetQueuePolicy::kEasy}) {
    RestoreStats st = RestoreDifferential(f, mix, p, 300, 7000);
    std::string why;
    for (auto& [k, v] : st.why) why += fmt::format(" {}={}", k, v);
    std::printf("[ restore %s ] %lld sequences, %lld restored, %lld passes compared, %lld diverged (%s), "
                "on_borrowed_quota differs %lld, pods regrouped %lld\n",
                FleetQueuePolicyName(p), (long long)st.sequences, (long long)st.restored, (long long)st.passes,
                (long long)st.diverged, why.c_str(), (long long)st.borrowed_quota_differs,
                (long long)st.pods_regrouped);
    EXPECT_EQ(st.why["decisions"], 0) << FleetQueuePolicyName(p);
    EXPECT_GT(st.passes, 1000);
  }
}


// On a fleet where every free server is as good as another (one site, one
// block, 8 servers of 4 GPUs, jobs of whole servers, no event that names a
// node or domain), where B places a job cannot matter: B decides exactly as
// A would have.
TEST(FleetCore, RestoreThenSameDecisionsOnASymmetricFleet) {
  const Fleet f = FleetOf(SiteHead("s") + Pool("DB", 8));
  Mix mix;
  mix.whole_servers = true;
  mix.fractional = mix.cpu = mix.multi_site = mix.cohorts = mix.dedicated = mix.failures = mix.offline = false;
  for (FleetQueuePolicy p : {FleetQueuePolicy::kFifo, FleetQueuePolicy::kFairshare, FleetQueuePolicy::kPriority,
                             FleetQueuePolicy::kEasy}) {
    SCOPED_TRACE(FleetQueuePolicyName(p));
    RestoreStats st = RestoreDifferential(f, mix, p, 150, 9000, /*nodes=*/false);
    std::string why;
    for (auto& [k, v] : st.why) why += fmt::format(" {}={}", k, v);
    std::printf("[ restore symmetric %s ] %lld sequences, %lld restored, %lld passes compared, %lld diverged (%s)\n",
                FleetQueuePolicyName(p), (long long)st.sequences, (long long)st.restored, (long long)st.passes,
                (long long)st.diverged, why.c_str());
    EXPECT_EQ(st.diverged, 0) << why;
    EXPECT_GT(st.restored, 100);
  }
}

}  // namespace
}  // namespace rackscale
