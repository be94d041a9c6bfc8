// Control: the live control plane's state machine. It owns the jobs, the
// nodes, the tenants and the tokens of a running server, and drives the
// scheduler core (sched/fleet_scheduler.h) with them: the server calls this
// core, never a copy of it.
//
// The contract. Control is pure state: no clock (times are arguments), no
// I/O, no threads. Every command either answers from the state or changes
// it; every change appends to the pending Batch (events plus the rows they
// change) that the caller commits to the Store before it answers anyone or
// lets any agent see the change. A command that fails changes nothing.
// Load(snapshot) rebuilds the same state from what the store holds, so a
// restarted server (or one whose commit failed) resumes exactly where its
// last commit left it: running jobs are re-adopted by the core
// (FleetScheduler::Restore), pending ones queued in submission order.
//
// Jobs and tasks. A started job's placement gives every node it uses one
// task (rank = its index) with concrete GPU indices. A task is dispatched
// (sent to its agent) only once the GPUs it gets are no longer occupied by
// a task that is still stopping there (a cancelled or preempted job's task
// holds its GPUs until its agent reports it exited, or its node is lost):
// so no GPU ever runs two tasks at once, though the core reuses capacity at
// once. A job succeeds when every rank exited 0, fails when one exits
// non-zero (the others are killed), when it passes its time limit, or when
// its node is lost (unless it requeues: then it waits again, attempt + 1).
//
// Not thread-safe: the server's core thread owns it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ctl/api.h"
#include "ctl/store.h"
#include "ctl/tokens.h"
#include "model/fleet.h"
#include "sched/admission.h"
#include "sched/fleet_scheduler.h"

namespace rackscale::ctl {

// Who is asking: from the presented token.
struct Principal {
  Role role = Role::kNone;
  std::string tenant;  // kTenant
  std::string agent;   // kAgent
  int64_t token_id = 0;
};

// An answer: HTTP status and JSON body (or Prometheus text for metrics).
struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  static Reply Json(int status, std::string body) { return Reply{status, std::move(body), "application/json"}; }
  static Reply Err(const ApiError& e) { return Reply{e.status, e.ToJson(), "application/json"}; }
};

enum class JobState : uint8_t { kPending, kRunning, kSucceeded, kFailed, kCancelled };
const char* JobStateName(JobState s);
bool ParseJobState(std::string_view s, JobState* out);

// A task's phase on its node.
enum class TaskPhase : uint8_t { kWaiting, kDispatched, kRunning, kExited };

struct TaskRec {
  int32_t node = -1;
  std::vector<int32_t> gpus;
  TaskPhase phase = TaskPhase::kWaiting;
  int32_t exit_code = 0;
  std::string log;
};

// A task of an earlier attempt (or of a finished job) that still holds its
// GPUs until its agent reports it gone.
struct StoppingTask {
  int32_t attempt = 0, rank = 0, node = -1;
  std::vector<int32_t> gpus;
  int64_t since = 0;  // when it was told to stop
};

struct JobRec {
  int64_t id = 0;
  JobSubmit spec;
  std::string spec_json;  // EncodeJobSubmit(spec), made once: rows, events and answers splice it in
  JobState state = JobState::kPending;
  int32_t attempt = 0;  // starts so far; the current attempt while running
  int64_t submit_time = 0, start_time = 0, end_time = 0;
  bool has_exit = false;
  int32_t exit_code = 0;
  std::string reason;
  std::vector<TaskRec> tasks;          // the current attempt's, by rank
  std::vector<StoppingTask> stopping;  // earlier attempts' tasks not yet gone
  bool reported_running = false;       // job.running emitted for this attempt
  uint32_t ref = UINT32_MAX;           // core ref while pending or running
  TenantId tid = 0;
  bool terminal() const { return state >= JobState::kSucceeded; }
};

enum class NodeState : uint8_t { kUnknown, kUp, kDraining, kDrained, kLost };
const char* NodeStateName(NodeState s);

struct NodeRec {
  std::string name;
  NodeState state = NodeState::kUnknown;
  std::string agent, addr, reason;
  int64_t last_heartbeat_ms = 0;  // memory only
  std::vector<int64_t> occupied;  // per GPU: the job whose task holds it (0: none)
  std::vector<int64_t> assigned;  // per GPU: the running job it is given to (0: none)
  std::set<std::pair<int64_t, int32_t>> waiting;  // (job, rank) tasks waiting for GPUs here
  uint32_t hold = UINT32_MAX;     // draining: the core job holding its free GPUs
  int32_t hold_gpus = 0;
};

struct TokenRec {
  int64_t id = 0;
  std::string hash;
  Role role = Role::kNone;
  std::string tenant, agent;
  int64_t created = 0;
};

// A dedicated cluster: whole domains of one type given to a tenant for a
// window (sched/fleet_scheduler.h); `core` is its index in the core.
struct DedicatedRec {
  int64_t id = 0;
  DedicatedPost spec;            // domains: how many were asked for
  std::vector<int32_t> domains;  // the domains it got
  size_t core = 0;
};

struct TenantRec {
  std::string name;
  TenantPut settings;
  TenantId id = 0;
};

// One event as watchers see it once committed, with the agent operations it
// implies (not stored: derived when made; after a restart agents resync).
struct LiveEvent {
  StoredEvent ev;
  std::string json;  // the event as the API writes it
  struct AgentOp {
    std::string agent;
    std::string json;  // {"op": "run", "task": {...}} or {"op": "kill", ...}
  };
  std::vector<AgentOp> ops;
};

// A stopping task its agent does not list this long past its grace is gone.
inline constexpr int64_t kStoppingMarginS = 10;

struct ControlOptions {
  FleetQueuePolicy policy = FleetQueuePolicy::kFairshare;
  PowerPolicy power = PowerPolicy::kNone;
  int64_t node_timeout_ms = 30000;
  int32_t grace_s = 10;
  int32_t master_port = 29500;
};

// How the control plane puts its things in the core's terms; the replay of
// an exported event stream (ctl/replay.h) uses the same functions.
AiJob CoreJobOf(const Fleet& fleet, const JobSubmit& spec, int64_t id, TenantId tenant, int64_t submit);
// The job that holds a draining node's free GPUs.
AiJob HoldJobOf(TenantId hold_tenant, int32_t gpus, int64_t now);
// A tenant's core settings: cohorts numbered in order of first use
// (`cohorts` grows), the rank of its name among all names of `dir`.
TenantSettings CoreTenantOf(const TenantPut& put, TenantId id, const TenantDirectory& dir,
                            std::map<std::string, int32_t>* cohorts);
// The internal tenant of holds (API names cannot start with '_').
inline constexpr const char* kHoldTenant = "_hold";
// A node's name: SITE-dDDDD-nNN (the domain's index within its site, the
// node's within its domain), for every node of the fleet in order.
std::vector<std::string> NodeNames(const Fleet& fleet);

class Control {
 public:
  // A state over `fleet` (kept by reference: it must outlive Control) from
  // a snapshot of the store (empty for a new one). `tenants_seed` seeds the
  // tenants (and their dedicated clusters) of a store that has none yet.
  static Result<std::unique_ptr<Control>> Create(const Fleet& fleet, const ControlOptions& opts,
                                                 const Snapshot& snap, const TenantsConfig* tenants_seed,
                                                 int64_t now_ms);

  // Authenticates a bearer token (empty: none): kNone when unknown.
  Principal Authenticate(std::string_view token) const;
  // Creates the first admin token of a store that has none; returns it
  // (empty if one exists). Appends to the batch.
  std::string BootstrapAdmin(int64_t now);

  // Jobs.
  Reply SubmitJob(const Principal& p, JobSubmit spec, int64_t now);
  Reply GetJob(const Principal& p, int64_t id, const std::vector<std::string>& fields) const;
  Reply ListJobs(const Principal& p, const std::vector<std::string>& states, const std::string& tenant,
                 int64_t limit, int64_t cursor, const std::vector<std::string>& fields) const;
  Reply CancelJob(const Principal& p, int64_t id, int64_t now);
  Reply Queue(const Principal& p) const;
  // Nodes.
  Reply ListNodes(const Principal& p) const;
  Reply DrainNode(const Principal& p, const std::string& name, const std::string& reason, int64_t now);
  Reply ResumeNode(const Principal& p, const std::string& name, int64_t now);
  // Agents.
  Reply AgentRegister(const Principal& p, const ctl::AgentRegister& r, int64_t now, int64_t now_ms);
  Reply AgentHeartbeat(const Principal& p, const ctl::AgentHeartbeat& h, int64_t now, int64_t now_ms);
  Reply AgentTasks(const Principal& p) const;
  Reply AgentReport(const Principal& p, const ctl::AgentReport& r, int64_t now);
  // Admin.
  Reply ListTenants(const Principal& p) const;
  Reply GetTenant(const Principal& p, const std::string& name) const;
  Reply PutTenant(const Principal& p, const std::string& name, const TenantPut& t, int64_t now);
  Reply DeleteTenant(const Principal& p, const std::string& name, int64_t now);
  Reply ListDedicated(const Principal& p) const;
  Reply CreateDedicated(const Principal& p, const DedicatedPost& d, int64_t now);
  Reply SetDedicatedWindow(const Principal& p, int64_t id, const WindowPut& w, int64_t now);
  Reply DeleteDedicated(const Principal& p, int64_t id, int64_t now);
  Reply CreateToken(const Principal& p, const TokenPost& t, int64_t now);
  Reply ListTokens(const Principal& p) const;
  Reply RevokeToken(const Principal& p, int64_t id, int64_t now);
  Reply Metrics(const Principal& p, const std::string& server_metrics) const;

  // Time passing: nodes silent past the timeout are lost, jobs past their
  // time limit fail, dedicated windows open and close, and a scheduling
  // pass runs if anything changed since the last one (or `force_pass` and
  // jobs wait). Every pass is a `pass` event. Returns whether one ran.
  bool Tick(int64_t now, int64_t now_ms, bool force_pass);
  // Every node registered with the agent counts as heard from at now_ms
  // (after a restart, so that live agents are not declared lost).
  void TouchAllNodes(int64_t now_ms);

  // The changes made since the last TakeBatch, and the events as watchers
  // see them (same order).
  bool has_changes() const { return !batch_.empty(); }
  Batch TakeBatch(std::vector<LiveEvent>* live);
  int64_t last_seq() const { return seq_; }

  // Counters for metrics and the benchmark.
  int64_t passes() const { return passes_; }
  int64_t decisions() const { return decisions_; }
  const Fleet& fleet() const { return fleet_; }
  size_t jobs_in_memory() const { return jobs_.size(); }
  // The job, or null.
  const JobRec* job(int64_t id) const;
  const NodeRec& node(int32_t n) const { return nodes_[static_cast<size_t>(n)]; }
  int32_t FindNode(std::string_view name) const;
  const FleetScheduler& core() const { return *core_; }

  // The events a tenant (or admin, or agent) may see, encoded.
  static bool Visible(const Principal& p, const StoredEvent& e);
  static std::string EventJson(const StoredEvent& e);

 private:
  Control(const Fleet& fleet, const ControlOptions& opts);
  Status LoadSnapshot(const Snapshot& snap, int64_t now_ms);
  Status SeedTenants(const TenantsConfig& cfg, int64_t now);

  // Appending changes.
  LiveEvent& Emit(int64_t now, std::string type, int64_t job, std::string tenant, std::string node,
                    std::string data);
  void PutJobRow(const JobRec& j);
  void PutNodeRow(const NodeRec& n);
  void PutTenantRow(const TenantRec& t);
  void PutTokenRow(const TokenRec& t, bool erase);
  void PutDedicatedRow(const DedicatedRec& d, bool erase);
  std::string DedicatedJson(const DedicatedRec& d) const;

  std::string JobJson(const JobRec& j, const std::vector<std::string>* fields) const;
  std::string TaskJson(const JobRec& j, int32_t rank) const;
  std::string NodeAgent(int32_t node) const { return nodes_[static_cast<size_t>(node)].agent; }
  bool CanSee(const Principal& p, const JobRec& j) const;
  TenantId TenantIdOf(const std::string& name);
  void ApplyTenantSettings(const TenantRec& t);
  AiJob CoreJob(const JobRec& j, int64_t now) const;

  // Job transitions.
  void Started(JobRec& j, int64_t now, std::vector<std::pair<int64_t, int32_t>>* dispatch);
  void StopAttempt(JobRec& j, int64_t now);  // the current attempt's tasks become stopping; kill ops
  void EndJob(JobRec& j, JobState s, int64_t now, std::string reason, const char* type);
  void Requeue(JobRec& j, int64_t now, std::string reason, const char* type);
  void TryDispatch(int32_t node, int64_t now);
  void Dispatch(JobRec& j, int32_t rank, int64_t now);
  void ReleaseGpus(int32_t node, int64_t job, const std::vector<int32_t>& gpus);
  void NodeLost(int32_t n, int64_t now, const std::string& why);
  void NodeUp(int32_t n, int64_t now);
  void UpdateHold(int32_t n, int64_t now);
  void FinishInCore(JobRec& j);
  int32_t FreeGpus(int32_t n) const;

  const Fleet& fleet_;
  ControlOptions opts_;
  std::unique_ptr<FleetScheduler> core_;
  std::vector<NodeRec> nodes_;
  std::unordered_map<std::string, int32_t> node_index_;
  std::map<int64_t, JobRec> jobs_;
  std::map<uint32_t, int64_t> ref_job_;  // core ref -> job id
  std::map<std::pair<std::string, std::string>, int64_t> request_ids_;
  std::set<std::pair<int64_t, int64_t>> deadlines_;  // (start + time limit, job)
  std::map<std::string, TenantRec> tenants_;
  TenantDirectory dir_;
  std::map<std::string, int32_t> cohorts_;
  TenantId hold_tenant_ = 0;
  std::map<int64_t, TokenRec> tokens_;
  std::map<int64_t, DedicatedRec> dedicated_;
  int64_t next_dedicated_ = 1;
  std::unordered_map<std::string, int64_t> token_by_hash_;
  int64_t next_job_ = 1, next_token_ = 1;
  int64_t seq_ = 0;
  int64_t passes_ = 0, decisions_ = 0;
  bool dirty_ = true;
  // No up or draining node's heartbeat deadline (its last heartbeat + the
  // node timeout) is before this: Tick scans the nodes only once the clock
  // passes it, so a turn costs O(1) in the fleet's size, not O(nodes).
  // Lowered (Watch) whenever a node's deadline may be earlier.
  int64_t heartbeat_check_ms_ = INT64_MIN;
  void Watch(const NodeRec& rec) {
    heartbeat_check_ms_ = std::min(heartbeat_check_ms_, rec.last_heartbeat_ms + opts_.node_timeout_ms);
  }
  // The node's agent was heard from at now_ms.
  void Heard(NodeRec& rec, int64_t now_ms) {
    rec.last_heartbeat_ms = now_ms;
    Watch(rec);
  }
  Batch batch_;
  std::vector<LiveEvent> live_;
  std::map<std::string, size_t> job_row_index_;  // dedupe row puts within a batch
  std::set<int64_t> active_;  // pending or running jobs
};

}  // namespace rackscale::ctl
