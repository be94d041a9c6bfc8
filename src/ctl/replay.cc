#include "ctl/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "ctl/api.h"
#include "ctl/control.h"
#include "sched/admission.h"
#include "sched/fleet_scheduler.h"

namespace rackscale::ctl {
namespace {

using json = nlohmann::json;
constexpr uint32_t kNone = UINT32_MAX;

Error Bad(const std::string& source, int64_t line, const std::string& field, const std::string& why) {
  return Error::InvalidInput(source, line, field, why);
}

}  // namespace

bool LooksLikeExport(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  if (i >= text.size() || text[i] != '{') return false;
  const size_t nl = text.find('\n', i);
  json e = json::parse(text.substr(i, nl == std::string_view::npos ? std::string_view::npos : nl - i), nullptr, false);
  return !e.is_discarded() && e.is_object() && e.contains("seq") && e.contains("type");
}

Result<std::vector<ExportedEvent>> ParseExport(std::string_view text, const std::string& source) {
  std::vector<ExportedEvent> out;
  int64_t line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view l = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line;
    if (l.empty()) continue;
    json e = json::parse(l, nullptr, false);
    if (e.is_discarded() || !e.is_object()) return Bad(source, line, "", "not a JSON object (an export has one event per line)");
    ExportedEvent ev;
    ev.line = line;
    auto int_field = [&](const char* k, bool required, int64_t* v) -> Status {
      if (!e.contains(k)) {
        if (required) return Bad(source, line, k, "missing");
        return Status::Ok();
      }
      if (!e[k].is_number_integer()) return Bad(source, line, k, "expected an integer");
      *v = e[k].get<int64_t>();
      return Status::Ok();
    };
    auto str_field = [&](const char* k, bool required, std::string* v) -> Status {
      if (!e.contains(k)) {
        if (required) return Bad(source, line, k, "missing");
        return Status::Ok();
      }
      if (!e[k].is_string()) return Bad(source, line, k, "expected a string");
      *v = e[k].get<std::string>();
      return Status::Ok();
    };
    if (Status st = int_field("seq", true, &ev.seq); !st) return st.error();
    if (Status st = int_field("time", true, &ev.time); !st) return st.error();
    if (Status st = str_field("type", true, &ev.type); !st) return st.error();
    if (Status st = int_field("job", false, &ev.job); !st) return st.error();
    if (Status st = str_field("tenant", false, &ev.tenant); !st) return st.error();
    if (Status st = str_field("node", false, &ev.node); !st) return st.error();
    ev.data = e.contains("data") ? e["data"] : json::object();
    if (!ev.data.is_object()) return Bad(source, line, "data", "expected an object");
    if (!out.empty() && ev.seq != out.back().seq + 1) {
      return Bad(source, line, "seq", fmt::format("{} follows {}: the export has a gap", ev.seq, out.back().seq));
    }
    out.push_back(std::move(ev));
  }
  return out;
}

Result<AiWorkload> ExportToWorkload(const std::vector<ExportedEvent>& events, const std::string& source,
                                    int64_t* left_out) {
  struct Seen {
    JobSubmit spec;
    int64_t submit = 0, start = -1, end = -1;
    bool ended = false;
  };
  std::map<int64_t, Seen> jobs;
  const int64_t t0 = events.empty() ? 0 : events.front().time;
  for (const ExportedEvent& e : events) {
    if (e.type == "job.submitted") {
      if (!e.data.contains("spec")) return Bad(source, e.line, "data.spec", "missing");
      Decoded<JobSubmit> spec = DecodeJobSubmit(e.data["spec"].dump());
      if (!spec.ok()) return Bad(source, e.line, "data.spec." + spec.error.field, spec.error.message);
      Seen& s = jobs[e.job];
      s.spec = std::move(*spec.value);
      s.submit = e.time;
    } else if (e.type == "job.started") {
      auto it = jobs.find(e.job);
      if (it != jobs.end()) it->second.start = e.time;
    } else if (e.type == "job.requeued" || e.type == "job.preempted") {
      auto it = jobs.find(e.job);
      if (it != jobs.end()) it->second.start = -1;
    } else if (e.type == "job.succeeded" || e.type == "job.failed" || e.type == "job.cancelled") {
      auto it = jobs.find(e.job);
      if (it != jobs.end()) {
        it->second.end = e.time;
        it->second.ended = true;
      }
    }
  }
  AiWorkload w;
  w.tenants.push_back("");
  std::map<std::string, TenantId> tenant_ids;
  int64_t skipped = 0;
  for (const auto& [id, s] : jobs) {
    if (!s.ended || s.start < 0) {
      ++skipped;
      continue;
    }
    AiJob j;
    j.id = id;
    auto [it, fresh] = tenant_ids.emplace(s.spec.tenant, static_cast<TenantId>(w.tenants.size()));
    if (fresh) w.tenants.push_back(s.spec.tenant);
    j.tenant = it->second;
    j.submit = s.submit - t0;
    j.runtime = std::max<int64_t>(1, s.end - s.start);
    j.requested = s.spec.time_limit_s;
    j.gpus = s.spec.gpus;
    j.cpu_milli = int64_t{s.spec.cpus} * 1000;
    ParseTopologyScope(s.spec.topology, &j.topology);
    if (s.spec.nodes == 1) j.topology = TopologyScope::kNode;
    if (!s.spec.gpu_model.empty()) {
      std::optional<GpuModelId> m = w.models.Intern(s.spec.gpu_model);
      if (m) j.models = GpuModelMask{1} << *m;
    }
    j.priority = s.spec.priority;
    j.preemptible = s.spec.preemptible;
    j.checkpoint = s.spec.checkpoint_s > 0 ? static_cast<double>(s.spec.checkpoint_s) : kCheckpointNone;
    w.jobs.push_back(j);
  }
  if (left_out != nullptr) *left_out = skipped;
  return w;
}

namespace {

// The state a Control keeps that its core calls depend on, rebuilt from
// events, and the core driven the same way.
class Replayer {
 public:
  Replayer(const Fleet& fleet, std::string source) : fleet_(fleet), source_(std::move(source)) {
    names_ = NodeNames(fleet);
    for (size_t n = 0; n < names_.size(); ++n) node_index_[names_[n]] = static_cast<int32_t>(n);
    nodes_.assign(fleet.nodes.size(), Node{});
  }

  Status Apply(const ExportedEvent& e, ReplayReport* r);

 private:
  struct Job {
    JobSubmit spec;
    TenantId tid = 0;
    int64_t submit = 0, start = 0;
    bool running = false, terminal = false;
    uint32_t ref = kNone;
    std::vector<GangPart> parts;  // one per node, as the server placed it
  };
  struct Node {
    enum State { kUnknown, kUp, kDraining, kDrained, kLost } state = kUnknown;
    uint32_t hold = kNone;
  };
  struct Dedicated {
    DedicatedPost spec;
    std::vector<int32_t> domains;
    size_t core = 0;
  };

  Status Build(int64_t now);
  void WindowsIfDue(int64_t now) {
    if (core_ && core_->NextWindowChange() <= now) {
      std::vector<WindowChange> changed;
      core_->ApplyWindows(now, &changed);
    }
  }
  int32_t NodeOf(const ExportedEvent& e, const std::string& name) const {
    auto it = node_index_.find(name);
    return it == node_index_.end() ? -1 : it->second;
  }
  void DropHold(int32_t n, int64_t now) {
    Node& node = nodes_[static_cast<size_t>(n)];
    if (node.hold == kNone) return;
    if (core_->running(node.hold)) core_->Finish(node.hold, now);
    (void)core_->RemoveJob(node.hold);
    node.hold = kNone;
  }
  Status Pass(const ExportedEvent& e, ReplayReport* r);
  Status Started(const ExportedEvent& e, ReplayReport* r);
  void Differ(ReplayReport* r, std::string what) {
    if (r->differences.size() < 20) r->differences.push_back(std::move(what));
  }

  const Fleet& fleet_;
  std::string source_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, int32_t> node_index_;
  std::unique_ptr<FleetScheduler> core_;
  FleetQueuePolicy policy_ = FleetQueuePolicy::kFairshare;
  PowerPolicy power_ = PowerPolicy::kNone;
  TenantDirectory dir_;
  std::map<std::string, int32_t> cohorts_;
  TenantId hold_tenant_ = 0;
  std::map<std::string, TenantPut> tenants_;
  std::map<int64_t, Dedicated> dedicated_;
  std::map<int64_t, Job> jobs_;
  std::map<uint32_t, int64_t> ref_job_;
  std::vector<Node> nodes_;
  bool started_once_ = false;
  // The last pass's placements by job, to compare with its job.started events.
  std::map<int64_t, std::vector<GangPart>> placed_;
};

// As Control::Create and Control::LoadSnapshot build a core from the store.
Status Replayer::Build(int64_t now) {
  FleetSchedulerOptions so;
  so.policy = policy_;
  so.power = power_;
  auto core = FleetScheduler::Create(fleet_, so);
  if (!core.ok()) return core.error();
  core_ = std::move(*core);
  dir_ = TenantDirectory();
  cohorts_.clear();
  ref_job_.clear();
  hold_tenant_ = dir_.Resolve(kHoldTenant);
  core_->SetTenant(hold_tenant_, TenantSettings{});
  for (size_t n = 0; n < fleet_.nodes.size(); ++n) {
    core_->SetNodeDown(static_cast<int32_t>(n), true);
    nodes_[n].hold = kNone;
  }
  for (const auto& [name, put] : tenants_) dir_.Resolve(name);
  for (const auto& [name, put] : tenants_) {
    const TenantId id = dir_.Resolve(name);
    core_->SetTenant(id, CoreTenantOf(put, id, dir_, &cohorts_));
  }
  for (auto& [id, d] : dedicated_) {
    DedicatedCluster c;
    c.tenant = dir_.Resolve(d.spec.tenant);
    c.domains = d.domains;
    c.start = d.spec.start;
    c.end = d.spec.end;
    c.lend = d.spec.lend;
    auto k = core_->AddDedicated(c);
    if (!k.ok()) return k.error();
    d.core = *k;
  }
  {
    std::vector<WindowChange> changed;
    core_->ApplyWindows(now, &changed);
  }
  // Registered nodes in name order (the store's row order).
  std::vector<int32_t> order;
  for (size_t n = 0; n < nodes_.size(); ++n) {
    if (nodes_[n].state != Node::kUnknown) order.push_back(static_cast<int32_t>(n));
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return names_[a] < names_[b]; });
  for (int32_t n : order) {
    const Node::State s = nodes_[static_cast<size_t>(n)].state;
    if (s == Node::kUp || s == Node::kDraining) core_->SetNodeDown(n, false);
  }
  std::vector<int64_t> pending;
  for (auto& [id, j] : jobs_) {
    j.tid = dir_.Resolve(j.spec.tenant);
    j.ref = kNone;
    if (j.terminal) continue;
    j.ref = core_->AddJob(CoreJobOf(fleet_, j.spec, id, j.tid, j.submit));
    ref_job_[j.ref] = id;
    if (j.running) {
      Placement where;
      where.parts = j.parts;
      if (j.spec.gpus == 0 && !where.parts.empty()) where.parts[0].units = j.spec.cpus;
      if (Status st = core_->Restore(j.ref, where, j.start); !st) return st.error();
    } else {
      pending.push_back(id);
    }
  }
  int64_t t = 0;
  for (int64_t id : pending) {
    Job& j = jobs_[id];
    t = std::max(t, j.submit);
    core_->Submit(j.ref, t);
  }
  return Status::Ok();
}

Status Replayer::Pass(const ExportedEvent& e, ReplayReport* r) {
  WindowsIfDue(e.time);
  Decisions d;
  core_->Schedule(e.time, &d);
  ++r->passes;
  std::set<int64_t> started, stopped, want_started, want_stopped;
  for (const json& id : e.data.value("started", json::array())) want_started.insert(id.get<int64_t>());
  for (const json& id : e.data.value("preempted", json::array())) want_stopped.insert(id.get<int64_t>());
  placed_.clear();
  for (const JobChange& c : d.changes) {
    auto it = ref_job_.find(c.job);
    if (it == ref_job_.end()) continue;
    Job& j = jobs_[it->second];
    if (c.stopped) {
      stopped.insert(it->second);
      j.running = false;
      j.parts.clear();
    }
    if (c.started) {
      started.insert(it->second);
      j.running = true;
      j.start = e.time;
      std::vector<GangPart> parts;
      for (const GangPart& p : core_->placement(c.job).parts) {
        for (int32_t k = 0; k < p.nodes; ++k) parts.push_back(GangPart{p.node + k, j.spec.gpus == 0 ? 0 : p.units});
      }
      placed_[it->second] = parts;
      j.parts = parts;
    }
  }
  r->decisions += static_cast<int64_t>(started.size() + stopped.size());
  if (started != want_started || stopped != want_stopped) {
    ++r->mismatches;
    auto list = [](const std::set<int64_t>& s) {
      std::string o;
      for (int64_t x : s) o += (o.empty() ? "" : ",") + std::to_string(x);
      return "[" + o + "]";
    };
    Differ(r, fmt::format("{}:{}: pass at {}: the server started {} and preempted {}; the replay started {} and "
                          "preempted {}",
                          source_, e.line, e.time, list(want_started), list(want_stopped), list(started),
                          list(stopped)));
  }
  return Status::Ok();
}

Status Replayer::Started(const ExportedEvent& e, ReplayReport* r) {
  auto it = jobs_.find(e.job);
  if (it == jobs_.end()) return Bad(source_, e.line, "job", "started before it was submitted");
  Job& j = it->second;
  // The server's placement, in rank order.
  std::vector<GangPart> server;
  std::string nodes;
  for (const json& p : e.data.value("placement", json::array())) {
    const int32_t n = NodeOf(e, p.value("node", std::string()));
    if (n < 0) return Bad(source_, e.line, "data.placement", "a node the fleet does not have");
    const int32_t units = static_cast<int32_t>(p.value("gpus", json::array()).size());
    server.push_back(GangPart{n, units});
    nodes += fmt::format("{}{}:{}", nodes.empty() ? "" : "|", names_[static_cast<size_t>(n)], units);
  }
  r->placements_csv += fmt::format("{},{},{},{},{}\n", e.seq, e.time, e.job, e.data.value("attempt", 0), nodes);
  auto p = placed_.find(e.job);
  if (p == placed_.end()) {
    ++r->mismatches;
    Differ(r, fmt::format("{}:{}: job {} started on the server but not in the replay's pass", source_, e.line, e.job));
    j.running = true;
    j.start = e.time;
    j.parts = server;
    return Status::Ok();
  }
  auto same = [](const std::vector<GangPart>& a, const std::vector<GangPart>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].node != b[i].node || a[i].units != b[i].units) return false;
    }
    return true;
  };
  if (!same(p->second, server)) {
    ++r->mismatches;
    std::string replay;
    for (const GangPart& g : p->second) {
      replay += fmt::format("{}{}:{}", replay.empty() ? "" : "|", names_[static_cast<size_t>(g.node)], g.units);
    }
    Differ(r, fmt::format("{}:{}: job {} placed on {} by the server, on {} by the replay", source_, e.line, e.job,
                          nodes, replay));
  }
  return Status::Ok();
}

Status Replayer::Apply(const ExportedEvent& e, ReplayReport* r) {
  const std::string& t = e.type;
  if (t == "server.started") {
    if (Result<FleetQueuePolicy> p = ParseFleetQueuePolicy(e.data.value("policy", std::string()), source_); p.ok()) {
      policy_ = *p;
    }
    if (Result<PowerPolicy> p = ParsePowerPolicy(e.data.value("power", std::string()), source_); p.ok()) power_ = *p;
    r->policy = FleetQueuePolicyName(policy_);
    r->power = PowerPolicyName(power_);
    if (started_once_) ++r->restarts;
    started_once_ = true;
    if (Status st = Build(e.time); !st) {
      return Bad(source_, e.line, "server.started", "rebuilding the core as the server did: " + st.error().ToString());
    }
    return Status::Ok();
  }
  if (!core_) return Bad(source_, e.line, "type", "the export must start at seq 1 (a server.started event comes first)");
  if (t == "tenant.set") {
    TenantPut put;
    put.weight = e.data.value("weight", 1.0);
    put.nominal_gpus = e.data.value("nominal_gpus", int64_t{-1});
    put.cohort = e.data.value("cohort", std::string());
    put.borrowing_limit_gpus = e.data.value("borrowing_limit_gpus", int64_t{-1});
    const bool fresh = !tenants_.count(e.tenant);
    tenants_[e.tenant] = put;
    dir_.Resolve(e.tenant);
    if (fresh) {
      for (const auto& [name, p] : tenants_) {
        const TenantId id = dir_.Resolve(name);
        core_->SetTenant(id, CoreTenantOf(p, id, dir_, &cohorts_));
      }
    } else {
      const TenantId id = dir_.Resolve(e.tenant);
      core_->SetTenant(id, CoreTenantOf(put, id, dir_, &cohorts_));
    }
  } else if (t == "tenant.removed") {
    (void)core_->RemoveTenant(dir_.Resolve(e.tenant));
    tenants_.erase(e.tenant);
  } else if (t == "dedicated.set") {
    const int64_t id = e.data.value("id", int64_t{0});
    Decoded<DedicatedPost> spec = DecodeDedicatedPost(e.data.value("spec", json::object()).dump());
    if (!spec.ok()) return Bad(source_, e.line, "data.spec." + spec.error.field, spec.error.message);
    auto it = dedicated_.find(id);
    if (it == dedicated_.end()) {
      Dedicated d;
      d.spec = *spec.value;
      d.domains = e.data.value("domains", std::vector<int32_t>{});
      DedicatedCluster c;
      c.tenant = dir_.Resolve(d.spec.tenant);
      c.domains = d.domains;
      c.start = d.spec.start;
      c.end = d.spec.end;
      c.lend = d.spec.lend;
      auto k = core_->AddDedicated(c);
      if (!k.ok()) return Bad(source_, e.line, "data.domains", k.error().message);
      d.core = *k;
      dedicated_[id] = std::move(d);
    } else {
      it->second.spec.start = spec.value->start;
      it->second.spec.end = spec.value->end;
      (void)core_->SetDedicatedWindow(it->second.core, spec.value->start, spec.value->end);
    }
  } else if (t == "dedicated.removed") {
    auto it = dedicated_.find(e.data.value("id", int64_t{0}));
    if (it != dedicated_.end()) {
      (void)core_->RemoveDedicated(it->second.core);
      dedicated_.erase(it);
    }
  } else if (t == "job.submitted") {
    Decoded<JobSubmit> spec = DecodeJobSubmit(e.data.value("spec", json::object()).dump());
    if (!spec.ok()) return Bad(source_, e.line, "data.spec." + spec.error.field, spec.error.message);
    Job& j = jobs_[e.job];
    j.spec = std::move(*spec.value);
    j.tid = dir_.Resolve(j.spec.tenant);
    j.submit = e.time;
    j.ref = core_->AddJob(CoreJobOf(fleet_, j.spec, e.job, j.tid, e.time));
    ref_job_[j.ref] = e.job;
    core_->Submit(j.ref, e.time);
  } else if (t == "pass") {
    return Pass(e, r);
  } else if (t == "job.started") {
    return Started(e, r);
  } else if (t == "job.succeeded" || t == "job.failed" || t == "job.cancelled") {
    auto it = jobs_.find(e.job);
    if (it == jobs_.end()) return Bad(source_, e.line, "job", "ended before it was submitted");
    Job& j = it->second;
    if (j.ref != kNone) {
      if (core_->running(j.ref)) core_->Finish(j.ref, e.time);
      (void)core_->RemoveJob(j.ref);
      ref_job_.erase(j.ref);
      j.ref = kNone;
    }
    j.running = false;
    j.terminal = true;
    j.parts.clear();
  } else if (t == "job.requeued") {
    auto it = jobs_.find(e.job);
    if (it == jobs_.end()) return Bad(source_, e.line, "job", "requeued before it was submitted");
    if (it->second.ref != kNone && core_->running(it->second.ref)) core_->Interrupt(it->second.ref, e.time);
    it->second.running = false;
    it->second.parts.clear();
  } else if (t == "node.up" || t == "node.resumed") {
    const int32_t n = NodeOf(e, e.node);
    if (n < 0) return Bad(source_, e.line, "node", "not a node of the fleet");
    nodes_[static_cast<size_t>(n)].state = Node::kUp;
    core_->SetNodeDown(n, false);
  } else if (t == "node.lost" || t == "node.drained") {
    const int32_t n = NodeOf(e, e.node);
    if (n < 0) return Bad(source_, e.line, "node", "not a node of the fleet");
    nodes_[static_cast<size_t>(n)].state = t == "node.lost" ? Node::kLost : Node::kDrained;
    core_->SetNodeDown(n, true);
  } else if (t == "node.draining") {
    const int32_t n = NodeOf(e, e.node);
    if (n < 0) return Bad(source_, e.line, "node", "not a node of the fleet");
    nodes_[static_cast<size_t>(n)].state = Node::kDraining;
  } else if (t == "node.hold") {
    const int32_t n = NodeOf(e, e.node);
    if (n < 0) return Bad(source_, e.line, "node", "not a node of the fleet");
    DropHold(n, e.time);
    const int32_t gpus = e.data.value("gpus", 0);
    if (gpus > 0) {
      Node& node = nodes_[static_cast<size_t>(n)];
      node.hold = core_->AddJob(HoldJobOf(hold_tenant_, gpus, e.time));
      Placement where;
      where.parts.push_back(GangPart{n, gpus});
      if (Status st = core_->Restore(node.hold, where, e.time); !st) {
        Differ(r, fmt::format("{}:{}: the hold of {} GPUs on {} does not fit in the replay: {}", source_, e.line, gpus,
                              e.node, st.error().message));
        ++r->mismatches;
        (void)core_->RemoveJob(node.hold);
        node.hold = kNone;
      }
    }
  }
  // Other events (tokens, registrations, task dispatches, job.running,
  // job.preempted, which its pass already did) do not touch the core.
  return Status::Ok();
}

}  // namespace

Result<ReplayReport> ReplayOnCore(const Fleet& fleet, const std::vector<ExportedEvent>& events,
                                  const std::string& source) {
  ReplayReport r;
  if (events.empty()) return r;
  if (events.front().seq != 1) {
    return Bad(source, events.front().line, "seq",
               fmt::format("the export starts at seq {}: a replay needs the whole stream (rackscale job export "
                           "--since 0)",
                           events.front().seq));
  }
  Replayer rep(fleet, source);
  for (const ExportedEvent& e : events) {
    if (Status st = rep.Apply(e, &r); !st) return st.error();
  }
  return r;
}

}  // namespace rackscale::ctl
