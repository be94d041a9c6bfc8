// The subcommands of the `rackscale` binary. Each Register* adds one to the
// app and sets *run to the function that executes it after parsing.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "sim/reliability.h"

namespace rackscale {

// Exit codes (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;     // I/O error or internal failure
inline constexpr int kExitBadInput = 2;    // malformed input or bad arguments (a client's 400)
// rackscale agent, and the clients of rackscale serve (job, queue, node, tenant, token):
inline constexpr int kExitServer = 3;      // the server refused the token (401, 403); clients: or cannot be reached
// The clients only:
inline constexpr int kExitNotFound = 4;    // no such job, node, tenant or token (404)
inline constexpr int kExitConflict = 5;    // the request conflicts with the state (409)

using CommandFn = std::function<int()>;

// The top-level help text.
extern const char* const kAppDescription;

// Adds every subcommand to `app`; after a successful parse, *run executes
// the chosen one.
void BuildApp(CLI::App& app, CommandFn* run);

// The whole command line: parses argv, runs the command, returns the exit
// code (main() is this call).
int RunCli(int argc, char** argv);

void RegisterSim(CLI::App& app, CommandFn* run);
void RegisterGen(CLI::App& app, CommandFn* run);
void RegisterPack(CLI::App& app, CommandFn* run);
void RegisterCluster(CLI::App& app, CommandFn* run);
void RegisterEttr(CLI::App& app, CommandFn* run);
void RegisterInference(CLI::App& app, CommandFn* run);
void RegisterPlan(CLI::App& app, CommandFn* run);
void RegisterRun(CLI::App& app, CommandFn* run);
void RegisterPlanMerge(CLI::App& app, CommandFn* run);
void RegisterVerify(CLI::App& app, CommandFn* run);
void RegisterServe(CLI::App& app, CommandFn* run);
void RegisterAgent(CLI::App& app, CommandFn* run);
// The clients of `rackscale serve` (cli/cmd_client.cc): job, queue, node,
// tenant and token.
void RegisterClients(CLI::App& app, CommandFn* run);

// The arguments of `rackscale sim`; `rackscale run` simulates the fleet it
// plans through the same path.
struct SimArgs {
  std::string cluster;
  std::string policy;  // default: easy on a flat pool, fairshare on a fleet
  std::string placement = "topo";
  std::string tenants;
  double starve_after_s = 12 * 3600;
  std::string trace;
  bool replay = false;  // the trace is a control-plane export: replay it on the core, pass by pass
  std::string format = "auto";
  std::string out;
  bool skip_bad_lines = false;
  bool no_timing = false;
  bool quiet = false;
  bool json = false;  // print summary.json's document on stdout instead of the summary
  // Fleet over time. Durations are in seconds (flags take any duration).
  std::string power = "none";
  bool failures = false;
  double failure_rate = kH100FailuresPerAcceleratorYear;
  double repair_s = 8 * 3600;
  uint64_t seed = 1;
  std::string checkpoint = "none";
  double checkpoint_cost_s = 0, restart_cost_s = 0;
  double step_s = 3600;
  double horizon_s = 0;
  double window_s = 0;  // measure over [0, this) (0: the whole run)
  std::vector<std::string> fleet_flags_given;  // fleet-only flags on the command line
};
int RunSim(const SimArgs& a);

// Prints "rackscale: error: ..." to stderr and returns the exit code for it.
int ReportError(const Error& e);

// Writes `text` (a JSON document) to stdout for --json; kExitOk, or
// kExitFailure with an error when the write fails.
int PrintJsonDocument(const std::string& text);

}  // namespace rackscale
