// Topology-aware placement and the fleet scheduler, hand-checked on small
// fleets. Notation: D4 = a domain of 2 nodes x 2 GPUs.
#include <tuple>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "sched/topo_index.h"
#include "sim/fleet_sim.h"
#include "test_util.h"

namespace rackscale {
namespace {

// One site; `blocks` blocks of `per_block` D4 domains of model A; plus one
// block of 2 D4 domains of model B if `with_b`.
Fleet MakeFleet(int blocks, int per_block, bool with_b = false) {
  std::string t = R"(
[accelerators.A]
busy_watts = 700
[accelerators.B]
busy_watts = 700
[nodes.na]
cpu_milli = 32000
memory_mib = 1024
gpus = 2
accelerator = "A"
[nodes.nb]
cpu_milli = 32000
memory_mib = 1024
gpus = 2
accelerator = "B"
[nodes.cpu]
cpu_milli = 8000
memory_mib = 1024
[domains.DA]
node = "na"
nodes = 2
[domains.DB]
node = "nb"
nodes = 2
[[sites]]
name = "s"
  [[sites.pools]]
  domain = "DA"
)";
  t += "  count = " + std::to_string(blocks * per_block) + "\n  per_block = " + std::to_string(per_block) + "\n";
  if (with_b) t += "  [[sites.pools]]\n  domain = \"DB\"\n  count = 2\n";
  t += "  [[sites.pools]]\n  node = \"cpu\"\n  count = 2\n";
  auto f = ParseFleetToml(t, "test.toml");
  EXPECT_TRUE(f.ok()) << f.error().ToString();
  return std::move(f).value();
}

AiJob Gang(int gpus, TopologyScope scope = TopologyScope::kAny) {
  AiJob j;
  j.gpus = gpus;
  j.runtime = 10;
  j.topology = scope;
  return j;
}

// The pool of partition 0 for domain type DA (type index 0).
constexpr int32_t kPoolA = 0;

TEST(TopoIndex, SmallJobsBestFitNodesAndDomains) {
  Fleet f = MakeFleet(1, 2);
  TopoIndex idx(f, 1);
  Placement p;
  ASSERT_TRUE(idx.Find(Gang(1), kPoolA, &p));
  idx.Commit(p);
  const int32_t first = p.parts[0].node;
  // The next single GPU goes to the same node: the fewest free GPUs that fit.
  ASSERT_TRUE(idx.Find(Gang(1), kPoolA, &p));
  EXPECT_EQ(p.parts[0].node, first);
  idx.Commit(p);
  // A 3-GPU job: one domain with the fewest free that fit. The first domain
  // has 2 left, the other 4: it takes the other, on two nodes.
  ASSERT_TRUE(idx.Find(Gang(3, TopologyScope::kDomain), kPoolA, &p));
  EXPECT_EQ(p.domains, 1);
  ASSERT_EQ(p.parts.size(), 2u);
  EXPECT_NE(f.nodes[static_cast<size_t>(p.parts[0].node)].domain, f.nodes[static_cast<size_t>(first)].domain);
  EXPECT_EQ(p.parts[0].units + p.parts[1].units, 3);
  // A 3-GPU job that must stay on one node cannot run (nodes hold 2).
  EXPECT_FALSE(idx.Find(Gang(3, TopologyScope::kNode), kPoolA, &p));
}

TEST(TopoIndex, GangTakesWholeDomainsInOneBlockWhenItCan) {
  // Two blocks of two D4 domains. Put 1 GPU on a domain of block 0: block 0
  // has one fully free domain, block 1 two. A gang of 8 (two domains) goes
  // to block 1 alone.
  Fleet f = MakeFleet(2, 2);
  TopoIndex idx(f, 1);
  Placement p;
  ASSERT_TRUE(idx.Find(Gang(1), kPoolA, &p));
  idx.Commit(p);
  const int32_t used_block = f.domains[static_cast<size_t>(f.nodes[static_cast<size_t>(p.parts[0].node)].domain)].block;
  ASSERT_TRUE(idx.Find(Gang(8), kPoolA, &p));
  EXPECT_EQ(p.domains, 2);
  EXPECT_EQ(p.blocks, 1);
  for (const GangPart& x : p.parts) {
    EXPECT_NE(f.domains[static_cast<size_t>(f.nodes[static_cast<size_t>(x.node)].domain)].block, used_block);
  }
}

TEST(TopoIndex, GangThatFitsOnlyAcrossBlocks) {
  // Blocks 0 = {d0, d1} and 1 = {d2, d3}. One GPU busy on d0 and one on d2:
  // one fully free domain left in each block. A gang of 8 needs two whole
  // domains: scope block cannot run; scope any spans both blocks.
  Fleet f = MakeFleet(2, 2);
  TopoIndex idx(f, 1);
  Placement busy;
  busy.parts = {GangPart{f.domains[0].first_node, 1}, GangPart{f.domains[2].first_node, 1}};
  idx.Commit(busy);
  Placement p;
  EXPECT_FALSE(idx.Find(Gang(8, TopologyScope::kBlock), kPoolA, &p));
  ASSERT_TRUE(idx.Find(Gang(8, TopologyScope::kAny), kPoolA, &p));
  EXPECT_EQ(p.domains, 2);
  EXPECT_EQ(p.blocks, 2);
  idx.Commit(p);
  EXPECT_EQ(idx.free_gpus(), 6);  // the rest of d0 and d2
  idx.Release(p);
  idx.Release(busy);
  EXPECT_EQ(idx.free_gpus(), 16);
  // Now one block suffices again.
  ASSERT_TRUE(idx.Find(Gang(8, TopologyScope::kBlock), kPoolA, &p));
  EXPECT_EQ(p.blocks, 1);
}

TEST(TopoIndex, DomainsMovedToADedicatedPartitionAndBack) {
  Fleet f = MakeFleet(2, 2);
  TopoIndex idx(f, 2);
  const int32_t types = static_cast<int32_t>(f.domain_types.size());
  idx.MoveDomain(0, 1);
  idx.MoveDomain(2, 1);
  EXPECT_EQ(idx.free_gpus(0), 8);
  EXPECT_EQ(idx.free_gpus(1), 8);
  Placement p;
  EXPECT_FALSE(idx.Find(Gang(16), kPoolA, &p));
  ASSERT_TRUE(idx.Find(Gang(8), types + kPoolA, &p));  // partition 1's pool of DA
  EXPECT_EQ(p.blocks, 2);
  idx.MoveDomain(0, 0);
  idx.MoveDomain(2, 0);
  EXPECT_EQ(idx.free_gpus(1), 0);
  ASSERT_TRUE(idx.Find(Gang(16), kPoolA, &p));
  EXPECT_EQ(p.domains, 4);
  EXPECT_EQ(p.blocks, 2);
}

TEST(TopoIndex, GpuModelConstraintPicksThePoolOfThatModel) {
  Fleet f = MakeFleet(1, 2, /*with_b=*/true);
  TopoIndex idx(f, 1);
  AiJob j = Gang(2);
  j.models = GpuModelMask{1} << *f.models.Find("B");
  Placement p;
  EXPECT_FALSE(idx.Find(j, kPoolA, &p));
  ASSERT_TRUE(idx.Find(j, 1, &p));  // pool of type DB
  EXPECT_EQ(f.node_type(p.parts[0].node).name, "nb");
  // CPU-only jobs go to CPU nodes (pool of the implicit type node:cpu).
  AiJob c;
  c.cpu_milli = 4000;
  c.runtime = 1;
  EXPECT_FALSE(idx.Find(c, kPoolA, &p));
  ASSERT_TRUE(idx.Find(c, 2, &p));
  EXPECT_EQ(p.parts[0].units, 4);
}

// ---- The scheduler through the simulator ----

AiJob Job(JobId id, TenantId t, Seconds submit, Seconds runtime, int gpus, bool preemptible = false) {
  AiJob j;
  j.id = id;
  j.tenant = t;
  j.submit = submit;
  j.runtime = runtime;
  j.gpus = gpus;
  j.preemptible = preemptible;
  j.topology = TopologyScope::kAny;
  return j;
}

TenantSpec Tenant(const char* name, double weight, int64_t nominal = -1, const char* cohort = "",
                  int64_t limit = -1) {
  TenantSpec t;
  t.name = name;
  t.weight = weight;
  t.nominal_gpus = nominal;
  t.cohort = cohort;
  t.borrowing_limit = limit;
  return t;
}

AiWorkload Workload2(std::vector<AiJob> jobs) {
  AiWorkload w;
  w.tenants = {"", "A", "B"};
  w.jobs = std::move(jobs);
  return w;
}

TEST(FleetSim, DedicatedClusterLentAndTakenBack) {
  // Two D4 domains; tenant A holds one as a dedicated cluster from t = 0.
  //   t=0  B1 (B, 4 GPUs, 1000 s)            -> the shared domain
  //   t=1  B2 (B, 4 GPUs, 1000 s, preemptible) -> shared is full: borrows A's idle domain
  //   t=10 A1 (A, 4 GPUs, 100 s)             -> A's domain is lent: B2 is preempted
  //                                             (reclaim), A1 starts at 10, ends 110
  //   t=110 B2 borrows again: starts 110, ends 1110, one preemption, 9 GPU... 4 x 9 s lost.
  Fleet f = MakeFleet(1, 2);
  AiWorkload w = Workload2({Job(1, 2, 0, 1000, 4), Job(2, 2, 1, 1000, 4, true), Job(3, 1, 10, 100, 4)});
  FleetSimOptions o;
  o.tenants.tenants = {Tenant("A", 1), Tenant("B", 1)};
  DedicatedSpec d;
  d.tenant = "A";
  d.domain_type = "DA";
  d.domains = 1;
  d.start_day = 0;
  d.end_day = 10;
  o.tenants.dedicated = {d};
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcomes[0].start, 0);
  EXPECT_EQ(r->outcomes[2].start, 10);
  EXPECT_EQ(r->outcomes[2].end, 110);
  EXPECT_EQ(r->outcomes[1].first_start, 1);
  EXPECT_EQ(r->outcomes[1].preemptions, 1);
  EXPECT_EQ(r->outcomes[1].start, 110);
  EXPECT_EQ(r->outcomes[1].end, 1110);
  EXPECT_DOUBLE_EQ(r->outcomes[1].lost_gpu_seconds, 4 * 9);
  EXPECT_EQ(r->tenants[2].preemptions, 1);
  // A's dedicated domain (4 GPUs) was idle from 1110 s... its window is 10
  // days; stranded = idle dedicated GPU time while there was work left:
  // [0, 1) idle 4 GPUs -> 4 GPU-s, [1, 10) lent (busy), [10, 110) A1, [110, 1110) lent.
  EXPECT_DOUBLE_EQ(r->tenants[1].stranded_gpu_seconds, 4);
}

TEST(FleetSim, NonPreemptibleJobsDoNotBorrowDedicatedCapacity) {
  Fleet f = MakeFleet(1, 2);
  AiWorkload w = Workload2({Job(1, 2, 0, 1000, 4), Job(2, 2, 1, 1000, 4, false)});
  FleetSimOptions o;
  DedicatedSpec d;
  d.tenant = "A";
  d.domain_type = "DA";
  d.domains = 1;
  d.end_day = 10;
  d.lend = true;
  o.tenants.dedicated = {d};
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcomes[1].start, 1000);  // waits for the shared domain
}

TEST(FleetSim, FairshareServesTheTenantWithTheLowestWeightedShare) {
  // One D4 domain (4 GPUs). A (weight 1) and B (weight 3) each queue 2-GPU
  // jobs at t=1 while a 4-GPU job of a third tenant holds the fleet to 100.
  // At 100: shares are 0 and 0; tie -> lower tenant id (A) first: A's job,
  // share 2/4/1 = 0.5; B's share 0 -> B's job. Both start at 100; at 150 both
  // end; next A and B again...
  Fleet f = MakeFleet(1, 1);
  AiWorkload w;
  w.tenants = {"", "A", "B", "C"};
  w.jobs = {Job(1, 3, 0, 100, 4), Job(2, 1, 1, 50, 2), Job(3, 1, 1, 50, 2), Job(4, 2, 1, 50, 2),
            Job(5, 2, 1, 50, 2)};
  FleetSimOptions o;
  o.tenants.tenants = {Tenant("A", 1), Tenant("B", 3)};
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcomes[1].start, 100);  // A's first
  EXPECT_EQ(r->outcomes[3].start, 100);  // B's first: share 0 < A's 0.5
  EXPECT_EQ(r->outcomes[2].start, 150);
  EXPECT_EQ(r->outcomes[4].start, 150);
  // With FIFO instead, the queue order is by id: 2 and 3 (both A) at 100.
  o.policy = FleetQueuePolicy::kFifo;
  AiWorkload w2 = w;
  auto f2 = SimulateFleet(f, &w2, o);
  ASSERT_TRUE(f2.ok());
  EXPECT_EQ(f2->outcomes[2].start, 100);
  EXPECT_EQ(f2->outcomes[3].start, 150);
}

TEST(FleetSim, EasyBackfillsAroundTheHeadsReservedDomains) {
  // Four D4 domains in one block (16 GPUs).
  //   t=0  A0 (4 GPUs, 100 s)  -> a whole domain d0, ends 100
  //   t=0  A1 (2 GPUs, 200 s)  -> one node of another domain d1, ends 200
  //   t=1  H  (12 GPUs, 50 s)  -> needs 3 whole domains; 2 are free: waits.
  //        Reservation: when A0 ends (100), d0 + the two free domains fit:
  //        shadow 100, reserved = the nodes of those three domains.
  //   t=2  L  (2 GPUs, 1000 s) -> long, but fits d1's free node, off the
  //        reservation: backfills at 2.
  //   t=3  M  (4 GPUs, 1000 s) -> long and needs a whole domain: only
  //        reserved ones are free, so it waits (for H to end at 150).
  //   t=4  S  (4 GPUs, 50 s)   -> ends at 54 <= 100: backfills at 4.
  Fleet f = MakeFleet(1, 4);
  AiWorkload w = Workload2({Job(1, 1, 0, 100, 4), Job(2, 1, 0, 200, 2), Job(3, 1, 1, 50, 12),
                            Job(4, 2, 2, 1000, 2), Job(5, 2, 3, 1000, 4), Job(6, 2, 4, 50, 4)});
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kEasy;
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcomes[2].start, 100);  // H: not delayed by any backfill
  EXPECT_EQ(r->outcomes[3].start, 2);    // L: off the reserved nodes
  EXPECT_EQ(r->outcomes[4].start, 150);  // M: would take a reserved domain
  EXPECT_EQ(r->outcomes[5].start, 4);    // S: ends before the shadow time
  for (const FleetJobOutcome& x : r->outcomes) EXPECT_EQ(x.status, JobStatus::kDone);
  // fifo on the same jobs: nothing passes H.
  o.policy = FleetQueuePolicy::kFifo;
  AiWorkload w2 = w;
  auto f2 = SimulateFleet(f, &w2, o);
  ASSERT_TRUE(f2.ok());
  EXPECT_EQ(f2->outcomes[2].start, 100);
  EXPECT_EQ(f2->outcomes[3].start, 100);
  EXPECT_EQ(f2->outcomes[4].start, 150);
  EXPECT_EQ(f2->outcomes[5].start, 150);
}

TEST(FleetSim, EasyWithoutAReservationLetsLaterJobsRun) {
  // One D4 domain (4 GPUs). A head that its quota holds back gets no
  // reservation. A (nominal 4 GPUs) runs 2 GPUs until 500; A's next job
  // wants 4 and heads the queue, over quota. Were it given a reservation
  // (both nodes at 500), B's long 2-GPU job behind it could not start; with
  // none, B's job starts at once, and A's head waits for it to end (1002).
  Fleet f = MakeFleet(1, 1);
  AiWorkload w = Workload2({Job(1, 1, 0, 500, 2), Job(2, 1, 1, 100, 4), Job(3, 2, 2, 1000, 2)});
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kEasy;
  o.tenants.tenants = {Tenant("A", 1, 4), Tenant("B", 1)};
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcomes[2].start, 2);
  EXPECT_EQ(r->outcomes[1].start, 1002);
}

AiJob Pod(JobId id, TenantId t, Seconds submit, Seconds runtime, int milli) {
  AiJob j = Job(id, t, submit, runtime, 1);
  j.gpu_milli = milli;
  return j;
}

TEST(FleetSim, FractionalPodsShareTheirTenantsGpusBestFit) {
  // One D4 domain (4 GPUs). B runs a 3-GPU job until 1000, leaving one GPU.
  //   t=1  A p1 (600 milli, 100 s)  -> opens the last GPU (400 left)
  //   t=2  A p2 (300 milli, 500 s)  -> joins it (100 left)
  //   t=3  A p3 (300 milli, 50 s)   -> no GPU has 300 left: waits
  //   t=4  C q  (100 milli, 10 s)   -> 100 left, but on A's GPU: waits
  //   t=101 p1 ends: 700 left -> p3 joins (400 left) and ends at 151
  //   t=502 p2 ends: the GPU goes back, and q opens it.
  Fleet f = MakeFleet(1, 1);
  AiWorkload w;
  w.tenants = {"", "A", "B", "C"};
  w.jobs = {Job(1, 2, 0, 1000, 3), Pod(2, 1, 1, 100, 600), Pod(3, 1, 2, 500, 300),
            Pod(4, 1, 3, 50, 300), Pod(5, 3, 4, 10, 100)};
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kFifo;
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcomes[1].start, 1);
  EXPECT_EQ(r->outcomes[2].start, 2);
  EXPECT_EQ(r->outcomes[3].start, 101);
  EXPECT_EQ(r->outcomes[4].start, 502);
  for (const FleetJobOutcome& x : r->outcomes) EXPECT_EQ(x.status, JobStatus::kDone);
  // GPU-seconds count the share: 0.6 x 100 + 0.3 x 500 + 0.3 x 50.
  EXPECT_DOUBLE_EQ(r->tenants[1].gpu_seconds, 60 + 150 + 15);
}

TEST(FleetSim, FractionalPodsOverQuotaMayOnlyJoinHeldGpus) {
  // Two D4 domains. A's quota is 1 GPU: its first pod opens one GPU, the
  // second joins it (no quota needed), the third needs a fresh GPU and waits
  // for the first two to end, though seven GPUs are free.
  Fleet f = MakeFleet(1, 2);
  AiWorkload w = Workload2({Pod(1, 1, 0, 100, 500), Pod(2, 1, 1, 200, 500), Pod(3, 1, 2, 10, 200)});
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kFifo;
  o.tenants.tenants = {Tenant("A", 1, 1), Tenant("B", 1)};
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcomes[0].start, 0);
  EXPECT_EQ(r->outcomes[1].start, 1);
  EXPECT_EQ(r->outcomes[2].start, 100);  // joins when the first pod leaves
}

TEST(FleetSim, PriorityPreemptsLowerPriorityPreemptibleWork) {
  // One D4 domain. L (B, priority 0, preemptible, 4 GPUs, 1000 s) starts at
  // 0; H (A, priority 10, 4 GPUs, 100 s) arrives at 5: L is preempted, H runs
  // 5..105, L restarts at 105 and ends at 1105.
  Fleet f = MakeFleet(1, 1);
  AiWorkload w = Workload2({Job(1, 2, 0, 1000, 4, true), Job(2, 1, 5, 100, 4)});
  w.jobs[1].priority = 10;
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kPriority;
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcomes[1].start, 5);
  EXPECT_EQ(r->outcomes[0].preemptions, 1);
  EXPECT_EQ(r->outcomes[0].start, 105);
  EXPECT_EQ(r->outcomes[0].end, 1105);
  EXPECT_DOUBLE_EQ(r->outcomes[0].lost_gpu_seconds, 4 * 5);
  // Not preemptible: H waits for L.
  AiWorkload w2 = Workload2({Job(1, 2, 0, 1000, 4, false), Job(2, 1, 5, 100, 4)});
  w2.jobs[1].priority = 10;
  auto r2 = SimulateFleet(f, &w2, o);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->outcomes[1].start, 1000);
  EXPECT_EQ(r2->outcomes[0].preemptions, 0);
  // Higher priority first in the queue: with the fleet busy until 1000, a
  // later high-priority job starts before an earlier low-priority one.
  AiWorkload w3 = Workload2({Job(1, 2, 0, 1000, 4), Job(2, 2, 1, 10, 4), Job(3, 1, 2, 10, 4)});
  w3.jobs[2].priority = 5;
  auto r3 = SimulateFleet(f, &w3, o);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->outcomes[2].start, 1000);
  EXPECT_EQ(r3->outcomes[1].start, 1010);
}

TEST(FleetSim, QuotaBorrowingAndReclaimInACohort) {
  // Two D4 domains (8 GPUs); A and B each have a nominal 4 GPUs in cohort c.
  //   t=0  B1, B2 (4 GPUs, 1000 s each): B1 within nominal, B2 borrows A's
  //        unused 4 -> both start at 0.
  //   t=10 A1 (4 GPUs, 100 s): A is within its nominal and the fleet is full
  //        -> reclaim: B's latest start (B2) is preempted; A1 runs 10..110.
  //   B2 may borrow again only once A's quota is unused: at 110.
  Fleet f = MakeFleet(1, 2);
  AiWorkload w = Workload2({Job(1, 2, 0, 1000, 4), Job(2, 2, 0, 1000, 4), Job(3, 1, 10, 100, 4)});
  FleetSimOptions o;
  o.tenants.tenants = {Tenant("A", 1, 4, "c"), Tenant("B", 1, 4, "c")};
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcomes[0].start, 0);
  EXPECT_EQ(r->outcomes[1].first_start, 0);
  EXPECT_EQ(r->outcomes[2].start, 10);
  EXPECT_EQ(r->outcomes[1].preemptions, 1);
  EXPECT_EQ(r->outcomes[1].start, 110);
  // A borrowing limit of 0: B2 never borrows and waits for B1 (1000).
  AiWorkload w2 = Workload2({Job(1, 2, 0, 1000, 4), Job(2, 2, 0, 1000, 4), Job(3, 1, 10, 100, 4)});
  o.tenants.tenants = {Tenant("A", 1, 4, "c"), Tenant("B", 1, 4, "c", 0)};
  auto r2 = SimulateFleet(f, &w2, o);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->outcomes[1].start, 1000);
  EXPECT_EQ(r2->outcomes[2].start, 10);
  EXPECT_EQ(r2->outcomes[1].preemptions, 0);
}

TEST(FleetSim, ModelConstraintsMatchTheFleetByName) {
  // The workload's model table lists B before A; the fleet has A first.
  // A job asking for B must land on a DB domain.
  Fleet f = MakeFleet(1, 1, /*with_b=*/true);
  AiWorkload w = Workload2({Job(1, 1, 0, 10, 2)});
  w.models.Intern("B");
  w.models.Intern("A");
  w.jobs[0].models = GpuModelMask{1} << 0;  // "B" in the workload's table
  auto r = SimulateFleet(f, &w, FleetSimOptions{});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->outcomes[0].status, JobStatus::kDone);
  AiWorkload w2 = Workload2({Job(1, 1, 0, 10, 2)});
  w2.models.Intern("Z");  // a model the fleet lacks: never runs
  w2.jobs[0].models = GpuModelMask{1} << 0;
  auto r2 = SimulateFleet(f, &w2, FleetSimOptions{});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->outcomes[0].status, JobStatus::kRejected);
}

TEST(FleetSim, ANewArrivalThatFitsStartsAtOnce) {
  // One D4 domain. A 4-GPU job of A waits behind B's 2-GPU job (0..100);
  // A's 2-GPU job submitted at 2 fits the free half: it starts at 2, not
  // when capacity next changes.
  Fleet f = MakeFleet(1, 1);
  AiWorkload w = Workload2({Job(1, 2, 0, 100, 2), Job(2, 1, 1, 10, 4), Job(3, 1, 2, 10, 2)});
  auto r = SimulateFleet(f, &w, FleetSimOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcomes[2].start, 2);
  EXPECT_EQ(r->outcomes[1].start, 100);
}

TEST(FleetSim, ImpossibleJobsAreRejectedNotQueuedForever) {
  Fleet f = MakeFleet(1, 2);  // 8 GPUs of model A in 2 domains of 4
  AiWorkload w = Workload2({Job(1, 1, 0, 10, 9), Job(2, 1, 0, 10, 5), Job(3, 1, 0, 10, 0)});
  w.jobs[1].topology = TopologyScope::kDomain;  // 5 > a domain's 4
  auto r = SimulateFleet(f, &w, FleetSimOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcomes[0].status, JobStatus::kRejected);
  EXPECT_EQ(r->outcomes[1].status, JobStatus::kRejected);
  EXPECT_EQ(r->outcomes[2].status, JobStatus::kInvalid);  // no GPUs and no CPU
}

TEST(FleetSim, DedicatedClusterTheFleetCannotSupplyIsAnError) {
  Fleet f = MakeFleet(1, 2);
  AiWorkload w = Workload2({Job(1, 1, 0, 10, 1)});
  FleetSimOptions o;
  DedicatedSpec d;
  d.tenant = "A";
  d.domain_type = "DA";
  d.domains = 3;
  d.end_day = 1;
  d.line = 7;
  o.tenants.dedicated = {d};
  auto r = SimulateFleet(f, &w, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().line, 7);
  EXPECT_EQ(r.error().field, "domains");
}

}  // namespace
}  // namespace rackscale

namespace rackscale {
namespace {

// A gang stays in one site, and "can it ever run?" is answered per site
// (docs/semantics.md): a 36-GPU `any` gang needs five 8-GPU domains; split
// 2 + 3 over two sites it is rejected, in one site of five it runs.
TEST(GangsAndSites, AGangThatNoSingleSiteHoldsIsRejected) {
  auto fleet_of = [](const char* pools) {
    return ParseFleetToml(std::string(R"(
[accelerators.G]
busy_watts = 700
[nodes.g8]
cpu_milli = 1000
memory_mib = 1000
gpus = 8
accelerator = "G"
[domains.server]
node = "g8"
nodes = 1
)") + pools,
                          "sites.toml");
  };
  auto two = fleet_of("[[sites]]\nname = \"a\"\n  [[sites.pools]]\n  domain = \"server\"\n  count = 2\n"
                      "[[sites]]\nname = \"b\"\n  [[sites.pools]]\n  domain = \"server\"\n  count = 3\n");
  auto one = fleet_of("[[sites]]\nname = \"a\"\n  [[sites.pools]]\n  domain = \"server\"\n  count = 5\n");
  ASSERT_TRUE(two.ok() && one.ok());
  for (const auto& [fleet, want] : {std::pair<const Fleet*, JobStatus>{&*two, JobStatus::kRejected}, {&*one, JobStatus::kDone}}) {
    AiWorkload w;
    w.tenants = {""};
    AiJob j;
    j.id = 1;
    j.runtime = 100;
    j.gpus = 36;
    j.topology = TopologyScope::kAny;
    w.jobs = {j};
    auto r = SimulateFleet(*fleet, &w, FleetSimOptions{});
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->outcomes[0].status, want) << fleet->sites.size() << " sites";
  }
}

// Two or more sites of 8-GPU servers (one server per domain, D = 8, one
// block per site), 700 W per GPU at full load and nothing idle, PUE 1:
// `sites` is {name, servers, cap in W (0: none)}; `top` goes before the
// tables (e.g. "cross_site_slowdown = 1.25").
Fleet ServerSites(std::vector<std::tuple<std::string, int, double>> sites, const std::string& top = "") {
  std::string t = top + R"(
[accelerators.G]
busy_watts = 700
[nodes.g8]
cpu_milli = 1000
memory_mib = 1000
gpus = 8
accelerator = "G"
[domains.server]
node = "g8"
nodes = 1
)";
  for (const auto& [name, servers, cap_w] : sites) {
    t += "[[sites]]\nname = \"" + name + "\"\n";
    if (cap_w > 0) t += fmt::format("power_cap_mw = {}\n", cap_w / 1e6);
    t += "  [[sites.pools]]\n  domain = \"server\"\n  count = " + std::to_string(servers) + "\n";
  }
  auto f = ParseFleetToml(t, "sites.toml");
  EXPECT_TRUE(f.ok()) << f.error().ToString();
  return std::move(f).value();
}

AiJob SiteJob(int64_t id, int gpus, Seconds runtime, TopologyScope scope, Seconds submit = 0) {
  AiJob j;
  j.id = id;
  j.submit = submit;
  j.runtime = runtime;
  j.gpus = gpus;
  j.topology = scope;
  return j;
}

// 36 GPUs = 5 servers; sites a (2 servers) and b (3): no site holds it.
// Scope any: rejected. Scope multi-site: b gives its 3 servers (the most
// first), a its 2 (8 + 4 GPUs); it runs 100 x 1.10 = 110 s.
TEST(GangsAndSites, AGangThatFitsOnlyAcrossSitesRunsUnderMultiSite) {
  const Fleet fleet = ServerSites({{"a", 2, 0}, {"b", 3, 0}});
  EXPECT_DOUBLE_EQ(fleet.cross_site_slowdown, 1.10);
  for (TopologyScope scope : {TopologyScope::kAny, TopologyScope::kBlock, TopologyScope::kMultiSite}) {
    AiWorkload w;
    w.tenants = {""};
    w.jobs = {SiteJob(1, 36, 100, scope)};
    auto r = SimulateFleet(fleet, &w, FleetSimOptions{});
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    const FleetJobOutcome& o = r->outcomes[0];
    if (scope != TopologyScope::kMultiSite) {
      EXPECT_EQ(o.status, JobStatus::kRejected) << TopologyScopeName(scope);
      continue;
    }
    EXPECT_EQ(o.status, JobStatus::kDone);
    EXPECT_EQ(o.start, 0);
    EXPECT_EQ(o.end, 110);
    // GPU-seconds per site: a holds 12 GPUs, b 24, for 110 s.
    EXPECT_DOUBLE_EQ(r->sites[0].busy_gpu_seconds, 12 * 110.0);
    EXPECT_DOUBLE_EQ(r->sites[1].busy_gpu_seconds, 24 * 110.0);
  }
  // Too big for the whole fleet (6 servers): rejected even so.
  AiWorkload w;
  w.tenants = {""};
  w.jobs = {SiteJob(1, 41, 100, TopologyScope::kMultiSite)};
  auto r = SimulateFleet(fleet, &w, FleetSimOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcomes[0].status, JobStatus::kRejected);
}

// A multi-site gang stays in one site when one has room now: on a (2) and
// b (5), the 36-GPU gang takes 5 servers of b and runs 100 s, not 110. When
// no site has room for it now, it spans sites at once (it does not wait
// for one), and a later gang takes one site again when one has room.
TEST(GangsAndSites, AMultiSiteGangPrefersOneSiteWhenOneHasRoom) {
  const Fleet fleet = ServerSites({{"a", 2, 0}, {"b", 5, 0}});
  {
    AiWorkload w;
    w.tenants = {""};
    w.jobs = {SiteJob(1, 36, 100, TopologyScope::kMultiSite)};
    auto r = SimulateFleet(fleet, &w, FleetSimOptions{});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->outcomes[0].end, 100);
    EXPECT_DOUBLE_EQ(r->sites[0].busy_gpu_seconds, 0);
    EXPECT_DOUBLE_EQ(r->sites[1].busy_gpu_seconds, 36 * 100.0);
  }
  {
    // a (1 server), b (5). Job 1 (16 GPUs, 0..1000) takes 2 servers of b
    // (a has too few).
    const Fleet f2 = ServerSites({{"a", 1, 0}, {"b", 5, 0}});
    AiWorkload w;
    w.tenants = {""};
    w.jobs = {SiteJob(1, 16, 1000, TopologyScope::kAny), SiteJob(2, 32, 100, TopologyScope::kMultiSite, 1),
              SiteJob(3, 32, 100, TopologyScope::kMultiSite, 2000)};
    auto r = SimulateFleet(f2, &w, FleetSimOptions{});
    ASSERT_TRUE(r.ok());
    // Job 1 on b (2 servers); job 2 (4 servers): b has 3 free, a 1: across,
    // 1 + 110 = 111. Job 3 at 2000: b has 5 free: one site, 100 s.
    EXPECT_EQ(r->outcomes[1].start, 1);
    EXPECT_EQ(r->outcomes[1].end, 111);
    EXPECT_EQ(r->outcomes[2].start, 2000);
    EXPECT_EQ(r->outcomes[2].end, 2100);
    EXPECT_DOUBLE_EQ(r->sites[0].busy_gpu_seconds, 8 * 110.0);
  }
}

// The slowdown, exactly, through a preemption and a restart in one site.
// cross_site_slowdown = 1.25; a (4 servers), b (2); priority policy;
// checkpoints every 100 s, free; restarts cost 60 s.
//   0:   A (16 GPUs, priority 5, 0..400) takes 2 servers of a (a tie with b:
//        the first pool). M (32 GPUs, multi-site, preemptible, 1,000 s of
//        work) finds no site with 4 free: a 2 + b 2, an attempt of
//        1,000 x 1.25 = 1,250 s.
//   500: H (48 GPUs, multi-site, priority 1, 100 s) needs all 6 servers:
//        M is preempted. M's clock is at 500: 5 checkpoints done, 500 / 1.25
//        = 400 s of work saved, nothing lost. H spans a and b: 125 s.
//   625: M restarts in a alone (4 free): 60 s restart + 600 s of work at full
//        speed: it ends at 1,285.
TEST(GangsAndSites, TheSlowdownIsAppliedExactlyAndARestartInOneSiteRunsAtFullSpeed) {
  const Fleet fleet = ServerSites({{"a", 4, 0}, {"b", 2, 0}}, "cross_site_slowdown = 1.25\n");
  EXPECT_DOUBLE_EQ(fleet.cross_site_slowdown, 1.25);
  AiWorkload w;
  w.tenants = {""};
  AiJob a = SiteJob(1, 16, 400, TopologyScope::kAny);
  a.priority = 5;
  AiJob m = SiteJob(2, 32, 1000, TopologyScope::kMultiSite);
  m.preemptible = true;
  m.checkpoint = 100;
  AiJob h = SiteJob(3, 48, 100, TopologyScope::kMultiSite, 500);
  h.priority = 1;
  w.jobs = {a, m, h};
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kPriority;
  o.restart_cost = 60;
  auto r = SimulateFleet(fleet, &w, o);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcomes[0].end, 400);
  const FleetJobOutcome& om = r->outcomes[1];
  EXPECT_EQ(om.first_start, 0);
  EXPECT_EQ(om.preemptions, 1);
  EXPECT_EQ(om.start, 625);
  EXPECT_EQ(om.end, 625 + 60 + 600);
  // The preempted attempt lost nothing: its fifth checkpoint completed at 500.
  EXPECT_DOUBLE_EQ(om.lost_gpu_seconds, 0);
  EXPECT_EQ(r->outcomes[2].start, 500);
  EXPECT_EQ(r->outcomes[2].end, 625);
}

// Admit: a multi-site gang's share must fit the cap of every site it
// touches. 36 GPUs over b (3 servers, 24 GPUs) and a (2, 12 GPUs); a
// server at full power is 8 x 700 = 5,600 W, and a site gives at most the
// whole servers its cap has room for: a needs 11,200 W, b 16,800 W.
TEST(GangsAndSites, AdmitPowerIsCheckedAtEverySiteAGangTouches) {
  struct Case {
    double cap_a, cap_b;
    JobStatus want;
  };
  for (const Case& c : {Case{11200, 16800, JobStatus::kDone}, Case{11199, 16800, JobStatus::kUnfinished},
                        Case{11200, 16799, JobStatus::kUnfinished}}) {
    const Fleet fleet = ServerSites({{"a", 2, c.cap_a}, {"b", 3, c.cap_b}});
    AiWorkload w;
    w.tenants = {""};
    w.jobs = {SiteJob(1, 36, 100, TopologyScope::kMultiSite)};
    FleetSimOptions o;
    o.power = PowerPolicy::kAdmit;
    auto r = SimulateFleet(fleet, &w, o);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->outcomes[0].status, c.want) << c.cap_a << " " << c.cap_b;
    if (c.want == JobStatus::kDone) {
      // a draws 12 x 700 = 8,400 W, b 24 x 700 = 16,800 W: under both caps.
      EXPECT_NEAR(r->sites[0].peak_mw, 0.0084, 1e-12);
      EXPECT_NEAR(r->sites[1].peak_mw, 0.0168, 1e-12);
    }
  }
}

// Throttle: a gang across sites advances at its slowest site's speed.
// a (1 server) capped at 2,800 W runs at 0.5; b (1 server) uncapped. A
// 16-GPU gang over both does 100 s of work x 1.10 = 110 s of its clock at
// speed 0.5: it ends at 220.
TEST(GangsAndSites, AGangAcrossSitesRunsAtItsSlowestSitesSpeed) {
  const Fleet fleet = ServerSites({{"a", 1, 2800}, {"b", 1, 0}});
  AiWorkload w;
  w.tenants = {""};
  w.jobs = {SiteJob(1, 16, 100, TopologyScope::kMultiSite)};
  FleetSimOptions o;
  o.power = PowerPolicy::kThrottle;
  auto r = SimulateFleet(fleet, &w, o);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcomes[0].end, 220);
}

TEST(GangsAndSites, BadScopesAndSlowdownsNameTheFileAndField) {
  auto w = ParseAiCsv("id,submit,runtime,gpus,topology\n1,0,10,8,multi-sites\n", "m.csv", false);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().ToString(),
            "m.csv:2: field 'topology': expected any, block, domain, node or multi-site, got 'multi-sites'");
  auto ok = ParseAiCsv("id,submit,runtime,gpus,topology\n1,0,10,8,multi-site\n", "m.csv", false);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->jobs[0].topology, TopologyScope::kMultiSite);
  EXPECT_NE(FormatAiCsv(*ok).find(",multi-site,"), std::string::npos);
  const std::string base = "[nodes.n]\ncpu_milli = 1\nmemory_mib = 1\n[[sites]]\nname = \"s\"\n  [[sites.pools]]\n  node = \"n\"\n  count = 1\n";
  for (const char* v : {"0.9", "nan", "inf", "-inf", "\"fast\""}) {
    auto f = ParseFleetSpec(std::string("cross_site_slowdown = ") + v + "\n" + base, "f.toml");
    ASSERT_FALSE(f.ok()) << v;
    EXPECT_EQ(f.error().ToString().rfind("f.toml:1: field 'cross_site_slowdown': expected a number", 0), 0u)
        << f.error().ToString();
  }
  auto f = ParseFleetSpec("cross_site_slowdown = 1\n" + base, "f.toml");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->cross_site_slowdown, 1.0);
  // It round-trips through the written fleet file.
  f->cross_site_slowdown = 1.3;
  auto back = ParseFleetSpec(FormatFleetToml(*f), "f.toml");
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->cross_site_slowdown, 1.3);
}

}  // namespace
}  // namespace rackscale
