// rackscale gen: synthetic workloads.
#include <cstdio>

#include <fmt/format.h>

#include "base/file.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "workload/ai_trace.h"
#include "workload/generate.h"

namespace rackscale {
namespace {

struct GenFlatArgs {
  FlatGenParams params;
  std::string out;  // empty: stdout
};

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

int RunGenFlat(const GenFlatArgs& a) {
  auto w = GenerateFlat(a.params);
  if (!w) return ReportError(w.error());
  return WriteOut(a.out, FormatNativeCsv(*w));
}

struct GenAiArgs {
  AiGenParams params;
  double days_s = 30 * 86400.0;
  std::string out;
};

int RunGenAi(GenAiArgs a) {
  a.params.days = a.days_s / 86400;
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
  AddInt(flat, "--jobs", &args->params.jobs, "Number of jobs", 1, 100'000'000);
  AddInt(flat, "--slots", &args->params.slots, "Slots of the pool the load refers to", 1, int64_t{1} << 40);
  AddNumber(flat, "--load", &args->params.load, "Offered load: sum(size x runtime) / (slots x span)", 1e-6, 100);
  AddSeed(flat, "--seed", &args->params.seed, "Random seed");
  AddOutFile(flat, "-o,--out", &args->out, "Output file (default: stdout; - is stdout)");
  flat->callback([args, run] { *run = [args] { return RunGenFlat(*args); }; });

  auto ai = std::make_shared<GenAiArgs>();
  CLI::App* sub = gen->add_subcommand(
      "ai",
      "An AI-cluster workload as native AI CSV (docs/traces.md): mostly 1-8 GPU jobs, a heavy\n"
      "tail of gangs of 256-16,384 GPUs, log-normal runtimes, Poisson arrivals over --days,\n"
      "tenants with Zipf-like shares, a share of CPU-only jobs.\n"
      "Example: rackscale gen ai --jobs 1000000 --days 365 --tenants 16 --seed 3 --out ai.csv");
  AddInt(sub, "--jobs", &ai->params.jobs, "Number of jobs", 1, 100'000'000);
  AddDuration(sub, "--days", &ai->days_s, "Arrivals span this long", DurationUnit::kDays, 60, 36500.0 * 86400);
  AddInt(sub, "--tenants", &ai->params.tenants, "Number of tenants (t0, t1, ...)", 1, 10000);
  AddNumber(sub, "--cpu-fraction", &ai->params.cpu_fraction, "Share of CPU-only jobs", 0, 1);
  AddNumber(sub, "--gang-fraction", &ai->params.gang_fraction, "Share of large gangs (256 GPUs to --max-gang)", 0, 1);
  AddNumber(sub, "--share-fraction", &ai->params.share_fraction,
            "Share of single-GPU jobs that ask for part of a GPU (openb's shares)", 0, 1);
  AddInt(sub, "--max-gang", &ai->params.max_gang, "Largest gang, in GPUs", 256, 1 << 24);
  AddNumber(sub, "--preemptible-fraction", &ai->params.preemptible_fraction,
            "Share of small GPU jobs marked preemptible", 0, 1);
  AddInt(sub, "--domain-gpus", &ai->params.domain_gpus, "Gangs up to this size ask for one NVLink domain", 1,
         1 << 24);
  AddNumber(sub, "--load", &ai->params.load, "With --gpus: scale GPU runtimes to this offered load (0: leave them)",
            0, 100);
  AddInt(sub, "--gpus", &ai->params.capacity_gpus, "The fleet's GPUs, for --load", 1, int64_t{1} << 40);
  AddSeed(sub, "--seed", &ai->params.seed, "Random seed");
  AddOutFile(sub, "-o,--out", &ai->out, "Output file (default: stdout; - is stdout)");
  sub->callback([ai, run, sub] {
    // --load and --gpus go together.
    if (sub->count("--gpus") > 0 && sub->count("--load") == 0) {
      throw CLI::ValidationError("--gpus", "only scales runtimes together with --load");
    }
    if (ai->params.load > 0 && sub->count("--gpus") == 0) {
      throw CLI::ValidationError("--load", "needs the fleet's --gpus to scale runtimes to a load");
    } *run = [ai] { return RunGenAi(*ai); }; });
}

}  // namespace rackscale
