// The agent: the task runner (real tasks as child processes), its journal
// and state file, and the agent's loop against an in-process fake server.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ctl/task_runner.h"
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
      for (const TaskExit& e : runner_->Poll()) {
        if (e.ref == ref) return e;
        exits_.push_back(e);
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
                     "test -e /proc/$$/fd/" + std::to_string(leak) + " && echo leaked; "
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
  for (const Task* t : {&three, &killed, &missing}) ASSERT_TRUE(runner_->Start(*t).ok());
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
    if (r.ref == b.ref) EXPECT_EQ(r.gpus, std::vector<int32_t>{2});
    if (!r.start && r.ref == b.ref) EXPECT_EQ(r.exit_code, 5);
  }
  EXPECT_EQ(starts.size(), 2u);
  EXPECT_EQ(ends.size(), 2u);
  EXPECT_EQ(testing::Slurp(state_ + "/journal.jsonl").substr(0, 59),
            R"({"ev":"start","job":7,"attempt":1,"rank":0,"node":"east-d0)");

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
    std::this_thread::sleep_for(milliseconds(200));  // `gone` has exited, not reaped: still recorded
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
  nlohmann::json task = {{"job", 5},   {"attempt", 2},      {"rank", 0},       {"node", "n0"},   {"gpus", {0}},
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

}  // namespace
}  // namespace rackscale::ctl
