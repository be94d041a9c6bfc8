// `rackscale plan --monte-carlo N` and `rackscale plan-merge` (docs/planner.md,
// "Monte Carlo"): the flags and their handlers, kept apart from cmd_plan.cc.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "plan/scenario.h"

namespace rackscale {

struct McArgs {
  int64_t draws = 0;
  uint64_t seed = 1;
  std::string slice;  // START:END
  int64_t jobs = 0;   // 0: the cores this process may use
  int64_t node_limit = 0;  // per draw, instead of the scenario's node_limit
  CLI::Option* draws_opt = nullptr;
  CLI::Option* seed_opt = nullptr;
  CLI::Option* slice_opt = nullptr;
  CLI::Option* jobs_opt = nullptr;
  CLI::Option* node_limit_opt = nullptr;
  // Any of the flags given: the command is a Monte-Carlo run (or a misuse
  // of its flags, which RunPlanMonteCarlo rejects).
  bool Given() const;
};

void AddMonteCarloFlags(CLI::App* sub, McArgs* a);

// What `plan` was given besides the Monte-Carlo flags.
struct McPlanArgs {
  std::string scenario, out;
  PlanOptions plan;
  bool quiet = false, json = false, no_timing = false;
};
int RunPlanMonteCarlo(const McArgs& mc, const McPlanArgs& a);

void RegisterPlanMerge(CLI::App& app, CommandFn* run);

}  // namespace rackscale
