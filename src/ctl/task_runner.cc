// The journal and the runner of real tasks (ctl/task_runner.h).
#include "ctl/task_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

extern char** environ;

namespace rackscale::ctl {
namespace {

using Json = nlohmann::ordered_json;

int64_t MonoMillis() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

Error SysError(const std::string& source, const std::string& what) {
  return Error::Io(source, fmt::format("{}: {}", what, std::strerror(errno)));
}

}  // namespace

Status MakePrivateDirs(const std::string& path) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    const std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), 0750) != 0 && errno != EEXIST) return SysError(part, "cannot create directory");
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return Error::Io(path, "not a directory");
  return Status::Ok();
}

namespace {

// Field 22 (starttime, clock ticks after boot) of /proc/PID/stat, and
// whether the process is a zombie. 0 when it does not exist.
uint64_t ProcStartTicks(int pid, bool* zombie) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text;
  if (!in || !std::getline(in, text)) return 0;
  // "PID (COMM) S f4 ... f22": COMM may hold spaces and parentheses.
  const size_t rp = text.rfind(')');
  if (rp == std::string::npos) return 0;
  std::istringstream fields(text.substr(rp + 1));
  std::string f;
  uint64_t ticks = 0;
  for (int i = 3; i <= 22 && fields >> f; ++i) {
    if (i == 3) *zombie = f == "Z" || f == "X";
    if (i == 22) ticks = std::strtoull(f.c_str(), nullptr, 10);
  }
  return ticks;
}

// Writes `data` to `path` atomically and durably: a temporary file beside
// it, fsync, rename over it, fsync of the directory.
Status WriteDurably(const std::string& dir, const std::string& name, const std::string& data) {
  const std::string path = dir + "/" + name, tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return SysError(tmp, "cannot create");
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const Error e = SysError(tmp, "write failed");
      ::close(fd);
      return e;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const Error e = SysError(tmp, "fsync failed");
    ::close(fd);
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return SysError(path, "rename failed");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

// The executable `name` is found at: itself when it holds a '/', else the
// first executable regular file in `path_var`'s directories, else `name`
// (execve then fails with ENOENT, which the child reports).
std::string ResolveCommand(const std::string& name, const std::string& path_var) {
  if (name.find('/') != std::string::npos) return name;
  std::stringstream dirs(path_var);
  for (std::string d; std::getline(dirs, d, ':');) {
    const std::string p = (d.empty() ? std::string(".") : d) + "/" + name;
    struct stat st;
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0) return p;
  }
  return name;
}

void WriteAll(int fd, const char* s, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

// The child's side of Start, between fork and exec: async-signal-safe calls
// only (everything it needs was prepared before the fork).
[[noreturn]] void Child(int gate, int in, int out, int err, const char* path, char* const argv[], char* const envp[],
                        const std::string& exec_error) {
  ::setpgid(0, 0);
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(127);
  char go = 0;
  ssize_t n;
  while ((n = ::read(gate, &go, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) ::_exit(127);  // the agent did not record the task: do not run it
  ::close_range(3, ~0U, 0);
  ::execve(path, argv, envp);
  const char* why = strerrordesc_np(errno);
  WriteAll(2, exec_error.data(), exec_error.size());
  WriteAll(2, why, std::strlen(why));
  WriteAll(2, "\n", 1);
  ::_exit(127);
}

}  // namespace

int64_t UnixMillis() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

// ---------------------------------------------------------------- Journal

std::string Journal::Encode(const JournalRecord& r) {
  Json j;
  j["ev"] = r.start ? "start" : "end";
  j["job"] = r.ref.job;
  j["attempt"] = r.ref.attempt;
  j["rank"] = r.ref.rank;
  j["node"] = r.node;
  j["gpus"] = r.gpus;
  j["t"] = r.t_ms;
  if (!r.start) {
    j["exit_code"] = r.exit_code;
    j["signal"] = r.signal;
  }
  return j.dump();
}

bool Journal::Decode(const std::string& line, JournalRecord* r) {
  const Json j = Json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  auto integer = [&](const char* k) { return j.contains(k) && j[k].is_number_integer(); };
  if (!j.contains("ev") || !j["ev"].is_string() || !integer("job") || !integer("attempt") || !integer("rank") ||
      !integer("t") || !j.contains("node") || !j["node"].is_string() || !j.contains("gpus") || !j["gpus"].is_array()) {
    return false;
  }
  const std::string ev = j["ev"].get<std::string>();
  if (ev != "start" && ev != "end") return false;
  *r = JournalRecord{};
  r->start = ev == "start";
  r->ref = TaskRef{j["job"].get<int64_t>(), j["attempt"].get<int32_t>(), j["rank"].get<int32_t>()};
  r->node = j["node"].get<std::string>();
  for (const Json& g : j["gpus"]) {
    if (!g.is_number_integer()) return false;
    r->gpus.push_back(g.get<int32_t>());
  }
  r->t_ms = j["t"].get<int64_t>();
  if (!r->start) {
    if (!integer("exit_code") || !integer("signal")) return false;
    r->exit_code = j["exit_code"].get<int32_t>();
    r->signal = j["signal"].get<int32_t>();
  }
  return true;
}

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& state_dir) {
  std::unique_ptr<Journal> jr(new Journal());
  jr->path_ = state_dir + "/journal.jsonl";
  std::ifstream in(jr->path_, std::ios::binary);
  size_t ends_seen = 0;
  for (std::string line; in && std::getline(in, line);) {
    JournalRecord r;
    if (!Decode(line, &r)) continue;
    if (r.start) {
      jr->open_[r.ref] = r;
    } else if (jr->open_.erase(r.ref) != 0) {
      r.gpus.clear();
      // A ring of the last kRecentEnds ends, put in order below.
      if (jr->recent_ends_.size() < kRecentEnds) {
        jr->recent_ends_.push_back(std::move(r));
      } else {
        jr->recent_ends_[ends_seen % kRecentEnds] = std::move(r);
      }
      ++ends_seen;
    }
  }
  if (ends_seen > kRecentEnds) {
    std::rotate(jr->recent_ends_.begin(), jr->recent_ends_.begin() + static_cast<ptrdiff_t>(ends_seen % kRecentEnds),
                jr->recent_ends_.end());
  }
  jr->fd_ = ::open(jr->path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (jr->fd_ < 0) return SysError(jr->path_, "cannot open");
  return jr;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Journal::Append(const JournalRecord& r) {
  const std::string line = Encode(r) + "\n";
  ssize_t n;
  while ((n = ::write(fd_, line.data(), line.size())) < 0 && errno == EINTR) {
  }
  if (n < 0) return SysError(path_, "write failed");
  if (static_cast<size_t>(n) != line.size()) return Error::Io(path_, "short write");
  if (r.start) {
    open_[r.ref] = r;
  } else {
    open_.erase(r.ref);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- TaskEnv

std::vector<std::string> TaskEnv(const Task& task, const std::vector<std::string>& base) {
  std::map<std::string, std::string> env;
  for (const std::string& e : base) {
    const size_t eq = e.find('=');
    if (eq != std::string::npos && eq > 0) env[e.substr(0, eq)] = e.substr(eq + 1);
  }
  for (const auto& [k, v] : task.env) env[k] = v;
  std::string devices;
  for (size_t i = 0; i < task.gpus.size(); ++i) devices += (i ? "," : "") + std::to_string(task.gpus[i]);
  env["CUDA_VISIBLE_DEVICES"] = devices;
  env["RACKSCALE_JOB_ID"] = std::to_string(task.ref.job);
  env["RACKSCALE_ATTEMPT"] = std::to_string(task.ref.attempt);
  env["RACKSCALE_RANK"] = std::to_string(task.ref.rank);
  env["RACKSCALE_NNODES"] = std::to_string(task.nnodes);
  env["RACKSCALE_WORLD_SIZE"] = std::to_string(task.world_size);
  env["RACKSCALE_TENANT"] = task.tenant;
  env["MASTER_ADDR"] = task.master_addr;
  env["MASTER_PORT"] = std::to_string(task.master_port);
  env["NODE_RANK"] = std::to_string(task.ref.rank);
  env["NNODES"] = std::to_string(task.nnodes);
  env["WORLD_SIZE"] = std::to_string(task.world_size);
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// ---------------------------------------------------------------- TaskRunner

TaskRunner::TaskRunner(std::string state_dir, std::string log_dir, Journal* journal)
    : state_dir_(std::move(state_dir)), log_dir_(std::move(log_dir)), journal_(journal) {}

// Running tasks are left alone: a restarted agent adopts them.
TaskRunner::~TaskRunner() = default;

std::vector<TaskRef> TaskRunner::RunningRefs() const {
  std::vector<TaskRef> out;
  out.reserve(tasks_.size());
  for (const auto& [ref, p] : tasks_) out.push_back(ref);
  return out;
}

Status TaskRunner::SaveState() const {
  Json tasks = Json::array();
  for (const auto& [ref, p] : tasks_) {
    if (p.gone) continue;
    tasks.push_back(Json{{"job", ref.job},
                         {"attempt", ref.attempt},
                         {"rank", ref.rank},
                         {"node", p.node},
                         {"gpus", p.gpus},
                         {"pid", p.pid},
                         {"pgid", p.pid},
                         {"start_ticks", p.start_ticks},
                         {"start_ms", p.start_ms},
                         {"log", p.log}});
  }
  return WriteDurably(state_dir_, "tasks.json", Json{{"tasks", tasks}}.dump(1) + "\n");
}

Result<std::string> TaskRunner::Start(const Task& task) {
  const std::string what = fmt::format("task {}.{}.{}", task.ref.job, task.ref.attempt, task.ref.rank);
  if (tasks_.count(task.ref)) return Error::InvalidInput(what, 0, "", "already running");
  if (task.command.empty()) return Error::InvalidInput(what, 0, "command", "empty");
  const std::string dir = fmt::format("{}/{}", log_dir_, task.ref.job);
  if (Status s = MakePrivateDirs(dir); !s.ok()) return s.error();
  const std::string base = fmt::format("{}/{}-{}", dir, task.ref.attempt, task.ref.rank);
  const std::string out_path = base + ".out", err_path = base + ".err";

  // Everything the child needs, prepared before the fork.
  std::vector<std::string> base_env;
  for (char** e = environ; e && *e; ++e) base_env.emplace_back(*e);
  const std::vector<std::string> env = TaskEnv(task, base_env);
  std::string path_var = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& e : env) {
    if (e.rfind("PATH=", 0) == 0) path_var = e.substr(5);
  }
  const std::string exe = ResolveCommand(task.command[0], path_var);
  std::vector<char*> argv, envp;
  for (const std::string& a : task.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string exec_error = fmt::format("rackscale agent: cannot run '{}': ", task.command[0]);

  int fds[5] = {-1, -1, -1, -1, -1};  // in, out, err, gate read, gate write
  auto close_all = [&] {
    for (int& fd : fds) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  };
  fds[0] = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  fds[1] = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  fds[2] = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0) {
    const Error e = SysError(fds[0] < 0 ? "/dev/null" : fds[1] < 0 ? out_path : err_path, "cannot open");
    close_all();
    return e;
  }
  if (::pipe2(fds + 3, O_CLOEXEC) != 0) {
    const Error e = SysError(what, "pipe failed");
    close_all();
    return e;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    const Error e = SysError(what, "fork failed");
    close_all();
    return e;
  }
  if (pid == 0) Child(fds[3], fds[0], fds[1], fds[2], exe.c_str(), argv.data(), envp.data(), exec_error);
  ::setpgid(pid, pid);  // as the child does: whichever runs first, the group exists before we signal it
  ::close(fds[0]);
  ::close(fds[1]);
  ::close(fds[2]);
  ::close(fds[3]);
  fds[0] = fds[1] = fds[2] = fds[3] = -1;

  Proc p;
  p.node = task.node;
  p.gpus = task.gpus;
  p.pid = pid;
  bool zombie = false;
  p.start_ticks = ProcStartTicks(pid, &zombie);
  p.start_ms = UnixMillis();
  p.log = out_path;
  tasks_[task.ref] = p;
  Status recorded = SaveState();
  if (recorded.ok()) recorded = journal_->Append(JournalRecord{true, task.ref, task.node, task.gpus, p.start_ms, 0, 0});
  if (!recorded.ok()) {
    // The child has not run anything: closing the gate makes it exit 127.
    close_all();
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    tasks_.erase(task.ref);
    (void)SaveState();  // best effort: the task was never journaled
    return recorded.error();
  }
  const char go = 1;
  WriteAll(fds[4], &go, 1);
  close_all();
  return out_path;
}

bool TaskRunner::Kill(const TaskRef& ref, int32_t grace_s) {
  auto it = tasks_.find(ref);
  if (it == tasks_.end()) return false;
  Proc& p = it->second;
  if (p.gone) return true;
  ::kill(-p.pid, SIGTERM);
  const int64_t deadline = MonoMillis() + int64_t{std::max(grace_s, 0)} * 1000;
  if (p.kill_deadline_ms < 0 || deadline < p.kill_deadline_ms) p.kill_deadline_ms = deadline;
  return true;
}

void TaskRunner::End(const TaskRef& ref, Proc& p, int32_t exit_code, int32_t signal, std::vector<TaskExit>* out) {
  // Whatever the leader left in its group goes with it. An adopted leader
  // whose PID now names another process is not ours to signal.
  bool zombie = false;
  const uint64_t ticks = ProcStartTicks(p.pid, &zombie);
  if (!p.adopted || ticks == 0 || ticks == p.start_ticks) ::kill(-p.pid, SIGKILL);
  if (Status s = journal_->Append(JournalRecord{false, ref, p.node, p.gpus, UnixMillis(), exit_code, signal});
      !s.ok()) {
    std::fprintf(stderr, "rackscale agent: warning: %s\n", s.error().ToString().c_str());
  }
  out->push_back(TaskExit{ref, exit_code, signal, p.log});
  tasks_.erase(ref);
}

std::vector<TaskExit> TaskRunner::Poll() {
  std::vector<TaskExit> out;
  const int64_t now = MonoMillis();
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    const TaskRef ref = it->first;
    Proc& p = it->second;
    ++it;  // End() erases ref
    int status = 0;
    const pid_t w = p.gone ? 0 : ::waitpid(p.pid, &status, WNOHANG);
    if (w == p.pid) {  // our child (an adopted one too, when the test runs two runners in one process)
      if (WIFSIGNALED(status)) {
        End(ref, p, 128 + WTERMSIG(status), WTERMSIG(status), &out);
      } else {
        End(ref, p, WEXITSTATUS(status), 0, &out);
      }
      continue;
    }
    if (p.adopted) {
      bool zombie = false;
      if (p.gone || ProcStartTicks(p.pid, &zombie) != p.start_ticks || zombie) {
        End(ref, p, -1, 0, &out);
        continue;
      }
    }
    if (p.kill_deadline_ms >= 0 && now >= p.kill_deadline_ms) ::kill(-p.pid, SIGKILL);
  }
  if (!out.empty()) {
    if (Status s = SaveState(); !s.ok()) {
      std::fprintf(stderr, "rackscale agent: warning: %s\n", s.error().ToString().c_str());
    }
  }
  return out;
}

Result<std::vector<TaskRef>> TaskRunner::Adopt() {
  const std::string path = state_dir_ + "/tasks.json";
  std::ifstream in(path, std::ios::binary);
  std::vector<TaskRef> running;
  if (!in) return running;
  std::stringstream text;
  text << in.rdbuf();
  const Json j = Json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("tasks") || !j["tasks"].is_array()) {
    return Error::InvalidInput(path, 0, "", "not a tasks file");
  }
  try {
    for (const Json& t : j["tasks"]) {
      const TaskRef ref{t.at("job").get<int64_t>(), t.at("attempt").get<int32_t>(), t.at("rank").get<int32_t>()};
      // Already here, or ended (journaled) before the previous agent could rewrite the file.
      if (tasks_.count(ref) || !journal_->open().count(ref)) continue;
      Proc p;
      p.node = t.at("node").get<std::string>();
      p.gpus = t.at("gpus").get<std::vector<int32_t>>();
      p.pid = t.at("pid").get<int>();
      p.start_ticks = t.at("start_ticks").get<uint64_t>();
      p.start_ms = t.at("start_ms").get<int64_t>();
      p.log = t.at("log").get<std::string>();
      p.adopted = true;
      bool zombie = false;
      p.gone = p.pid <= 0 || ProcStartTicks(p.pid, &zombie) != p.start_ticks || zombie;
      if (!p.gone) running.push_back(ref);
      tasks_[ref] = std::move(p);
    }
  } catch (const Json::exception& e) {
    return Error::InvalidInput(path, 0, "", e.what());
  }
  if (Status s = SaveState(); !s.ok()) return s.error();
  return running;
}

}  // namespace rackscale::ctl
