// The fleet over time, hand-checked on small fleets: power caps (admit and
// throttle), energy and money, domains coming into service, node failures
// with checkpoint-restart against Daly's expectation, and the time series.
#include <gtest/gtest.h>

#include <cmath>

#include "report/fleet_report.h"
#include "sim/fleet_sim.h"
#include "test_util.h"

namespace rackscale {
namespace {

// `domains` one-node domains of 4 GPUs of 1,000 W busy (0 idle), in one site
// with a `cap_mw` cap (0: none) and PUE 1; GPUs cost $3,153.60 over one
// year: $0.0001 per GPU-second. `extra` goes into the pool table.
Fleet PowerFleet(int domains, double cap_mw, const std::string& extra = "") {
  std::string t = R"(
[accelerators.P]
busy_watts = 1000
price_usd = 3153.6
life_years = 1
[nodes.n4]
cpu_milli = 32000
memory_mib = 1024
gpus = 4
accelerator = "P"
[domains.D]
node = "n4"
nodes = 1
[[sites]]
name = "s"
usd_per_mwh = 100
)";
  t += "power_cap_mw = " + std::to_string(cap_mw) + "\n";
  t += "  [[sites.pools]]\n  domain = \"D\"\n  count = " + std::to_string(domains) + "\n" + extra;
  auto f = ParseFleetToml(t, "power.toml");
  EXPECT_TRUE(f.ok()) << f.error().ToString();
  return std::move(f).value();
}

AiJob Job(JobId id, Seconds submit, Seconds runtime, int gpus) {
  AiJob j;
  j.id = id;
  j.tenant = 1;
  j.submit = submit;
  j.runtime = runtime;
  j.gpus = gpus;
  return j;
}

AiWorkload Workload(std::vector<AiJob> jobs) {
  AiWorkload w;
  w.tenants = {"", "A"};
  w.jobs = std::move(jobs);
  return w;
}

TEST(FleetPower, AdmitHoldsAJobThatWouldPassTheCap) {
  // Cap 4 kW = four busy GPUs. Two 4-GPU jobs of 100 s at 0: without caps
  // both run 0..100; under admit the second waits until the first ends.
  Fleet f = PowerFleet(2, 0.004);
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kFifo;
  AiWorkload w = Workload({Job(1, 0, 100, 4), Job(2, 0, 100, 4)});
  auto none = SimulateFleet(f, &w, o);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->outcomes[1].start, 0);
  EXPECT_DOUBLE_EQ(none->sites[0].peak_mw, 0.008);
  o.power = PowerPolicy::kAdmit;
  AiWorkload w2 = Workload({Job(1, 0, 100, 4), Job(2, 0, 100, 4)});
  auto admit = SimulateFleet(f, &w2, o);
  ASSERT_TRUE(admit.ok());
  EXPECT_EQ(admit->outcomes[0].end, 100);
  EXPECT_EQ(admit->outcomes[1].start, 100);
  EXPECT_EQ(admit->outcomes[1].end, 200);
  EXPECT_DOUBLE_EQ(admit->sites[0].peak_mw, 0.004);
  // Energy: 4 kW for 200 s = 0.8 MJ = 2.2222e-4 MWh, at $100/MWh.
  EXPECT_NEAR(admit->sites[0].energy_mwh, 4000.0 * 200 / 3.6e9, 1e-12);
  EXPECT_NEAR(admit->sites[0].energy_usd, 100 * 4000.0 * 200 / 3.6e9, 1e-10);
}

TEST(FleetPower, ThrottleSlowsTheSiteSoEndsMove) {
  // Both jobs start at 0; the site would draw 8 kW against a 4 kW cap, so
  // it runs at half speed: 100 s of work takes 200 s, drawing 4 kW.
  Fleet f = PowerFleet(2, 0.004);
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kFifo;
  o.power = PowerPolicy::kThrottle;
  o.timeseries_step = 100;
  AiWorkload w = Workload({Job(1, 0, 100, 4), Job(2, 0, 100, 4)});
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcomes[0].start, 0);
  EXPECT_EQ(r->outcomes[1].start, 0);
  EXPECT_EQ(r->outcomes[0].end, 200);
  EXPECT_EQ(r->outcomes[1].end, 200);
  EXPECT_DOUBLE_EQ(r->sites[0].throttled_seconds, 200);
  EXPECT_NEAR(r->sites[0].energy_mwh, 4000.0 * 200 / 3.6e9, 1e-12);
  // The time series: two 100-s steps, each with 8 busy GPUs at speed 0.5
  // drawing 0.004 MW, and the depreciation of 8 GPUs: 8 x 100 x $0.0001.
  std::vector<TimeRow> sites;
  for (const TimeRow& x : r->timeseries) {
    if (x.scope == TimeScope::kSite) sites.push_back(x);
  }
  ASSERT_EQ(sites.size(), 2u);
  for (const TimeRow& x : sites) {
    EXPECT_DOUBLE_EQ(x.gpus_busy, 8);
    EXPECT_DOUBLE_EQ(x.gpus_online, 8);
    EXPECT_DOUBLE_EQ(x.speed, 0.5);
    EXPECT_NEAR(x.power_mw, 0.004, 1e-12);
    EXPECT_NEAR(x.cost_usd, 8 * 100 * 1e-4 + 100 * 4000.0 * 100 / 3.6e9, 1e-9);
  }
  const std::string csv = FormatTimeseriesCsv(*r);
  EXPECT_NE(csv.find("\n0,site,s,8.00,8.00,0.00,0.00,,,0.0040,0.004,0.5000,"), std::string::npos) << csv;
}

TEST(FleetMoney, RevenueCostAndIdleReservedCapacity) {
  // Two domains (8 GPUs); tenant A reserves one domain (4 GPUs) for the
  // whole run at $7.20/GPU-hour ($0.002/GPU-s) and pays $3.60/GPU-hour
  // ($0.001/GPU-s) on demand. A 4-GPU job of 100 s runs in A's own domain
  // (covered by the reservation); a second, at the same time, on demand.
  Fleet f = PowerFleet(2, 0);
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kFifo;
  TenantSpec a;
  a.name = "A";
  a.reserved_usd_per_gpu_hour = 7.2;
  a.on_demand_usd_per_gpu_hour = 3.6;
  o.tenants.tenants = {a};
  DedicatedSpec d;
  d.tenant = "A";
  d.domain_type = "D";
  d.domains = 1;
  d.start_day = 0;
  d.end_day = 1;
  o.tenants.dedicated = {d};
  AiWorkload w = Workload({Job(1, 0, 100, 4), Job(2, 0, 100, 4), Job(3, 200, 100, 4)});
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const TenantStats& t = r->tenants[1];
  // Over [0, 300): reserved 4 GPUs x 300 s x 0.002 = 2.4; on demand 4 x
  // 100 x 0.001 = 0.4 (job 3 runs in the reserved domain at 200..300).
  EXPECT_NEAR(t.revenue_usd, 2.4 + 0.4, 1e-9);
  // Cost per GPU-second: depreciation only (no energy price here... the
  // site has $100/MWh and 1 kW per busy GPU): total cost / online GPU-s.
  const SiteStats& s = r->sites[0];
  EXPECT_NEAR(s.depreciation_usd, 8 * 300 * 1e-4, 1e-9);
  EXPECT_NEAR(s.energy_mwh, 1000.0 * (4 * 100 + 4 * 100 + 4 * 100) / 3.6e9, 1e-12);
  const double per = (s.depreciation_usd + s.energy_usd) / (8 * 300);
  // A used 1,200 GPU-s (800 of them in its reservation) and reserved 1,200:
  // it pays for its reservation plus the 400 on-demand GPU-s.
  EXPECT_NEAR(t.cost_usd, (1200 + 400) * per, 1e-9);
  // Its reserved domain idled 100..200: 400 GPU-s.
  EXPECT_NEAR(t.idle_reserved_cost_usd, 400 * per, 1e-9);
}

TEST(FleetCapacity, DomainsComeIntoServiceAtTheirDate) {
  // One domain now, one from day 1. An 8-GPU job waits for the second.
  Fleet f = PowerFleet(1, 0, "  [[sites.pools]]\n  domain = \"D\"\n  count = 1\n  online_day = 1\n"
                             "  retire_day = 2\n");
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kFifo;
  AiWorkload w = Workload({Job(1, 0, 100, 8), Job(2, 2 * 86400, 100, 8)});
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcomes[0].start, 86400);
  // After day 2 the second domain is retired: the next 8-GPU job never runs.
  EXPECT_EQ(r->outcomes[1].status, JobStatus::kUnfinished);
  // Depreciation counts GPUs in service: 4 GPUs x 2 days + 4 x 1 day...
  // up to the last event (day 2).
  EXPECT_NEAR(r->sites[0].online_gpu_seconds, 4.0 * 2 * 86400 + 4.0 * 86400, 1e-6);
}

TEST(FleetFailures, OneLongJobMatchesDalysEttr) {
  // Eight one-node domains of 4 GPUs; GPUs fail at 2,190 per GPU-year, so a
  // 4-GPU job's MTBF is one hour. Checkpoints of 60 s at the Young/Daly
  // interval, restarts of 300 s, repairs of 60 s (spares are at hand). Over
  // 400 hours of work the job's ETTR must match Daly's expectation.
  Fleet f = PowerFleet(8, 0);
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kFifo;
  o.failures = true;
  o.default_failure_rate = 2190;
  o.repair = 60;
  o.checkpoint_interval = kAutoCheckpoint;
  o.checkpoint_cost = 60;
  o.restart_cost = 300;
  o.timeseries_step = 0;
  const double M = kSecondsPerYear / (2190.0 * 4);
  const double tau = YoungDalyInterval(M, 60);
  const double daly = DalyExpectedEttr(tau, 60, 300, M);
  double work = 0, wall = 0;
  int64_t interruptions = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    o.seed = seed;
    AiWorkload w = Workload({Job(1, 0, 400 * 3600, 4)});
    auto r = SimulateFleet(f, &w, o);
    ASSERT_TRUE(r.ok());
    const FleetJobOutcome& x = r->outcomes[0];
    ASSERT_EQ(x.status, JobStatus::kDone);
    EXPECT_NEAR(x.checkpoint_interval, tau, 1e-6);
    work += 400 * 3600;
    wall += static_cast<double>(x.end - x.first_start);
    interruptions += x.interruptions;
    EXPECT_GT(x.lost_gpu_seconds, 0);
  }
  EXPECT_GT(interruptions, 4 * 300);
  EXPECT_NEAR(work / wall, daly, 0.01) << "Daly " << daly;
  // A job's own interval wins over the simulation's: none, or 20 minutes.
  AiWorkload w = Workload({Job(1, 0, 3600, 4), Job(2, 0, 3600, 4)});
  w.jobs[0].checkpoint = kCheckpointNone;
  w.jobs[1].checkpoint = 1200;
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcomes[0].checkpoint_interval, 0);
  EXPECT_EQ(r->outcomes[1].checkpoint_interval, 1200);
}

TEST(FleetFailures, CheckpointedWorkSurvivesAndIdleNodesFailToo) {
  // Failures reach idle nodes as well (they go down for the repair time),
  // and an interrupted job resumes from its checkpoint: its wall time is
  // far less than if each failure restarted it from zero.
  Fleet f = PowerFleet(4, 0);
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kFifo;
  o.failures = true;
  o.default_failure_rate = 2190;  // job MTBF 1 h
  o.repair = 3600;
  o.checkpoint_interval = 600;
  o.checkpoint_cost = 30;
  o.restart_cost = 60;
  AiWorkload w = Workload({Job(1, 0, 20 * 3600, 4)});
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok());
  const FleetJobOutcome& x = r->outcomes[0];
  ASSERT_EQ(x.status, JobStatus::kDone);
  EXPECT_GT(r->failures, x.interruptions);  // some failures hit idle nodes
  EXPECT_GT(x.interruptions, 5);
  EXPECT_LT(x.end - x.first_start, 40 * 3600);
  EXPECT_GT(r->sites[0].down_gpu_seconds, 0);
  // Same seed, same run.
  AiWorkload w2 = Workload({Job(1, 0, 20 * 3600, 4)});
  auto r2 = SimulateFleet(f, &w2, o);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(FormatFleetJobsCsv(w, *r), FormatFleetJobsCsv(w2, *r2));
}

TEST(FleetFailures, SpareDomainsStandInWhileNodesAreRepaired) {
  // One 4-GPU domain runs a 4-GPU job of 20 h of work; its node fails every
  // 5 h on average and takes 2 h to repair. Without a spare the job waits
  // out every repair; with one spare domain (held out of service), the
  // spare stands in at once, so the job loses only its restarts.
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kFifo;
  o.failures = true;
  o.default_failure_rate = kSecondsPerYear / (5 * 3600.0 * 4);  // node MTBF 5 h
  o.repair = 2 * 3600;
  o.checkpoint_interval = 600;
  o.checkpoint_cost = 10;
  o.restart_cost = 60;
  o.timeseries_step = 0;
  double without = 0, with = 0;
  int64_t failures = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    o.seed = seed;
    Fleet bare = PowerFleet(1, 0);
    AiWorkload w = Workload({Job(1, 0, 20 * 3600, 4)});
    auto a = SimulateFleet(bare, &w, o);
    ASSERT_TRUE(a.ok());
    without += static_cast<double>(a->outcomes[0].end);
    Fleet spare = PowerFleet(2, 0, "  spares = 1\n");
    AiWorkload w2 = Workload({Job(1, 0, 20 * 3600, 4)});
    auto b = SimulateFleet(spare, &w2, o);
    ASSERT_TRUE(b.ok());
    ASSERT_EQ(b->outcomes[0].status, JobStatus::kDone);
    with += static_cast<double>(b->outcomes[0].end);
    failures += a->failures;
    // The spare is in service only while it stands in: less than two
    // domains' worth of GPU time, more than one.
    const double span = static_cast<double>(b->outcomes[0].end);
    EXPECT_LT(b->sites[0].online_gpu_seconds, 8 * span);
    EXPECT_GT(b->sites[0].online_gpu_seconds, 4 * span);
  }
  EXPECT_GT(failures, 6 * 2);
  // Each failure costs about a 2-h repair more without the spare.
  EXPECT_GT(without - with, 0.5 * 2 * 3600 * static_cast<double>(failures));
}

// Tenant A's service of 4-GPU replicas serving 1,000 tokens/s each (16
// batch slots, 100 tokens a request), 1 to `max` replicas, a 300-s
// scale-down window, demand from the rate curve `rate`.
FleetService ChatService(int32_t max, const char* rate) {
  FleetService fs;
  fs.spec.name = "chat";
  fs.spec.tenant = "A";
  fs.spec.gpus_per_replica = 4;
  fs.spec.tokens_per_s_per_replica = 1000;
  fs.spec.tokens_per_request = 100;
  fs.spec.batch_slots = 16;
  fs.spec.min_replicas = 1;
  fs.spec.max_replicas = max;
  fs.spec.scale_down_cooldown_s = 300;
  auto points = ParseRatePoints(rate, "test");
  EXPECT_TRUE(points.ok());
  auto curve = RateCurveDemand(points.value(), DemandOptions{});
  EXPECT_TRUE(curve.ok());
  fs.demand = curve.value();
  return fs;
}

TEST(FleetInference, ReplicasFollowDemandAndGiveBackGpus) {
  // Four one-node domains of 4 GPUs. A service of 4-GPU replicas serving
  // 1,000 tokens/s each, target utilization 0.7: 2,100 tokens/s asks for
  // three replicas; from t = 300 s the demand falls to 500 tokens/s (one
  // replica), and after the 300-s scale-down window two replicas go back.
  // Two 4-GPU training jobs arrive at 0: the first takes the fourth
  // domain, the second waits for a replica's GPUs.
  Fleet f = PowerFleet(4, 0);
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kFifo;
  o.timeseries_step = 600;
  o.horizon = 3600;
  o.services = {ChatService(4, "0:2100,300:2100,301:500")};
  AiWorkload w = Workload({Job(1, 0, 5000, 4), Job(2, 0, 100, 4)});
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->services.size(), 1u);
  const ServiceStats& v = r->services[0];
  EXPECT_EQ(v.peak_replicas, 3);
  EXPECT_EQ(r->outcomes[0].start, 0);
  // The second job waits for the scale-down: after 300 s of low demand.
  EXPECT_GE(r->outcomes[1].start, 600);
  EXPECT_LE(r->outcomes[1].start, 720);
  EXPECT_GT(v.slo_attainment, 0.95);
  EXPECT_LT(v.mean_replicas, 3);
  // The time series has the service's replicas: 3 in the first 600 s
  // (but for the first step, before any replica ran), then 1.
  bool saw = false;
  for (const TimeRow& x : r->timeseries) {
    if (x.scope != TimeScope::kService || x.step != 2) continue;
    EXPECT_NEAR(x.replicas / 600, 1, 1e-9);
    saw = true;
  }
  EXPECT_TRUE(saw);
}

TEST(FleetInference, AnInferenceTenantLendsItsClusterAtNightAndTakesItBack) {
  // Four 4-GPU domains; tenant A holds three as a dedicated cluster that
  // lends. A's service needs three replicas until t = 300, then one (the
  // night), then three again from t = 3,000. B's preemptible 8-GPU training
  // job cannot fit the one shared domain: it borrows A's two idle domains
  // once A's service has scaled down, and is preempted when it scales up;
  // the demand curve repeats daily, so it borrows again the next night and
  // finishes from its last checkpoint.
  Fleet f = PowerFleet(4, 0);
  FleetSimOptions o;
  o.policy = FleetQueuePolicy::kFifo;
  o.timeseries_step = 0;
  o.checkpoint_interval = 600;  // free checkpoints every 10 minutes of work
  o.horizon = 5000;
  TenantSpec a;
  a.name = "A";
  TenantSpec b;
  b.name = "B";
  o.tenants.tenants = {a, b};
  DedicatedSpec d;
  d.tenant = "A";
  d.domain_type = "D";
  d.domains = 3;
  d.end_day = 3;
  o.tenants.dedicated = {d};
  o.services = {ChatService(3, "0:2100,300:2100,301:500,2999:500,3000:2100")};
  AiWorkload w;
  w.tenants = {"", "A", "B"};
  AiJob train = Job(1, 0, 3000, 8);
  train.tenant = 2;
  train.preemptible = true;
  w.jobs = {train};
  auto r = SimulateFleet(f, &w, o);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const FleetJobOutcome& x = r->outcomes[0];
  EXPECT_GE(x.first_start, 600);   // after the scale-down window
  EXPECT_LE(x.first_start, 700);
  EXPECT_EQ(x.preemptions, 1);     // A's service took its domains back
  EXPECT_EQ(r->services[0].peak_replicas, 3);
  EXPECT_LT(r->services[0].starved_replica_hours, 0.1);  // reclaim is at once
  // It ran 2,400 s the first night, all checkpointed; the next night it
  // borrows again and does the last 600 s.
  EXPECT_EQ(x.status, JobStatus::kDone);
  EXPECT_GE(x.start, 86400 + 600);
  EXPECT_LE(x.start, 86400 + 700);
  EXPECT_EQ(x.end, x.start + 600);
  EXPECT_NEAR(r->tenants[2].lost_gpu_seconds, 0, 8 * 60.0);
}

}  // namespace
}  // namespace rackscale
