// `rackscale verify DIR`: checks that the outputs of a fleet simulation or of
// a run agree with each other (src/report/verify.h, docs/outputs.md).
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "report/verify.h"

namespace rackscale {
namespace {

struct VerifyArgs {
  std::string dir;
  bool quiet = false;
};

int RunVerify(const VerifyArgs& a) {
  const VerifyResult r = VerifyOutputs(a.dir);
  for (const std::string& p : r.problems) std::printf("%s: %s\n", a.dir.c_str(), p.c_str());
  if (!r.problems.empty()) {
    std::printf("%s: %zu of %lld checks failed\n", a.dir.c_str(), r.problems.size(), static_cast<long long>(r.checks));
    return kExitFailure;
  }
  if (!a.quiet) {
    std::printf("%s: %lld checks passed over %zu files\n", a.dir.c_str(), static_cast<long long>(r.checks), r.files.size());
  }
  return kExitOk;
}

}  // namespace

void RegisterVerify(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* sub = app.add_subcommand(
      "verify",
      "Check that the outputs of a fleet simulation (rackscale sim --out DIR) or of a run (rackscale run "
      "--out DIR) agree with each other: per step, the sites' busy GPUs equal the tenants' and busy + idle + "
      "failed equal online; GPU-hours, energy, revenue and cost agree between jobs.csv, the time series, "
      "sites.csv, tenants.csv and summary.json; job times are in order; a run's daily.csv and report.html "
      "show what its files say. Prints each broken invariant with its file and row; exit 0 when all hold, "
      "1 when any does not.\n"
      "Example: rackscale verify out/run");
  sub->add_option("dir", args->dir, "Output directory of `rackscale sim` (a fleet) or `rackscale run`")->required();
  sub->add_flag("-q,--quiet", args->quiet, "Print nothing when every check passes");
  sub->callback([args, run] { *run = [args] { return RunVerify(*args); }; });
}

}  // namespace rackscale
