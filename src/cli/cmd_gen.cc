// rackscale gen: synthetic workloads.
#include <charconv>
#include <cstdio>

#include <fmt/format.h>

#include "base/file.h"
#include "cli/commands.h"
#include "workload/ai_trace.h"
#include "workload/generate.h"

namespace rackscale {
namespace {

struct GenFlatArgs {
  FlatGenParams params;
  std::string seed = "1";  // parsed strictly: CLI11 would wrap "-1" to 2^64 - 1
  std::string out;  // empty: stdout
};

// CLI11 would wrap "-1" to 2^64 - 1: seeds are parsed here, strictly.
Result<uint64_t> ParseSeed(const std::string& text) {
  uint64_t seed = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return Error::InvalidInput("gen", 0, "--seed",
                               fmt::format("expected an integer in [0, 2^64 - 1], got '{}'", text));
  }
  return seed;
}

// Writes to `out`, or to stdout if it is empty or "-".
int WriteOut(const std::string& out, const std::string& data) {
  if (out.empty() || out == "-") {
    if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size()) {
      return ReportError(Error::Io("stdout", "write failed"));
    }
    return kExitOk;
  }
  if (Status s = WriteFile(out, data); !s) return ReportError(s.error());
  return kExitOk;
}

int RunGenFlat(GenFlatArgs a) {
  auto seed = ParseSeed(a.seed);
  if (!seed) return ReportError(seed.error());
  a.params.seed = *seed;
  auto w = GenerateFlat(a.params);
  if (!w) return ReportError(w.error());
  return WriteOut(a.out, FormatNativeCsv(*w));
}

struct GenAiArgs {
  AiGenParams params;
  std::string seed = "1";
  std::string out;
};

int RunGenAi(GenAiArgs a) {
  auto seed = ParseSeed(a.seed);
  if (!seed) return ReportError(seed.error());
  a.params.seed = *seed;
  auto w = GenerateAi(a.params);
  if (!w) return ReportError(w.error());
  return WriteOut(a.out, FormatAiCsv(*w));
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

  auto ai = std::make_shared<GenAiArgs>();
  CLI::App* sub = gen->add_subcommand(
      "ai",
      "An AI-cluster workload as native AI CSV (docs/traces.md): mostly 1-8 GPU jobs, a heavy\n"
      "tail of gangs of 256-16,384 GPUs, log-normal runtimes, Poisson arrivals over --days,\n"
      "tenants with Zipf-like shares, a share of CPU-only jobs.\n"
      "Example: rackscale gen ai --jobs 1000000 --days 365 --tenants 16 --seed 3 --out ai.csv");
  sub->add_option("--jobs", ai->params.jobs, "Number of jobs")->capture_default_str();
  sub->add_option("--days", ai->params.days, "Arrivals span this many days")->capture_default_str();
  sub->add_option("--tenants", ai->params.tenants, "Number of tenants (t0, t1, ...)")
      ->capture_default_str();
  sub->add_option("--cpu-fraction", ai->params.cpu_fraction, "Share of CPU-only jobs")
      ->capture_default_str();
  sub->add_option("--gang-fraction", ai->params.gang_fraction,
                  "Share of large gangs (256 GPUs to --max-gang)")
      ->capture_default_str();
  sub->add_option("--share-fraction", ai->params.share_fraction,
                  "Share of single-GPU jobs that ask for part of a GPU (openb's shares)")
      ->capture_default_str();
  sub->add_option("--max-gang", ai->params.max_gang, "Largest gang, in GPUs")->capture_default_str();
  sub->add_option("--preemptible-fraction", ai->params.preemptible_fraction,
                  "Share of small GPU jobs marked preemptible")
      ->capture_default_str();
  sub->add_option("--domain-gpus", ai->params.domain_gpus,
                  "Gangs up to this size ask for one NVLink domain")
      ->capture_default_str();
  sub->add_option("--load", ai->params.load,
                  "With --gpus: scale GPU runtimes to this offered load (0: leave them)")
      ->capture_default_str();
  sub->add_option("--gpus", ai->params.capacity_gpus, "The fleet's GPUs, for --load");
  sub->add_option("--seed", ai->seed, "Random seed, 0 to 2^64 - 1")->capture_default_str();
  sub->add_option("-o,--out", ai->out, "Output file (default: stdout)");
  sub->callback([ai, run] { *run = [ai] { return RunGenAi(*ai); }; });
}

}  // namespace rackscale
