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
#include "sim/reliability.h"

namespace rackscale {
namespace {

struct EttrArgs {
  int64_t gpus = 16384;
  double rate = kH100FailuresPerAcceleratorYear;
  double work_days = 54;
  std::string interval = "auto";  // minutes, "auto" or "none"
  double ckpt_min = 2;
  double restart_min = 10;
  std::string seed = "1";  // parsed strictly: CLI11 would wrap "-1" to 2^64 - 1
  int64_t runs = 100;
  bool json = false;
};

// Simulating more interruptions than this, over all runs, would take minutes:
// such a job essentially never finishes, and the answer is already clear.
constexpr double kMaxSimulatedInterruptions = 1e8;

Error Bad(const char* option, std::string message) {
  return Error::InvalidInput("ettr", 0, option, std::move(message));
}

Result<uint64_t> ParseSeed(const std::string& text) {
  uint64_t seed = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return Bad("--seed", fmt::format("expected an integer in [0, 2^64 - 1], got '{}'", text));
  }
  return seed;
}

// Minutes > 0, or "auto" (returns -1) or "none" (returns 0).
Result<double> ParseIntervalMinutes(const std::string& text) {
  if (text == "auto") return -1.0;
  if (text == "none") return 0.0;
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() ||
      !std::isfinite(v) || !(v > 0)) {
    return Bad("--interval",
               fmt::format("expected minutes > 0, 'auto' or 'none', got '{}'", text));
  }
  return v;
}

struct Summary {
  double ettr_mean = 0, ettr_min = 0, ettr_max = 0, ettr_sd = 0;
  double interruptions_mean = 0, wall_days_mean = 0;
  double lost_gpu_hours_mean = 0, checkpoint_gpu_hours_mean = 0, restart_gpu_hours_mean = 0,
         rework_gpu_hours_mean = 0;
};

int RunEttr(const EttrArgs& a) {
  if (a.gpus < 1 || a.gpus > (int64_t{1} << 40)) {
    return ReportError(Bad("--gpus", fmt::format("expected 1 to 2^40, got {}", a.gpus)));
  }
  if (!std::isfinite(a.rate) || !(a.rate > 0)) {
    return ReportError(Bad("--rate", fmt::format("expected failures per accelerator-year > 0, "
                                                 "got {}", a.rate)));
  }
  if (!std::isfinite(a.work_days) || !(a.work_days > 0) || a.work_days > 36500) {
    return ReportError(Bad("--work-days", fmt::format("expected 0 < days <= 36500, got {}",
                                                      a.work_days)));
  }
  if (!std::isfinite(a.ckpt_min) || a.ckpt_min < 0) {
    return ReportError(Bad("--ckpt-min", fmt::format("expected minutes >= 0, got {}", a.ckpt_min)));
  }
  if (!std::isfinite(a.restart_min) || a.restart_min < 0) {
    return ReportError(Bad("--restart-min", fmt::format("expected minutes >= 0, got {}",
                                                        a.restart_min)));
  }
  if (a.runs < 1 || a.runs > 1'000'000) {
    return ReportError(Bad("--runs", fmt::format("expected 1 to 1000000, got {}", a.runs)));
  }
  auto seed = ParseSeed(a.seed);
  if (!seed) return ReportError(seed.error());
  auto interval_min = ParseIntervalMinutes(a.interval);
  if (!interval_min) return ReportError(interval_min.error());
  const bool is_auto = *interval_min < 0;
  if (is_auto && !(a.ckpt_min > 0)) {
    return ReportError(Bad("--interval", "'auto' needs --ckpt-min > 0 (with free checkpoints "
                                         "the optimum interval is 0)"));
  }

  const ExponentialFailures failures(a.rate, a.gpus);
  const double mtbf = failures.mtbf_s();
  const double work = a.work_days * 86400;
  CheckpointPolicy policy;
  policy.cost_s = a.ckpt_min * 60;
  policy.restart_s = a.restart_min * 60;
  policy.interval_s = is_auto ? YoungDalyInterval(mtbf, policy.cost_s) : *interval_min * 60;
  // Without checkpoints the job is a single piece of W with no checkpoint,
  // which Daly's formula covers exactly.
  const double daly =
      policy.checkpoints()
          ? DalyExpectedEttr(policy.interval_s, policy.cost_s, policy.restart_s, mtbf)
          : DalyExpectedEttr(work, 0, policy.restart_s, mtbf);
  // Failures strike at rate 1/M over the whole wall time: E[failures] = E[wall] / M.
  const double daly_interruptions =
      daly > 0 ? work / (daly * mtbf) : std::numeric_limits<double>::infinity();
  if (!(daly_interruptions * static_cast<double>(a.runs) <= kMaxSimulatedInterruptions)) {
    return ReportError(Bad(
        "--interval",
        fmt::format("the job would suffer ~{:.3g} interruptions per run (Daly's ETTR {:.3g}); "
                    "it would essentially never finish. Checkpoint more often, or use fewer "
                    "GPUs, less work or fewer --runs",
                    daly_interruptions, daly)));
  }

  Rng rng(*seed);
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
    j["work_days"] = a.work_days;
    j["job_mtbf_hours"] = mtbf / 3600;
    j["expected_failures_in_work_time"] = failures.ExpectedFailures(work);
    j["interval"] = is_auto ? "auto" : policy.checkpoints() ? "fixed" : "none";
    if (policy.checkpoints()) {
      j["interval_min"] = policy.interval_s / 60;
    } else {
      j["interval_min"] = nullptr;
    }
    j["checkpoint_min"] = a.ckpt_min;
    j["restart_min"] = a.restart_min;
    j["daly_ettr"] = daly;
    j["daly_interruptions"] = daly_interruptions;
    j["runs"] = a.runs;
    j["seed"] = *seed;
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
              static_cast<long long>(a.gpus), a.work_days, a.rate);
  std::printf("  job MTBF            %.2f h (%.2f failures expected in the work time alone)\n",
              mtbf / 3600, failures.ExpectedFailures(work));
  if (policy.checkpoints()) {
    std::printf("  interval            %.2f min%s; checkpoint %g min, restart %g min\n",
                policy.interval_s / 60, is_auto ? " (auto: sqrt(2 x MTBF x checkpoint))" : "",
                a.ckpt_min, a.restart_min);
  } else {
    std::printf("  interval            none (a failure loses all progress); restart %g min\n",
                a.restart_min);
  }
  std::printf("  Daly expected       ETTR %.4f, %.2f interruptions\n", daly, daly_interruptions);
  std::printf("  simulated           %lld runs, seed %llu\n", static_cast<long long>(a.runs),
              static_cast<unsigned long long>(*seed));
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
  sub->add_option("--gpus", a->gpus, "Accelerators the job holds")->capture_default_str();
  sub->add_option("--rate", a->rate,
                  "Failures per accelerator-year (0.173: H100s in the Llama 3 run)")
      ->capture_default_str();
  sub->add_option("--work-days", a->work_days, "The job's work W, in days")->capture_default_str();
  sub->add_option("--interval", a->interval,
                  "Minutes of work between checkpoints, 'auto' (sqrt(2 x MTBF x checkpoint)) "
                  "or 'none'")
      ->capture_default_str();
  sub->add_option("--ckpt-min", a->ckpt_min, "Minutes one checkpoint takes")
      ->capture_default_str();
  sub->add_option("--restart-min", a->restart_min,
                  "Minutes from a failure until work resumes from the last checkpoint")
      ->capture_default_str();
  sub->add_option("--seed", a->seed, "Random seed, 0 to 2^64 - 1")->capture_default_str();
  sub->add_option("--runs", a->runs, "Simulated runs to average")->capture_default_str();
  sub->add_flag("--json", a->json, "Print one JSON object instead of the table");
  sub->callback([a, run] { *run = [a] { return RunEttr(*a); }; });
}

}  // namespace rackscale
