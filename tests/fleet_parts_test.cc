// The parts around the scheduler core, each on its own: admission and the
// tenants file (sched/admission), the fleet policies (sched/fleet_policy:
// checkpoints, throttle, spares, replicas) and the simulator's failure
// process and capacity calendar (sim/fleet_parts). Hand-checked values.
#include <cmath>

#include <gtest/gtest.h>

#include "model/fleet.h"
#include "sched/admission.h"
#include "sched/fleet_policy.h"
#include "sim/fleet_ledger.h"
#include "sim/fleet_parts.h"

namespace rackscale {
namespace {

// Two sites: east has 4 domains of 2 nodes x 4 GPUs (the last one spare),
// west 2 such domains delivered on day 2 and retired on day 5.
Fleet PartsFleet() {
  const char* t = R"(
[accelerators.A]
busy_watts = 1000
idle_watts = 100
failures_per_year = 2
[nodes.n]
cpu_milli = 32000
memory_mib = 1024
gpus = 4
accelerator = "A"
[domains.D]
node = "n"
nodes = 2
[[sites]]
name = "east"
  [[sites.pools]]
  domain = "D"
  count = 4
  spares = 1
[[sites]]
name = "west"
  [[sites.pools]]
  domain = "D"
  count = 2
  online_day = 2
  retire_day = 5
)";
  auto f = ParseFleetToml(t, "parts.toml");
  EXPECT_TRUE(f.ok()) << f.error().ToString();
  return std::move(f).value();
}

AiJob Job(int gpus, Seconds runtime = 100) {
  AiJob j;
  j.gpus = gpus;
  j.runtime = runtime;
  return j;
}

TEST(FleetParts, CheckJobNamesWhatIsWrong) {
  EXPECT_EQ(CheckJob(Job(4)).verdict, Verdict::kAccepted);
  EXPECT_EQ(CheckJob(Job(4, 0)).verdict, Verdict::kInvalid);
  EXPECT_EQ(CheckJob(Job(-1)).verdict, Verdict::kInvalid);
  AiJob cpu = Job(0);
  EXPECT_EQ(CheckJob(cpu).verdict, Verdict::kInvalid);  // no cores
  cpu.cpu_milli = 500;
  EXPECT_EQ(CheckJob(cpu).verdict, Verdict::kAccepted);
  AiJob share = Job(2);
  share.gpu_milli = 500;  // a share of two GPUs
  const AdmissionResult r = CheckJob(share);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_NE(r.reason.find("one GPU"), std::string::npos);
}

TEST(FleetParts, AdmitRejectsWhatTheFleetCanNeverHold) {
  const Fleet f = PartsFleet();
  auto s = FleetScheduler::Create(f, {});
  ASSERT_TRUE(s.ok());
  // East holds 3 domains in service plus a spare and west 2: a gang of
  // scope any stays in one site, whose 4 domains x 8 GPUs (spare included:
  // the fleet as built) bound it.
  EXPECT_EQ(Admit(**s, Job(8)).verdict, Verdict::kAccepted);
  EXPECT_EQ(Admit(**s, Job(1000)).verdict, Verdict::kRejected);
  TenantSettings capped;
  capped.quota.nominal_gpus = 4;
  (*s)->SetTenant(0, capped);
  EXPECT_EQ(Admit(**s, Job(8)).verdict, Verdict::kRejected);  // over its quota forever
}

TEST(FleetParts, ResolveTenantsNumbersCohortsAndRanksByName) {
  const Fleet f = PartsFleet();
  TenantsConfig cfg;
  cfg.tenants = {{"zed", 2, 8, "labs", -1}, {"amy", 1, 4, "labs", 2}, {"bob", 1, -1, "", -1}};
  DedicatedSpec d;
  d.tenant = "amy";
  d.domain_type = "D";
  d.site = "west";
  d.domains = 2;
  d.start_day = 1;
  d.end_day = 3.5;
  cfg.dedicated = {d};
  TenantDirectory dir(std::vector<std::string>{"carl"});
  auto r = ResolveTenants(f, cfg, &dir);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  RankByName(dir, &r->settings);
  ASSERT_EQ(dir.size(), 4u);  // carl (the workload's), zed, amy, bob
  EXPECT_EQ(dir.Find("amy"), 2);
  EXPECT_EQ(r->settings[1].quota.cohort, 0);
  EXPECT_EQ(r->settings[2].quota.cohort, 0);
  EXPECT_EQ(r->settings[3].quota.cohort, -1);
  EXPECT_EQ(r->settings[2].quota.borrowing_limit, 2);
  EXPECT_EQ(r->settings[1].weight, 2);
  // Name order: amy 0, bob 1, carl 2, zed 3.
  EXPECT_EQ(r->settings[2].rank, 0);
  EXPECT_EQ(r->settings[3].rank, 1);
  EXPECT_EQ(r->settings[0].rank, 2);
  EXPECT_EQ(r->settings[1].rank, 3);
  ASSERT_EQ(r->dedicated.size(), 1u);
  EXPECT_EQ(r->dedicated[0].tenant, 2u);
  EXPECT_EQ(r->dedicated[0].start, 86400);
  EXPECT_EQ(r->dedicated[0].end, 302400);
  EXPECT_EQ(r->dedicated[0].domains, (std::vector<int32_t>{4, 5}));  // west's domains
  // More than west has: refused, naming the line.
  cfg.dedicated[0].domains = 3;
  cfg.dedicated[0].line = 17;
  auto bad = ResolveTenants(f, cfg, &dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 17);
  EXPECT_NE(bad.error().ToString().find("the fleet has 2 more"), std::string::npos);
}

TEST(FleetParts, DedicatedDomainsPreferThoseInServiceAndNeverSpares) {
  const Fleet f = PartsFleet();  // east 0-2 (3: spare) from day 0; west 4-5 on days [2, 5)
  auto spec = [](int64_t n, double start, double end) {
    DedicatedSpec d;
    d.tenant = "a";
    d.domain_type = "D";
    d.domains = n;
    d.start_day = start;
    d.end_day = end;
    return d;
  };
  // Opening on day 3 until day 4: west is in service all that time, east
  // too: fleet order decides (east first).
  auto a = DedicatedDomains(f, {spec(2, 3, 4)});
  EXPECT_EQ(a[0], (std::vector<int32_t>{0, 1}));
  // Opening on day 3 until day 9: east is in service throughout, west only
  // at the start (it retires on day 5).
  auto b = DedicatedDomains(f, {spec(4, 3, 9)});
  EXPECT_EQ(b[0], (std::vector<int32_t>{0, 1, 2, 4}));
  // Opening on day 0: east first, then west (delivered on day 2); the spare
  // never: five domains is more than the fleet can give.
  auto c = DedicatedDomains(f, {spec(2, 0, 1), spec(5, 0, 1)});
  EXPECT_EQ(c[0], (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(c[1], (std::vector<int32_t>{2, 4, 5}));
  // West opens on day 2: a cluster from day 2 takes it over east's last
  // free domain only when east has none left.
  auto d = DedicatedDomains(f, {spec(3, 0, 9), spec(1, 2, 4)});
  EXPECT_EQ(d[1], (std::vector<int32_t>{4}));
}

TEST(FleetParts, CheckpointIntervalChoosesTheJobsThenTheFleetsThenYoungDaly) {
  const Fleet f = PartsFleet();
  CheckpointSettings s;
  s.interval = 600;
  s.cost = 60;
  AiJob j = Job(8);
  EXPECT_EQ(CheckpointInterval(f, j, 0, s), 600);  // the fleet's
  j.checkpoint = 900;
  EXPECT_EQ(CheckpointInterval(f, j, 0, s), 900);  // its own
  EXPECT_EQ(CheckpointInterval(f, j, 0, s, /*replica=*/true), 0);
  j.checkpoint = kCheckpointAuto;
  // MTBF of 8 GPUs failing 2 times a year each: 365 d / 16; sqrt(2 M C).
  const double mtbf = 365.0 * 86400 / 16;
  EXPECT_DOUBLE_EQ(CheckpointInterval(f, j, 0, s), std::sqrt(2 * mtbf * 60));
  s.cost = 0;  // free checkpoints: no interval to choose
  EXPECT_EQ(CheckpointInterval(f, j, 0, s), 0);
  AiJob cpu = Job(0);
  cpu.cpu_milli = 1000;
  cpu.checkpoint = 900;
  EXPECT_EQ(CheckpointInterval(f, cpu, 0, s), 0);
}

TEST(FleetParts, ThrottleSpeedKeepsTheDrawAtTheCap) {
  EXPECT_EQ(ThrottleSpeed(0, 5e6, 10e6), 1);      // no cap
  EXPECT_EQ(ThrottleSpeed(20e6, 5e6, 0), 1);      // nothing running
  EXPECT_EQ(ThrottleSpeed(20e6, 5e6, 10e6), 1);   // fits
  EXPECT_DOUBLE_EQ(ThrottleSpeed(10e6, 5e6, 10e6), 0.5);
  EXPECT_EQ(ThrottleSpeed(5e6, 6e6, 10e6), kMinSpeed);  // idle draw alone passes it
}

TEST(FleetParts, SparesStandInAndGoBackWhenIdle) {
  const Fleet f = PartsFleet();
  SparePool spares(f);
  ASSERT_EQ(spares.spares(), (std::vector<int32_t>{3}));  // east's last domain
  FleetSchedulerOptions o;
  o.offline.assign(f.domains.size(), false);
  o.offline[3] = true;
  auto s = FleetScheduler::Create(f, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(spares.OnFailure(0), 3);   // a node of east's domain 0 fails
  EXPECT_EQ(spares.OnFailure(1), -1);  // none left
  (*s)->SetDomainOnline(3, true);
  EXPECT_EQ(spares.OnRepair(8, **s), -1);  // west: no spare stood in there
  // Busy: it stays.
  FleetScheduler& sched = **s;
  AiJob j = Job(8, 1000);
  j.topology = TopologyScope::kDomain;
  for (int i = 0; i < 4; ++i) sched.Submit(sched.AddJob(j), 0);
  Decisions d;
  sched.Schedule(0, &d);
  EXPECT_EQ(d.changes.size(), 4u);  // domains 0-3 of east (3: the spare)
  EXPECT_EQ(spares.OnRepair(0, sched), -1);
  for (const JobChange& c : d.changes) sched.Finish(c.job, 10);
  EXPECT_EQ(spares.OnRepair(0, sched), 3);
  EXPECT_EQ(spares.OnFailure(2), 3);  // and may stand in again
}

TEST(FleetParts, ReplicaSetAsksLowestAndLetsGoHighestWaitingFirst) {
  ReplicaSet rs(10, 4);  // refs 10..13
  auto none = [](uint32_t) { return false; };
  ReplicaSet::Actions a = rs.Plan(3, none);
  EXPECT_EQ(a.submit, (std::vector<uint32_t>{10, 11, 12}));
  EXPECT_EQ(rs.asked(), 3);
  // 10 and 12 run, 11 waits; down to 1: withdraw 11, then stop 12.
  auto running = [](uint32_t r) { return r == 10 || r == 12; };
  a = rs.Plan(1, running);
  EXPECT_TRUE(a.submit.empty());
  EXPECT_EQ(a.withdraw, (std::vector<uint32_t>{11}));
  EXPECT_EQ(a.stop, (std::vector<uint32_t>{12}));
  EXPECT_TRUE(rs.wanted(10));
  EXPECT_FALSE(rs.wanted(12));
  a = rs.Plan(4, running);
  EXPECT_EQ(a.submit, (std::vector<uint32_t>{11, 12, 13}));
}

TEST(FleetParts, FailureProcessIsSeededAndRepairsFollow) {
  const Fleet f = PartsFleet();
  FailureProcess off(f, false, 1, 3600, 1);
  EXPECT_EQ(off.next_failure(), INT64_MAX);
  FailureProcess a(f, true, 1, 3600, 7), b(f, true, 1, 3600, 7), c(f, true, 1, 3600, 8);
  // 12 nodes x 4 GPUs x 2 per year: a failure every ~3.8 days on average.
  std::vector<std::pair<Seconds, int32_t>> xa, xb, xc;
  for (int i = 0; i < 50; ++i) {
    xa.push_back({a.next_failure(), a.TakeFailure()});
    xb.push_back({b.next_failure(), b.TakeFailure()});
    xc.push_back({c.next_failure(), c.TakeFailure()});
  }
  EXPECT_EQ(xa, xb);
  EXPECT_NE(xa, xc);
  for (size_t i = 1; i < xa.size(); ++i) EXPECT_LE(xa[i - 1].first, xa[i].first);
  const double mean_gap = static_cast<double>(xa.back().first - xa.front().first) / 49;
  EXPECT_NEAR(mean_gap, 365.0 * 86400 / 96, 0.4 * 365.0 * 86400 / 96);
  a.ScheduleRepair(5, 100);
  a.ScheduleRepair(2, 50);
  EXPECT_EQ(a.next_repair(), 3650);
  EXPECT_EQ(a.TakeRepair(), 2);
  EXPECT_EQ(a.next_repair(), 3700);
  EXPECT_EQ(a.TakeRepair(), 5);
  EXPECT_EQ(a.next_repair(), INT64_MAX);
}

TEST(FleetParts, CapacityCalendarDeliversAndRetiresInOrder) {
  const Fleet f = PartsFleet();
  CapacityCalendar cal(f);
  EXPECT_EQ(cal.offline_at_start(), (std::vector<bool>{false, false, false, true, true, true}));
  EXPECT_EQ(cal.next(), 2 * 86400);
  EXPECT_TRUE(cal.Take(86400).empty());
  auto on = cal.Take(2 * 86400);
  ASSERT_EQ(on.size(), 2u);
  EXPECT_EQ(on[0].domain, 4);
  EXPECT_TRUE(on[0].online);
  EXPECT_EQ(on[1].domain, 5);
  EXPECT_EQ(cal.next(), 5 * 86400);
  auto off = cal.Take(5 * 86400);
  ASSERT_EQ(off.size(), 2u);
  EXPECT_FALSE(off[0].online);
  EXPECT_EQ(cal.next(), INT64_MAX);
}

}  // namespace
}  // namespace rackscale

namespace rackscale {
namespace {

// The ledger on its own: one 8-GPU job on east for an hour at $2 per
// GPU-hour on demand, a reserved cluster of west, hourly rows.
TEST(FleetParts, LedgerIntegratesMoneyGpusAndRows) {
  Fleet f = PartsFleet();
  f.sites[0].usd_per_mwh = 100;
  FleetSimOptions o;
  TenantSpec spec;
  spec.name = "t0";
  spec.on_demand_usd_per_gpu_hour = 2;
  spec.reserved_usd_per_gpu_hour = 1;
  o.tenants.tenants = {spec};
  o.timeseries_step = 3600;
  FleetSimResult r;
  r.tenants.resize(1);
  r.tenants[0].name = "t0";
  r.sites.resize(2);
  CapacityCalendar cal(f);
  FleetLedger ledger(f, o, &r, 4, {0}, cal.offline_at_start());
  ledger.SetPrices(0, spec);
  FleetSchedulerOptions so;
  so.offline = cal.offline_at_start();
  auto s = FleetScheduler::Create(f, so);
  ASSERT_TRUE(s.ok());
  FleetScheduler& sched = **s;
  AiJob j = Job(8, 7200);
  const auto ref = sched.AddJob(j);
  sched.Submit(ref, 0);
  Decisions d;
  sched.Schedule(0, &d);
  ASSERT_EQ(d.changes.size(), 1u);
  const int32_t site = sched.site_of(ref);
  EXPECT_EQ(site, 0);
  ledger.Started(ref, j, site, false, {}, 0);
  ledger.UpdateBusy(sched);
  ledger.Reserved(0, 16);  // e.g. a dedicated cluster of 16 GPUs opened
  const std::vector<double> speed{1, 1};
  ASSERT_TRUE(ledger.Integrate(0, 3600, sched, speed, {}).ok());
  EXPECT_DOUBLE_EQ(ledger.Ended(ref, j, site, 3600), 8 * 3600.0);
  sched.Finish(ref, 3600);
  ledger.UpdateBusy(sched);
  ASSERT_TRUE(ledger.Integrate(3600, 5400, sched, speed, {}).ok());
  ledger.Finish({}, {});
  // Revenue: 8 GPUs x $2 for an hour, plus 16 reserved x $1 for 1.5 hours.
  EXPECT_DOUBLE_EQ(r.tenants[0].revenue_usd, 16 + 24);
  EXPECT_DOUBLE_EQ(r.sites[0].revenue_usd, 16);
  EXPECT_DOUBLE_EQ(r.busy_gpu_seconds, 8 * 3600.0);
  EXPECT_DOUBLE_EQ(r.sites[0].busy_gpu_seconds, 8 * 3600.0);
  // East has 3 domains of 8 GPUs in service (the spare is not).
  EXPECT_DOUBLE_EQ(r.sites[0].online_gpu_seconds, 24 * 5400.0);
  // Energy: 24 GPUs idle at 100 W (no host draw given) for 1.5 h, and 8 of
  // them 900 W more for an hour: 3.6 kWh + 7.2 kWh.
  EXPECT_NEAR(r.sites[0].energy_mwh, (2400.0 * 1.5 + 7200.0) / 1e6, 1e-12);
  EXPECT_NEAR(r.sites[0].energy_usd, r.sites[0].energy_mwh * 100, 1e-12);
  // Rows: two steps x (2 sites + 1 tenant); the second step half covered.
  ASSERT_EQ(r.timeseries.size(), 6u);
  EXPECT_EQ(r.timeseries[3].step, 1);
  EXPECT_DOUBLE_EQ(r.timeseries[0].gpus_busy, 8);
  EXPECT_DOUBLE_EQ(r.timeseries[3].covered_s, 1800);
  EXPECT_DOUBLE_EQ(r.timeseries[5].gpus_reserved, 16);
  // A span needing more rows than the bound is refused, naming --step.
  auto too_long = ledger.CheckRows(Seconds{1} << 50);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().source, "--step");
}

}  // namespace
}  // namespace rackscale
