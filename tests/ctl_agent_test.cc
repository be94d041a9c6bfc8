// The agent: the task runner (real tasks as child processes), its journal
// and state file, and the agent's loop against an in-process fake server.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "ctl/agent.h"
#include "ctl/task_runner.h"
#include "ctl/tokens.h"
#include "test_util.h"

namespace rackscale::ctl {
namespace {

using std::chrono::milliseconds;

Task ShellTask(int64_t job, int32_t rank, const std::string& script, std::vector<int32_t> gpus = {}) {
  Task t;
  t.ref = TaskRef{job, 1, rank};
  t.node = "east-d0000-n00";
  t.gpus = std::move(gpus);
  t.world_size = 16;
  t.nnodes = 2;
  t.master_addr = "10.1.2.3";
  t.master_port = 29511;
  t.command = {"sh", "-c", script};
  t.tenant = "t0";
  return t;
}

bool Alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return false;
  const size_t rp = text.rfind(')');
  return rp != std::string::npos && rp + 2 < text.size() && text[rp + 2] != 'Z' && text[rp + 2] != 'X';
}

pid_t ReadPid(const std::string& path) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(path);
    pid_t pid = 0;
    if (in >> pid && pid > 0) return pid;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return 0;
}

class CtlTaskRunner : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir();
    state_ = dir_ + "/state";
    logs_ = dir_ + "/logs";
    ASSERT_TRUE(MakePrivateDirs(state_).ok());
    Reopen();
  }

  // A fresh journal and runner over the same directories: the agent restarted.
  void Reopen() {
    runner_.reset();
    auto j = Journal::Open(state_);
    ASSERT_TRUE(j.ok()) << j.error().ToString();
    journal_ = std::move(*j);
    runner_ = std::make_unique<TaskRunner>(state_, logs_, journal_.get());
  }

  // Polls until `ref` ends (at most `limit`); its exit, or exit_code -2.
  TaskExit WaitExit(const TaskRef& ref, milliseconds limit = milliseconds(5000)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      for (const TaskExit& e : runner_->Poll()) exits_.push_back(e);
      for (auto it = exits_.begin(); it != exits_.end(); ++it) {
        if (it->ref == ref) {
          const TaskExit e = *it;
          exits_.erase(it);
          return e;
        }
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return TaskExit{ref, -2, 0, ""};
  }

  std::vector<JournalRecord> JournalLines() {
    std::ifstream in(state_ + "/journal.jsonl");
    std::vector<JournalRecord> out;
    for (std::string line; std::getline(in, line);) {
      JournalRecord r;
      EXPECT_TRUE(Journal::Decode(line, &r)) << line;
      out.push_back(r);
    }
    return out;
  }

  std::string dir_, state_, logs_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<TaskRunner> runner_;
  std::vector<TaskExit> exits_;
};

TEST_F(CtlTaskRunner, EnvironmentLogsAndDescriptors) {
  // A descriptor the agent holds without O_CLOEXEC must not reach the task.
  const int leak = ::fcntl(0, F_DUPFD, 77);
  ASSERT_GE(leak, 77);
  ::setenv("RACKSCALE_TEST_INHERITED", "yes", 1);
  Task t = ShellTask(42, 1,
                     "echo \"$CUDA_VISIBLE_DEVICES|$RACKSCALE_JOB_ID|$RACKSCALE_ATTEMPT|$RACKSCALE_RANK|"
                     "$RACKSCALE_NNODES|$RACKSCALE_WORLD_SIZE|$RACKSCALE_TENANT|$MASTER_ADDR|$MASTER_PORT|"
                     "$NODE_RANK|$NNODES|$WORLD_SIZE|$EPOCHS|$RACKSCALE_TEST_INHERITED\"; "
                     "test -e /proc/$$/fd/" +
                         std::to_string(leak) +
                         " && echo leaked; "
                         "readlink /proc/$$/fd/0; echo oops >&2; "
                         "test $(cut -d' ' -f5 /proc/$$/stat) -eq $$ && echo own-group",
                     {2, 5});
  t.env = {{"EPOCHS", "3"}, {"CUDA_VISIBLE_DEVICES", "0,1,2,3"}};  // the task cannot widen its GPUs
  auto log = runner_->Start(t);
  ::close(leak);
  ::unsetenv("RACKSCALE_TEST_INHERITED");
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  EXPECT_EQ(*log, logs_ + "/42/1-1.out");
  EXPECT_TRUE(runner_->Running(t.ref));
  const TaskExit e = WaitExit(t.ref);
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(e.signal, 0);
  EXPECT_EQ(e.log, *log);
  EXPECT_FALSE(runner_->Running(t.ref));
  EXPECT_EQ(testing::Slurp(*log), "2,5|42|1|1|2|16|t0|10.1.2.3|29511|1|2|16|3|yes\n/dev/null\nown-group\n");
  EXPECT_EQ(testing::Slurp(logs_ + "/42/1-1.err"), "oops\n");
  struct stat st;
  ASSERT_EQ(::stat(log->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640);
  ASSERT_EQ(::stat((logs_ + "/42").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750);

  // No GPUs: CUDA_VISIBLE_DEVICES is set, empty.
  Task cpu = ShellTask(43, 0, "echo \"[${CUDA_VISIBLE_DEVICES-unset}]\"");
  ASSERT_TRUE(runner_->Start(cpu).ok());
  EXPECT_EQ(WaitExit(cpu.ref).exit_code, 0);
  EXPECT_EQ(testing::Slurp(logs_ + "/43/1-0.out"), "[]\n");
}

TEST_F(CtlTaskRunner, ExitCodesAndSignals) {
  const Task three = ShellTask(1, 0, "exit 3");
  const Task killed = ShellTask(2, 0, "kill -9 $$");
  Task missing = ShellTask(3, 0, "");
  missing.command = {"rackscale-no-such-command"};
  for (const Task* t : std::initializer_list<const Task*>{&three, &killed, &missing})
    ASSERT_TRUE(runner_->Start(*t).ok());
  EXPECT_FALSE(runner_->Start(three).ok());  // already running (or not yet reaped)
  TaskExit e = WaitExit(three.ref);
  EXPECT_EQ(e.exit_code, 3);
  e = WaitExit(killed.ref);
  EXPECT_EQ(e.exit_code, 137);
  EXPECT_EQ(e.signal, SIGKILL);
  e = WaitExit(missing.ref);
  EXPECT_EQ(e.exit_code, 127);
  EXPECT_NE(testing::Slurp(logs_ + "/3/1-0.err").find("cannot run 'rackscale-no-such-command'"), std::string::npos);
  Task empty = ShellTask(4, 0, "");
  empty.command.clear();
  EXPECT_FALSE(runner_->Start(empty).ok());
  EXPECT_EQ(runner_->size(), 0u);
}

TEST_F(CtlTaskRunner, KillSendsTermThenKillAfterTheGrace) {
  const Task polite = ShellTask(1, 0, "sleep 30");
  const Task stubborn = ShellTask(2, 0, "trap '' TERM; sleep 30");
  ASSERT_TRUE(runner_->Start(polite).ok());
  ASSERT_TRUE(runner_->Start(stubborn).ok());
  std::this_thread::sleep_for(milliseconds(100));  // the traps are set
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(runner_->Kill(polite.ref, 10));
  EXPECT_TRUE(runner_->Kill(stubborn.ref, 1));
  EXPECT_TRUE(runner_->Kill(stubborn.ref, 20));  // a later, longer grace does not postpone the SIGKILL
  EXPECT_FALSE(runner_->Kill(TaskRef{99, 1, 0}, 1));
  TaskExit e = WaitExit(polite.ref);
  EXPECT_EQ(e.exit_code, 143);
  EXPECT_EQ(e.signal, SIGTERM);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(800));
  EXPECT_TRUE(runner_->Running(stubborn.ref));  // ignores SIGTERM, within its grace
  e = WaitExit(stubborn.ref);
  EXPECT_EQ(e.exit_code, 137);
  EXPECT_EQ(e.signal, SIGKILL);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(1000));
}

TEST_F(CtlTaskRunner, TheWholeProcessGroupDies) {
  // Killed: the grandchild too, though it ignores SIGTERM.
  const Task killed = ShellTask(1, 0, "(trap '' TERM; exec sleep 30) & echo $! > " + dir_ + "/g1; wait");
  // Ended on its own, leaving a grandchild behind: the grandchild goes with it.
  const Task left = ShellTask(2, 0, "sleep 30 & echo $! > " + dir_ + "/g2");
  ASSERT_TRUE(runner_->Start(killed).ok());
  ASSERT_TRUE(runner_->Start(left).ok());
  const pid_t g1 = ReadPid(dir_ + "/g1"), g2 = ReadPid(dir_ + "/g2");
  ASSERT_GT(g1, 0);
  ASSERT_GT(g2, 0);
  EXPECT_EQ(WaitExit(left.ref).exit_code, 0);
  EXPECT_TRUE(runner_->Kill(killed.ref, 0));
  EXPECT_EQ(WaitExit(killed.ref).signal, SIGTERM);  // the shell itself took SIGTERM
  for (int i = 0; i < 100 && (Alive(g1) || Alive(g2)); ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_FALSE(Alive(g1));
  EXPECT_FALSE(Alive(g2));
}

TEST_F(CtlTaskRunner, JournalRecordsEveryStartAndEnd) {
  const Task a = ShellTask(7, 0, "exit 0", {0, 1});
  const Task b = ShellTask(8, 1, "exit 5", {2});
  const int64_t before = UnixMillis();
  ASSERT_TRUE(runner_->Start(a).ok());
  ASSERT_TRUE(runner_->Start(b).ok());
  EXPECT_EQ(journal_->open().size(), 2u);
  WaitExit(a.ref);
  WaitExit(b.ref);
  EXPECT_TRUE(journal_->open().empty());
  const std::vector<JournalRecord> lines = JournalLines();
  ASSERT_EQ(lines.size(), 4u);
  std::map<TaskRef, int> starts, ends;
  for (const JournalRecord& r : lines) {
    EXPECT_EQ(r.node, "east-d0000-n00");
    EXPECT_GE(r.t_ms, before);
    EXPECT_LE(r.t_ms, UnixMillis());
    (r.start ? starts : ends)[r.ref]++;
    if (r.ref == b.ref) {
      EXPECT_EQ(r.gpus, std::vector<int32_t>{2});
      if (!r.start) {
        EXPECT_EQ(r.exit_code, 5);
      }
    }
  }
  EXPECT_EQ(starts.size(), 2u);
  EXPECT_EQ(ends.size(), 2u);
  EXPECT_EQ(
      testing::Slurp(state_ + "/journal.jsonl").rfind(R"({"ev":"start","job":7,"attempt":1,"rank":0,"node":"east-)", 0),
      0u);

  // A torn last line (a crash mid-write) is skipped; the ends are remembered.
  std::ofstream(state_ + "/journal.jsonl", std::ios::app) << R"({"ev":"start","job":9,"att)";
  Reopen();
  EXPECT_TRUE(journal_->open().empty());
  ASSERT_EQ(journal_->recent_ends().size(), 2u);
  for (const JournalRecord& r : journal_->recent_ends()) EXPECT_EQ(r.exit_code, r.ref == b.ref ? 5 : 0);
}

// The first agent runs in a child process that dies without a word: its
// tasks are no longer children of anyone here, as after a real restart.
TEST_F(CtlTaskRunner, AdoptsTasksOfAPreviousAgent) {
  const Task survivor = ShellTask(1, 0, "sleep 30");
  const Task dies = ShellTask(2, 0, "echo $$ > " + dir_ + "/dies; sleep 30");
  const Task gone = ShellTask(3, 0, "exit 0");
  journal_.reset();
  runner_.reset();
  const pid_t agent = ::fork();
  ASSERT_GE(agent, 0);
  if (agent == 0) {
    auto j = Journal::Open(state_);
    TaskRunner r(state_, logs_, j->get());
    const bool ok = r.Start(survivor).ok() && r.Start(dies).ok() && r.Start(gone).ok();
    std::this_thread::sleep_for(milliseconds(100));  // `gone` has exited, not reaped: still recorded
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(agent, &status, 0), agent);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const pid_t dies_pid = ReadPid(dir_ + "/dies");
  ASSERT_GT(dies_pid, 0);

  Reopen();
  EXPECT_EQ(journal_->open().size(), 3u);
  auto adopted = runner_->Adopt();
  ASSERT_TRUE(adopted.ok()) << adopted.error().ToString();
  EXPECT_EQ(*adopted, (std::vector<TaskRef>{survivor.ref, dies.ref}));
  // The one that ended while no agent ran: exited, status unknown.
  std::vector<TaskExit> exits = runner_->Poll();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].ref, gone.ref);
  EXPECT_EQ(exits[0].exit_code, -1);
  // One dies on its own; the other is killed through its recorded group.
  ::kill(dies_pid, SIGKILL);
  EXPECT_EQ(WaitExit(dies.ref).exit_code, -1);
  EXPECT_TRUE(runner_->Running(survivor.ref));
  EXPECT_TRUE(runner_->Kill(survivor.ref, 5));
  EXPECT_EQ(WaitExit(survivor.ref).exit_code, -1);
  EXPECT_TRUE(journal_->open().empty());
  const nlohmann::json state = nlohmann::json::parse(testing::Slurp(state_ + "/tasks.json"));
  EXPECT_TRUE(state["tasks"].empty());
  // A third life finds nothing to adopt.
  Reopen();
  auto again = runner_->Adopt();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  EXPECT_TRUE(runner_->Poll().empty());
}

// A recorded PID that now names another process is not adopted, and that
// process is left alone.
TEST_F(CtlTaskRunner, AReusedPidIsNotAdopted) {
  const pid_t other = ::fork();
  ASSERT_GE(other, 0);
  if (other == 0) {
    ::setpgid(0, 0);
    ::execlp("sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(other, other);
  const TaskRef ref{5, 2, 0};
  ASSERT_TRUE(journal_->Append(JournalRecord{true, ref, "n0", {0}, UnixMillis(), 0, 0}).ok());
  nlohmann::json task = {{"job", 5},     {"attempt", 2},  {"rank", 0},        {"node", "n0"},  {"gpus", {0}},
                         {"pid", other}, {"pgid", other}, {"start_ticks", 1}, {"start_ms", 0}, {"log", "x"}};
  std::ofstream(state_ + "/tasks.json") << nlohmann::json{{"tasks", {task}}}.dump();
  Reopen();
  auto adopted = runner_->Adopt();
  ASSERT_TRUE(adopted.ok());
  EXPECT_TRUE(adopted->empty());
  const std::vector<TaskExit> exits = runner_->Poll();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].exit_code, -1);
  EXPECT_TRUE(Alive(other));
  ::kill(other, SIGKILL);
  ::waitpid(other, nullptr, 0);
}

// ---------------------------------------------------------------- the agent

using Json = nlohmann::json;

// The agent routes of docs/api.md, minimally, on 127.0.0.1. Every body the
// agent sends is checked with the server's own decoders (ctl/api.h).
class FakeServer {
 public:
  // port 0: any free port.
  FakeServer(std::string token, int port = 0) : token_(std::move(token)) {
    auto auth = [this](const httplib::Request& req, httplib::Response& res) {
      if (status_override && status_override != 409) {
        res.status = status_override;
        res.set_content(R"({"error": {"code": "unauthenticated", "message": "no"}})", "application/json");
        return false;
      }
      if (req.get_header_value("Authorization") != "Bearer " + token_) {
        res.status = 401;
        return false;
      }
      return true;
    };
    srv_.Get("/v1/nodes", [this, auth](const httplib::Request& req, httplib::Response& res) {
      if (!auth(req, res)) return;
      std::lock_guard<std::mutex> l(mu);
      res.set_content(Json{{"nodes", nodes}}.dump(), "application/json");
    });
    srv_.Post("/v1/agent/register", [this, auth](const httplib::Request& req, httplib::Response& res) {
      if (!auth(req, res)) return;
      std::lock_guard<std::mutex> l(mu);
      if (status_override == 409) {
        res.status = 409;
        res.set_content(
            R"({"error": {"code": "conflict", "message": "8 GPUs in the fleet", "field": "nodes[0].gpus"}})",
            "application/json");
        return;
      }
      const Decoded<AgentRegister> d = DecodeAgentRegister(req.body);
      EXPECT_TRUE(d.ok()) << d.error.field << ": " << d.error.message;
      registers.push_back(Json::parse(req.body));
      res.set_content("{}", "application/json");
      cv.notify_all();
    });
    srv_.Get("/v1/agent/tasks", [this, auth](const httplib::Request& req, httplib::Response& res) {
      if (!auth(req, res)) return;
      std::lock_guard<std::mutex> l(mu);
      ++resyncs;
      Json list = Json::array();
      for (const Task& t : tasks) list.push_back(Json::parse(EncodeTask(t)));
      res.set_content(Json{{"seq", seq}, {"tasks", list}}.dump(), "application/json");
      cv.notify_all();
    });
    srv_.Get("/v1/agent/watch", [this, auth](const httplib::Request& req, httplib::Response& res) {
      if (!auth(req, res)) return;
      const int64_t since = std::stoll(req.get_param_value("since"));
      const int timeout = std::stoi(req.get_param_value("timeout"));
      std::unique_lock<std::mutex> l(mu);
      if (gone_once) {
        gone_once = false;
        res.status = 410;
        return;
      }
      cv.wait_for(l, std::chrono::seconds(timeout), [&] { return stopping_ || seq > since; });
      Json list = Json::array();
      for (const auto& [s, c] : changes) {
        if (s > since) list.push_back(c);
      }
      res.set_content(Json{{"seq", seq}, {"changes", list}}.dump(), "application/json");
    });
    srv_.Post("/v1/agent/heartbeat", [this, auth](const httplib::Request& req, httplib::Response& res) {
      if (!auth(req, res)) return;
      const Decoded<AgentHeartbeat> d = DecodeAgentHeartbeat(req.body);
      EXPECT_TRUE(d.ok()) << d.error.field << ": " << d.error.message;
      std::lock_guard<std::mutex> l(mu);
      heartbeats.push_back(*d.value);
      Json kill = Json::array();
      for (const TaskRef& r : heartbeat_kill)
        kill.push_back(Json{{"job", r.job}, {"attempt", r.attempt}, {"rank", r.rank}});
      res.set_content(Json{{"kill", kill}}.dump(), "application/json");
      cv.notify_all();
    });
    srv_.Post("/v1/agent/report", [this, auth](const httplib::Request& req, httplib::Response& res) {
      if (!auth(req, res)) return;
      const Decoded<AgentReport> d = DecodeAgentReport(req.body);
      EXPECT_TRUE(d.ok()) << d.error.field << ": " << d.error.message;
      std::lock_guard<std::mutex> l(mu);
      for (const TaskReport& r : d.value->reports) reports.push_back(r);
      res.set_content("{}", "application/json");
      cv.notify_all();
    });
    port_ = port == 0 ? srv_.bind_to_any_port("127.0.0.1") : (srv_.bind_to_port("127.0.0.1", port) ? port : -1);
    EXPECT_GT(port_, 0);
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    while (port_ > 0 && !srv_.is_running()) std::this_thread::sleep_for(milliseconds(1));  // else stop() is lost
  }
  ~FakeServer() { Stop(); }

  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu);
      stopping_ = true;
    }
    cv.notify_all();
    srv_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void Change(Json c) {
    std::lock_guard<std::mutex> l(mu);
    changes.emplace_back(++seq, std::move(c));
    cv.notify_all();
  }

  // Waits (at most 5 s) until `pred` holds, under the lock.
  bool WaitFor(const std::function<bool()>& pred) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(5), pred);
  }

  // The reports of `ref`, in order, as "running" or "exited EXIT/SIGNAL".
  std::vector<std::string> ReportsOf(const TaskRef& ref) {
    std::vector<std::string> out;
    for (const TaskReport& r : reports) {
      if (r.task == ref) {
        out.push_back(r.state == "running" ? "running" : fmt::format("exited {}/{}", r.exit_code, r.signal));
      }
    }
    return out;
  }
  bool Reported(const TaskRef& ref, const std::string& what) {
    for (const std::string& r : ReportsOf(ref)) {
      if (r == what) return true;
    }
    return false;
  }

  std::mutex mu;
  std::condition_variable cv;
  Json nodes = Json::array();
  std::vector<Task> tasks;
  int64_t seq = 0;
  std::vector<std::pair<int64_t, Json>> changes;
  std::vector<Json> registers;
  std::vector<AgentHeartbeat> heartbeats;
  std::vector<TaskReport> reports;
  std::vector<TaskRef> heartbeat_kill;
  int resyncs = 0;
  int status_override = 0;  // answer every request so (409: the registration only)
  bool gone_once = false;   // 410 to the next watch

 private:
  std::string token_;
  httplib::Server srv_;
  int port_ = -1;
  bool stopping_ = false;
  std::thread thread_;
};

Task EmulatedTask(int64_t job, const std::string& node, int64_t duration_s) {
  Task t;
  t.ref = TaskRef{job, 1, 0};
  t.node = node;
  t.gpus = {0, 1};
  t.world_size = 2;
  t.master_addr = "10.9.8.7";
  t.duration_s = duration_s;
  t.grace_s = 5;
  t.tenant = "t0";
  return t;
}

Json RunChange(const Task& t) { return Json{{"op", "run"}, {"task", Json::parse(EncodeTask(t))}}; }

// An agent running on its own thread, its messages kept.
class AgentThread {
 public:
  explicit AgentThread(AgentOptions o) {
    o.log = [this](const std::string& m) {
      std::lock_guard<std::mutex> l(mu_);
      log_.push_back(m);
    };
    agent_ = std::make_unique<Agent>(std::move(o));
    thread_ = std::thread([this] { end_ = agent_->Run(&message_); });
  }
  ~AgentThread() { Stop(); }
  AgentEnd Stop() {
    agent_->Stop();
    return Join();
  }
  AgentEnd Join() {
    if (thread_.joinable()) thread_.join();
    return end_;
  }
  const std::string& message() const { return message_; }
  std::string Log() {
    std::lock_guard<std::mutex> l(mu_);
    std::string all;
    for (const std::string& m : log_) all += m + "\n";
    return all;
  }

 private:
  std::unique_ptr<Agent> agent_;
  std::thread thread_;
  AgentEnd end_ = AgentEnd::kStopped;
  std::string message_;
  std::mutex mu_;
  std::vector<std::string> log_;
};

class CtlAgent : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir();
    auto t = NewToken(Role::kAgent);
    ASSERT_TRUE(t.ok());
    token_ = *t;
  }
  AgentOptions Options(const std::string& url) {
    AgentOptions o;
    o.server = url;
    o.token = token_;
    o.state_dir = dir_ + "/state";
    o.log_dir = dir_ + "/logs";
    o.heartbeat_s = 0.1;
    o.watch_timeout_s = 1;
    o.max_backoff_s = 0.1;
    return o;
  }
  std::vector<JournalRecord> JournalLines() {
    std::ifstream in(dir_ + "/state/journal.jsonl");
    std::vector<JournalRecord> out;
    for (std::string line; std::getline(in, line);) {
      JournalRecord r;
      EXPECT_TRUE(Journal::Decode(line, &r)) << line;
      out.push_back(r);
    }
    return out;
  }
  std::string dir_, token_;
};

TEST_F(CtlAgent, EmulatedNodesRegisterReconcileRunAndKill) {
  FakeServer srv(token_);
  for (int i = 0; i < 4; ++i) {
    srv.nodes.push_back(
        Json{{"name", fmt::format("east-d0000-n0{}", i)}, {"gpus", 8}, {"gpu_model", "H100"}, {"state", "unknown"}});
  }
  const Task wanted = EmulatedTask(1, "east-d0000-n01", 30);
  srv.tasks = {wanted};
  // A task of a previous life, open in the journal, that the server no longer wants.
  ASSERT_TRUE(MakePrivateDirs(dir_ + "/state").ok());
  const TaskRef stale{2, 1, 0};
  std::ofstream(dir_ + "/state/journal.jsonl")
      << Journal::Encode(JournalRecord{true, stale, "east-d0000-n02", {3}, UnixMillis() - 5000, 0, 0}) << "\n";

  AgentOptions o = Options(srv.url());
  o.emulate = 2;
  o.node_offset = 1;
  o.addr = "10.9.8.7";
  AgentThread agent(o);
  ASSERT_TRUE(srv.WaitFor([&] { return !srv.registers.empty(); }));
  {
    std::lock_guard<std::mutex> l(srv.mu);
    EXPECT_EQ(srv.registers[0], Json::parse(R"({"nodes": [
                {"name": "east-d0000-n01", "gpus": 8, "gpu_model": "H100", "addr": "10.9.8.7"},
                {"name": "east-d0000-n02", "gpus": 8, "gpu_model": "H100", "addr": "10.9.8.7"}]})"));
  }
  // Reconcile: the listed task runs, the stale one is killed.
  ASSERT_TRUE(srv.WaitFor([&] { return srv.Reported(wanted.ref, "running") && srv.Reported(stale, "exited 143/15"); }))
      << agent.Log();

  // A run change: runs its duration (1 s), then exits 0. A second run of a
  // running task is a no-op; a kill ends one at once.
  const Task short_task = EmulatedTask(3, "east-d0000-n02", 1);
  const Task long_task = EmulatedTask(4, "east-d0000-n02", 600);
  const auto t0 = std::chrono::steady_clock::now();
  srv.Change(RunChange(short_task));
  srv.Change(RunChange(long_task));
  srv.Change(RunChange(long_task));
  ASSERT_TRUE(srv.WaitFor([&] { return srv.Reported(long_task.ref, "running"); }));
  srv.Change(Json{{"op", "kill"}, {"job", 4}, {"attempt", 1}, {"rank", 0}, {"grace_s", 10}});
  ASSERT_TRUE(srv.WaitFor([&] { return srv.Reported(long_task.ref, "exited 143/15"); }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(900));
  ASSERT_TRUE(srv.WaitFor([&] { return srv.Reported(short_task.ref, "exited 0/0"); }));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(1000));
  // The heartbeat names the nodes and what runs; a task in its "kill" answer ends.
  {
    std::lock_guard<std::mutex> l(srv.mu);
    srv.heartbeat_kill = {wanted.ref};
  }
  ASSERT_TRUE(srv.WaitFor([&] { return srv.Reported(wanted.ref, "exited 143/15"); }));
  EXPECT_EQ(agent.Stop(), AgentEnd::kStopped);
  {
    std::lock_guard<std::mutex> l(srv.mu);
    ASSERT_FALSE(srv.heartbeats.empty());
    EXPECT_EQ(srv.heartbeats[0].nodes, (std::vector<std::string>{"east-d0000-n01", "east-d0000-n02"}));
    bool listed = false;
    for (const AgentHeartbeat& h : srv.heartbeats) listed = listed || h.running == std::vector<TaskRef>{wanted.ref};
    EXPECT_TRUE(listed);
    EXPECT_EQ(srv.ReportsOf(long_task.ref), (std::vector<std::string>{"running", "exited 143/15"}));
  }
  // The journal: one start and one end per task, the stale task's start from before.
  std::map<TaskRef, std::string> seen;
  for (const JournalRecord& r : JournalLines()) seen[r.ref] += r.start ? "S" : "E";
  EXPECT_EQ(seen, (std::map<TaskRef, std::string>{
                      {wanted.ref, "SE"}, {stale, "SE"}, {short_task.ref, "SE"}, {long_task.ref, "SE"}}));
}

// A restarted agent over the same state dir: a task open in the journal goes
// on until its start + duration (it is not started again); a task that
// ended, which the server still lists (its report was lost), has its exit
// reported again and is not run again.
TEST_F(CtlAgent, ARestartedEmulatedAgentResumesAndNeverRunsATaskTwice) {
  FakeServer srv(token_);
  srv.nodes.push_back(Json{{"name", "east-d0000-n00"}, {"gpus", 8}, {"gpu_model", "H100"}});
  const Task open = EmulatedTask(10, "east-d0000-n00", 1), done = EmulatedTask(11, "east-d0000-n00", 1);
  srv.tasks = {open, done};
  ASSERT_TRUE(MakePrivateDirs(dir_ + "/state").ok());
  const int64_t start = UnixMillis() - 500;
  {
    std::ofstream j(dir_ + "/state/journal.jsonl");
    j << Journal::Encode(JournalRecord{true, open.ref, open.node, open.gpus, start, 0, 0}) << "\n";
    j << Journal::Encode(JournalRecord{true, done.ref, done.node, done.gpus, start - 2000, 0, 0}) << "\n";
    j << Journal::Encode(JournalRecord{false, done.ref, done.node, done.gpus, start - 1000, 3, 0}) << "\n";
  }
  AgentOptions o = Options(srv.url());
  o.emulate = 1;
  o.addr = "10.9.8.7";
  AgentThread agent(o);
  ASSERT_TRUE(srv.WaitFor([&] { return srv.Reported(open.ref, "exited 0/0") && srv.Reported(done.ref, "exited 3/0"); }))
      << agent.Log();
  EXPECT_LT(UnixMillis() - start, 1900);  // ended at its start + 1 s, not 1 s after the restart
  EXPECT_EQ(agent.Stop(), AgentEnd::kStopped);
  {
    std::lock_guard<std::mutex> l(srv.mu);
    EXPECT_EQ(srv.ReportsOf(open.ref), (std::vector<std::string>{"running", "exited 0/0"}));
    EXPECT_EQ(srv.ReportsOf(done.ref), (std::vector<std::string>{"exited 3/0"}));
  }
  std::map<TaskRef, std::string> seen;
  for (const JournalRecord& r : JournalLines()) seen[r.ref] += r.start ? "S" : "E";
  EXPECT_EQ(seen, (std::map<TaskRef, std::string>{{open.ref, "SE"}, {done.ref, "SE"}}));
}

TEST_F(CtlAgent, RealNodeAdoptsKillsWhatTheServerDoesNotWantAndRunsTasks) {
  FakeServer srv(token_);
  // A previous agent's task, still running.
  ASSERT_TRUE(MakePrivateDirs(dir_ + "/state").ok());
  const Task old = ShellTask(5, 0, "sleep 30");
  {
    auto j = Journal::Open(dir_ + "/state");
    TaskRunner r(dir_ + "/state", dir_ + "/logs", j->get());
    ASSERT_TRUE(r.Start(old).ok());
  }
  AgentOptions o = Options(srv.url());
  o.node = NodeInventory{"east-d0000-n00", 2, "H100", "10.0.0.5"};
  AgentThread agent(o);
  ASSERT_TRUE(srv.WaitFor([&] { return srv.Reported(old.ref, "exited 143/15"); })) << agent.Log();
  EXPECT_NE(agent.Log().find("adopted 1 running tasks"), std::string::npos) << agent.Log();
  const Task t = ShellTask(6, 1, "echo $CUDA_VISIBLE_DEVICES $RACKSCALE_RANK; exit 4", {1});
  srv.Change(RunChange(t));
  ASSERT_TRUE(srv.WaitFor([&] { return srv.Reported(t.ref, "exited 4/0"); })) << agent.Log();
  EXPECT_EQ(agent.Stop(), AgentEnd::kStopped);
  EXPECT_EQ(testing::Slurp(dir_ + "/logs/6/1-1.out"), "1 1\n");
  std::lock_guard<std::mutex> l(srv.mu);
  for (const TaskReport& r : srv.reports) {
    if (r.task == t.ref) {
      EXPECT_EQ(r.log, dir_ + "/logs/6/1-1.out");
    }
  }
}

TEST_F(CtlAgent, RetriesWhileTheServerIsDownAndResyncs) {
  int port = 0;
  {
    FakeServer probe(token_);  // a port that nobody listens on, once probe is gone
    port = probe.port();
  }
  AgentOptions o = Options("http://127.0.0.1:" + std::to_string(port));
  o.node = NodeInventory{"east-d0000-n00", 0, "", "10.0.0.5"};
  AgentThread agent(o);
  std::this_thread::sleep_for(milliseconds(150));
  const Task t = ShellTask(7, 0, "exit 0");
  {
    FakeServer srv(token_, port);
    srv.tasks = {t};
    ASSERT_TRUE(srv.WaitFor([&] { return srv.Reported(t.ref, "exited 0/0"); })) << agent.Log();
    EXPECT_NE(agent.Log().find("cannot reach"), std::string::npos) << agent.Log();
    // 410 on the watch: the agent reads the whole set again.
    std::unique_lock<std::mutex> l(srv.mu);
    const int resyncs = srv.resyncs;
    srv.gone_once = true;
    ++srv.seq;
    srv.cv.notify_all();
    EXPECT_TRUE(srv.cv.wait_for(l, std::chrono::seconds(5), [&] { return srv.resyncs > resyncs; }));
  }
  // The server restarts (a new one on the same port): the agent registers again.
  FakeServer again(token_, port);
  EXPECT_TRUE(again.WaitFor([&] { return !again.registers.empty() && again.resyncs > 0; })) << agent.Log();
  EXPECT_EQ(agent.Stop(), AgentEnd::kStopped);
}

TEST_F(CtlAgent, RefusedTokenOrInventoryEndsTheRun) {
  FakeServer srv(token_);
  srv.status_override = 401;
  AgentOptions o = Options(srv.url());
  o.node = NodeInventory{"east-d0000-n00", 8, "H100", "10.0.0.5"};
  AgentThread refused(o);
  EXPECT_EQ(refused.Join(), AgentEnd::kAuthRefused);
  EXPECT_NE(refused.message().find("401"), std::string::npos) << refused.message();
  srv.status_override = 409;
  AgentThread mismatch(o);
  EXPECT_EQ(mismatch.Join(), AgentEnd::kBadInput);
  EXPECT_NE(mismatch.message().find("nodes[0].gpus"), std::string::npos) << mismatch.message();
}

TEST(CtlAgentParse, ServerUrls) {
  std::string origin, prefix, why;
  EXPECT_TRUE(SplitServerUrl("http://ctl:8080", &origin, &prefix, &why));
  EXPECT_EQ(origin, "http://ctl:8080");
  EXPECT_EQ(prefix, "");
  EXPECT_TRUE(SplitServerUrl("https://ctl.example.com/rs/", &origin, &prefix, &why));
  EXPECT_EQ(origin, "https://ctl.example.com");
  EXPECT_EQ(prefix, "/rs");
  EXPECT_TRUE(SplitServerUrl("http://[::1]:80", &origin, &prefix, &why));
  EXPECT_EQ(origin, "http://[::1]:80");
  for (const char* bad : {"", "ctl:8080", "ftp://ctl", "http://", "http://:80", "http://ctl:0", "http://ctl:99999",
                          "http://ctl:x", "http://ctl/a?b", "http://c tl", "http://u@ctl"}) {
    EXPECT_FALSE(SplitServerUrl(bad, &origin, &prefix, &why)) << bad;
  }
}

TEST(CtlAgentParse, NvidiaSmiXml) {
  const std::string xml = R"(<?xml version="1.0" ?>
<nvidia_smi_log>
  <driver_version>550.54.15</driver_version>
  <attached_gpus>2</attached_gpus>
  <gpu id="00000000:18:00.0">
    <product_name>NVIDIA H100 80GB HBM3</product_name>
  </gpu>
  <gpu id="00000000:2A:00.0">
    <product_name>NVIDIA H100 80GB HBM3</product_name>
  </gpu>
</nvidia_smi_log>)";
  int32_t gpus = 0;
  std::string model;
  ASSERT_TRUE(ParseNvidiaSmiXml(xml, &gpus, &model));
  EXPECT_EQ(gpus, 2);
  EXPECT_EQ(model, "H100");
  ASSERT_TRUE(
      ParseNvidiaSmiXml("<gpu id=\"1\"><product_name>NVIDIA A100-SXM4-80GB</product_name></gpu>", &gpus, &model));
  EXPECT_EQ(gpus, 1);
  EXPECT_EQ(model, "A100");
  ASSERT_TRUE(
      ParseNvidiaSmiXml("<gpu id=\"1\"><product_name>Tesla V100-SXM2-16GB</product_name></gpu>", &gpus, &model));
  EXPECT_EQ(model, "V100");
  EXPECT_FALSE(ParseNvidiaSmiXml("<nvidia_smi_log><attached_gpus>0</attached_gpus></nvidia_smi_log>", &gpus, &model));
  EXPECT_FALSE(ParseNvidiaSmiXml("", &gpus, &model));
}

// The command: SIGTERM stops it with exit 0; a refused token is exit 3.
TEST_F(CtlAgent, CommandStopsOnSigtermAndExits3OnARefusedToken) {
  FakeServer srv(token_);
  srv.nodes.push_back(Json{{"name", "east-d0000-n00"}, {"gpus", 8}, {"gpu_model", "H100"}});
  const std::string token_file = dir_ + "/token";
  std::ofstream(token_file) << token_ << "\n";
  const std::string url = srv.url(), state = dir_ + "/state";
  auto spawn = [&](const std::string& tf) {
    const pid_t pid = ::fork();  // the child only execs: no allocation after the fork
    if (pid == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 2);
      ::execl(RACKSCALE_BIN, RACKSCALE_BIN, "agent", "--server", url.c_str(), "--token-file", tf.c_str(), "--emulate",
              "1", "--addr", "10.0.0.9", "--state-dir", state.c_str(), "--heartbeat", "1", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid;
  };
  const pid_t pid = spawn(token_file);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(srv.WaitFor([&] { return srv.resyncs > 0; }));
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  auto other = NewToken(Role::kAgent);
  const std::string other_file = dir_ + "/other";
  std::ofstream(other_file) << *other;
  const pid_t refused = spawn(other_file);
  ASSERT_EQ(::waitpid(refused, &status, 0), refused);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status;
}

}  // namespace
}  // namespace rackscale::ctl
