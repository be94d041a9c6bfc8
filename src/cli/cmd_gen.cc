// rackscale gen: synthetic workloads.
#include <charconv>
#include <cstdio>

#include <fmt/format.h>

#include "base/file.h"
#include "cli/commands.h"
#include "workload/generate.h"

namespace rackscale {
namespace {

struct GenFlatArgs {
  FlatGenParams params;
  std::string seed = "1";  // parsed strictly: CLI11 would wrap "-1" to 2^64 - 1
  std::string out;  // empty: stdout
};

int RunGenFlat(GenFlatArgs a) {
  uint64_t seed = 0;
  auto [ptr, ec] = std::from_chars(a.seed.data(), a.seed.data() + a.seed.size(), seed);
  if (ec != std::errc() || ptr != a.seed.data() + a.seed.size() || a.seed.empty()) {
    return ReportError(Error::InvalidInput(
        "gen flat", 0, "--seed",
        fmt::format("expected an integer in [0, 2^64 - 1], got '{}'", a.seed)));
  }
  a.params.seed = seed;
  auto w = GenerateFlat(a.params);
  if (!w) return ReportError(w.error());
  std::string csv = FormatNativeCsv(*w);
  if (a.out.empty() || a.out == "-") {
    if (std::fwrite(csv.data(), 1, csv.size(), stdout) != csv.size()) {
      return ReportError(Error::Io("stdout", "write failed"));
    }
    return kExitOk;
  }
  if (Status s = WriteFile(a.out, csv); !s) return ReportError(s.error());
  return kExitOk;
}

}  // namespace

void RegisterGen(CLI::App& app, CommandFn* run) {
  CLI::App* gen = app.add_subcommand("gen", "Generate a synthetic workload trace.");
  gen->require_subcommand(1);

  auto args = std::make_shared<GenFlatArgs>();
  CLI::App* flat = gen->add_subcommand(
      "flat",
      "Rigid batch jobs for a flat pool, as native CSV (id,submit,runtime,size,walltime):\n"
      "heavy-tailed sizes and runtimes, Poisson arrivals at the requested offered load.\n"
      "Example: rackscale gen flat --jobs 100000 --slots 4096 --load 0.9 --seed 7 --out w.csv");
  flat->add_option("--jobs", args->params.jobs, "Number of jobs")->capture_default_str();
  flat->add_option("--slots", args->params.slots, "Slots of the pool the load refers to")
      ->capture_default_str();
  flat->add_option("--load", args->params.load,
                   "Offered load: sum(size x runtime) / (slots x span)")
      ->capture_default_str();
  flat->add_option("--seed", args->seed, "Random seed, 0 to 2^64 - 1")->capture_default_str();
  flat->add_option("-o,--out", args->out, "Output file (default: stdout)");
  flat->callback([args, run] { *run = [args] { return RunGenFlat(*args); }; });
}

}  // namespace rackscale
