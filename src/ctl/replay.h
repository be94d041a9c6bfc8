// The control plane's event stream (GET /v1/export, `rackscale job export`)
// read back: as a trace for the simulator (what would policy X have done
// on last week's jobs?), and replayed on the scheduler core to check that
// the core, given what the server saw, decides what the server decided.
//
// The replay (ReplayOnCore) drives a FleetScheduler exactly as the server's
// Control drove its own, from the events alone: a tenant.set is SetTenant,
// a job.submitted AddJob and Submit, a job's end Finish (or a withdrawal),
// a requeue Interrupt, node.up/lost/drained/resumed and node.hold the nodes'
// state and a draining node's hold, dedicated.set/removed the clusters, a
// server.started rebuilds the core from the state so far as a restarted
// server does; at each `pass` event it runs a pass at that time and
// compares, job by job, what started (and on which nodes, with how many
// GPUs each) and what was preempted with what the server recorded. Only
// passes that decided something are recorded; a pass that decides nothing
// changes nothing, so skipping them changes no later decision.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "model/fleet.h"
#include "workload/ai_trace.h"

namespace rackscale::ctl {

struct ExportedEvent {
  int64_t line = 0;
  int64_t seq = 0, time = 0;
  std::string type;
  int64_t job = 0;
  std::string tenant, node;
  nlohmann::json data;
};

// Parses an export (one event per line, as GET /v1/export writes them).
// Fails naming the line and field of the first malformed event, or a gap
// in the sequence.
Result<std::vector<ExportedEvent>> ParseExport(std::string_view text, const std::string& source);

// Does the text look like an export (its first line an event)?
bool LooksLikeExport(std::string_view text);

// The jobs that ran, as the simulator's workload: times from the first
// event; a job's runtime is how long its last attempt ran (to success,
// failure or cancellation); walltime its time limit. Jobs cancelled before
// they ran, or still running at the end of the export, are left out
// (counted in *left_out).
Result<AiWorkload> ExportToWorkload(const std::vector<ExportedEvent>& events, const std::string& source,
                                    int64_t* left_out = nullptr);

struct ReplayReport {
  std::string policy, power;
  int64_t passes = 0;      // recorded passes replayed
  int64_t decisions = 0;   // starts and preemptions compared
  int64_t mismatches = 0;  // passes whose decisions differ
  int64_t restarts = 0;    // server.started events after the first
  std::vector<std::string> differences;  // the first few, described
  // One line per start, as the replay placed it: seq, time, job, attempt,
  // nodes ("node:gpus|node:gpus").
  std::string placements_csv;
};

// Replays the whole stream (it must start at seq 1: the state is built from
// nothing). The fleet must be the server's.
Result<ReplayReport> ReplayOnCore(const Fleet& fleet, const std::vector<ExportedEvent>& events,
                                  const std::string& source);

}  // namespace rackscale::ctl
