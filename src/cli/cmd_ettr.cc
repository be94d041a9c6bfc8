// rackscale ettr: the effective training time ratio of one large job under
// failures and checkpoints, by Daly's formula and by simulation
// (sim/reliability.h, docs/reliability.md).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/flags.h"
#include "sim/reliability.h"

namespace rackscale {
namespace {

struct EttrArgs {
  int64_t gpus = 16384;
  double rate = kH100FailuresPerAcceleratorYear;
  double work_s = 54 * 86400.0;
  std::string interval = "auto";  // minutes, "auto" or "none"
  double ckpt_s = 2 * 60.0;
  double restart_s = 10 * 60.0;
  uint64_t seed = 1;
  int64_t runs = 100;
  bool json = false;
};

// Simulating more interruptions than this, over all runs, would take minutes:
// such a job essentially never finishes, and the answer is already clear.
constexpr double kMaxSimulatedInterruptions = 1e8;

Error Bad(const char* option, std::string message) {
  return Error::InvalidInput("ettr", 0, option, std::move(message));
}

// A duration of at least a second (a bare number is minutes), "auto"
// (returns -1) or "none" (returns 0); in seconds.
Result<double> ParseIntervalSeconds(const std::string& text) {
  if (text == "auto") return -1.0;
  if (text == "none") return 0.0;
  auto v = ParseDuration(text, DurationUnit::kMinutes);
  if (!v || !(*v >= 1 && *v <= 3650.0 * 86400)) {
    return Bad("--interval", fmt::format("expected 'auto', 'none' or a duration in [1s, 3650d] (90s, 45m, 36h, "
                                         "D-HH:MM:SS; a bare number is minutes), got {}",
                                         Quote(text)));
  }
  return *v;
}

struct Summary {
  double ettr_mean = 0, ettr_min = 0, ettr_max = 0, ettr_sd = 0;
  double interruptions_mean = 0, wall_days_mean = 0;
  double lost_gpu_hours_mean = 0, checkpoint_gpu_hours_mean = 0, restart_gpu_hours_mean = 0,
         rework_gpu_hours_mean = 0;
};

int RunEttr(const EttrArgs& a) {
  // Each flag's range was checked while parsing (cli/flags.h).
  auto interval_s = ParseIntervalSeconds(a.interval);
  if (!interval_s) return ReportError(interval_s.error());
  const bool is_auto = *interval_s < 0;
  if (is_auto && !(a.ckpt_s > 0)) {
    return ReportError(Bad("--interval", "'auto' needs --ckpt-min > 0 (with free checkpoints "
                                         "the optimum interval is 0)"));
  }

  const ExponentialFailures failures(a.rate, a.gpus);
  const double mtbf = failures.mtbf_s();
  const double work = a.work_s;
  CheckpointPolicy policy;
  policy.cost_s = a.ckpt_s;
  policy.restart_s = a.restart_s;
  policy.interval_s = is_auto ? YoungDalyInterval(mtbf, policy.cost_s) : *interval_s;
  // Without checkpoints the job is a single piece of W with no checkpoint,
  // which Daly's formula covers exactly.
  const double daly =
      policy.checkpoints()
          ? DalyExpectedEttr(policy.interval_s, policy.cost_s, policy.restart_s, mtbf)
          : DalyExpectedEttr(work, 0, policy.restart_s, mtbf);
  // Failures strike at rate 1/M over the whole wall time: E[failures] = E[wall] / M.
  const double daly_interruptions =
      daly > 0 ? work / (daly * mtbf) : std::numeric_limits<double>::infinity();
  // One run alone over the budget: the job never finishes, whatever
  // --runs says. Only the runs together over it: fewer runs will do.
  if (!(daly_interruptions <= kMaxSimulatedInterruptions / 10)) {
    return ReportError(Bad(
        "--interval",
        fmt::format("the job would suffer ~{:.3g} interruptions per run (Daly's ETTR {:.3g}); "
                    "it would essentially never finish. Checkpoint more often, or use fewer "
                    "GPUs, less work or fewer --runs",
                    daly_interruptions, daly)));
  }
  if (!(daly_interruptions * static_cast<double>(a.runs) <= kMaxSimulatedInterruptions)) {
    const double most = std::max(1.0, std::floor(kMaxSimulatedInterruptions / std::max(daly_interruptions, 1e-9)));
    return ReportError(Bad("--runs", fmt::format("{} runs of ~{:.3g} interruptions each would simulate ~{:.3g} "
                                                 "interruptions, over the limit of {:.0e}; use at most {:.0f} runs",
                                                 a.runs, daly_interruptions,
                                                 daly_interruptions * static_cast<double>(a.runs),
                                                 kMaxSimulatedInterruptions, most)));
  }

  Rng rng(a.seed);
  Summary s;
  s.ettr_min = 1;
  double ettr_sq = 0;
  const double gpu_hours = static_cast<double>(a.gpus) / 3600;
  for (int64_t i = 0; i < a.runs; ++i) {
    const SingleJobRun r = SimulateSingleJobEttr(work, policy, mtbf, rng);
    if (!r.completed) {
      return ReportError(Error{ErrorKind::kInternal, "ettr", 0, {},
                               "a run hit the interruption limit before the job finished"});
    }
    s.ettr_mean += r.ettr;
    ettr_sq += r.ettr * r.ettr;
    s.ettr_min = std::min(s.ettr_min, r.ettr);
    s.ettr_max = std::max(s.ettr_max, r.ettr);
    s.interruptions_mean += static_cast<double>(r.interruptions);
    s.wall_days_mean += r.wall_s / 86400;
    s.lost_gpu_hours_mean += r.lost_s * gpu_hours;
    s.checkpoint_gpu_hours_mean += r.checkpoint_s * gpu_hours;
    s.restart_gpu_hours_mean += r.restart_s * gpu_hours;
    s.rework_gpu_hours_mean += r.wasted_s * gpu_hours;
  }
  const double n = static_cast<double>(a.runs);
  for (double* v : {&s.ettr_mean, &s.interruptions_mean, &s.wall_days_mean,
                    &s.lost_gpu_hours_mean, &s.checkpoint_gpu_hours_mean,
                    &s.restart_gpu_hours_mean, &s.rework_gpu_hours_mean}) {
    *v /= n;
  }
  ettr_sq /= n;
  s.ettr_sd = a.runs > 1 ? std::sqrt(std::max(0.0, ettr_sq - s.ettr_mean * s.ettr_mean) * n /
                                     (n - 1))
                         : 0.0;

  if (a.json) {
    nlohmann::ordered_json j;
    j["schema"] = "rackscale.ettr";
    j["schema_version"] = 1;
    j["gpus"] = a.gpus;
    j["failures_per_accelerator_year"] = a.rate;
    j["work_days"] = a.work_s / 86400;
    j["job_mtbf_hours"] = mtbf / 3600;
    j["expected_failures_in_work_time"] = failures.ExpectedFailures(work);
    j["interval"] = is_auto ? "auto" : policy.checkpoints() ? "fixed" : "none";
    if (policy.checkpoints()) {
      j["interval_min"] = policy.interval_s / 60;
    } else {
      j["interval_min"] = nullptr;
    }
    j["checkpoint_min"] = a.ckpt_s / 60;
    j["restart_min"] = a.restart_s / 60;
    j["daly_ettr"] = daly;
    j["daly_interruptions"] = daly_interruptions;
    j["runs"] = a.runs;
    j["seed"] = a.seed;
    j["ettr_mean"] = s.ettr_mean;
    j["ettr_sd"] = s.ettr_sd;
    j["ettr_min"] = s.ettr_min;
    j["ettr_max"] = s.ettr_max;
    j["interruptions_mean"] = s.interruptions_mean;
    j["wall_days_mean"] = s.wall_days_mean;
    j["lost_gpu_hours_mean"] = s.lost_gpu_hours_mean;
    j["checkpoint_gpu_hours_mean"] = s.checkpoint_gpu_hours_mean;
    j["restart_gpu_hours_mean"] = s.restart_gpu_hours_mean;
    j["rework_gpu_hours_mean"] = s.rework_gpu_hours_mean;
    std::printf("%s\n", j.dump().c_str());
    return kExitOk;
  }

  std::printf("one job of %lld GPUs, %g days of work, %g failures per GPU-year\n",
              static_cast<long long>(a.gpus), a.work_s / 86400, a.rate);
  std::printf("  job MTBF            %.2f h (%.2f failures expected in the work time alone)\n",
              mtbf / 3600, failures.ExpectedFailures(work));
  if (policy.checkpoints()) {
    std::printf("  interval            %.2f min%s; checkpoint %g min, restart %g min\n",
                policy.interval_s / 60, is_auto ? " (auto: sqrt(2 x MTBF x checkpoint))" : "",
                a.ckpt_s / 60, a.restart_s / 60);
  } else {
    std::printf("  interval            none (a failure loses all progress); restart %g min\n",
                a.restart_s / 60);
  }
  std::printf("  Daly expected       ETTR %.4f, %.2f interruptions\n", daly, daly_interruptions);
  std::printf("  simulated           %lld runs, seed %llu\n", static_cast<long long>(a.runs),
              static_cast<unsigned long long>(a.seed));
  std::printf("    ETTR              mean %.4f, sd %.4f, min %.4f, max %.4f\n", s.ettr_mean,
              s.ettr_sd, s.ettr_min, s.ettr_max);
  std::printf("    interruptions     mean %.2f\n", s.interruptions_mean);
  std::printf("    wall time         mean %.2f days\n", s.wall_days_mean);
  std::printf("    lost GPU-hours    mean %.0f (checkpoints %.0f, restarts %.0f, rework %.0f)\n",
              s.lost_gpu_hours_mean, s.checkpoint_gpu_hours_mean, s.restart_gpu_hours_mean,
              s.rework_gpu_hours_mean);
  return kExitOk;
}

}  // namespace

void RegisterEttr(CLI::App& app, CommandFn* run) {
  auto a = std::make_shared<EttrArgs>();
  CLI::App* sub = app.add_subcommand(
      "ettr",
      "Effective training time ratio (work / wall time) of one job that holds --gpus\n"
      "accelerators failing independently at --rate, checkpointing every --interval:\n"
      "Daly's expectation and the mean of --runs simulated runs (docs/reliability.md).\n"
      "Example: rackscale ettr --gpus 16384 --work-days 54 --ckpt-min 2 --restart-min 10");
  AddInt(sub, "--gpus", &a->gpus, "Accelerators the job holds", 1, int64_t{1} << 40);
  AddNumber(sub, "--rate", &a->rate, "Failures per accelerator-year (0.173: H100s in the Llama 3 run)", 1e-9, 1000);
  AddDuration(sub, "--work-days", &a->work_s, "The job's work W", DurationUnit::kDays, 1, 36500.0 * 86400);
  sub->add_option("--interval", a->interval,
                  "Work between checkpoints: a duration (a bare number is minutes), 'auto' "
                  "(sqrt(2 x MTBF x checkpoint)) or 'none'")
      ->capture_default_str();
  AddDuration(sub, "--ckpt-min", &a->ckpt_s, "How long one checkpoint takes", DurationUnit::kMinutes, 0,
              7 * 86400.0);
  AddDuration(sub, "--restart-min", &a->restart_s, "How long from a failure until work resumes from the last checkpoint",
              DurationUnit::kMinutes, 0, 7 * 86400.0);
  AddSeed(sub, "--seed", &a->seed, "Random seed");
  AddInt(sub, "--runs", &a->runs, "Simulated runs to average", 1, 1'000'000);
  sub->add_flag("--json", a->json, "Print one JSON object instead of the table");
  sub->callback([a, run] { *run = [a] { return RunEttr(*a); }; });
}

}  // namespace rackscale
