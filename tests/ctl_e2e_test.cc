// The live control plane end to end, as separate processes: `rackscale
// serve` on a SQLite file and `rackscale agent --emulate` on its nodes,
// driven over HTTP by client threads.
//
//   CtlE2e.CrashSafety   kill -9 of the server (and of the agent, one time in
//                        five) at random moments, 50 times, while clients
//                        submit and cancel; after each restart every
//                        acknowledged submission is there, and at the end no
//                        job ran twice at once and no GPU was given twice
//                        (from the agent's own journal), every job ended, the
//                        agent and the server agree, and the database passes
//                        SQLite's integrity check.
//   CtlE2e.FullDisk      the database on a small tmpfs: once it is full,
//                        requests fail with 503 and the database stays intact;
//                        with space again, requests succeed (root only: it
//                        mounts a tmpfs).
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace rackscale {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A child process with its output in a file; killed (SIGKILL) on destruction.
class Proc {
 public:
  Proc() = default;
  Proc(const std::vector<std::string>& argv, const std::string& log) { Start(argv, log); }
  ~Proc() { Kill(); }
  void Start(const std::vector<std::string>& argv, const std::string& log) {
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> a;
      for (const std::string& s : argv) a.push_back(const_cast<char*>(s.c_str()));
      a.push_back(nullptr);
      execv(a[0], a.data());
      _exit(127);
    }
  }
  void Kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  void Term() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  bool alive() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }

 private:
  pid_t pid_ = -1;
};

// 16 HGX servers of 8 GPUs in one site.
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
name = "dc"
  [[sites.pools]]
  domain = "HGX"
  count = 16
)";

const char* kTenants = R"(
[[tenants]]
name = "t0"
[[tenants]]
name = "t1"
weight = 2
)";

class Cluster {
 public:
  explicit Cluster(std::string dir) : dir_(std::move(dir)) {
    std::ofstream(dir_ + "/fleet.toml") << kFleet;
    std::ofstream(dir_ + "/tenants.toml") << kTenants;
  }

  // Starts the server; waits until it answers. Returns false if it does not.
  bool StartServer(const std::string& db) {
    db_ = db;
    ::unlink((dir_ + "/port").c_str());
    server_.Start({RACKSCALE_BIN, "serve", "--fleet", dir_ + "/fleet.toml", "--tenants", dir_ + "/tenants.toml", "--db",
                   db, "--listen", fmt::format("127.0.0.1:{}", port_), "--port-file", dir_ + "/port", "--node-timeout",
                   "5s", "--grace", "1s", "--tick", "0.05s", "--pass-interval", "0.5s", "-q"},
                  dir_ + "/server.log");
    for (int i = 0; i < 500; ++i) {
      std::string p = testing::Slurp(dir_ + "/port");
      if (!p.empty()) {
        port_ = std::stoi(p);
        httplib::Client c(url());
        auto r = c.Get("/healthz");
        if (r && r->status == 200) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  void KillServer() { server_.Kill(); }
  void StartAgent(const std::string& token) {
    agent_.Start({RACKSCALE_BIN, "agent", "--server", url(), "--token", token, "--emulate", "16", "--state-dir",
                  dir_ + "/agent", "--log-dir", dir_ + "/logs", "--heartbeat", "1s"},
                 dir_ + "/agent.log");
  }
  void KillAgent() { agent_.Kill(); }
  void StopAgent() { agent_.Term(); }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_, db_;
  int port_ = 0;
  Proc server_, agent_;
};

// One request with a few retries while the server restarts.
httplib::Result Retry(const std::function<httplib::Result(httplib::Client&)>& f, const std::string& url, int tries = 200) {
  for (int i = 0;; ++i) {
    httplib::Client c(url);
    c.set_connection_timeout(1, 0);
    c.set_read_timeout(5, 0);
    auto r = f(c);
    if ((r && r->status != 503) || i >= tries) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string CreateToken(const std::string& url, const std::string& admin, const json& body) {
  auto r = Retry(
      [&](httplib::Client& c) {
        return c.Post("/v1/tokens", {{"Authorization", "Bearer " + admin}}, body.dump(), "application/json");
      },
      url);
  if (!r || r->status != 201) return "";
  return json::parse(r->body)["token"];
}

TEST(CtlE2e, CrashSafety) {
  const std::string dir = testing::TempDir();
  Cluster cl(dir);
  const std::string db = dir + "/ctl.db";
  ASSERT_TRUE(cl.StartServer(db)) << testing::Slurp(dir + "/server.log");
  const std::string admin = [&] {
    std::string t = testing::Slurp(db + ".admin-token");
    while (!t.empty() && (t.back() == '\n')) t.pop_back();
    return t;
  }();
  ASSERT_FALSE(admin.empty());
  const std::string t0 = CreateToken(cl.url(), admin, {{"role", "tenant"}, {"tenant", "t0"}});
  const std::string t1 = CreateToken(cl.url(), admin, {{"role", "tenant"}, {"tenant", "t1"}});
  const std::string ag = CreateToken(cl.url(), admin, {{"role", "agent"}, {"agent", "emu"}});
  ASSERT_FALSE(t0.empty() || t1.empty() || ag.empty());
  cl.StartAgent(ag);

  // Clients: submit (with a request id, retried until acknowledged) and now
  // and then cancel something they submitted.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<int64_t, std::string> acked;  // job id -> tenant
  std::atomic<int64_t> acks{0}, cancels{0};
  std::vector<std::thread> clients;
  for (int k = 0; k < 3; ++k) {
    clients.emplace_back([&, k] {
      std::mt19937 rng(7 + k);
      const std::string tok = k % 2 ? t1 : t0;
      for (int i = 0; !stop; ++i) {
        // About 60 submissions a second from the three clients, each of 1-4
        // GPUs for 0-1 s: the 128 GPUs keep up, so every job ends soon
        // after the last restart.
        const json body = {{"gpus", 1 + static_cast<int>(rng() % 4)},
                           {"time_limit_s", 600},
                           {"duration_s", static_cast<int>(rng() % 2)},
                           {"command", {"true"}},
                           {"request_id", fmt::format("c{}-{}", k, i)}};
        int64_t id = 0;
        while (!stop && id == 0) {
          httplib::Client c(cl.url());
          c.set_connection_timeout(0, 300000);
          c.set_read_timeout(3, 0);
          auto r = c.Post("/v1/jobs", {{"Authorization", "Bearer " + tok}}, body.dump(), "application/json");
          if (r && (r->status == 201 || r->status == 200)) {
            id = json::parse(r->body)["id"];
          } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        }
        if (id == 0) break;
        {
          std::lock_guard<std::mutex> lock(mu);
          acked[id] = k % 2 ? "t1" : "t0";
        }
        ++acks;
        if (rng() % 5 == 0) {
          httplib::Client c(cl.url());
          c.set_connection_timeout(0, 300000);
          auto r = c.Post(fmt::format("/v1/jobs/{}/cancel", id), {{"Authorization", "Bearer " + tok}}, "",
                          "application/json");
          if (r && r->status == 200) ++cancels;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }

  // The killer: 50 times, kill -9 the server at a random moment (the agent
  // too one time in five), restart, and check every acknowledgement so far.
  std::mt19937 rng(42);
  std::vector<std::pair<int64_t, int64_t>> agent_deaths;  // wall ms of each agent kill
  int missing_total = 0;
  for (int round = 0; round < 50; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 400));
    std::map<int64_t, std::string> snapshot;
    {
      std::lock_guard<std::mutex> lock(mu);
      snapshot = acked;
    }
    cl.KillServer();
    const bool agent_too = round % 5 == 2;
    if (agent_too) {
      cl.KillAgent();
      agent_deaths.push_back({WallMs(), round});
    }
    ASSERT_TRUE(cl.StartServer(db)) << "restart " << round << ": " << testing::Slurp(dir + "/server.log");
    if (agent_too) cl.StartAgent(ag);
    // Every job acknowledged before the kill is in the restarted server.
    auto r = Retry(
        [&](httplib::Client& c) {
          return c.Get("/v1/jobs?limit=1000&fields=id", {{"Authorization", "Bearer " + admin}});
        },
        cl.url());
    ASSERT_TRUE(r && r->status == 200);
    std::set<int64_t> have;
    json page = json::parse(r->body);
    std::string cursor;
    for (;;) {
      for (const json& j : page["jobs"]) have.insert(j["id"].get<int64_t>());
      if (!page.contains("next_cursor")) break;
      cursor = page["next_cursor"];
      auto r2 = Retry(
          [&](httplib::Client& c) {
            return c.Get("/v1/jobs?limit=1000&fields=id&cursor=" + cursor, {{"Authorization", "Bearer " + admin}});
          },
          cl.url());
      ASSERT_TRUE(r2 && r2->status == 200);
      page = json::parse(r2->body);
    }
    for (const auto& [id, tenant] : snapshot) {
      if (!have.count(id)) ++missing_total;
    }
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(missing_total, 0) << "acknowledged submissions lost across restarts";
  EXPECT_GT(acks.load(), 100) << "too little traffic to mean anything";

  // Convergence: every job ends within a bound (durations are at most 1 s;
  // a node lost with the agent's death times out in 5 s).
  const auto deadline = Clock::now() + std::chrono::seconds(90);
  int64_t open = -1;
  while (Clock::now() < deadline) {
    auto r = Retry([&](httplib::Client& c) { return c.Get("/v1/queue", {{"Authorization", "Bearer " + admin}}); },
                   cl.url());
    ASSERT_TRUE(r && r->status == 200) << "the server stopped answering after the last restart";
    open = 0;
    // (The parsed document is a named value: a range-for over a member of a
    // temporary iterates freed memory before C++23.)
    const json q = json::parse(r->body);
    for (const json& t : q["tenants"]) open += t["pending"].get<int64_t>() + t["running"].get<int64_t>();
    if (open == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(open, 0) << "jobs still open a minute after the last restart";
  // The agent runs nothing and the server holds no GPU.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  {
    auto r = Retry([&](httplib::Client& c) { return c.Get("/v1/nodes", {{"Authorization", "Bearer " + admin}}); },
                   cl.url());
    ASSERT_TRUE(r && r->status == 200);
    const json nodes = json::parse(r->body);
    for (const json& n : nodes["nodes"]) {
      EXPECT_EQ(n["gpus_used"], 0) << n.dump();
    }
  }
  // How the jobs ended, for the record.
  std::map<std::string, int> states, reasons;
  {
    std::string cursor = "0";
    for (;;) {
      auto r = Retry(
          [&](httplib::Client& c) {
            return c.Get("/v1/jobs?limit=1000&fields=state,reason&cursor=" + cursor,
                         {{"Authorization", "Bearer " + admin}});
          },
          cl.url());
      ASSERT_TRUE(r && r->status == 200);
      json page = json::parse(r->body);
      for (const json& j : page["jobs"]) {
        ++states[j["state"].get<std::string>()];
        std::string why = j["reason"].get<std::string>();
        ++reasons[why.substr(0, why.find_first_of("0123456789"))];
      }
      if (!page.contains("next_cursor")) break;
      cursor = page["next_cursor"];
    }
  }
  for (const auto& [s, n] : states) std::printf("  state %s: %d\n", s.c_str(), n);
  for (const auto& [s, n] : reasons) std::printf("  reason '%s': %d\n", s.c_str(), n);
  cl.StopAgent();
  cl.KillServer();

  // The agent's own records: intervals per job and per GPU never overlap. A
  // task without an end record died with a killed agent: it ended then.
  struct Interval {
    int64_t start, end;
    std::string what;
  };
  std::map<std::string, std::vector<Interval>> by_job, by_gpu;
  std::map<std::string, json> open_tasks;
  std::ifstream journal(dir + "/agent/journal.jsonl");
  ASSERT_TRUE(journal.good()) << "no agent journal";
  std::string line;
  int64_t starts = 0;
  auto death_after = [&](int64_t t) {
    for (const auto& [ms, round] : agent_deaths) {
      if (ms >= t) return ms;
    }
    return WallMs();
  };
  auto close = [&](const json& s, int64_t end) {
    const std::string task = fmt::format("{}/{}/{}", s["job"].get<int64_t>(), s["attempt"].get<int>(), s["rank"].get<int>());
    by_job[std::to_string(s["job"].get<int64_t>())].push_back({s["t"].get<int64_t>(), end, task});
    for (const json& g : s["gpus"]) {
      by_gpu[fmt::format("{}:{}", s["node"].get<std::string>(), g.get<int>())].push_back({s["t"].get<int64_t>(), end, task});
    }
  };
  while (std::getline(journal, line)) {
    json e = json::parse(line, nullptr, false);
    if (e.is_discarded()) continue;  // a line torn by kill -9
    const std::string task = fmt::format("{}/{}/{}", e["job"].get<int64_t>(), e["attempt"].get<int>(), e["rank"].get<int>());
    if (e["ev"] == "start") {
      ++starts;
      if (open_tasks.count(task)) close(open_tasks[task], death_after(open_tasks[task]["t"].get<int64_t>()));
      open_tasks[task] = e;
    } else if (e["ev"] == "end" && open_tasks.count(task)) {
      close(open_tasks[task], e["t"].get<int64_t>());
      open_tasks.erase(task);
    }
  }
  for (const auto& [task, s] : open_tasks) close(s, death_after(s["t"].get<int64_t>()));
  EXPECT_GT(starts, 50);
  auto overlaps = [](std::vector<Interval> v, bool same_task_ok) {
    std::sort(v.begin(), v.end(), [](const Interval& a, const Interval& b) { return a.start < b.start; });
    for (size_t i = 1; i < v.size(); ++i) {
      // Ranks of one gang attempt run together; anything else must not.
      if (same_task_ok && v[i].what.substr(0, v[i].what.rfind('/')) == v[i - 1].what.substr(0, v[i - 1].what.rfind('/'))) {
        continue;
      }
      if (v[i].start < v[i - 1].end) return v[i - 1].what + " and " + v[i].what;
    }
    return std::string();
  };
  for (const auto& [job, v] : by_job) EXPECT_EQ(overlaps(v, true), "") << "job " << job << " ran twice at once";
  for (const auto& [gpu, v] : by_gpu) EXPECT_EQ(overlaps(v, false), "") << "GPU " << gpu << " given twice";

  std::string out;
  ASSERT_EQ(testing::RunCommand("sqlite3 " + db + " 'PRAGMA integrity_check'", &out), 0) << out;
  EXPECT_EQ(out, "ok\n");
  std::printf("crash safety: 50 server kills (10 with the agent), %lld submissions acknowledged, %lld cancelled, "
              "%lld task starts in the agent's journal, %zu jobs, %zu GPUs checked\n",
              static_cast<long long>(acks.load()), static_cast<long long>(cancels.load()),
              static_cast<long long>(starts), by_job.size(), by_gpu.size());
  RecordProperty("acknowledged", std::to_string(acks.load()));
  RecordProperty("task_starts", std::to_string(starts));
}

TEST(CtlE2e, FullDisk) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  const std::string dir = testing::TempDir();
  const std::string mnt = dir + "/small";
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") != 0) GTEST_SKIP() << "cannot mount a tmpfs here";
  struct Unmount {
    std::string m;
    ~Unmount() { ::umount2(m.c_str(), MNT_DETACH); }
  } unmount{mnt};
  Cluster cl(dir);
  const std::string db = mnt + "/ctl.db";
  ASSERT_TRUE(cl.StartServer(db)) << testing::Slurp(dir + "/server.log");
  std::string admin = testing::Slurp(db + ".admin-token");
  while (!admin.empty() && admin.back() == '\n') admin.pop_back();
  httplib::Client c(cl.url());
  const httplib::Headers h = {{"Authorization", "Bearer " + admin}};
  // Fill the disk with a filler file to leave little room, then submit
  // until the store refuses.
  {
    std::ofstream filler(mnt + "/filler", std::ios::binary);
    std::string block(4096, 'x');
    for (int i = 0; i < 190 && filler.good(); ++i) filler << block;
  }
  int ok = 0, unavailable = 0, other = 0;
  std::set<int64_t> acked;
  const std::string env(3000, 'e');
  for (int i = 0; i < 2000 && unavailable < 20; ++i) {
    json body = {{"tenant", "t0"}, {"gpus", 1}, {"time_limit_s", 60}, {"env", {{"PAD", env}}}};
    auto r = c.Post("/v1/jobs", h, body.dump(), "application/json");
    ASSERT_TRUE(r);
    if (r->status == 201) {
      ++ok;
      acked.insert(json::parse(r->body)["id"].get<int64_t>());
    } else if (r->status == 503) {
      ++unavailable;
    } else {
      ++other;
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(unavailable, 0) << "the disk never filled";
  EXPECT_EQ(other, 0);
  auto ready = c.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  // Space again: requests succeed, and everything acknowledged is there.
  ASSERT_EQ(::unlink((mnt + "/filler").c_str()), 0);
  auto r = c.Post("/v1/jobs", h, json{{"tenant", "t0"}, {"gpus", 1}, {"time_limit_s", 60}}.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  cl.KillServer();
  std::string out;
  ASSERT_EQ(testing::RunCommand("sqlite3 " + db + " 'PRAGMA integrity_check'", &out), 0) << out;
  EXPECT_EQ(out, "ok\n");
  ASSERT_TRUE(cl.StartServer(db)) << testing::Slurp(dir + "/server.log");
  for (int64_t id : acked) {
    auto g = c.Get(fmt::format("/v1/jobs/{}", id), h);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->status, 200) << "acknowledged job " << id << " lost";
  }
  cl.KillServer();
}

}  // namespace
}  // namespace rackscale
