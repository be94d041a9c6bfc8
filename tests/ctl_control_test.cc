// The live control plane's state machine (ctl/control.h) driven directly,
// as the server's core thread drives it: submissions, passes, agents'
// reports, cancellation and preemption with GPUs held until the old task
// is gone, lost nodes, drains, time limits, tenant isolation, and a restart
// from what the store holds giving the same state and the same decisions.
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ctl/control.h"
#include "ctl/replay.h"
#include "model/fleet.h"

namespace rackscale::ctl {
namespace {

using json = nlohmann::json;

// One site, one block of 4 HGX nodes (8 GPUs each, one node per domain).
const char* kFleet = R"(
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
  count = 4
)";

// The store in memory: rows by table and key, events in order (what the
// SQLite store keeps, without the disk).
class MemStore {
 public:
  void Commit(const Batch& b) {
    for (const StoredEvent& e : b.events) {
      ASSERT_EQ(e.seq, last_ + 1);
      last_ = e.seq;
      events.push_back(e);
    }
    for (const RowChange& r : b.rows) {
      auto& t = tables_[static_cast<int>(r.table)];
      if (r.erase) {
        t.erase(r.key);
      } else {
        t[r.key] = r.body;
      }
    }
  }
  Snapshot Load() const {
    Snapshot s;
    auto rows = [&](Table t) {
      std::vector<StoredRow> out;
      auto it = tables_.find(static_cast<int>(t));
      if (it == tables_.end()) return out;
      for (const auto& [k, v] : it->second) out.push_back({k, v});
      return out;
    };
    s.jobs = rows(Table::kJob);
    std::sort(s.jobs.begin(), s.jobs.end(),
              [](const StoredRow& a, const StoredRow& b) { return std::stoll(a.key) < std::stoll(b.key); });
    s.nodes = rows(Table::kNode);
    s.tenants = rows(Table::kTenant);
    s.tokens = rows(Table::kToken);
    s.last_seq = last_;
    return s;
  }
  std::vector<StoredEvent> events;

 private:
  std::map<int, std::map<std::string, std::string>> tables_;
  int64_t last_ = 0;
};

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = ParseFleetToml(kFleet, "ctl.toml");
    ASSERT_TRUE(f.ok()) << f.error().ToString();
    fleet_ = std::move(*f);
    Restart();
    admin_ = Principal{Role::kAdmin, "", "", 1};
    for (const char* t : {"a", "b"}) {
      Reply r = c_->PutTenant(admin_, t, TenantPut{}, now_);
      ASSERT_EQ(r.status, 201) << r.body;
    }
    ta_ = Principal{Role::kTenant, "a", "", 2};
    tb_ = Principal{Role::kTenant, "b", "", 3};
    agent_ = Principal{Role::kAgent, "", "ag", 4};
    AgentRegister reg;
    for (int n = 0; n < 4; ++n) reg.nodes.push_back({fmt::format("east-d{:04}-n00", n), 8, "H100", ""});
    ASSERT_EQ(c_->AgentRegister(agent_, reg, now_, now_ * 1000).status, 200);
    Commit();
  }

  // A restart: a fresh Control from what the store holds.
  void Restart() {
    ControlOptions o;
    o.policy = policy_;
    o.node_timeout_ms = 30000;
    auto c = Control::Create(fleet_, o, store_.Load(), nullptr, now_ * 1000);
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    c_ = std::move(*c);
  }

  // Commits the pending batch; returns the agent operations it carries.
  std::vector<json> Commit() {
    std::vector<LiveEvent> live;
    Batch b = c_->TakeBatch(&live);
    store_.Commit(b);
    std::vector<json> ops;
    for (const LiveEvent& e : live) {
      for (const auto& op : e.ops) ops.push_back(json::parse(op.json));
    }
    return ops;
  }

  int64_t Submit(const Principal& p, int32_t gpus, int32_t priority = 0, bool preemptible = false,
                 int64_t limit = 3600, int64_t checkpoint = 0) {
    JobSubmit s;
    s.gpus = gpus;
    s.priority = priority;
    s.preemptible = preemptible;
    s.time_limit_s = limit;
    s.checkpoint_s = checkpoint;
    s.command = {"true"};
    Reply r = c_->SubmitJob(p, s, now_);
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body).value("id", int64_t{0});
  }

  std::vector<json> Pass() {
    c_->Tick(now_, now_ * 1000, true);
    return Commit();
  }

  json Job(int64_t id) {
    Reply r = c_->GetJob(admin_, id, {});
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

  void Report(int64_t job, int32_t attempt, int32_t rank, const std::string& state, int32_t code = 0) {
    AgentReport r;
    r.reports.push_back(TaskReport{TaskRef{job, attempt, rank}, state, code, 0, ""});
    Reply rep = c_->AgentReport(agent_, r, now_);
    ASSERT_EQ(rep.status, 200) << rep.body;
  }

  Fleet fleet_;
  MemStore store_;
  std::unique_ptr<Control> c_;
  FleetQueuePolicy policy_ = FleetQueuePolicy::kFairshare;
  int64_t now_ = 1000000;
  Principal admin_, ta_, tb_, agent_;
};

TEST_F(ControlTest, JobRunsToSuccess) {
  const int64_t id = Submit(ta_, 16);
  Commit();
  EXPECT_EQ(Job(id)["state"], "pending");
  std::vector<json> ops = Pass();
  json j = Job(id);
  ASSERT_EQ(j["state"], "running");
  ASSERT_EQ(j["placement"].size(), 2u);  // 16 GPUs: two whole nodes
  ASSERT_EQ(ops.size(), 2u);
  for (const json& op : ops) {
    EXPECT_EQ(op["op"], "run");
    EXPECT_EQ(op["task"]["world_size"], 16);
    EXPECT_EQ(op["task"]["nnodes"], 2);
    EXPECT_EQ(op["task"]["gpus"].size(), 8u);
  }
  Report(id, 1, 0, "running");
  Report(id, 1, 1, "running");
  Report(id, 1, 0, "exited", 0);
  Commit();
  EXPECT_EQ(Job(id)["state"], "running");
  Report(id, 1, 1, "exited", 0);
  Commit();
  j = Job(id);
  EXPECT_EQ(j["state"], "succeeded");
  EXPECT_EQ(j["exit_code"], 0);
}

TEST_F(ControlTest, FailingRankFailsTheGangAndKillsTheRest) {
  const int64_t id = Submit(ta_, 16);
  Pass();
  Report(id, 1, 0, "exited", 3);
  std::vector<json> ops = Commit();
  json j = Job(id);
  EXPECT_EQ(j["state"], "failed");
  EXPECT_EQ(j["exit_code"], 3);
  ASSERT_EQ(ops.size(), 1u);  // rank 1 is told to stop
  EXPECT_EQ(ops[0]["op"], "kill");
  EXPECT_EQ(ops[0]["rank"], 1);
}

TEST_F(ControlTest, CancelledTaskHoldsItsGpusUntilItExits) {
  // Fill the fleet, cancel one job, and check the job that takes its GPUs
  // is dispatched only once the cancelled task reported its exit.
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(Submit(ta_, 8));
  Pass();
  const int64_t next = Submit(tb_, 8);
  Pass();
  EXPECT_EQ(Job(next)["state"], "pending");
  ASSERT_EQ(c_->CancelJob(ta_, ids[0], now_).status, 200);
  std::vector<json> ops = Commit();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0]["op"], "kill");
  ops = Pass();
  json j = Job(next);
  ASSERT_EQ(j["state"], "running");  // the core reuses the capacity at once
  EXPECT_EQ(j["placement"][0]["phase"], "waiting");
  EXPECT_TRUE(ops.empty()) << "dispatched while the cancelled task still holds the GPUs";
  Report(ids[0], 1, 0, "exited", 143);
  ops = Commit();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0]["op"], "run");
  EXPECT_EQ(ops[0]["task"]["job"], next);
  EXPECT_EQ(Job(next)["placement"][0]["phase"], "dispatched");
  EXPECT_EQ(Job(ids[0])["state"], "cancelled");
}

TEST_F(ControlTest, TenantsSeeOnlyTheirOwnJobs) {
  const int64_t id = Submit(ta_, 8);
  Commit();
  EXPECT_EQ(c_->GetJob(tb_, id, {}).status, 404);
  EXPECT_EQ(c_->CancelJob(tb_, id, now_).status, 404);
  EXPECT_EQ(c_->GetJob(Principal{}, id, {}).status, 401);
  EXPECT_EQ(c_->GetJob(agent_, id, {}).status, 404);
  json list = json::parse(c_->ListJobs(tb_, {}, "", 100, 0, {}).body);
  EXPECT_TRUE(list["jobs"].empty());
  EXPECT_EQ(c_->ListJobs(tb_, {}, "a", 100, 0, {}).status, 403);
  JobSubmit s;
  s.gpus = 1;
  s.time_limit_s = 60;
  s.tenant = "a";
  EXPECT_EQ(c_->SubmitJob(tb_, s, now_).status, 403);
  EXPECT_EQ(c_->SubmitJob(agent_, s, now_).status, 403);
  // Admin-only routes.
  EXPECT_EQ(c_->PutTenant(ta_, "c", TenantPut{}, now_).status, 403);
  EXPECT_EQ(c_->CreateToken(ta_, TokenPost{"tenant", "a", ""}, now_).status, 403);
  EXPECT_EQ(c_->DrainNode(ta_, "east-d0000-n00", "", now_).status, 403);
  EXPECT_EQ(c_->Metrics(ta_, "").status, 403);
  // Agents' routes.
  AgentReport rep;
  rep.reports.push_back(TaskReport{TaskRef{id, 1, 0}, "exited", 0, 0, ""});
  EXPECT_EQ(c_->AgentReport(ta_, rep, now_).status, 403);
  EXPECT_EQ(c_->AgentTasks(ta_).status, 403);
}

TEST_F(ControlTest, RequestIdMakesSubmissionIdempotent) {
  JobSubmit s;
  s.gpus = 1;
  s.time_limit_s = 60;
  s.request_id = "r-1";
  Reply r1 = c_->SubmitJob(ta_, s, now_);
  Reply r2 = c_->SubmitJob(ta_, s, now_);
  EXPECT_EQ(r1.status, 201);
  EXPECT_EQ(r2.status, 200);
  EXPECT_EQ(json::parse(r1.body)["id"], json::parse(r2.body)["id"]);
  Commit();
  Restart();
  Reply r3 = c_->SubmitJob(ta_, s, now_);
  EXPECT_EQ(r3.status, 200);
  EXPECT_EQ(json::parse(r3.body)["id"], json::parse(r1.body)["id"]);
}

TEST_F(ControlTest, JobsBeyondTheFleetAreRefused) {
  JobSubmit s;
  s.gpus = 33;
  s.time_limit_s = 60;
  Reply r = c_->SubmitJob(ta_, s, now_);
  EXPECT_EQ(r.status, 409) << r.body;
  s.gpus = 8;
  s.gpu_model = "B200";
  EXPECT_EQ(c_->SubmitJob(ta_, s, now_).status, 400);
  EXPECT_FALSE(c_->has_changes());  // refused commands change nothing
}

TEST_F(ControlTest, LostNodeRequeuesCheckpointedWorkAndFailsTheRest) {
  const int64_t ckpt = Submit(ta_, 8, 0, false, 3600, 600);
  const int64_t plain = Submit(ta_, 8);
  Pass();
  const std::string n0 = Job(ckpt)["placement"][0]["node"];
  const std::string n1 = Job(plain)["placement"][0]["node"];
  // Every node but n0 and n1 keeps heartbeating; those two fall silent.
  now_ += 31;
  AgentHeartbeat hb;
  for (int n = 0; n < 4; ++n) {
    const std::string name = fmt::format("east-d{:04}-n00", n);
    if (name != n0 && name != n1) hb.nodes.push_back(name);
  }
  ASSERT_EQ(c_->AgentHeartbeat(agent_, hb, now_, now_ * 1000).status, 200);
  Pass();
  json a = Job(ckpt), b = Job(plain);
  EXPECT_EQ(b["state"], "failed");
  EXPECT_NE(b["reason"].get<std::string>().find("lost"), std::string::npos);
  // The checkpointed job waits again and starts on a surviving node.
  EXPECT_EQ(a["state"], "running");
  EXPECT_EQ(a["attempt"], 2);
  EXPECT_NE(a["placement"][0]["node"], n0);
  json nodes = json::parse(c_->ListNodes(admin_).body);
  int lost = 0;
  for (const json& n : nodes["nodes"]) lost += n["state"] == "lost";
  EXPECT_EQ(lost, 2);
  // A report of the old attempt changes nothing.
  Report(ckpt, 1, 0, "exited", 0);
  Commit();
  EXPECT_EQ(Job(ckpt)["state"], "running");
}

// Tick scans the nodes only once the clock passes the earliest heartbeat
// deadline it knows of; a node is still lost on the first tick past its own
// (last heartbeat + 30 s), whatever moved the others', and a drained node
// whose agent fell silent is lost on the first tick after it is resumed.
TEST_F(ControlTest, ASilentNodeIsLostOnTheFirstTickPastItsDeadline) {
  auto state = [&](const std::string& name) {
    const json all = json::parse(c_->ListNodes(admin_).body);
    for (const json& n : all["nodes"]) {
      if (n["name"] == name) return n["state"].get<std::string>();
    }
    return std::string("?");
  };
  auto beat = [&](std::vector<std::string> names, int64_t ms) {
    AgentHeartbeat hb;
    hb.nodes = std::move(names);
    ASSERT_EQ(c_->AgentHeartbeat(agent_, hb, ms / 1000, ms).status, 200);
  };
  const std::string n0 = "east-d0000-n00", n1 = "east-d0001-n00", n2 = "east-d0002-n00", n3 = "east-d0003-n00";
  const int64_t t0 = now_ * 1000;  // every node's last heartbeat (SetUp)
  ASSERT_EQ(c_->DrainNode(admin_, n3, "maintenance", now_).status, 200);  // idle: drained at once
  c_->Tick(now_, t0 + 1, false);
  ASSERT_EQ(state(n3), "drained");
  beat({n0, n1, n2}, t0 + 20000);  // n3 is silent from here on
  beat({n1, n2}, t0 + 25000);
  c_->Tick(now_, t0 + 30001, false);  // n0's deadline is t0 + 50000
  EXPECT_EQ(state(n0), "up");
  c_->Tick(now_, t0 + 50000, false);
  EXPECT_EQ(state(n0), "up");
  c_->Tick(now_, t0 + 50001, false);  // the first tick past it
  EXPECT_EQ(state(n0), "lost");
  EXPECT_EQ(state(n1), "up");  // until t0 + 55000
  beat({n1, n2}, t0 + 54000);  // both move on to t0 + 84000
  c_->Tick(now_, t0 + 60000, false);
  EXPECT_EQ(state(n1), "up");
  // n3's agent has been silent since t0: resumed, it is past its deadline.
  ASSERT_EQ(c_->ResumeNode(admin_, n3, now_).status, 200);
  c_->Tick(now_, t0 + 60001, false);
  EXPECT_EQ(state(n3), "lost");
  EXPECT_EQ(state(n1), "up");
  c_->Tick(now_, t0 + 84001, false);
  EXPECT_EQ(state(n1), "lost");
  EXPECT_EQ(state(n2), "lost");
}

TEST_F(ControlTest, DrainKeepsRunningWorkAndTakesNoNewWork) {
  const int64_t id = Submit(ta_, 4);
  Pass();
  const std::string node = Job(id)["placement"][0]["node"];
  ASSERT_EQ(c_->DrainNode(admin_, node, "maintenance", now_).status, 200);
  Commit();
  // 4 GPUs are free on the draining node; a 4-GPU job must go elsewhere.
  const int64_t other = Submit(tb_, 4);
  Pass();
  EXPECT_NE(Job(other)["placement"][0]["node"], node);
  Report(id, 1, 0, "exited", 0);
  Commit();
  json nodes = json::parse(c_->ListNodes(admin_).body);
  for (const json& n : nodes["nodes"]) {
    if (n["name"] == node) {
      EXPECT_EQ(n["state"], "drained");
    }
  }
  // Three nodes up, one of them half used: 8 + 8 + 4 free. A 8-GPU job fits,
  // but the drained node takes none.
  for (int i = 0; i < 3; ++i) Submit(tb_, 8);
  Pass();
  json list = json::parse(c_->ListJobs(admin_, {"running"}, "", 100, 0, {}).body);
  for (const json& j : list["jobs"]) EXPECT_NE(j["placement"][0]["node"], node);
  ASSERT_EQ(c_->ResumeNode(admin_, node, now_).status, 200);
  Pass();
  list = json::parse(c_->ListJobs(admin_, {"pending"}, "", 100, 0, {}).body);
  EXPECT_EQ(list["jobs"].size(), 0u);
}

TEST_F(ControlTest, TimeLimitFailsTheJob) {
  const int64_t id = Submit(ta_, 8, 0, false, 60);
  Pass();
  now_ += 61;
  AgentHeartbeat hb;  // the nodes are alive: it is the limit that ends the job
  for (int n = 0; n < 4; ++n) hb.nodes.push_back(fmt::format("east-d{:04}-n00", n));
  ASSERT_EQ(c_->AgentHeartbeat(agent_, hb, now_, now_ * 1000).status, 200);
  std::vector<json> ops = Pass();
  json j = Job(id);
  EXPECT_EQ(j["state"], "failed");
  EXPECT_NE(j["reason"].get<std::string>().find("time limit"), std::string::npos);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0]["op"], "kill");
}

TEST_F(ControlTest, RestartResumesTheSameStateAndDecisions) {
  // Some history: running, pending, finished, cancelled jobs, a drained
  // node; then a restart from the store, and the same next decisions from
  // the restarted state as from the original.
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(Submit(i % 2 ? tb_ : ta_, 4 + 4 * (i % 2)));
  Pass();
  Report(ids[0], 1, 0, "running");
  Report(ids[0], 1, 0, "exited", 0);
  ASSERT_EQ(c_->CancelJob(admin_, ids[1], now_).status, 200);
  Commit();
  auto dump = [&](Control& c) {
    std::string s = c.ListJobs(admin_, {}, "", 1000, 0, {}).body + c.ListNodes(admin_).body + c.Queue(admin_).body;
    return s;
  };
  const std::string before = dump(*c_);
  Restart();
  EXPECT_EQ(dump(*c_), before);
  // Same next decisions on both.
  MemStore copy = store_;
  auto o = c_->last_seq();
  now_ += 5;
  Report(ids[1], 1, 0, "exited", 143);
  std::vector<json> a = Pass();
  const std::string after_a = dump(*c_);
  store_ = copy;
  Restart();
  EXPECT_EQ(c_->last_seq(), o);
  Report(ids[1], 1, 0, "exited", 143);
  std::vector<json> b = Pass();
  EXPECT_EQ(a, b);
  EXPECT_EQ(dump(*c_), after_a);
}

TEST_F(ControlTest, PreemptionWaitsForTheVictimToExit) {
  policy_ = FleetQueuePolicy::kPriority;
  Restart();
  std::vector<int64_t> low;
  for (int i = 0; i < 4; ++i) low.push_back(Submit(ta_, 8, 0, true));
  Pass();
  const int64_t high = Submit(tb_, 8, 10);
  std::vector<json> ops = Pass();
  json h = Job(high);
  ASSERT_EQ(h["state"], "running");
  int kills = 0, runs = 0;
  for (const json& op : ops) (op["op"] == "kill" ? kills : runs) += 1;
  EXPECT_EQ(kills, 1);
  EXPECT_EQ(runs, 0);  // the victim still holds the GPUs
  int64_t victim = 0;
  for (int64_t id : low) {
    if (Job(id)["state"] == "pending") victim = id;
  }
  ASSERT_NE(victim, 0);
  EXPECT_EQ(Job(victim)["attempt"], 1);
  Report(victim, 1, 0, "exited", 143);
  ops = Commit();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0]["task"]["job"], high);
}

TEST_F(ControlTest, HeartbeatKillsWhatTheServerDoesNotWant) {
  const int64_t id = Submit(ta_, 8);
  Pass();
  AgentHeartbeat hb;
  hb.nodes = {"east-d0000-n00"};
  hb.running = {TaskRef{id, 1, 0}, TaskRef{999, 1, 0}};
  Reply r = c_->AgentHeartbeat(agent_, hb, now_, now_ * 1000);
  ASSERT_EQ(r.status, 200);
  json k = json::parse(r.body)["kill"];
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0]["job"], 999);
  // Another agent cannot heartbeat these nodes or report their tasks.
  Principal other{Role::kAgent, "", "other", 9};
  EXPECT_EQ(c_->AgentHeartbeat(other, hb, now_, now_ * 1000).status, 404);
  AgentReport rep;
  rep.reports.push_back(TaskReport{TaskRef{id, 1, 0}, "exited", 0, 0, ""});
  EXPECT_EQ(c_->AgentReport(other, rep, now_).status, 403);
  // Registering a node with the wrong inventory is refused, naming the field.
  AgentRegister reg;
  reg.nodes.push_back({"east-d0001-n00", 4, "H100", ""});
  Reply bad = c_->AgentRegister(agent_, reg, now_, now_ * 1000);
  EXPECT_EQ(bad.status, 409);
  EXPECT_EQ(json::parse(bad.body)["error"]["field"], "nodes[0].gpus");
}

}  // namespace
}  // namespace rackscale::ctl

namespace rackscale::ctl {
namespace {

// The events a store holds, as GET /v1/export writes them.
std::string ExportText(const MemStore& s) {
  std::string out;
  for (const StoredEvent& e : s.events) out += Control::EventJson(e) + "\n";
  return out;
}

// A random workload through the state machine -- submissions of every
// size, agents' reports, cancellations, drains and resumes, nodes lost and
// back, restarts from the store -- then the export replayed on a fresh core:
// every pass's decisions and every placement must be the server's.
class ReplayTest : public ControlTest, public ::testing::WithParamInterface<int> {};

TEST_P(ReplayTest, RandomHistoryReplaysDecisionForDecision) {
  policy_ = GetParam() == 0 ? FleetQueuePolicy::kFairshare
                            : GetParam() == 1 ? FleetQueuePolicy::kPriority : FleetQueuePolicy::kEasy;
  // Rebuild from an empty store with this policy.
  store_ = MemStore();
  Restart();
  Commit();
  for (const char* t : {"a", "b"}) ASSERT_EQ(c_->PutTenant(admin_, t, TenantPut{}, now_).status, 201);
  AgentRegister reg;
  for (int n = 0; n < 4; ++n) reg.nodes.push_back({fmt::format("east-d{:04}-n00", n), 8, "H100", ""});
  ASSERT_EQ(c_->AgentRegister(agent_, reg, now_, now_ * 1000).status, 200);
  Commit();
  std::mt19937 rng(1234 + GetParam());
  std::vector<int64_t> ids;
  int restarts = 0;
  for (int step = 0; step < 1500; ++step) {
    now_ += rng() % 3;
    const int what = static_cast<int>(rng() % 100);
    if (what < 35) {
      JobSubmit s;
      s.gpus = std::vector<int>{1, 2, 4, 8, 16}[rng() % 5];
      s.time_limit_s = 30 + rng() % 200;
      s.priority = static_cast<int32_t>(rng() % 3);
      s.preemptible = rng() % 2;
      s.checkpoint_s = rng() % 2 ? 60 : 0;
      Reply r = c_->SubmitJob(rng() % 2 ? ta_ : tb_, s, now_);
      if (r.status == 201) ids.push_back(json::parse(r.body)["id"]);
    } else if (what < 70 && !ids.empty()) {
      // An agent reports on a task of a random job: running, or exited.
      const int64_t id = ids[rng() % ids.size()];
      json j = json::parse(c_->GetJob(admin_, id, {}).body);
      if (j["state"] == "running" && !j["placement"].empty()) {
        const int rank = static_cast<int>(rng() % j["placement"].size());
        if (j["placement"][rank]["phase"] != "waiting") {
          Report(id, j["attempt"], rank, rng() % 3 ? "exited" : "running", rng() % 10 == 0 ? 1 : 0);
        }
      }
      // Stopping tasks of cancelled or preempted attempts exit too.
      for (size_t x = ids.size() > 40 ? ids.size() - 40 : 0; x < ids.size(); ++x) {
        const int64_t k = ids[x];
        json o = json::parse(c_->GetJob(admin_, k, {}).body);
        if (o["attempt"].get<int>() > 1 || o["state"] == "cancelled" || o["state"] == "failed") {
          for (int a = 1; a <= o["attempt"].get<int>(); ++a) {
            AgentReport rep;
            rep.reports.push_back(TaskReport{TaskRef{k, a, 0}, "exited", 143, 0, ""});
            rep.reports.push_back(TaskReport{TaskRef{k, a, 1}, "exited", 143, 0, ""});
            (void)c_->AgentReport(agent_, rep, now_);
          }
        }
      }
    } else if (what < 78 && !ids.empty()) {
      (void)c_->CancelJob(admin_, ids[rng() % ids.size()], now_);
    } else if (what < 82) {
      const std::string node = fmt::format("east-d{:04}-n00", rng() % 4);
      if (rng() % 2) {
        (void)c_->DrainNode(admin_, node, "", now_);
      } else {
        (void)c_->ResumeNode(admin_, node, now_);
      }
    } else if (what < 85) {
      // Every node but one heartbeats past the timeout: that one is lost;
      // later its agent registers it again.
      const int quiet = static_cast<int>(rng() % 4);
      now_ += 31;
      AgentHeartbeat hb;
      for (int n = 0; n < 4; ++n) {
        if (n != quiet) hb.nodes.push_back(fmt::format("east-d{:04}-n00", n));
      }
      (void)c_->AgentHeartbeat(agent_, hb, now_, now_ * 1000);
      c_->Tick(now_, now_ * 1000, true);
      AgentRegister again;
      again.nodes.push_back({fmt::format("east-d{:04}-n00", quiet), 8, "H100", ""});
      Commit();
      now_ += 1;
      (void)c_->AgentRegister(agent_, again, now_, now_ * 1000);
    } else if (what < 88) {
      Commit();
      Restart();
      ++restarts;
    }
    // Keep every node heard from, then a pass.
    AgentHeartbeat hb;
    for (int n = 0; n < 4; ++n) hb.nodes.push_back(fmt::format("east-d{:04}-n00", n));
    (void)c_->AgentHeartbeat(agent_, hb, now_, now_ * 1000);
    c_->Tick(now_, now_ * 1000, rng() % 2);
    Commit();
  }
  if (const char* dump = std::getenv("RACKSCALE_DUMP_EXPORT")) std::ofstream(dump) << ExportText(store_);
  auto events = ParseExport(ExportText(store_), "export.jsonl");
  ASSERT_TRUE(events.ok()) << events.error().ToString();
  auto r = ReplayOnCore(fleet_, *events, "export.jsonl");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_GT(r->decisions, 80);
  EXPECT_GT(r->restarts, 5);
  EXPECT_EQ(r->mismatches, 0) << (r->differences.empty() ? "" : r->differences[0]);
  // And the export is a trace the simulator reads: the jobs that ran.
  int64_t left_out = 0;
  auto w = ExportToWorkload(*events, "export.jsonl", &left_out);
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  EXPECT_GT(w->jobs.size(), 20u);
}

INSTANTIATE_TEST_SUITE_P(Policies, ReplayTest, ::testing::Values(0, 1, 2));

}  // namespace
}  // namespace rackscale::ctl
