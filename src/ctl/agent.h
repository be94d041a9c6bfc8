// The node agent (`rackscale agent`, docs/operate.md "The agent"): claims
// fleet nodes from the server, runs the tasks the server places on them and
// reports how they end, through the agent routes of docs/api.md.
//
// Two modes. Real: one node; a task is a process group run by TaskRunner.
// Emulated (emulate > 0): `emulate` virtual nodes taken from the server's
// node list (GET /v1/nodes, from index `node_offset` in list order); a task
// spawns nothing: it "runs" for its duration_s and exits 0, or ends at once
// with exit code 143 (signal 15) when killed. Both modes journal every start
// and end in `<state_dir>/journal.jsonl` (ctl/task_runner.h).
//
// Tasks outlive the agent. A stopped or crashed agent leaves its tasks
// running; the next agent over the same state dir adopts the real ones
// (TaskRunner::Adopt) and resumes the emulated ones from the journal (an
// emulated task open in the journal runs until its start + duration_s, as
// a process would have). The server's task list then decides: a listed task
// goes on, an unlisted one is killed. A task that ended but whose report the
// server may not have received (the journal's last ends) is never run
// again: when the server still lists it, the agent reports its exit instead.
// A `run` of a task that runs is a no-op; a `kill` of a task that does not
// run here is one too (of one that ended, its exit is reported again). A
// task that cannot be started at all (its logs cannot be created, fork
// fails) is reported exited 127 at once.
//
// Threads. Run() holds the session: register, full resynchronisation (GET
// /v1/agent/tasks), then the long-poll watch; it re-registers and resyncs
// after any failed request (the server may have restarted) and resyncs on
// 410 or a cursor that goes back. Three more threads: the ticker (a timer
// heap of emulated ends; TaskRunner::Poll every 100 ms while real tasks
// run), the heartbeat (every heartbeat_s), the reporter (batches of up to
// 1,000 reports gathered for 10 ms, retried with backoff until the server
// acknowledges them; a 4xx other than 401/403 drops the batch with a
// message). One mutex guards the tasks; no thread per task.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ctl/api.h"

namespace rackscale::ctl {

struct AgentOptions {
  std::string server;   // "http[s]://HOST[:PORT][/PREFIX]" (SplitServerUrl)
  std::string token;    // the agent's bearer token
  NodeInventory node;   // real mode: the one node
  int32_t emulate = 0;  // > 0: emulate this many nodes of the server's list
  int32_t node_offset = 0;
  std::string addr;  // emulated nodes' address
  std::string state_dir, log_dir;
  double heartbeat_s = 5;
  int32_t watch_timeout_s = 30;  // the long poll's `timeout`
  double max_backoff_s = 5;      // retries wait 0.1 s, doubling up to this
  // Where the agent's messages go (one line each, no newline); stderr when empty.
  std::function<void(const std::string&)> log;
};

// How Run() ended.
enum class AgentEnd : uint8_t {
  kStopped,      // Stop() was called
  kBadInput,     // the server refused the registration (inventory mismatch, unknown node), or
                 // the fleet has fewer nodes than emulate + node_offset
  kFailure,      // the state or log directory cannot be used
  kAuthRefused,  // 401 or 403: the token is not an agent token the server knows
};

class Agent {
 public:
  explicit Agent(AgentOptions options);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Runs until Stop() or a fatal answer (see AgentEnd); `message` says why
  // when it is not kStopped. The server being unreachable is never fatal:
  // every request is retried. Ignores SIGPIPE for the process. Call once.
  AgentEnd Run(std::string* message);

  // Makes Run() return soon (an in-flight request is abandoned). Tasks keep
  // running. Any thread; not from a signal handler.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "http://h:1/p/" -> origin "http://h:1", prefix "/p". False (with why) for
// anything else than http or https with a host, an optional port in
// 1..65535 and an optional path without query or fragment.
bool SplitServerUrl(const std::string& url, std::string* origin, std::string* prefix, std::string* why);

// From `nvidia-smi -q -x`'s XML: the attached GPUs and the fleet's name of
// their model ("NVIDIA H100 80GB HBM3" -> "H100", "NVIDIA A100-SXM4-80GB" ->
// "A100": the product name without NVIDIA/Tesla/GeForce/Quadro, up to the
// first space or '-'). False when the XML names no GPU.
bool ParseNvidiaSmiXml(std::string_view xml, int32_t* gpus, std::string* model);

}  // namespace rackscale::ctl
