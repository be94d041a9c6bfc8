// libFuzzer target for the scheduler core as a live control plane drives it:
// the input is a stream of calls (jobs added, submitted, finished,
// interrupted, withdrawn and removed; tenants set and removed; dedicated
// clusters added, re-windowed and removed; nodes down and domains out of
// service; Restore with placements made of the input's bytes, as a client's
// request would carry them; passes) on a small fixed fleet, under the policy
// the first byte picks. Calls keep the header's preconditions where the
// caller owns them (a job is submitted when admitted and not queued, a node
// goes down only after its jobs were interrupted); every value a request
// could carry is the fuzzer's. After each pass: no node gives more units
// than it has, and each job appears once in the Decisions, by ref.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/fleet.h"
#include "sched/admission.h"
#include "sched/fleet_scheduler.h"

namespace {

using namespace rackscale;

const Fleet& TheFleet() {
  static const Fleet fleet = [] {
    const char* t = R"(
[accelerators.A]
busy_watts = 700
idle_watts = 100
[accelerators.B]
busy_watts = 500
[nodes.na]
cpu_milli = 32000
memory_mib = 1024
gpus = 4
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
nodes = 3
[[sites]]
name = "s0"
power_cap_mw = 0.01
  [[sites.pools]]
  domain = "DA"
  count = 6
  per_block = 3
  [[sites.pools]]
  node = "cpu"
  count = 2
[[sites]]
name = "s1"
  [[sites.pools]]
  domain = "DA"
  count = 3
  [[sites.pools]]
  domain = "DB"
  count = 2
)";
    auto f = ParseFleetToml(t, "fuzz.toml");
    if (!f.ok()) __builtin_trap();
    return std::move(f).value();
  }();
  return fleet;
}

struct Bytes {
  const uint8_t* p;
  size_t n;
  uint8_t u8() { return n > 0 ? (--n, *p++) : 0; }
  int32_t i32() {
    uint32_t x = 0;
    for (int i = 0; i < 4; ++i) x = (x << 8) | u8();
    return static_cast<int32_t>(x);
  }
  bool done() const { return n == 0; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fleet& fleet = TheFleet();
  Bytes in{data, size};
  FleetSchedulerOptions o;
  o.policy = static_cast<FleetQueuePolicy>(in.u8() % 4);
  o.power = static_cast<PowerPolicy>(in.u8() % 3);
  auto created = FleetScheduler::Create(fleet, o);
  if (!created.ok()) __builtin_trap();
  FleetScheduler& s = **created;
  const int32_t N = static_cast<int32_t>(fleet.nodes.size());
  const int32_t D = static_cast<int32_t>(fleet.domains.size());
  std::vector<FleetScheduler::JobRef> refs;
  Seconds now = 0;
  Decisions d;
  auto pick = [&]() -> FleetScheduler::JobRef {
    if (refs.empty()) return 0;
    return refs[in.u8() % refs.size()];
  };
  for (int steps = 0; steps < 400 && !in.done(); ++steps) {
    switch (in.u8() % 14) {
      case 0: {  // a job, with whatever sizes a request may carry
        AiJob j;
        j.tenant = in.u8() % 12;
        const uint8_t kind = in.u8();
        j.gpus = kind < 200 ? kind % 40 : in.i32();
        j.gpu_milli = (kind & 1) ? 1000 : 1 + in.u8() * 4;
        j.cpu_milli = in.i32() % 40000;
        j.runtime = in.i32();
        j.requested = in.i32();
        j.topology = static_cast<TopologyScope>(in.u8() % 5);
        j.preemptible = in.u8() & 1;
        j.priority = static_cast<int32_t>(in.u8() % 7) - 3;
        j.models = (in.u8() & 3) == 0 ? GpuModelMask{1} << (in.u8() % 3) : kAnyGpuModel;
        const auto r = s.AddJob(j);
        refs.push_back(r);
        if (Admit(s, j).verdict == Verdict::kAccepted) s.Submit(r, now);
        break;
      }
      case 1: {
        const auto r = pick();
        if (s.has_job(r) && s.running(r)) s.Finish(r, now);
        break;
      }
      case 2: {
        const auto r = pick();
        if (s.has_job(r) && s.running(r)) s.Interrupt(r, now);
        break;
      }
      case 3: {
        const auto r = pick();
        if (s.has_job(r)) s.Withdraw(r);
        break;
      }
      case 4: {  // any ref, a live one or not
        const FleetScheduler::JobRef r = in.u8() % 2 ? pick() : static_cast<FleetScheduler::JobRef>(in.i32());
        (void)s.RemoveJob(r);
        break;
      }
      case 5: {
        TenantSettings t;
        t.weight = 0.25 * (1 + in.u8() % 16);
        t.quota.nominal_gpus = static_cast<int64_t>(in.u8() % 50) - 1;
        t.quota.cohort = static_cast<int32_t>(in.u8() % 4) - 1;
        t.quota.borrowing_limit = static_cast<int64_t>(in.u8() % 20) - 1;
        t.rank = static_cast<int32_t>(in.u8() % 20) - 1;
        s.SetTenant(in.u8() % 12, t);
        break;
      }
      case 6:
        (void)s.RemoveTenant(in.u8() % 16);
        break;
      case 7: {
        DedicatedCluster c;
        c.tenant = in.u8() % 12;
        const int n = in.u8() % 4;
        for (int i = 0; i < n; ++i) c.domains.push_back(in.u8() % 2 ? in.u8() % D : in.i32());
        c.start = now + in.u8() * 10 - 500;
        c.end = c.start + in.i32() % 5000;
        c.lend = in.u8() & 1;
        (void)s.AddDedicated(c);
        break;
      }
      case 8: {
        const size_t k = in.u8() % 8;
        if (in.u8() & 1) {
          (void)s.SetDedicatedWindow(k, now + in.i32() % 3000, now + in.i32() % 6000);
        } else {
          (void)s.RemoveDedicated(k);
        }
        break;
      }
      case 9:
        if (s.NextWindowChange() <= now) s.ApplyWindows(now, nullptr);
        break;
      case 10: {  // a client's restore request, its parts from the input
        const auto r = pick();
        Placement p;
        const int parts = in.u8() % 6;
        for (int i = 0; i < parts; ++i) {
          GangPart x{in.u8() % 2 ? in.u8() % N : in.i32(), static_cast<int32_t>(in.u8() % 6) - 1, 1};
          if (in.u8() % 4 == 0) x.nodes = static_cast<int32_t>(in.u8() % 5) - 1;
          p.parts.push_back(x);
        }
        (void)s.Restore(r, p, now - in.u8());
        break;
      }
      case 11: {  // a node fails (its jobs interrupted first) or is repaired
        const int32_t n = in.u8() % N;
        if (!s.node_down(n)) {
          for (auto j : s.JobsOnNode(n)) s.Interrupt(j, now);
          s.SetNodeDown(n, true);
        } else {
          s.SetNodeDown(n, false);
        }
        break;
      }
      case 12:
        s.SetDomainOnline(in.u8() % D, in.u8() & 1);
        break;
      default: {
        now += in.u8();
        s.Schedule(now, &d);
        for (size_t i = 0; i < d.changes.size(); ++i) {
          if (i > 0 && d.changes[i].job <= d.changes[i - 1].job) __builtin_trap();
          if (d.changes[i].started && !s.running(d.changes[i].job)) __builtin_trap();
        }
        for (int32_t n = 0; n < N; ++n) {
          if (s.index().node_free(n) < 0) __builtin_trap();
        }
        break;
      }
    }
  }
  return 0;
}
