// The subcommands of the `rackscale` binary. Each Register* adds one to the
// app and sets *run to the function that executes it after parsing.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "base/status.h"

namespace rackscale {

// Exit codes (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;     // I/O error or internal failure
inline constexpr int kExitBadInput = 2;    // malformed input or bad arguments

using CommandFn = std::function<int()>;

void RegisterSim(CLI::App& app, CommandFn* run);
void RegisterGen(CLI::App& app, CommandFn* run);
void RegisterPack(CLI::App& app, CommandFn* run);
void RegisterCluster(CLI::App& app, CommandFn* run);
void RegisterEttr(CLI::App& app, CommandFn* run);
void RegisterInference(CLI::App& app, CommandFn* run);

// Prints "rackscale: error: ..." to stderr and returns the exit code for it.
int ReportError(const Error& e);

}  // namespace rackscale
