#include "ctl/control.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace rackscale::ctl {
namespace {

using json = nlohmann::json;
constexpr uint32_t kNoRef = UINT32_MAX;

ApiError NotFound(std::string what) { return ApiError{404, "not_found", std::move(what), ""}; }
ApiError Forbidden(std::string what) { return ApiError{403, "permission_denied", std::move(what), ""}; }
ApiError Conflict(std::string what, std::string field = "") {
  return ApiError{409, "conflict", std::move(what), std::move(field)};
}
ApiError Unauthenticated() { return ApiError{401, "unauthenticated", "a valid bearer token is required", ""}; }

bool IsAdmin(const Principal& p) { return p.role == Role::kAdmin; }

const char* PhaseName(TaskPhase p) {
  switch (p) {
    case TaskPhase::kWaiting: return "waiting";
    case TaskPhase::kDispatched: return "dispatched";
    case TaskPhase::kRunning: return "running";
    case TaskPhase::kExited: return "exited";
  }
  return "waiting";
}

bool ParsePhase(std::string_view s, TaskPhase* out) {
  for (TaskPhase p : {TaskPhase::kWaiting, TaskPhase::kDispatched, TaskPhase::kRunning, TaskPhase::kExited}) {
    if (s == PhaseName(p)) {
      *out = p;
      return true;
    }
  }
  return false;
}

TopologyScope ScopeOf(const std::string& s) {
  TopologyScope t = TopologyScope::kAny;
  ParseTopologyScope(s, &t);
  return t;
}

}  // namespace

const char* JobStateName(JobState s) {
  switch (s) {
    case JobState::kPending: return "pending";
    case JobState::kRunning: return "running";
    case JobState::kSucceeded: return "succeeded";
    case JobState::kFailed: return "failed";
    case JobState::kCancelled: return "cancelled";
  }
  return "pending";
}

bool ParseJobState(std::string_view s, JobState* out) {
  for (JobState j : {JobState::kPending, JobState::kRunning, JobState::kSucceeded, JobState::kFailed,
                     JobState::kCancelled}) {
    if (s == JobStateName(j)) {
      *out = j;
      return true;
    }
  }
  return false;
}

const char* NodeStateName(NodeState s) {
  switch (s) {
    case NodeState::kUnknown: return "unknown";
    case NodeState::kUp: return "up";
    case NodeState::kDraining: return "draining";
    case NodeState::kDrained: return "drained";
    case NodeState::kLost: return "lost";
  }
  return "unknown";
}

Control::Control(const Fleet& fleet, const ControlOptions& opts) : fleet_(fleet), opts_(opts) {}

Result<std::unique_ptr<Control>> Control::Create(const Fleet& fleet, const ControlOptions& opts,
                                                 const Snapshot& snap, const TenantsConfig* tenants_seed,
                                                 int64_t now_ms) {
  std::unique_ptr<Control> c(new Control(fleet, opts));
  FleetSchedulerOptions so;
  so.policy = opts.policy;
  so.power = opts.power;
  auto core = FleetScheduler::Create(fleet, so);
  if (!core.ok()) return core.error();
  c->core_ = std::move(*core);
  c->hold_tenant_ = c->dir_.Resolve(kHoldTenant);
  c->core_->SetTenant(c->hold_tenant_, TenantSettings{});
  // Node names: SITE-dDDDD-nNN (the domain's index within its site, the
  // node's within its domain). Every node starts down: it takes work once
  // its agent registers it.
  c->nodes_.resize(fleet.nodes.size());
  std::vector<std::string> names = NodeNames(fleet);
  for (size_t n = 0; n < fleet.nodes.size(); ++n) {
    NodeRec& rec = c->nodes_[n];
    rec.name = std::move(names[n]);
    const int32_t gpus = fleet.node_type(static_cast<int32_t>(n)).gpus;
    rec.occupied.assign(static_cast<size_t>(gpus), 0);
    rec.assigned.assign(static_cast<size_t>(gpus), 0);
    c->node_index_.emplace(rec.name, static_cast<int32_t>(n));
    c->core_->SetNodeDown(static_cast<int32_t>(n), true);
  }
  if (Status st = c->LoadSnapshot(snap, now_ms); !st) return st.error();
  if (tenants_seed != nullptr && c->tenants_.empty()) {
    if (Status st = c->SeedTenants(*tenants_seed, now_ms / 1000); !st) return st.error();
  }
  return c;
}

int32_t Control::FindNode(std::string_view name) const {
  auto it = node_index_.find(std::string(name));
  return it == node_index_.end() ? -1 : it->second;
}

const JobRec* Control::job(int64_t id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------------------
// Rows and events.

LiveEvent& Control::Emit(int64_t now, std::string type, int64_t job, std::string tenant, std::string node,
                         std::string data) {
  StoredEvent e;
  e.seq = ++seq_;
  e.time = now;
  e.type = std::move(type);
  e.job = job;
  e.tenant = std::move(tenant);
  e.node = std::move(node);
  e.data = data.empty() ? "{}" : std::move(data);
  batch_.events.push_back(e);
  LiveEvent le;
  le.json = EventJson(e);
  le.ev = std::move(e);
  live_.push_back(std::move(le));
  return live_.back();
}

std::string Control::EventJson(const StoredEvent& e) {
  // By concatenation: `data` is already a JSON object's text (the server
  // made it); names are escaped as JSON strings.
  std::string o = fmt::format("{{\"seq\":{},\"time\":{},\"type\":{}", e.seq, e.time, json(e.type).dump());
  if (e.job != 0) o += fmt::format(",\"job\":{}", e.job);
  if (!e.tenant.empty()) o += ",\"tenant\":" + json(e.tenant).dump();
  if (!e.node.empty()) o += ",\"node\":" + json(e.node).dump();
  o += ",\"data\":";
  o += e.data.empty() ? "{}" : e.data;
  o += '}';
  return o;
}

bool Control::Visible(const Principal& p, const StoredEvent& e) {
  if (p.role == Role::kAdmin) return true;
  if (p.role == Role::kTenant) return !e.tenant.empty() && e.tenant == p.tenant && e.job != 0;
  return false;
}

void Control::PutJobRow(const JobRec& j) {
  json tasks = json::array();
  for (const TaskRec& t : j.tasks) {
    tasks.push_back({{"node", nodes_[static_cast<size_t>(t.node)].name},
                     {"gpus", t.gpus},
                     {"phase", PhaseName(t.phase)},
                     {"exit_code", t.exit_code},
                     {"log", t.log}});
  }
  json stopping = json::array();
  for (const StoppingTask& s : j.stopping) {
    stopping.push_back({{"attempt", s.attempt},
                        {"rank", s.rank},
                        {"node", nodes_[static_cast<size_t>(s.node)].name},
                        {"gpus", s.gpus},
                        {"since", s.since}});
  }
  json row = {{"id", j.id},
              {"state", JobStateName(j.state)},
              {"attempt", j.attempt},
              {"submit_time", j.submit_time},
              {"start_time", j.start_time},
              {"end_time", j.end_time},
              {"exit_code", j.has_exit ? json(j.exit_code) : json(nullptr)},
              {"reason", j.reason},
              {"reported_running", j.reported_running},
              {"tasks", std::move(tasks)},
              {"stopping", std::move(stopping)}};
  RowChange rc;
  rc.table = Table::kJob;
  rc.key = std::to_string(j.id);
  rc.body = row.dump();
  rc.body.insert(1, "\"spec\":" + j.spec_json + ",");
  rc.tenant = j.spec.tenant;
  rc.state = JobStateName(j.state);
  rc.request_id = j.spec.request_id;
  // One put per job per batch: a later change replaces the earlier one.
  auto [it, fresh] = job_row_index_.emplace(rc.key, batch_.rows.size());
  if (fresh) {
    batch_.rows.push_back(std::move(rc));
  } else {
    batch_.rows[it->second] = std::move(rc);
  }
}

void Control::PutNodeRow(const NodeRec& n) {
  RowChange rc;
  rc.table = Table::kNode;
  rc.key = n.name;
  rc.body = json{{"name", n.name}, {"state", NodeStateName(n.state)}, {"agent", n.agent}, {"addr", n.addr},
                 {"reason", n.reason}}
                .dump();
  batch_.rows.push_back(std::move(rc));
}

void Control::PutTenantRow(const TenantRec& t) {
  RowChange rc;
  rc.table = Table::kTenant;
  rc.key = t.name;
  rc.body = json{{"name", t.name},
                 {"weight", t.settings.weight},
                 {"nominal_gpus", t.settings.nominal_gpus},
                 {"cohort", t.settings.cohort},
                 {"borrowing_limit_gpus", t.settings.borrowing_limit_gpus}}
                .dump();
  batch_.rows.push_back(std::move(rc));
}

void Control::PutTokenRow(const TokenRec& t, bool erase) {
  RowChange rc;
  rc.table = Table::kToken;
  rc.key = std::to_string(t.id);
  rc.erase = erase;
  if (!erase) {
    rc.body = json{{"id", t.id}, {"hash", t.hash}, {"role", RoleName(t.role)}, {"tenant", t.tenant},
                   {"agent", t.agent}, {"created", t.created}}
                  .dump();
  }
  batch_.rows.push_back(std::move(rc));
}

Batch Control::TakeBatch(std::vector<LiveEvent>* live) {
  Batch b = std::move(batch_);
  batch_ = Batch{};
  job_row_index_.clear();
  if (live != nullptr) {
    *live = std::move(live_);
  }
  live_.clear();
  return b;
}

// ---------------------------------------------------------------------------
// Loading.

Status Control::LoadSnapshot(const Snapshot& snap, int64_t now_ms) {
  auto bad = [](const std::string& table, const std::string& key, const std::string& why) {
    return Error{ErrorKind::kInternal, "store", 0, table + "/" + key, why};
  };
  seq_ = snap.last_seq;
  for (const StoredRow& r : snap.tenants) {
    json o = json::parse(r.body, nullptr, false);
    if (o.is_discarded() || !o.is_object()) return bad("tenants", r.key, "not a JSON object");
    TenantRec t;
    t.name = r.key;
    t.settings.weight = o.value("weight", 1.0);
    t.settings.nominal_gpus = o.value("nominal_gpus", int64_t{-1});
    t.settings.cohort = o.value("cohort", std::string());
    t.settings.borrowing_limit_gpus = o.value("borrowing_limit_gpus", int64_t{-1});
    t.id = dir_.Resolve(t.name);
    tenants_[t.name] = t;
  }
  for (auto& [name, t] : tenants_) ApplyTenantSettings(t);
  for (const StoredRow& r : snap.tokens) {
    json o = json::parse(r.body, nullptr, false);
    if (o.is_discarded() || !o.is_object()) return bad("tokens", r.key, "not a JSON object");
    TokenRec t;
    t.id = o.value("id", int64_t{0});
    t.hash = o.value("hash", std::string());
    ParseRole(o.value("role", std::string()), &t.role);
    t.tenant = o.value("tenant", std::string());
    t.agent = o.value("agent", std::string());
    t.created = o.value("created", int64_t{0});
    token_by_hash_[t.hash] = t.id;
    next_token_ = std::max(next_token_, t.id + 1);
    tokens_[t.id] = std::move(t);
  }
  // Dedicated clusters before any job is restored into them (windows
  // applied as of now).
  for (const StoredRow& r : snap.dedicated) {
    json o = json::parse(r.body, nullptr, false);
    if (o.is_discarded() || !o.is_object() || !o.contains("spec")) return bad("dedicated", r.key, "not a row");
    Decoded<DedicatedPost> spec = DecodeDedicatedPost(o["spec"].dump());
    if (!spec.ok()) return bad("dedicated", r.key, spec.error.message);
    DedicatedRec d;
    d.id = o.value("id", int64_t{0});
    d.spec = *spec.value;
    d.domains = o.value("domains", std::vector<int32_t>{});
    DedicatedCluster c;
    c.tenant = TenantIdOf(d.spec.tenant);
    c.domains = d.domains;
    c.start = d.spec.start;
    c.end = d.spec.end;
    c.lend = d.spec.lend;
    auto k = core_->AddDedicated(c);
    if (!k.ok()) return bad("dedicated", r.key, k.error().ToString());
    d.core = *k;
    next_dedicated_ = std::max(next_dedicated_, d.id + 1);
    dedicated_[d.id] = std::move(d);
  }
  {
    std::vector<WindowChange> changed;
    core_->ApplyWindows(now_ms / 1000, &changed);
  }
  for (const StoredRow& r : snap.nodes) {
    const int32_t n = FindNode(r.key);
    if (n < 0) return bad("nodes", r.key, "the fleet file has no node of that name (was it changed?)");
    json o = json::parse(r.body, nullptr, false);
    if (o.is_discarded() || !o.is_object()) return bad("nodes", r.key, "not a JSON object");
    NodeRec& rec = nodes_[static_cast<size_t>(n)];
    const std::string st = o.value("state", std::string("unknown"));
    for (NodeState s : {NodeState::kUnknown, NodeState::kUp, NodeState::kDraining, NodeState::kDrained,
                        NodeState::kLost}) {
      if (st == NodeStateName(s)) rec.state = s;
    }
    rec.agent = o.value("agent", std::string());
    rec.addr = o.value("addr", std::string());
    rec.reason = o.value("reason", std::string());
    Heard(rec, now_ms);  // a restart is not the agent's silence
    if (rec.state == NodeState::kUp || rec.state == NodeState::kDraining) core_->SetNodeDown(n, false);
  }
  // Jobs in id (= submission) order, so the core's queues keep their order.
  std::vector<int64_t> pending;
  for (const StoredRow& r : snap.jobs) {
    json o = json::parse(r.body, nullptr, false);
    if (o.is_discarded() || !o.is_object() || !o.contains("spec")) return bad("jobs", r.key, "not a job row");
    JobRec j;
    j.id = o.value("id", int64_t{0});
    Decoded<JobSubmit> spec = DecodeJobSubmit(o["spec"].dump());
    if (!spec.ok()) return bad("jobs", r.key, "spec: " + spec.error.message + " (" + spec.error.field + ")");
    j.spec = std::move(*spec.value);
    j.spec_json = EncodeJobSubmit(j.spec);
    if (!ParseJobState(o.value("state", std::string()), &j.state)) return bad("jobs", r.key, "bad state");
    j.attempt = o.value("attempt", 0);
    j.submit_time = o.value("submit_time", int64_t{0});
    j.start_time = o.value("start_time", int64_t{0});
    j.end_time = o.value("end_time", int64_t{0});
    if (o.contains("exit_code") && o["exit_code"].is_number_integer()) {
      j.has_exit = true;
      j.exit_code = o["exit_code"].get<int32_t>();
    }
    j.reason = o.value("reason", std::string());
    j.reported_running = o.value("reported_running", false);
    for (const json& t : o.value("tasks", json::array())) {
      TaskRec tr;
      tr.node = FindNode(t.value("node", std::string()));
      if (tr.node < 0) return bad("jobs", r.key, "a task's node is not in the fleet");
      tr.gpus = t.value("gpus", std::vector<int32_t>{});
      ParsePhase(t.value("phase", std::string()), &tr.phase);
      tr.exit_code = t.value("exit_code", 0);
      tr.log = t.value("log", std::string());
      j.tasks.push_back(std::move(tr));
    }
    for (const json& t : o.value("stopping", json::array())) {
      StoppingTask s;
      s.attempt = t.value("attempt", 0);
      s.rank = t.value("rank", 0);
      s.node = FindNode(t.value("node", std::string()));
      if (s.node < 0) return bad("jobs", r.key, "a stopping task's node is not in the fleet");
      s.gpus = t.value("gpus", std::vector<int32_t>{});
      s.since = t.value("since", int64_t{0});
      j.stopping.push_back(std::move(s));
    }
    // GPU indices from the row index per-node tables: check them first.
    auto gpus_fit = [&](int32_t node, const std::vector<int32_t>& gpus) {
      const size_t n = nodes_[static_cast<size_t>(node)].occupied.size();
      return std::all_of(gpus.begin(), gpus.end(), [&](int32_t g) { return g >= 0 && static_cast<size_t>(g) < n; });
    };
    for (const TaskRec& t : j.tasks) {
      if (!gpus_fit(t.node, t.gpus)) return bad("jobs", r.key, "a task's GPU index is not on its node");
    }
    for (const StoppingTask& st : j.stopping) {
      if (!gpus_fit(st.node, st.gpus)) return bad("jobs", r.key, "a stopping task's GPU index is not on its node");
    }
    if (j.id < 1) return bad("jobs", r.key, "bad id");
    j.tid = TenantIdOf(j.spec.tenant);
    next_job_ = std::max(next_job_, j.id + 1);
    if (!j.spec.request_id.empty()) request_ids_[{j.spec.tenant, j.spec.request_id}] = j.id;
    // GPU occupancy and assignment follow from the tasks.
    for (const StoppingTask& s : j.stopping) {
      NodeRec& n = nodes_[static_cast<size_t>(s.node)];
      for (int32_t g : s.gpus) n.occupied[static_cast<size_t>(g)] = j.id;
    }
    const int64_t id = j.id;
    if (!j.terminal()) {
      j.ref = core_->AddJob(CoreJob(j, j.submit_time));
      ref_job_[j.ref] = id;
      active_.insert(id);
      if (j.state == JobState::kRunning) {
        Placement where;
        for (size_t rank = 0; rank < j.tasks.size(); ++rank) {
          TaskRec& t = j.tasks[rank];
          NodeRec& n = nodes_[static_cast<size_t>(t.node)];
          for (int32_t g : t.gpus) {
            n.assigned[static_cast<size_t>(g)] = id;
            if (t.phase != TaskPhase::kWaiting) n.occupied[static_cast<size_t>(g)] = id;
          }
          if (t.phase == TaskPhase::kWaiting) n.waiting.insert({id, static_cast<int32_t>(rank)});
          where.parts.push_back(GangPart{t.node, static_cast<int32_t>(t.gpus.size())});
        }
        if (j.spec.gpus == 0 && !where.parts.empty()) where.parts[0].units = j.spec.cpus;
        if (Status st = core_->Restore(j.ref, where, j.start_time); !st) {
          return bad("jobs", r.key, "the core refused its placement: " + st.error().ToString());
        }
        deadlines_.insert({j.start_time + j.spec.time_limit_s, id});
      } else {
        pending.push_back(id);
      }
    }
    jobs_.emplace(id, std::move(j));
  }
  Seconds t = 0;
  for (int64_t id : pending) {
    JobRec& j = jobs_[id];
    t = std::max<Seconds>(t, j.submit_time);
    core_->Submit(j.ref, t);
  }
  // The core was rebuilt here: a replay of the event stream rebuilds its
  // own the same way at this event (ctl/replay.h).
  Emit(now_ms / 1000, "server.started", 0, "", "",
       json{{"policy", FleetQueuePolicyName(opts_.policy)}, {"power", PowerPolicyName(opts_.power)}}.dump());
  for (size_t n = 0; n < nodes_.size(); ++n) {
    if (nodes_[n].state == NodeState::kDraining) UpdateHold(static_cast<int32_t>(n), now_ms / 1000);
  }
  dirty_ = true;
  return Status::Ok();
}

Status Control::SeedTenants(const TenantsConfig& cfg, int64_t now) {
  for (const TenantSpec& s : cfg.tenants) {
    TenantPut t;
    t.weight = s.weight;
    t.nominal_gpus = s.nominal_gpus;
    t.cohort = s.cohort;
    t.borrowing_limit_gpus = s.borrowing_limit;
    Principal admin{Role::kAdmin, "", "", 0};
    Reply r = PutTenant(admin, s.name, t, now);
    if (r.status >= 300) return Error::InvalidInput("tenants", 0, "tenants[" + s.name + "]", r.body);
  }
  // Dedicated clusters: their days count from the store's first start.
  for (const DedicatedSpec& d : cfg.dedicated) {
    DedicatedPost post;
    post.tenant = d.tenant;
    post.domain_type = d.domain_type;
    post.site = d.site;
    post.domains = d.domains;
    post.start = now + static_cast<int64_t>(std::llround(d.start_day * 86400));
    post.end = now + static_cast<int64_t>(std::llround(d.end_day * 86400));
    post.lend = d.lend;
    Principal admin{Role::kAdmin, "", "", 0};
    Reply r = CreateDedicated(admin, post, now);
    if (r.status >= 300) return Error::InvalidInput("tenants", d.line, "dedicated", r.body);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Tenants and tokens.

TenantId Control::TenantIdOf(const std::string& name) { return dir_.Resolve(name); }

void Control::ApplyTenantSettings(const TenantRec& t) {
  core_->SetTenant(t.id, CoreTenantOf(t.settings, t.id, dir_, &cohorts_));
}

Principal Control::Authenticate(std::string_view token) const {
  Principal p;
  if (!WellFormedToken(token)) return p;
  const std::string h = HashToken(token);
  auto it = token_by_hash_.find(h);
  if (it == token_by_hash_.end()) return p;
  const TokenRec& t = tokens_.at(it->second);
  if (!ConstantTimeEqual(t.hash, h)) return p;
  p.role = t.role;
  p.tenant = t.tenant;
  p.agent = t.agent;
  p.token_id = t.id;
  return p;
}

std::string Control::BootstrapAdmin(int64_t now) {
  for (const auto& [id, t] : tokens_) {
    if (t.role == Role::kAdmin) return "";
  }
  Result<std::string> secret = NewToken(Role::kAdmin);
  if (!secret.ok()) return "";
  TokenRec t;
  t.id = next_token_++;
  t.hash = HashToken(*secret);
  t.role = Role::kAdmin;
  t.created = now;
  token_by_hash_[t.hash] = t.id;
  PutTokenRow(t, false);
  Emit(now, "token.created", 0, "", "", json{{"id", t.id}, {"role", "admin"}}.dump());
  tokens_[t.id] = t;
  return *secret;
}

Reply Control::CreateToken(const Principal& p, const TokenPost& post, int64_t now) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (!IsAdmin(p)) return Reply::Err(Forbidden("only an admin creates tokens"));
  TokenRec t;
  if (!ParseRole(post.role, &t.role)) return Reply::Err(ApiError::Invalid("role", "admin, tenant or agent"));
  if (t.role == Role::kTenant && !tenants_.count(post.tenant)) {
    return Reply::Err(ApiError{404, "not_found", "no tenant '" + post.tenant + "'", "tenant"});
  }
  Result<std::string> secret = NewToken(t.role);
  if (!secret.ok()) return Reply::Err(ApiError{503, "unavailable", secret.error().message, ""});
  t.id = next_token_++;
  t.hash = HashToken(*secret);
  t.tenant = post.tenant;
  t.agent = post.agent;
  t.created = now;
  token_by_hash_[t.hash] = t.id;
  PutTokenRow(t, false);
  Emit(now, "token.created", 0, "", "",
       json{{"id", t.id}, {"role", RoleName(t.role)}, {"tenant", t.tenant}, {"agent", t.agent}}.dump());
  tokens_[t.id] = t;
  return Reply::Json(201, json{{"id", t.id}, {"role", RoleName(t.role)}, {"token", *secret}}.dump());
}

Reply Control::ListTokens(const Principal& p) const {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (!IsAdmin(p)) return Reply::Err(Forbidden("only an admin lists tokens"));
  json out = json::array();
  for (const auto& [id, t] : tokens_) {
    out.push_back({{"id", id}, {"role", RoleName(t.role)}, {"tenant", t.tenant}, {"agent", t.agent},
                   {"created", t.created}});
  }
  return Reply::Json(200, json{{"tokens", out}}.dump());
}

Reply Control::RevokeToken(const Principal& p, int64_t id, int64_t now) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (!IsAdmin(p)) return Reply::Err(Forbidden("only an admin revokes tokens"));
  auto it = tokens_.find(id);
  if (it == tokens_.end()) return Reply::Err(NotFound(fmt::format("no token {}", id)));
  if (it->second.role == Role::kAdmin) {
    int admins = 0;
    for (const auto& [k, t] : tokens_) admins += t.role == Role::kAdmin;
    if (admins == 1) return Reply::Err(Conflict("the last admin token cannot be revoked"));
  }
  PutTokenRow(it->second, true);
  Emit(now, "token.revoked", 0, "", "", json{{"id", id}}.dump());
  token_by_hash_.erase(it->second.hash);
  tokens_.erase(it);
  return Reply::Json(200, json{{"id", id}, {"revoked", true}}.dump());
}

Reply Control::ListTenants(const Principal& p) const {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (p.role == Role::kAgent) return Reply::Err(Forbidden("agents have no tenants"));
  json out = json::array();
  for (const auto& [name, t] : tenants_) {
    if (!IsAdmin(p) && !(p.role == Role::kTenant && p.tenant == name)) continue;
    out.push_back({{"name", name},
                   {"weight", t.settings.weight},
                   {"nominal_gpus", t.settings.nominal_gpus},
                   {"cohort", t.settings.cohort},
                   {"borrowing_limit_gpus", t.settings.borrowing_limit_gpus},
                   {"gpus_in_use", core_->used_gpus(t.id)}});
  }
  return Reply::Json(200, json{{"tenants", out}}.dump());
}

Reply Control::GetTenant(const Principal& p, const std::string& name) const {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  auto it = tenants_.find(name);
  if (it == tenants_.end() || !(IsAdmin(p) || (p.role == Role::kTenant && p.tenant == name))) {
    return Reply::Err(NotFound("no tenant '" + name + "'"));
  }
  const TenantRec& t = it->second;
  return Reply::Json(200, json{{"name", name},
                               {"weight", t.settings.weight},
                               {"nominal_gpus", t.settings.nominal_gpus},
                               {"cohort", t.settings.cohort},
                               {"borrowing_limit_gpus", t.settings.borrowing_limit_gpus},
                               {"gpus_in_use", core_->used_gpus(t.id)}}
                              .dump());
}

Reply Control::PutTenant(const Principal& p, const std::string& name, const TenantPut& put, int64_t now) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (!IsAdmin(p)) return Reply::Err(Forbidden("only an admin changes tenants"));
  if (name.empty() || name[0] == '_') return Reply::Err(ApiError::Invalid("name", "a tenant name"));
  const bool fresh = !tenants_.count(name);
  TenantRec& t = tenants_[name];
  t.name = name;
  t.settings = put;
  t.id = dir_.Resolve(name);
  if (fresh) {
    // Ranks follow names: a new name moves others' ranks.
    for (auto& [n, other] : tenants_) ApplyTenantSettings(other);
  } else {
    ApplyTenantSettings(t);
  }
  PutTenantRow(t);
  Emit(now, "tenant.set", 0, name, "",
       json{{"weight", put.weight}, {"nominal_gpus", put.nominal_gpus}, {"cohort", put.cohort},
            {"borrowing_limit_gpus", put.borrowing_limit_gpus}}
           .dump());
  dirty_ = true;
  return Reply::Json(fresh ? 201 : 200, json{{"name", name}, {"weight", put.weight},
                                             {"nominal_gpus", put.nominal_gpus}, {"cohort", put.cohort},
                                             {"borrowing_limit_gpus", put.borrowing_limit_gpus}}
                                            .dump());
}

Reply Control::DeleteTenant(const Principal& p, const std::string& name, int64_t now) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (!IsAdmin(p)) return Reply::Err(Forbidden("only an admin removes tenants"));
  auto it = tenants_.find(name);
  if (it == tenants_.end()) return Reply::Err(NotFound("no tenant '" + name + "'"));
  for (int64_t id : active_) {
    if (jobs_.at(id).spec.tenant == name) return Reply::Err(Conflict("tenant '" + name + "' has jobs pending or running"));
  }
  for (const auto& [id, d] : dedicated_) {
    if (d.spec.tenant == name) return Reply::Err(Conflict(fmt::format("tenant '{}' holds dedicated cluster {}", name, id)));
  }
  if (Status st = core_->RemoveTenant(it->second.id); !st) return Reply::Err(Conflict(st.error().message));
  // Its tokens go with it.
  for (auto t = tokens_.begin(); t != tokens_.end();) {
    if (t->second.role == Role::kTenant && t->second.tenant == name) {
      PutTokenRow(t->second, true);
      Emit(now, "token.revoked", 0, "", "", json{{"id", t->first}}.dump());
      token_by_hash_.erase(t->second.hash);
      t = tokens_.erase(t);
    } else {
      ++t;
    }
  }
  RowChange rc;
  rc.table = Table::kTenant;
  rc.key = name;
  rc.erase = true;
  batch_.rows.push_back(std::move(rc));
  Emit(now, "tenant.removed", 0, name, "", "{}");
  tenants_.erase(it);
  return Reply::Json(200, json{{"name", name}, {"removed", true}}.dump());
}

// ---------------------------------------------------------------------------
// Dedicated clusters.

void Control::PutDedicatedRow(const DedicatedRec& d, bool erase) {
  RowChange rc;
  rc.table = Table::kDedicated;
  rc.key = std::to_string(d.id);
  rc.erase = erase;
  if (!erase) {
    rc.body = json{{"id", d.id}, {"spec", json::parse(EncodeDedicatedPost(d.spec))}, {"domains", d.domains}}.dump();
  }
  batch_.rows.push_back(std::move(rc));
}

std::string Control::DedicatedJson(const DedicatedRec& d) const {
  json doms = json::array();
  for (int32_t dom : d.domains) {
    const Domain& D = fleet_.domains[static_cast<size_t>(dom)];
    doms.push_back(nodes_[static_cast<size_t>(D.first_node)].name);
  }
  json o = json::parse(EncodeDedicatedPost(d.spec));
  o["id"] = d.id;
  o["active"] = core_->dedicated_active(d.core);
  o["first_nodes"] = std::move(doms);
  return o.dump();
}

Reply Control::ListDedicated(const Principal& p) const {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (p.role == Role::kAgent) return Reply::Err(Forbidden("agents have no dedicated clusters"));
  std::string out = "{\"dedicated\":[";
  bool first = true;
  for (const auto& [id, d] : dedicated_) {
    if (!IsAdmin(p) && d.spec.tenant != p.tenant) continue;
    if (!first) out += ',';
    first = false;
    out += DedicatedJson(d);
  }
  out += "]}";
  return Reply::Json(200, std::move(out));
}

Reply Control::CreateDedicated(const Principal& p, const DedicatedPost& post, int64_t now) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (!IsAdmin(p)) return Reply::Err(Forbidden("only an admin creates dedicated clusters"));
  if (!tenants_.count(post.tenant)) {
    return Reply::Err(ApiError{404, "not_found", "no tenant '" + post.tenant + "'", "tenant"});
  }
  // The first free domains of the type (in the site, if named), in fleet
  // order: not in another cluster, not a spare.
  std::vector<bool> taken(fleet_.domains.size(), false);
  for (const auto& [id, d] : dedicated_) {
    for (int32_t dom : d.domains) taken[static_cast<size_t>(dom)] = true;
  }
  DedicatedRec d;
  for (size_t i = 0; i < fleet_.domains.size() && static_cast<int64_t>(d.domains.size()) < post.domains; ++i) {
    const Domain& dom = fleet_.domains[i];
    if (taken[i] || dom.spare) continue;
    if (fleet_.domain_types[static_cast<size_t>(dom.type)].name != post.domain_type) continue;
    if (!post.site.empty() &&
        fleet_.sites[static_cast<size_t>(fleet_.site_of_domain(static_cast<int32_t>(i)))].name != post.site) {
      continue;
    }
    d.domains.push_back(static_cast<int32_t>(i));
  }
  if (static_cast<int64_t>(d.domains.size()) < post.domains) {
    return Reply::Err(Conflict(fmt::format("the fleet has {} free {} domains{}; {} asked for", d.domains.size(),
                                           post.domain_type, post.site.empty() ? "" : " in " + post.site, post.domains),
                               "domains"));
  }
  DedicatedCluster c;
  c.tenant = TenantIdOf(post.tenant);
  c.domains = d.domains;
  c.start = post.start;
  c.end = post.end;
  c.lend = post.lend;
  auto k = core_->AddDedicated(c);
  if (!k.ok()) return Reply::Err(Conflict(k.error().message));
  d.id = next_dedicated_++;
  d.spec = post;
  d.core = *k;
  PutDedicatedRow(d, false);
  Emit(now, "dedicated.set", 0, post.tenant, "", json{{"id", d.id}, {"spec", json::parse(EncodeDedicatedPost(post))},
                                                       {"domains", d.domains}}.dump());
  dirty_ = true;
  auto [it, ok] = dedicated_.emplace(d.id, std::move(d));
  return Reply::Json(201, DedicatedJson(it->second));
}

Reply Control::SetDedicatedWindow(const Principal& p, int64_t id, const WindowPut& w, int64_t now) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (!IsAdmin(p)) return Reply::Err(Forbidden("only an admin changes dedicated clusters"));
  auto it = dedicated_.find(id);
  if (it == dedicated_.end()) return Reply::Err(NotFound(fmt::format("no dedicated cluster {}", id)));
  DedicatedRec& d = it->second;
  if (Status st = core_->SetDedicatedWindow(d.core, w.start, w.end); !st) return Reply::Err(Conflict(st.error().message));
  d.spec.start = w.start;
  d.spec.end = w.end;
  PutDedicatedRow(d, false);
  Emit(now, "dedicated.set", 0, d.spec.tenant, "", json{{"id", d.id}, {"spec", json::parse(EncodeDedicatedPost(d.spec))},
                                                        {"domains", d.domains}}.dump());
  dirty_ = true;
  return Reply::Json(200, DedicatedJson(d));
}

Reply Control::DeleteDedicated(const Principal& p, int64_t id, int64_t now) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (!IsAdmin(p)) return Reply::Err(Forbidden("only an admin removes dedicated clusters"));
  auto it = dedicated_.find(id);
  if (it == dedicated_.end()) return Reply::Err(NotFound(fmt::format("no dedicated cluster {}", id)));
  if (Status st = core_->RemoveDedicated(it->second.core); !st) return Reply::Err(Conflict(st.error().message));
  PutDedicatedRow(it->second, true);
  Emit(now, "dedicated.removed", 0, it->second.spec.tenant, "", json{{"id", id}}.dump());
  dedicated_.erase(it);
  dirty_ = true;
  return Reply::Json(200, json{{"id", id}, {"removed", true}}.dump());
}

// ---------------------------------------------------------------------------
// Jobs.

AiJob CoreJobOf(const Fleet& fleet, const JobSubmit& spec, int64_t id, TenantId tenant, int64_t submit) {
  AiJob a;
  a.id = id;
  a.tenant = tenant;
  a.submit = submit;
  a.runtime = spec.time_limit_s;
  a.requested = spec.time_limit_s;
  a.gpus = spec.gpus;
  a.cpu_milli = int64_t{spec.cpus} * 1000;
  a.topology = ScopeOf(spec.topology);
  if (spec.nodes == 1) a.topology = TopologyScope::kNode;
  if (!spec.gpu_model.empty()) {
    std::optional<GpuModelId> m = fleet.models.Find(spec.gpu_model);
    a.models = m ? GpuModelMask{1} << *m : 0;
  }
  a.priority = spec.priority;
  a.preemptible = spec.preemptible;
  a.checkpoint = spec.checkpoint_s > 0 ? static_cast<double>(spec.checkpoint_s) : kCheckpointNone;
  return a;
}

AiJob HoldJobOf(TenantId hold_tenant, int32_t gpus, int64_t now) {
  AiJob hold;
  hold.id = -1;
  hold.tenant = hold_tenant;
  hold.submit = now;
  hold.runtime = kMaxTimeLimitS;
  hold.gpus = gpus;
  hold.topology = TopologyScope::kNode;
  hold.priority = kMaxPriority;
  return hold;
}

TenantSettings CoreTenantOf(const TenantPut& put, TenantId id, const TenantDirectory& dir,
                            std::map<std::string, int32_t>* cohorts) {
  TenantSettings s;
  s.weight = put.weight;
  s.quota.nominal_gpus = put.nominal_gpus;
  s.quota.borrowing_limit = put.borrowing_limit_gpus;
  if (!put.cohort.empty()) {
    s.quota.cohort = cohorts->emplace(put.cohort, static_cast<int32_t>(cohorts->size())).first->second;
  }
  std::vector<TenantSettings> ranks(dir.size());
  RankByName(dir, &ranks);
  s.rank = ranks[id].rank;
  return s;
}

std::vector<std::string> NodeNames(const Fleet& fleet) {
  std::vector<std::string> names(fleet.nodes.size());
  std::vector<int32_t> first_domain_of_site(fleet.sites.size(), -1);
  for (size_t d = 0; d < fleet.domains.size(); ++d) {
    const size_t s = static_cast<size_t>(fleet.site_of_domain(static_cast<int32_t>(d)));
    if (first_domain_of_site[s] < 0) first_domain_of_site[s] = static_cast<int32_t>(d);
    const Domain& dom = fleet.domains[d];
    for (int32_t k = 0; k < dom.num_nodes; ++k) {
      names[static_cast<size_t>(dom.first_node + k)] =
          fmt::format("{}-d{:04}-n{:02}", fleet.sites[s].name, static_cast<int32_t>(d) - first_domain_of_site[s], k);
    }
  }
  return names;
}

AiJob Control::CoreJob(const JobRec& j, int64_t now) const { return CoreJobOf(fleet_, j.spec, j.id, j.tid, now); }

bool Control::CanSee(const Principal& p, const JobRec& j) const {
  return p.role == Role::kAdmin || (p.role == Role::kTenant && p.tenant == j.spec.tenant);
}

Reply Control::SubmitJob(const Principal& p, JobSubmit spec, int64_t now) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (p.role == Role::kTenant) {
    if (!spec.tenant.empty() && spec.tenant != p.tenant) {
      return Reply::Err(ApiError{403, "permission_denied", "a tenant token submits for its own tenant only", "tenant"});
    }
    spec.tenant = p.tenant;
  } else if (p.role == Role::kAdmin) {
    if (spec.tenant.empty()) return Reply::Err(ApiError::Invalid("tenant", "an admin names the tenant"));
  } else {
    return Reply::Err(Forbidden("agents do not submit jobs"));
  }
  if (!tenants_.count(spec.tenant)) {
    return Reply::Err(ApiError{404, "not_found", "no tenant '" + spec.tenant + "'", "tenant"});
  }
  if (!spec.request_id.empty()) {
    auto it = request_ids_.find({spec.tenant, spec.request_id});
    if (it != request_ids_.end()) return Reply::Json(200, JobJson(jobs_.at(it->second), nullptr));
  }
  if (!spec.gpu_model.empty() && !fleet_.models.Find(spec.gpu_model)) {
    return Reply::Err(ApiError::Invalid("gpu_model", "the fleet has no accelerator '" + spec.gpu_model + "'"));
  }
  if (spec.nodes > 1) {
    return Reply::Err(ApiError::Invalid(
        "nodes", "nodes > 1 is not supported yet: give gpus and a topology scope; the gang's ranks follow its nodes"));
  }
  JobRec j;
  j.id = next_job_;
  j.spec = std::move(spec);
  j.spec_json = EncodeJobSubmit(j.spec);
  j.tid = TenantIdOf(j.spec.tenant);
  j.submit_time = now;
  const AiJob a = CoreJob(j, now);
  AdmissionResult adm = Admit(*core_, a);
  if (adm.verdict == Verdict::kInvalid) return Reply::Err(ApiError::Invalid("", adm.reason));
  if (adm.verdict == Verdict::kRejected) return Reply::Err(Conflict(adm.reason));
  ++next_job_;
  j.ref = core_->AddJob(a);
  core_->Submit(j.ref, now);
  ref_job_[j.ref] = j.id;
  active_.insert(j.id);
  if (!j.spec.request_id.empty()) request_ids_[{j.spec.tenant, j.spec.request_id}] = j.id;
  const int64_t id = j.id;
  auto [it, ok] = jobs_.emplace(id, std::move(j));
  PutJobRow(it->second);
  Emit(now, "job.submitted", id, it->second.spec.tenant, "",
       "{\"spec\":" + it->second.spec_json + "}");
  dirty_ = true;
  return Reply::Json(201, JobJson(it->second, nullptr));
}

std::string Control::JobJson(const JobRec& j, const std::vector<std::string>* fields) const {
  json placement = json::array();
  for (size_t r = 0; r < j.tasks.size(); ++r) {
    const TaskRec& t = j.tasks[r];
    placement.push_back({{"node", nodes_[static_cast<size_t>(t.node)].name},
                         {"gpus", t.gpus},
                         {"rank", r},
                         {"phase", PhaseName(t.phase)},
                         {"log", t.log}});
  }
  json o = {{"id", j.id},
            {"state", JobStateName(j.state)},
            {"submit_time", j.submit_time},
            {"start_time", j.start_time},
            {"end_time", j.end_time},
            {"attempt", j.attempt},
            {"exit_code", j.has_exit ? json(j.exit_code) : json(nullptr)},
            {"reason", j.reason},
            {"placement", std::move(placement)}};
  if (fields == nullptr || fields->empty()) {
    // The submission's fields and the job's (no name in common), spliced.
    std::string out = j.spec_json;
    out.pop_back();
    out += ',';
    out += o.dump().substr(1);
    return out;
  }
  {
    json spec = json::parse(j.spec_json);
    for (auto it = spec.begin(); it != spec.end(); ++it) o[it.key()] = it.value();
  }
  if (fields != nullptr && !fields->empty()) {
    json f = {{"id", j.id}};
    for (const std::string& k : *fields) {
      if (o.contains(k)) f[k] = o[k];
    }
    return f.dump();
  }
  return o.dump();
}

Reply Control::GetJob(const Principal& p, int64_t id, const std::vector<std::string>& fields) const {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  const JobRec* j = job(id);
  // Another tenant's job is answered as one that does not exist.
  if (j == nullptr || !CanSee(p, *j)) return Reply::Err(NotFound(fmt::format("no job {}", id)));
  return Reply::Json(200, JobJson(*j, &fields));
}

Reply Control::ListJobs(const Principal& p, const std::vector<std::string>& states, const std::string& tenant,
                        int64_t limit, int64_t cursor, const std::vector<std::string>& fields) const {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (p.role == Role::kAgent) return Reply::Err(Forbidden("agents do not list jobs"));
  if (p.role == Role::kTenant && !tenant.empty() && tenant != p.tenant) {
    return Reply::Err(ApiError{403, "permission_denied", "a tenant lists its own jobs only", "tenant"});
  }
  std::vector<JobState> want;
  for (const std::string& s : states) {
    JobState js;
    if (!ParseJobState(s, &js)) {
      return Reply::Err(ApiError::Invalid("state", "'" + s + "' is not pending, running, succeeded, failed or cancelled"));
    }
    want.push_back(js);
  }
  const std::string& who = p.role == Role::kTenant ? p.tenant : tenant;
  std::string out = "{\"jobs\":[";
  int64_t n = 0, last = 0;
  bool more = false;
  // Only pending and running jobs: walk the active set, not every job ever.
  const bool active_only =
      !want.empty() && std::all_of(want.begin(), want.end(), [](JobState s) { return s <= JobState::kRunning; });
  auto consider = [&](const JobRec& j) {
    if (!who.empty() && j.spec.tenant != who) return true;
    if (!want.empty() && std::find(want.begin(), want.end(), j.state) == want.end()) return true;
    if (n == limit) {
      more = true;
      return false;
    }
    if (n > 0) out += ',';
    out += JobJson(j, &fields);
    ++n;
    last = j.id;
    return true;
  };
  if (active_only) {
    for (auto it = active_.upper_bound(cursor); it != active_.end(); ++it) {
      if (!consider(jobs_.at(*it))) break;
    }
  } else {
    for (auto it = jobs_.upper_bound(cursor); it != jobs_.end(); ++it) {
      if (!consider(it->second)) break;
    }
  }
  out += "]";
  if (more) out += fmt::format(",\"next_cursor\":\"{}\"", last);
  out += "}";
  return Reply::Json(200, std::move(out));
}

Reply Control::CancelJob(const Principal& p, int64_t id, int64_t now) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  auto it = jobs_.find(id);
  if (it == jobs_.end() || !CanSee(p, it->second)) return Reply::Err(NotFound(fmt::format("no job {}", id)));
  JobRec& j = it->second;
  if (j.terminal()) return Reply::Err(Conflict(fmt::format("job {} already {}", id, JobStateName(j.state))));
  EndJob(j, JobState::kCancelled, now, p.role == Role::kAdmin ? "cancelled by an admin" : "cancelled by its tenant",
         "job.cancelled");
  return Reply::Json(200, JobJson(j, nullptr));
}

Reply Control::Queue(const Principal& p) const {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (p.role == Role::kAgent) return Reply::Err(Forbidden("agents have no queue"));
  struct Line {
    int64_t pending = 0, running = 0, gpus_pending = 0, gpus_running = 0;
  };
  std::map<std::string, Line> lines;
  for (const auto& [name, t] : tenants_) {
    if (IsAdmin(p) || p.tenant == name) lines[name];
  }
  for (int64_t id : active_) {
    const JobRec& j = jobs_.at(id);
    if (!IsAdmin(p) && j.spec.tenant != p.tenant) continue;
    Line& l = lines[j.spec.tenant];
    if (j.state == JobState::kPending) {
      ++l.pending;
      l.gpus_pending += j.spec.gpus;
    } else {
      ++l.running;
      l.gpus_running += j.spec.gpus;
    }
  }
  json out = json::array();
  for (const auto& [name, l] : lines) {
    out.push_back({{"tenant", name}, {"pending", l.pending}, {"running", l.running},
                   {"gpus_pending", l.gpus_pending}, {"gpus_running", l.gpus_running}});
  }
  return Reply::Json(200, json{{"tenants", out}}.dump());
}

// ---------------------------------------------------------------------------
// Job transitions.

void Control::FinishInCore(JobRec& j) {
  if (j.ref == kNoRef) return;
  if (core_->running(j.ref)) core_->Finish(j.ref, j.end_time);
  (void)core_->RemoveJob(j.ref);
  ref_job_.erase(j.ref);
  j.ref = kNoRef;
  dirty_ = true;
}

void Control::StopAttempt(JobRec& j, int64_t now) {
  std::set<int32_t> nodes;
  for (size_t rank = 0; rank < j.tasks.size(); ++rank) {
    TaskRec& t = j.tasks[rank];
    NodeRec& n = nodes_[static_cast<size_t>(t.node)];
    for (int32_t g : t.gpus) {
      if (n.assigned[static_cast<size_t>(g)] == j.id) n.assigned[static_cast<size_t>(g)] = 0;
    }
    nodes.insert(t.node);
    if (t.phase == TaskPhase::kWaiting) {
      n.waiting.erase({j.id, static_cast<int32_t>(rank)});
    } else if (t.phase != TaskPhase::kExited) {
      if (n.state == NodeState::kLost || n.state == NodeState::kUnknown) {
        for (int32_t g : t.gpus) {
          if (n.occupied[static_cast<size_t>(g)] == j.id) n.occupied[static_cast<size_t>(g)] = 0;
        }
      } else {
        j.stopping.push_back(StoppingTask{j.attempt, static_cast<int32_t>(rank), t.node, t.gpus, now});
      }
    }
  }
  j.tasks.clear();
  deadlines_.erase({j.start_time + j.spec.time_limit_s, j.id});
}

// Kill operations for every stopping task of the job's `attempt`.
namespace {
void AddKills(const JobRec& j, int32_t attempt, int32_t grace, const std::vector<NodeRec>& nodes, LiveEvent* ev) {
  for (const StoppingTask& s : j.stopping) {
    if (s.attempt != attempt) continue;
    ev->ops.push_back({nodes[static_cast<size_t>(s.node)].agent,
                       json{{"op", "kill"}, {"job", j.id}, {"attempt", s.attempt}, {"rank", s.rank},
                            {"node", nodes[static_cast<size_t>(s.node)].name}, {"grace_s", grace}}
                           .dump()});
  }
}
}  // namespace

void Control::EndJob(JobRec& j, JobState s, int64_t now, std::string reason, const char* type) {
  const int32_t attempt = j.attempt;
  std::set<int32_t> touched;
  for (const TaskRec& t : j.tasks) touched.insert(t.node);
  // An ended job keeps its last attempt's placement (where it ran, its
  // logs) for people; nothing of it is held any more.
  std::vector<TaskRec> last = j.tasks;
  StopAttempt(j, now);
  j.tasks = std::move(last);
  j.state = s;
  j.end_time = now;
  j.reason = std::move(reason);
  FinishInCore(j);
  active_.erase(j.id);
  PutJobRow(j);
  LiveEvent& ev = Emit(now, type, j.id, j.spec.tenant, "",
                       json{{"attempt", attempt}, {"reason", j.reason},
                            {"exit_code", j.has_exit ? json(j.exit_code) : json(nullptr)}}
                           .dump());
  AddKills(j, attempt, opts_.grace_s, nodes_, &ev);
  for (int32_t n : touched) {
    if (nodes_[static_cast<size_t>(n)].state == NodeState::kDraining) UpdateHold(n, now);
  }
}

void Control::Requeue(JobRec& j, int64_t now, std::string reason, const char* type) {
  const int32_t attempt = j.attempt;
  StopAttempt(j, now);
  core_->Interrupt(j.ref, now);
  j.state = JobState::kPending;
  j.reason = std::move(reason);
  j.reported_running = false;
  PutJobRow(j);
  LiveEvent& ev = Emit(now, type, j.id, j.spec.tenant, "", json{{"attempt", attempt}, {"reason", j.reason}}.dump());
  AddKills(j, attempt, opts_.grace_s, nodes_, &ev);
  dirty_ = true;
}

void Control::Started(JobRec& j, int64_t now, std::vector<std::pair<int64_t, int32_t>>* dispatch) {
  const Placement& where = core_->placement(j.ref);
  j.state = JobState::kRunning;
  j.attempt += 1;
  j.start_time = now;
  j.reason.clear();
  j.reported_running = false;
  j.tasks.clear();
  for (const GangPart& part : where.parts) {
    for (int32_t k = 0; k < part.nodes; ++k) {
      TaskRec t;
      t.node = part.node + k;
      NodeRec& n = nodes_[static_cast<size_t>(t.node)];
      const int32_t want = j.spec.gpus == 0 ? 0 : part.units;
      // GPUs nobody holds first, then those a stopping task still holds
      // (the task then waits for them).
      for (int pass = 0; pass < 2 && static_cast<int32_t>(t.gpus.size()) < want; ++pass) {
        for (size_t g = 0; g < n.assigned.size() && static_cast<int32_t>(t.gpus.size()) < want; ++g) {
          if (n.assigned[g] != 0) continue;
          if (pass == 0 && n.occupied[g] != 0) continue;
          if (pass == 1 && n.occupied[g] == 0) continue;
          n.assigned[g] = j.id;
          t.gpus.push_back(static_cast<int32_t>(g));
        }
      }
      std::sort(t.gpus.begin(), t.gpus.end());
      j.tasks.push_back(std::move(t));
    }
  }
  deadlines_.insert({j.start_time + j.spec.time_limit_s, j.id});
  for (size_t rank = 0; rank < j.tasks.size(); ++rank) {
    const TaskRec& t = j.tasks[rank];
    const NodeRec& n = nodes_[static_cast<size_t>(t.node)];
    bool clear = true;
    for (int32_t g : t.gpus) clear = clear && n.occupied[static_cast<size_t>(g)] == 0;
    if (clear) {
      dispatch->push_back({j.id, static_cast<int32_t>(rank)});
    } else {
      nodes_[static_cast<size_t>(t.node)].waiting.insert({j.id, static_cast<int32_t>(rank)});
    }
  }
}

std::string Control::TaskJson(const JobRec& j, int32_t rank) const {
  Task t;
  t.ref = TaskRef{j.id, j.attempt, rank};
  const TaskRec& tr = j.tasks[static_cast<size_t>(rank)];
  t.node = nodes_[static_cast<size_t>(tr.node)].name;
  t.gpus = tr.gpus;
  t.world_size = j.spec.gpus;
  t.nnodes = static_cast<int32_t>(j.tasks.size());
  const NodeRec& master = nodes_[static_cast<size_t>(j.tasks[0].node)];
  t.master_addr = master.addr.empty() ? master.name : master.addr;
  t.master_port = opts_.master_port;
  t.command = j.spec.command;
  t.env = j.spec.env;
  t.duration_s = j.spec.duration_s;
  t.grace_s = opts_.grace_s;
  t.tenant = j.spec.tenant;
  return EncodeTask(t);
}

void Control::Dispatch(JobRec& j, int32_t rank, int64_t now) {
  TaskRec& t = j.tasks[static_cast<size_t>(rank)];
  NodeRec& n = nodes_[static_cast<size_t>(t.node)];
  for (int32_t g : t.gpus) n.occupied[static_cast<size_t>(g)] = j.id;
  t.phase = TaskPhase::kDispatched;
  (void)now;
}

void Control::TryDispatch(int32_t node, int64_t now) {
  NodeRec& n = nodes_[static_cast<size_t>(node)];
  for (auto it = n.waiting.begin(); it != n.waiting.end();) {
    JobRec& j = jobs_.at(it->first);
    const TaskRec& t = j.tasks[static_cast<size_t>(it->second)];
    bool clear = true;
    for (int32_t g : t.gpus) clear = clear && n.occupied[static_cast<size_t>(g)] == 0;
    if (!clear) {
      ++it;
      continue;
    }
    const int32_t rank = it->second;
    it = n.waiting.erase(it);
    Dispatch(j, rank, now);
    PutJobRow(j);
    LiveEvent& ev = Emit(now, "task.dispatched", j.id, j.spec.tenant, n.name,
                         json{{"attempt", j.attempt}, {"rank", rank}}.dump());
    ev.ops.push_back({n.agent, "{\"op\":\"run\",\"task\":" + TaskJson(j, rank) + "}"});
  }
}

void Control::ReleaseGpus(int32_t node, int64_t job, const std::vector<int32_t>& gpus) {
  NodeRec& n = nodes_[static_cast<size_t>(node)];
  for (int32_t g : gpus) {
    if (static_cast<size_t>(g) < n.occupied.size() && n.occupied[static_cast<size_t>(g)] == job) {
      n.occupied[static_cast<size_t>(g)] = 0;
    }
  }
}

// ---------------------------------------------------------------------------
// Nodes.

int32_t Control::FreeGpus(int32_t n) const {
  int32_t free = 0;
  for (int64_t a : nodes_[static_cast<size_t>(n)].assigned) free += a == 0;
  return free;
}

// A draining node keeps its running work; its free GPUs are held by a core
// job of the internal tenant so that nothing new lands there, and once
// nothing of a tenant runs there it is drained (down in the core).
void Control::UpdateHold(int32_t n, int64_t now) {
  NodeRec& rec = nodes_[static_cast<size_t>(n)];
  const int32_t had = rec.hold_gpus;
  if (rec.hold != kNoRef) {
    if (core_->running(rec.hold)) core_->Finish(rec.hold, now);
    (void)core_->RemoveJob(rec.hold);
    rec.hold = kNoRef;
    rec.hold_gpus = 0;
  }
  // The hold as the core sees it, for a replay (emitted when it changes).
  auto held = [&](int32_t gpus) {
    if (gpus != 0 || had != 0) Emit(now, "node.hold", 0, "", rec.name, json{{"gpus", gpus}}.dump());
  };
  const int32_t free = FreeGpus(n);
  const bool busy = free < static_cast<int32_t>(rec.assigned.size()) ||
                    (fleet_.node_type(n).gpus == 0 && !core_->JobsOnNode(n).empty());
  if (!busy) {
    held(0);
    core_->SetNodeDown(n, true);
    rec.state = NodeState::kDrained;
    PutNodeRow(rec);
    Emit(now, "node.drained", 0, "", rec.name, json{{"reason", rec.reason}}.dump());
    return;
  }
  if (free == 0) {
    held(0);
    return;
  }
  rec.hold = core_->AddJob(HoldJobOf(hold_tenant_, free, now));
  Placement where;
  where.parts.push_back(GangPart{n, free});
  if (Status st = core_->Restore(rec.hold, where, now); !st) {
    // A node in another tenant's dedicated cluster refuses the hold: it
    // drains only as its jobs end (new work may still land there).
    (void)core_->RemoveJob(rec.hold);
    rec.hold = kNoRef;
    held(0);
    return;
  }
  rec.hold_gpus = free;
  held(free);
}

void Control::NodeLost(int32_t n, int64_t now, const std::string& why) {
  NodeRec& rec = nodes_[static_cast<size_t>(n)];
  rec.state = NodeState::kLost;  // first: StopAttempt drops its tasks instead of waiting for them
  rec.reason = why;
  std::set<int64_t> jobs;
  for (int64_t a : rec.assigned) {
    if (a > 0) jobs.insert(a);
  }
  for (int64_t o : rec.occupied) {
    if (o > 0) jobs.insert(o);
  }
  for (const auto& [job, rank] : rec.waiting) jobs.insert(job);
  if (fleet_.node_type(n).gpus == 0) {
    for (FleetScheduler::JobRef r : core_->JobsOnNode(n)) {
      auto it = ref_job_.find(r);
      if (it != ref_job_.end()) jobs.insert(it->second);
    }
  }
  if (rec.hold != kNoRef) {
    if (core_->running(rec.hold)) core_->Finish(rec.hold, now);
    (void)core_->RemoveJob(rec.hold);
    rec.hold = kNoRef;
    rec.hold_gpus = 0;
    Emit(now, "node.hold", 0, "", rec.name, json{{"gpus", 0}}.dump());
  }
  for (int64_t id : jobs) {
    JobRec& j = jobs_.at(id);
    // Stopping tasks on the lost node are gone with it.
    std::erase_if(j.stopping, [&](const StoppingTask& s) { return s.node == n; });
    bool here = false;
    for (const TaskRec& t : j.tasks) here = here || t.node == n;
    if (j.state == JobState::kRunning && here) {
      const bool requeue = j.spec.on_node_lost == OnNodeLost::kRequeue ||
                           (j.spec.on_node_lost == OnNodeLost::kDefault && j.spec.checkpoint_s > 0);
      if (requeue) {
        Requeue(j, now, "node " + rec.name + " lost", "job.requeued");
      } else {
        EndJob(j, JobState::kFailed, now, "node " + rec.name + " lost", "job.failed");
      }
    } else {
      PutJobRow(j);
    }
  }
  std::fill(rec.occupied.begin(), rec.occupied.end(), 0);
  std::fill(rec.assigned.begin(), rec.assigned.end(), 0);
  rec.waiting.clear();
  core_->SetNodeDown(n, true);
  PutNodeRow(rec);
  Emit(now, "node.lost", 0, "", rec.name, json{{"reason", why}}.dump());
  // Freed GPUs elsewhere may let waiting tasks go.
  dirty_ = true;
}

void Control::NodeUp(int32_t n, int64_t now) {
  NodeRec& rec = nodes_[static_cast<size_t>(n)];
  rec.state = NodeState::kUp;
  Watch(rec);
  rec.reason.clear();
  core_->SetNodeDown(n, false);
  PutNodeRow(rec);
  Emit(now, "node.up", 0, "", rec.name, "{}");
  dirty_ = true;
}

Reply Control::ListNodes(const Principal& p) const {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  std::string out = "{\"nodes\":[";
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const NodeRec& r = nodes_[n];
    const NodeType& nt = fleet_.node_type(static_cast<int32_t>(n));
    const std::string model = nt.accelerator >= 0 ? fleet_.accelerators[static_cast<size_t>(nt.accelerator)].name : "";
    int32_t used = 0;
    for (int64_t a : r.assigned) used += a != 0;
    const int32_t d = fleet_.nodes[n].domain;
    json o = {{"name", r.name},
              {"state", NodeStateName(r.state)},
              {"gpus", nt.gpus},
              {"gpu_model", model},
              {"gpus_used", used},
              {"site", fleet_.sites[static_cast<size_t>(fleet_.site_of_domain(d))].name},
              {"domain_type", fleet_.domain_types[static_cast<size_t>(fleet_.domains[static_cast<size_t>(d)].type)].name},
              {"agent", r.agent},
              {"reason", r.reason}};
    if (n > 0) out += ',';
    out += o.dump();
  }
  out += "]}";
  return Reply::Json(200, std::move(out));
}

Reply Control::DrainNode(const Principal& p, const std::string& name, const std::string& reason, int64_t now) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (!IsAdmin(p)) return Reply::Err(Forbidden("only an admin drains nodes"));
  const int32_t n = FindNode(name);
  if (n < 0) return Reply::Err(NotFound("no node '" + name + "'"));
  NodeRec& rec = nodes_[static_cast<size_t>(n)];
  if (rec.state != NodeState::kUp) {
    return Reply::Err(Conflict(fmt::format("node {} is {}, not up", name, NodeStateName(rec.state))));
  }
  rec.state = NodeState::kDraining;
  Watch(rec);
  rec.reason = reason.empty() ? "drained by an admin" : reason;
  PutNodeRow(rec);
  Emit(now, "node.draining", 0, "", rec.name, json{{"reason", rec.reason}}.dump());
  UpdateHold(n, now);
  return Reply::Json(200, json{{"name", name}, {"state", NodeStateName(rec.state)}}.dump());
}

Reply Control::ResumeNode(const Principal& p, const std::string& name, int64_t now) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (!IsAdmin(p)) return Reply::Err(Forbidden("only an admin resumes nodes"));
  const int32_t n = FindNode(name);
  if (n < 0) return Reply::Err(NotFound("no node '" + name + "'"));
  NodeRec& rec = nodes_[static_cast<size_t>(n)];
  if (rec.state != NodeState::kDraining && rec.state != NodeState::kDrained) {
    return Reply::Err(Conflict(fmt::format("node {} is {}, not draining or drained", name, NodeStateName(rec.state))));
  }
  if (rec.hold != kNoRef) {
    if (core_->running(rec.hold)) core_->Finish(rec.hold, now);
    (void)core_->RemoveJob(rec.hold);
    rec.hold = kNoRef;
    rec.hold_gpus = 0;
    Emit(now, "node.hold", 0, "", rec.name, json{{"gpus", 0}}.dump());
  }
  rec.state = NodeState::kUp;
  Watch(rec);
  rec.reason.clear();
  core_->SetNodeDown(n, false);
  PutNodeRow(rec);
  Emit(now, "node.resumed", 0, "", rec.name, "{}");
  dirty_ = true;
  return Reply::Json(200, json{{"name", name}, {"state", "up"}}.dump());
}

// ---------------------------------------------------------------------------
// Agents.

Reply Control::AgentRegister(const Principal& p, const ctl::AgentRegister& r, int64_t now, int64_t now_ms) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (p.role != Role::kAgent) return Reply::Err(Forbidden("only an agent token registers nodes"));
  // Check every node before changing any.
  for (size_t i = 0; i < r.nodes.size(); ++i) {
    const NodeInventory& inv = r.nodes[i];
    const std::string field = fmt::format("nodes[{}]", i);
    const int32_t n = FindNode(inv.name);
    if (n < 0) return Reply::Err(ApiError{404, "not_found", "the fleet has no node '" + inv.name + "'", field + ".name"});
    const NodeType& nt = fleet_.node_type(n);
    if (inv.gpus != nt.gpus) {
      return Reply::Err(Conflict(fmt::format("node {} has {} GPUs in the fleet file, the agent found {}", inv.name,
                                             nt.gpus, inv.gpus),
                                 field + ".gpus"));
    }
    const std::string model = nt.accelerator >= 0 ? fleet_.accelerators[static_cast<size_t>(nt.accelerator)].name : "";
    if (!inv.gpu_model.empty() && inv.gpu_model != model) {
      return Reply::Err(Conflict(
          fmt::format("node {} holds {} GPUs in the fleet file, the agent found {}", inv.name, model, inv.gpu_model),
          field + ".gpu_model"));
    }
    const NodeRec& rec = nodes_[static_cast<size_t>(n)];
    if (!rec.agent.empty() && rec.agent != p.agent && rec.state != NodeState::kLost) {
      return Reply::Err(Conflict(fmt::format("node {} is registered to agent '{}'", inv.name, rec.agent), field + ".name"));
    }
  }
  json out = json::array();
  for (const NodeInventory& inv : r.nodes) {
    const int32_t n = FindNode(inv.name);
    NodeRec& rec = nodes_[static_cast<size_t>(n)];
    const bool changed = rec.agent != p.agent || rec.addr != inv.addr;
    rec.agent = p.agent;
    rec.addr = inv.addr;
    Heard(rec, now_ms);
    if (rec.state == NodeState::kUnknown || rec.state == NodeState::kLost) {
      Emit(now, "node.registered", 0, "", rec.name, json{{"agent", p.agent}, {"addr", inv.addr}}.dump());
      NodeUp(n, now);
    } else if (changed) {
      PutNodeRow(rec);
      Emit(now, "node.registered", 0, "", rec.name, json{{"agent", p.agent}, {"addr", inv.addr}}.dump());
    }
    out.push_back({{"name", rec.name}, {"state", NodeStateName(rec.state)}});
  }
  return Reply::Json(200, json{{"nodes", out}, {"seq", seq_}}.dump());
}

Reply Control::AgentHeartbeat(const Principal& p, const ctl::AgentHeartbeat& h, int64_t now, int64_t now_ms) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (p.role != Role::kAgent) return Reply::Err(Forbidden("only an agent token heartbeats"));
  std::vector<int32_t> mine;
  for (size_t i = 0; i < h.nodes.size(); ++i) {
    const int32_t n = FindNode(h.nodes[i]);
    if (n < 0 || nodes_[static_cast<size_t>(n)].agent != p.agent) {
      return Reply::Err(ApiError{404, "not_found", "node '" + h.nodes[i] + "' is not registered to this agent",
                                 fmt::format("nodes[{}]", i)});
    }
    mine.push_back(n);
  }
  // The tasks the server wants: the current attempt of a running job,
  // dispatched to a node of this agent.
  json kill = json::array();
  bool unwanted_unknown = false;
  for (const TaskRef& t : h.running) {
    auto it = jobs_.find(t.job);
    bool wanted = false;
    int32_t node = -1;
    if (it != jobs_.end()) {
      const JobRec& j = it->second;
      if (j.state == JobState::kRunning && t.attempt == j.attempt && t.rank >= 0 &&
          static_cast<size_t>(t.rank) < j.tasks.size()) {
        const TaskRec& tr = j.tasks[static_cast<size_t>(t.rank)];
        node = tr.node;
        wanted = tr.phase != TaskPhase::kWaiting && nodes_[static_cast<size_t>(tr.node)].agent == p.agent;
      }
      for (const StoppingTask& s : j.stopping) {
        if (s.attempt == t.attempt && s.rank == t.rank) node = s.node;
      }
    }
    if (!wanted) {
      kill.push_back({{"job", t.job}, {"attempt", t.attempt}, {"rank", t.rank}, {"grace_s", opts_.grace_s}});
      if (node < 0) unwanted_unknown = true;
    }
  }
  // A stopping task its agent does not run, well after it was told to stop
  // (its kill was lost: the agent restarted before it saw it), holds its
  // GPUs no longer. The margin covers a run still on its way to the agent.
  std::set<TaskRef> running(h.running.begin(), h.running.end());
  for (int32_t n : mine) {
    NodeRec& rec = nodes_[static_cast<size_t>(n)];
    std::set<int64_t> holders;
    for (int64_t o : rec.occupied) {
      if (o > 0) holders.insert(o);
    }
    bool freed = false;
    for (int64_t id : holders) {
      JobRec& j = jobs_.at(id);
      const size_t before = j.stopping.size();
      std::erase_if(j.stopping, [&](const StoppingTask& s) {
        const bool gone = s.node == n && !running.count(TaskRef{id, s.attempt, s.rank}) &&
                          now - s.since > opts_.grace_s + kStoppingMarginS;
        if (gone) ReleaseGpus(n, id, s.gpus);
        return gone;
      });
      if (j.stopping.size() != before) {
        freed = true;
        PutJobRow(j);
      }
    }
    if (freed) TryDispatch(n, now);
  }
  for (int32_t n : mine) {
    NodeRec& rec = nodes_[static_cast<size_t>(n)];
    Heard(rec, now_ms);
    // A lost node comes back once it runs nothing the server does not know.
    if (rec.state == NodeState::kLost && !unwanted_unknown) NodeUp(n, now);
  }
  return Reply::Json(200, json{{"kill", kill}}.dump());
}

Reply Control::AgentTasks(const Principal& p) const {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (p.role != Role::kAgent) return Reply::Err(Forbidden("only an agent token reads tasks"));
  std::string out = "{\"seq\":" + std::to_string(seq_) + ",\"tasks\":[";
  bool first = true;
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const NodeRec& rec = nodes_[n];
    if (rec.agent != p.agent) continue;
    std::set<int64_t> jobs;
    for (int64_t a : rec.assigned) {
      if (a > 0) jobs.insert(a);
    }
    if (fleet_.node_type(static_cast<int32_t>(n)).gpus == 0) {
      for (FleetScheduler::JobRef r : core_->JobsOnNode(static_cast<int32_t>(n))) {
        auto it = ref_job_.find(r);
        if (it != ref_job_.end()) jobs.insert(it->second);
      }
    }
    for (int64_t id : jobs) {
      const JobRec& j = jobs_.at(id);
      if (j.state != JobState::kRunning) continue;
      for (size_t rank = 0; rank < j.tasks.size(); ++rank) {
        const TaskRec& t = j.tasks[rank];
        if (t.node != static_cast<int32_t>(n) || t.phase == TaskPhase::kWaiting || t.phase == TaskPhase::kExited) {
          continue;
        }
        if (!first) out += ',';
        first = false;
        out += TaskJson(j, static_cast<int32_t>(rank));
      }
    }
  }
  out += "]}";
  return Reply::Json(200, std::move(out));
}

Reply Control::AgentReport(const Principal& p, const ctl::AgentReport& r, int64_t now) {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (p.role != Role::kAgent) return Reply::Err(Forbidden("only an agent token reports tasks"));
  // Check ownership of every report first: a report for a task this agent
  // does not run changes nothing.
  for (size_t i = 0; i < r.reports.size(); ++i) {
    const TaskReport& rep = r.reports[i];
    auto it = jobs_.find(rep.task.job);
    if (it == jobs_.end()) {
      return Reply::Err(ApiError{404, "not_found", fmt::format("no job {}", rep.task.job), fmt::format("reports[{}].job", i)});
    }
    const JobRec& j = it->second;
    int32_t node = -1;
    if (rep.task.attempt == j.attempt && rep.task.rank >= 0 && static_cast<size_t>(rep.task.rank) < j.tasks.size()) {
      node = j.tasks[static_cast<size_t>(rep.task.rank)].node;
    }
    for (const StoppingTask& s : j.stopping) {
      if (s.attempt == rep.task.attempt && s.rank == rep.task.rank) node = s.node;
    }
    if (node >= 0 && nodes_[static_cast<size_t>(node)].agent != p.agent) {
      return Reply::Err(ApiError{403, "permission_denied", "the task does not run on this agent's nodes",
                                 fmt::format("reports[{}]", i)});
    }
  }
  std::set<int32_t> freed;
  for (const TaskReport& rep : r.reports) {
    JobRec& j = jobs_.at(rep.task.job);
    const bool exited = rep.state == "exited";
    // A stopping task (an earlier attempt, or a job that ended).
    auto st = std::find_if(j.stopping.begin(), j.stopping.end(), [&](const StoppingTask& s) {
      return s.attempt == rep.task.attempt && s.rank == rep.task.rank;
    });
    if (st != j.stopping.end()) {
      if (exited) {
        ReleaseGpus(st->node, j.id, st->gpus);
        freed.insert(st->node);
        j.stopping.erase(st);
        PutJobRow(j);
      }
      continue;
    }
    if (j.state != JobState::kRunning || rep.task.attempt != j.attempt || rep.task.rank < 0 ||
        static_cast<size_t>(rep.task.rank) >= j.tasks.size()) {
      continue;  // stale: nothing of it is held
    }
    TaskRec& t = j.tasks[static_cast<size_t>(rep.task.rank)];
    if (t.phase == TaskPhase::kWaiting || t.phase == TaskPhase::kExited) continue;
    if (!rep.log.empty()) t.log = rep.log;
    if (!exited) {
      if (t.phase == TaskPhase::kDispatched) {
        t.phase = TaskPhase::kRunning;
        PutJobRow(j);
        if (!j.reported_running) {
          j.reported_running = true;
          Emit(now, "job.running", j.id, j.spec.tenant, nodes_[static_cast<size_t>(t.node)].name,
               json{{"attempt", j.attempt}}.dump());
        }
      }
      continue;
    }
    t.phase = TaskPhase::kExited;
    t.exit_code = rep.signal != 0 ? 128 + rep.signal : rep.exit_code;
    ReleaseGpus(t.node, j.id, t.gpus);
    freed.insert(t.node);
    if (t.exit_code != 0) {
      j.has_exit = true;
      j.exit_code = t.exit_code;
      EndJob(j, JobState::kFailed, now,
             fmt::format("rank {} on {} exited with {}", rep.task.rank, nodes_[static_cast<size_t>(t.node)].name,
                         rep.signal != 0 ? fmt::format("signal {}", rep.signal) : fmt::format("code {}", rep.exit_code)),
             "job.failed");
      continue;
    }
    const bool all = std::all_of(j.tasks.begin(), j.tasks.end(),
                                 [](const TaskRec& x) { return x.phase == TaskPhase::kExited; });
    if (all) {
      j.has_exit = true;
      j.exit_code = 0;
      EndJob(j, JobState::kSucceeded, now, "", "job.succeeded");
    } else {
      PutJobRow(j);
    }
  }
  for (int32_t n : freed) TryDispatch(n, now);
  return Reply::Json(200, json{{"accepted", r.reports.size()}}.dump());
}

void Control::TouchAllNodes(int64_t now_ms) {
  for (NodeRec& n : nodes_) Heard(n, now_ms);
}

// ---------------------------------------------------------------------------
// Time.

bool Control::Tick(int64_t now, int64_t now_ms, bool force_pass) {
  // Silent nodes: none can be past its deadline before heartbeat_check_ms_.
  if (now_ms > heartbeat_check_ms_) {
    int64_t next = INT64_MAX;
    for (size_t n = 0; n < nodes_.size(); ++n) {
      NodeRec& rec = nodes_[n];
      if (rec.state != NodeState::kUp && rec.state != NodeState::kDraining) continue;
      if (now_ms - rec.last_heartbeat_ms > opts_.node_timeout_ms) {
        NodeLost(static_cast<int32_t>(n), now,
                 fmt::format("no heartbeat for {} s", (now_ms - rec.last_heartbeat_ms) / 1000));
      } else {
        next = std::min(next, rec.last_heartbeat_ms + opts_.node_timeout_ms);
      }
    }
    heartbeat_check_ms_ = next;
  }
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const int64_t id = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    JobRec& j = jobs_.at(id);
    if (j.state != JobState::kRunning) continue;
    EndJob(j, JobState::kFailed, now, fmt::format("time limit of {} s reached", j.spec.time_limit_s), "job.failed");
  }
  if (core_->NextWindowChange() <= now) {
    std::vector<WindowChange> changed;
    core_->ApplyWindows(now, &changed);
    dirty_ = dirty_ || !changed.empty();
  }
  // A pass after anything changed, and (force_pass) now and then while
  // jobs wait, for what time alone changes (a head starving). Every pass
  // is an event, decisions or not: a pass that starts nothing still leaves
  // the core's memory of what failed (sched/fleet_scheduler.h), and a
  // replay must run the same passes to decide the same.
  if (!dirty_ && !(force_pass && core_->waiting() > 0)) return false;
  dirty_ = false;
  Decisions d;
  core_->Schedule(now, &d);
  ++passes_;
  decisions_ += static_cast<int64_t>(d.changes.size());
  json started = json::array(), stopped = json::array();
  for (const JobChange& c : d.changes) {
    auto it = ref_job_.find(c.job);
    if (it == ref_job_.end()) continue;
    if (c.started) started.push_back(it->second);
    if (c.stopped) stopped.push_back(it->second);
  }
  Emit(now, "pass", 0, "", "", json{{"started", started}, {"preempted", stopped}}.dump());
  // Every stop before any start: a job started in this pass may take the
  // GPUs of one preempted in it (changes come by job ref, not in order).
  for (const JobChange& c : d.changes) {
    auto it = ref_job_.find(c.job);
    if (it == ref_job_.end() || !c.stopped) continue;
    JobRec& j = jobs_.at(it->second);
    const int32_t attempt = j.attempt;
    StopAttempt(j, now);
    j.state = JobState::kPending;
    j.reason = "preempted";
    j.reported_running = false;
    LiveEvent& ev = Emit(now, "job.preempted", j.id, j.spec.tenant, "", json{{"attempt", attempt}}.dump());
    AddKills(j, attempt, opts_.grace_s, nodes_, &ev);
    PutJobRow(j);
  }
  std::vector<std::pair<int64_t, int32_t>> dispatch;
  for (const JobChange& c : d.changes) {
    auto it = ref_job_.find(c.job);
    if (it == ref_job_.end() || !c.started) continue;
    JobRec& j = jobs_.at(it->second);
    dispatch.clear();
    Started(j, now, &dispatch);
    json placement = json::array();
    for (size_t r = 0; r < j.tasks.size(); ++r) {
      placement.push_back({{"node", nodes_[static_cast<size_t>(j.tasks[r].node)].name}, {"gpus", j.tasks[r].gpus},
                           {"rank", r}});
    }
    json ranks = json::array();
    for (const auto& [id, rank] : dispatch) ranks.push_back(rank);
    LiveEvent& ev = Emit(now, "job.started", j.id, j.spec.tenant, "",
                         json{{"attempt", j.attempt}, {"placement", placement}, {"dispatched", ranks}}.dump());
    for (const auto& [id, rank] : dispatch) {
      Dispatch(j, rank, now);
      ev.ops.push_back({nodes_[static_cast<size_t>(j.tasks[static_cast<size_t>(rank)].node)].agent,
                        "{\"op\":\"run\",\"task\":" + TaskJson(j, rank) + "}"});
    }
    PutJobRow(j);
  }
  return true;
}

// ---------------------------------------------------------------------------
// Metrics.

Reply Control::Metrics(const Principal& p, const std::string& server_metrics) const {
  if (p.role == Role::kNone) return Reply::Err(Unauthenticated());
  if (!IsAdmin(p)) return Reply::Err(Forbidden("metrics need the admin token"));
  std::string out;
  out += "# HELP rackscale_jobs Jobs pending or running, per tenant.\n# TYPE rackscale_jobs gauge\n";
  std::map<std::string, std::pair<int64_t, int64_t>> by_tenant;
  for (const auto& [name, t] : tenants_) by_tenant[name];
  for (int64_t id : active_) {
    const JobRec& j = jobs_.at(id);
    auto& c = by_tenant[j.spec.tenant];
    (j.state == JobState::kPending ? c.first : c.second) += 1;
  }
  for (const auto& [name, c] : by_tenant) {
    out += fmt::format("rackscale_jobs{{tenant=\"{}\",state=\"pending\"}} {}\n", name, c.first);
    out += fmt::format("rackscale_jobs{{tenant=\"{}\",state=\"running\"}} {}\n", name, c.second);
  }
  out += "# HELP rackscale_gpus GPUs per site by state.\n# TYPE rackscale_gpus gauge\n";
  std::vector<std::array<int64_t, 3>> sites(fleet_.sites.size(), {0, 0, 0});
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const NodeRec& r = nodes_[n];
    auto& s = sites[static_cast<size_t>(fleet_.site_of_domain(fleet_.nodes[n].domain))];
    const bool down = r.state == NodeState::kUnknown || r.state == NodeState::kLost || r.state == NodeState::kDrained;
    for (int64_t a : r.assigned) {
      if (down) ++s[2];
      else if (a > 0) ++s[0];
      else ++s[1];
    }
  }
  for (size_t s = 0; s < sites.size(); ++s) {
    const std::string& name = fleet_.sites[s].name;
    out += fmt::format("rackscale_gpus{{site=\"{}\",state=\"busy\"}} {}\n", name, sites[s][0]);
    out += fmt::format("rackscale_gpus{{site=\"{}\",state=\"idle\"}} {}\n", name, sites[s][1]);
    out += fmt::format("rackscale_gpus{{site=\"{}\",state=\"down\"}} {}\n", name, sites[s][2]);
  }
  out += "# HELP rackscale_scheduler_passes_total Scheduling passes run.\n# TYPE rackscale_scheduler_passes_total counter\n";
  out += fmt::format("rackscale_scheduler_passes_total {}\n", passes_);
  out += "# HELP rackscale_scheduler_decisions_total Jobs started or preempted by passes.\n"
         "# TYPE rackscale_scheduler_decisions_total counter\n";
  out += fmt::format("rackscale_scheduler_decisions_total {}\n", decisions_);
  out += "# HELP rackscale_events_total Events committed.\n# TYPE rackscale_events_total counter\n";
  out += fmt::format("rackscale_events_total {}\n", seq_);
  out += server_metrics;
  return Reply{200, std::move(out), "text/plain; version=0.0.4"};
}

}  // namespace rackscale::ctl
