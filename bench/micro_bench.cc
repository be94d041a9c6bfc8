// Micro-benchmarks of the flat-pool pieces (Google Benchmark). The whole-run
// figures the issue asks for come from bench/run-bench.sh, which times the
// CLI side by side with a plain awk pass over the same input and output.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "plan/planner.h"
#include "plan/scenario.h"

#include "base/random.h"
#include "ctl/control.h"
#include "report/writers.h"
#include "model/fleet.h"
#include "sched/end_index.h"
#include "sched/fleet_scheduler.h"
#include "sched/queue_index.h"
#include "sched/topo_index.h"
#include "sim/flat_sim.h"
#include "workload/generate.h"

namespace rackscale {
namespace {

const Workload& Gen(int64_t jobs, SlotCount slots, double load) {
  static std::map<std::tuple<int64_t, SlotCount, double>, Workload> cache;
  auto key = std::make_tuple(jobs, slots, load);
  auto it = cache.find(key);
  if (it == cache.end()) {
    FlatGenParams p;
    p.jobs = jobs;
    p.slots = slots;
    p.load = load;
    p.seed = 1;
    it = cache.emplace(key, std::move(GenerateFlat(p).value())).first;
  }
  return it->second;
}

// Whole simulation (no I/O): jobs/s for each policy and load.
void BM_SimulateFlat(benchmark::State& state) {
  const Workload& w = Gen(state.range(0), 100000, static_cast<double>(state.range(2)) / 100.0);
  FlatSimOptions o;
  o.slots = 100000;
  o.policy = state.range(1) == 0 ? QueuePolicy::kFifo : QueuePolicy::kEasy;
  int64_t events = 0;
  for (auto _ : state) {
    FlatSimResult r = SimulateFlat(w, o).value();
    events = r.events;
    benchmark::DoNotOptimize(r.outcomes.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["events"] = static_cast<double>(events);
  state.SetLabel(o.policy == QueuePolicy::kFifo ? "fifo" : "easy");
}
BENCHMARK(BM_SimulateFlat)
    ->ArgsProduct({{100000}, {0, 1}, {70, 90, 120}})
    ->Unit(benchmark::kMillisecond);

// Parsing native CSV (in memory).
void BM_ParseNativeCsv(benchmark::State& state) {
  std::string csv = FormatNativeCsv(Gen(state.range(0), 100000, 0.9));
  for (auto _ : state) {
    auto r = ParseNativeCsv(csv, "bench.csv", false);
    benchmark::DoNotOptimize(r.ok());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(csv.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParseNativeCsv)->Arg(100000)->Unit(benchmark::kMillisecond);

// EndIndex: one shadow-time query among n running jobs (plus one add and
// one remove to keep the set moving): O(log n).
void BM_EndIndexShadow(benchmark::State& state) {
  const int64_t n = state.range(0);
  EndIndex idx;
  Rng rng(1);
  std::vector<std::pair<Seconds, SlotCount>> items;
  SlotCount total = 0;
  for (int64_t i = 0; i < n; ++i) {
    Seconds e = static_cast<Seconds>(rng.Below(1u << 30));
    SlotCount s = 1 + static_cast<SlotCount>(rng.Below(64));
    idx.Add(e, s);
    items.emplace_back(e, s);
    total += s;
  }
  size_t k = 0;
  for (auto _ : state) {
    auto r = idx.FirstReaching(1 + static_cast<SlotCount>(rng.Below(static_cast<uint64_t>(total))));
    benchmark::DoNotOptimize(r);
    auto [e, s] = items[k];
    idx.Remove(e, s);
    idx.Add(e + 1, s);
    items[k].first = e + 1;
    k = (k + 1) % items.size();
  }
}
BENCHMARK(BM_EndIndexShadow)->Range(1 << 10, 1 << 20);

// QueueIndex: first backfill candidate in a queue of n waiting jobs.
void BM_QueueIndexFind(benchmark::State& state) {
  const int64_t n = state.range(0);
  QueueIndex q;
  Rng rng(2);
  for (int64_t i = 0; i < n; ++i) {
    q.Insert(static_cast<size_t>(i), 1 + static_cast<SlotCount>(rng.Below(4096)),
             60 + static_cast<Seconds>(rng.Below(86400)));
  }
  for (auto _ : state) {
    size_t from = rng.Below(static_cast<uint64_t>(n));
    benchmark::DoNotOptimize(q.FindBackfill(from, 64, 8, 3600));
  }
}
BENCHMARK(BM_QueueIndexFind)->Range(1 << 10, 1 << 20);

// Gangs on the 504k-GPU fleet (examples/fleet-500k.toml: 7,000 NVL72
// domains of 18 nodes): a 16,384-GPU gang (228 domains, 4,096 nodes) taken
// and given back, in the TopoIndex alone and through the scheduler (start by
// a pass, then finish: placement, load and per-domain job accounting).
const Fleet& Fleet500k() {
  static const Fleet fleet = ReadFleetToml(std::string(RACKSCALE_SOURCE_DIR) + "/examples/fleet-500k.toml").value();
  return fleet;
}

AiJob BigGang() {
  AiJob j;
  j.gpus = 16384;
  j.runtime = 3600;
  j.topology = TopologyScope::kAny;
  return j;
}

void BM_TopoGangCommitRelease(benchmark::State& state) {
  const Fleet& fleet = Fleet500k();
  TopoIndex idx(fleet, 1);
  Placement p;
  if (!idx.Find(BigGang(), 0, &p)) {
    state.SkipWithError("no room for the gang");
    return;
  }
  for (auto _ : state) {
    idx.Commit(p);
    idx.Release(p);
  }
  state.counters["parts"] = static_cast<double>(p.parts.size());
  state.counters["domains"] = p.domains;
}
BENCHMARK(BM_TopoGangCommitRelease)->Unit(benchmark::kMicrosecond);

void BM_TopoGangFindCommitRelease(benchmark::State& state) {
  const Fleet& fleet = Fleet500k();
  TopoIndex idx(fleet, 1);
  Placement p;
  for (auto _ : state) {
    if (!idx.Find(BigGang(), 0, &p)) {
      state.SkipWithError("no room for the gang");
      return;
    }
    idx.Commit(p);
    idx.Release(p);
  }
}
BENCHMARK(BM_TopoGangFindCommitRelease)->Unit(benchmark::kMicrosecond);

void BM_SchedGangStartFinish(benchmark::State& state) {
  const Fleet& fleet = Fleet500k();
  FleetSchedulerOptions o;
  o.policy = FleetQueuePolicy::kFifo;
  auto s = FleetScheduler::Create(fleet, o).value();
  const FleetScheduler::JobRef j = s->AddJob(BigGang());
  Decisions d;
  Seconds now = 0;
  for (auto _ : state) {
    s->Submit(j, now);
    s->Schedule(now, &d);
    if (!s->running(j)) {
      state.SkipWithError("the gang did not start");
      return;
    }
    s->Finish(j, ++now);
  }
}
BENCHMARK(BM_SchedGangStartFinish)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace rackscale

BENCHMARK_MAIN();

// The capacity planner at the issue's size: the project's default scenario
// scenarios/reallocation-2025.toml (8 years monthly, 6 sites, 4 hardware
// types, a 7-year contract, on-demand demand, capex limits and a cash floor),
// read, turned into the monthly program and solved as `rackscale plan` does.
static void PlanScenario(benchmark::State& state, const std::string& file) {
  auto s = rackscale::ReadScenario(std::string(RACKSCALE_SOURCE_DIR) + "/scenarios/" + file);
  if (!s.ok()) {
    state.SkipWithError(s.error().ToString().c_str());
    return;
  }
  const rackscale::PlanInput in = rackscale::ToPlanInput(*s, rackscale::PlanOptions{});
  for (auto _ : state) {
    auto r = rackscale::SolvePlan(in);
    if (!r.ok()) {
      state.SkipWithError(r.error().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
    state.counters["optimal"] = r->optimal ? 1 : 0;
    state.counters["gap_pct"] = 100 * r->gap;
    state.counters["shortfall_months"] = static_cast<double>(r->shortfalls.size());
    state.counters["npv_busd"] = r->npv_usd / 1e9;
    state.counters["columns"] = static_cast<double>(r->columns);
    state.counters["integer_columns"] = static_cast<double>(r->integer_columns);
  }
}
static void BM_Plan8Years6Sites4Types(benchmark::State& state) { PlanScenario(state, "reallocation-2025.toml"); }
BENCHMARK(BM_Plan8Years6Sites4Types)->Unit(benchmark::kMillisecond)->Iterations(1);

// scenarios/small.toml: 2 years, 2 sites, 2 hardware types, one contract.
static void BM_PlanSmallScenario(benchmark::State& state) { PlanScenario(state, "small.toml"); }
BENCHMARK(BM_PlanSmallScenario)->Unit(benchmark::kMillisecond)->Iterations(5);

// The control plane's core turn when nothing changed (ctl/control.h): the
// server calls Tick once per group commit, so its cost in the fleet's size
// bounds the turn rate of a large fleet. Every node registered and heartbeating
// within the timeout; one Tick per millisecond of server time.
static void BM_ControlTickIdle(benchmark::State& state) {
  const int64_t nodes = state.range(0);
  const std::string toml = fmt::format(R"(
[accelerators.H100]
busy_watts = 700
[nodes.hgx]
cpu_milli = 192000
memory_mib = 1000
gpus = 8
accelerator = "H100"
[domains.HGX]
node = "hgx"
nodes = 1
[[sites]]
name = "east"
  [[sites.pools]]
  domain = "HGX"
  count = {}
)", nodes);
  auto fleet = rackscale::ParseFleetToml(toml, "bench.toml");
  if (!fleet.ok()) {
    state.SkipWithError(fleet.error().ToString().c_str());
    return;
  }
  rackscale::ctl::ControlOptions o;
  o.node_timeout_ms = 30000;
  int64_t now_ms = 1'000'000;
  auto c = rackscale::ctl::Control::Create(*fleet, o, rackscale::ctl::Snapshot{}, nullptr, now_ms);
  if (!c.ok()) {
    state.SkipWithError(c.error().ToString().c_str());
    return;
  }
  const rackscale::ctl::Principal agent{rackscale::ctl::Role::kAgent, "", "ag", 1};
  const std::vector<std::string> names = rackscale::ctl::NodeNames(*fleet);
  for (size_t at = 0; at < names.size(); at += rackscale::ctl::kMaxBatch) {
    rackscale::ctl::AgentRegister reg;
    for (size_t i = at; i < std::min(names.size(), at + rackscale::ctl::kMaxBatch); ++i) reg.nodes.push_back({names[i], 8, "H100", ""});
    (*c)->AgentRegister(agent, reg, now_ms / 1000, now_ms);
  }
  (*c)->Tick(now_ms / 1000, now_ms, false);
  std::vector<rackscale::ctl::LiveEvent> live;
  (*c)->TakeBatch(&live);
  int64_t ticks = 0;
  for (auto _ : state) {
    ++now_ms;  // within every node's timeout for the first 30,000 ticks
    if (++ticks % 20000 == 0) {
      state.PauseTiming();
      (*c)->TouchAllNodes(now_ms);  // every node heartbeats (not timed)
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize((*c)->Tick(now_ms / 1000, now_ms, false));
  }
}
BENCHMARK(BM_ControlTickIdle)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kNanosecond);
