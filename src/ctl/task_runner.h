// The agent's side of a task: the journal of task starts and ends, and the
// runner of real tasks as child processes (docs/operate.md, "The agent").
//
// Journal. `<state_dir>/journal.jsonl` gets one JSON line per task start and
// end, appended with O_APPEND and one write(2) per line, so that every line
// written survives a kill -9 of the agent:
//   {"ev":"start","job":42,"attempt":1,"rank":0,"node":"n0","gpus":[0,1],"t":1764950001000}
//   {"ev":"end","job":42,"attempt":1,"rank":0,"node":"n0","gpus":[0,1],"t":...,"exit_code":0,"signal":0}
// `t` is Unix milliseconds. A task is "open" from its start line to its end
// line; the journal of one state dir never opens a task that is already open
// (the runner and the emulated agent check), and never ends one that is not.
// Reopened after a restart, the journal scans its file to learn which tasks
// are still open (a torn last line, from a crash mid-write, is ignored).
//
// Runner. A real task is the task's command, exec'd (PATH searched) in its
// own process group with the environment described at TaskEnv, stdin
// /dev/null, stdout and stderr appended to `<log_dir>/<job>/<attempt>-<rank>.out`
// and `.err` (directories 0750, files 0640), no other descriptor open. The
// child waits on a pipe until the parent has recorded it in
// `<state_dir>/tasks.json` (written atomically: temporary file, fsync,
// rename, fsync of the directory) and journaled its start, so a task never
// runs unrecorded: if the agent dies before that, the child exits 127
// without running anything.
//
// The runner does not block and starts no thread: Kill() sends SIGTERM to
// the task's process group and sets a deadline; Poll() (called by its owner,
// every 100 ms while tasks run) reaps children with waitpid(WNOHANG), sends
// SIGKILL to the group of each killed task whose grace has passed, and
// returns the tasks that ended. When a task's leader exits, whatever is left
// of its process group is SIGKILLed: a task ends as a whole.
//
// Adoption. Adopt() reads tasks.json as a previous runner over the same
// state dir left it. A task whose leader is still alive and is the same
// process (its start time in /proc/PID/stat equals the one recorded at
// spawn, so a reused PID is not mistaken for it) stays running; since it is
// not our child, Poll() watches it through /proc and, when it is gone,
// reports it with exit_code -1 ("lost": its status cannot be known). A
// recorded task that is no longer alive is reported by the next Poll() the
// same way.
//
// Not thread-safe: one owner calls everything (the agent holds its lock).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "ctl/api.h"

namespace rackscale::ctl {

// Unix time in milliseconds.
int64_t UnixMillis();

// Creates directory `path` and its missing parents, each with mode 0750.
Status MakePrivateDirs(const std::string& path);

struct JournalRecord {
  bool start = true;  // "start" or "end"
  TaskRef ref;
  std::string node;
  std::vector<int32_t> gpus;
  int64_t t_ms = 0;
  int32_t exit_code = 0, signal = 0;  // end only
};

class Journal {
 public:
  // Opens (creating, 0640) `<state_dir>/journal.jsonl` for appending and
  // scans what it holds. `state_dir` must exist.
  static Result<std::unique_ptr<Journal>> Open(const std::string& state_dir);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends one line (one write(2)) and updates open(). Errors: the write
  // failed or was short (the line may then be torn; the scan skips it).
  Status Append(const JournalRecord& r);

  // The tasks started and not ended, with their start records.
  const std::map<TaskRef, JournalRecord>& open() const { return open_; }
  // The last kRecentEnds end records the opening scan found, oldest first
  // (without their GPU lists): a restarted agent re-reports these instead
  // of running a task again when the server, not yet told, still lists it.
  const std::vector<JournalRecord>& recent_ends() const { return recent_ends_; }
  static constexpr size_t kRecentEnds = 1 << 16;

  // One record as its JSON line (without the newline), and back (false for a
  // line that is not a well-formed record).
  static std::string Encode(const JournalRecord& r);
  static bool Decode(const std::string& line, JournalRecord* r);

 private:
  Journal() = default;
  int fd_ = -1;
  std::string path_;
  std::map<TaskRef, JournalRecord> open_;
  std::vector<JournalRecord> recent_ends_;
};

// How a task ended.
struct TaskExit {
  TaskRef ref;
  int32_t exit_code = 0;  // the exit status; 128 + N when killed by signal N; -1: lost (adopted, unknown)
  int32_t signal = 0;     // the signal that killed it, else 0
  std::string log;        // its stdout log (stderr is beside it, .err)
};

// The environment of a task: `base` ("NAME=VALUE" entries, normally the
// agent's own environment), then the task's env, then (overriding both)
// CUDA_VISIBLE_DEVICES (its GPU indices, comma-separated; empty when none),
// RACKSCALE_JOB_ID, RACKSCALE_ATTEMPT, RACKSCALE_RANK (the node rank),
// RACKSCALE_NNODES, RACKSCALE_WORLD_SIZE (GPUs of the gang), RACKSCALE_TENANT,
// and torchrun's MASTER_ADDR, MASTER_PORT, NODE_RANK, NNODES, WORLD_SIZE.
// Sorted by name, one entry per name.
std::vector<std::string> TaskEnv(const Task& task, const std::vector<std::string>& base);

class TaskRunner {
 public:
  // `journal` outlives the runner. Directories are created (0750) by Start.
  TaskRunner(std::string state_dir, std::string log_dir, Journal* journal);
  ~TaskRunner();
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  // Spawns the task (see above). Returns its stdout log's path. Errors: the
  // task is already running, its command is empty, the logs or the state
  // file cannot be written, fork failed; nothing is left running then. A
  // command that cannot be exec'd (not found, not executable) still starts:
  // the child writes why to its .err log and exits 127.
  Result<std::string> Start(const Task& task);

  // Asks the task to stop: SIGTERM to its process group now, SIGKILL to the
  // group from the first Poll() at least `grace_s` seconds later if the
  // leader still runs. A second Kill keeps the earlier deadline. False when
  // the task is not running.
  bool Kill(const TaskRef& ref, int32_t grace_s);

  // Reaps, escalates kills, watches adopted tasks; returns the tasks that
  // ended since the last call (each journaled and removed from tasks.json
  // before it is returned).
  std::vector<TaskExit> Poll();

  // Reads tasks.json (see above). Returns the tasks still running, which the
  // runner now watches; the dead ones are returned by the next Poll(). No
  // file: nothing to adopt. Errors: the file cannot be read or parsed.
  Result<std::vector<TaskRef>> Adopt();

  bool Running(const TaskRef& ref) const { return tasks_.count(ref) != 0; }
  std::vector<TaskRef> RunningRefs() const;
  size_t size() const { return tasks_.size(); }

 private:
  struct Proc {
    std::string node;
    std::vector<int32_t> gpus;
    int pid = 0;               // also the process group
    uint64_t start_ticks = 0;  // field 22 of /proc/PID/stat
    int64_t start_ms = 0;
    std::string log;
    bool adopted = false;           // not our child: watched through /proc
    bool gone = false;              // adopted and found dead
    int64_t kill_deadline_ms = -1;  // monotonic ms of the SIGKILL; -1: not killed
  };
  Status SaveState() const;
  void End(const TaskRef& ref, Proc& p, int32_t exit_code, int32_t signal, std::vector<TaskExit>* out);

  std::string state_dir_, log_dir_;
  Journal* journal_;
  std::map<TaskRef, Proc> tasks_;
};

}  // namespace rackscale::ctl
