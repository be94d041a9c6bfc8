// rackscale inference: one inference service alone over a day: the demand of an
// LLM trace (or a rate curve), the autoscaler, the SLO model
// (sim/inference.h, docs/inference.md).
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "sim/inference.h"
#include "workload/llm_trace.h"

namespace rackscale {
namespace {

struct ServeArgs {
  std::string trace;
  std::string rate;
  std::string format = "auto";
  double scale = 1;
  double trough_ratio = 0.35;
  double peak_hour = 14;
  double trough_hour = 4;
  double step_s = 60;
  double duration_s = 24 * 3600.0;
  double input_weight = 1;
  double output_weight = 1;
  double tokens_per_replica = 0;
  double tokens_per_request = 0;  // 0: the trace's mean
  int32_t batch_slots = 64;
  double slo_ms = 1000;
  int32_t gpus_per_replica = 8;
  int32_t min_replicas = 1;
  int32_t max_replicas = 1000;
  double target_util = 0.7;
  double tolerance = 0.1;
  double up_cooldown_s = 0;
  double down_cooldown_s = 300;
  double startup_s = 0;
  std::string out;
};

// service.csv's rows at most: 5 million steps, ~300 MB.
constexpr double kMaxSteps = 5e6;

Error Bad(const std::string& option, std::string message) {
  return Error::InvalidInput("inference", 0, option, std::move(message));
}

// The flag that sets each ServiceSpec field, so that errors name what the
// user typed.
std::string FlagOf(const std::string& field) {
  static const std::pair<const char*, const char*> kFlags[] = {
      {"gpus_per_replica", "--gpus-per-replica"},
      {"tokens_per_s_per_replica", "--tokens-per-replica"},
      {"batch_slots", "--batch-slots"},
      {"tokens_per_request", "--tokens-per-request"},
      {"slo_ms", "--slo-ms"},
      {"min_replicas", "--min"},
      {"max_replicas", "--max"},
      {"target_utilization", "--target-util"},
      {"tolerance", "--tolerance"},
      {"scale_up_cooldown_s", "--up-cooldown"},
      {"scale_down_cooldown_s", "--down-cooldown"},
      {"startup_s", "--startup"},
      {"peak_hour", "--peak-hour"},
      {"trough_hour", "--trough-hour"},
      {"trough_ratio", "--trough-ratio"},
      {"rate", "--rate"},
  };
  for (const auto& [f, flag] : kFlags) {
    if (field == f) return flag;
  }
  return field;
}

Error AsFlagError(const Error& e) { return Bad(FlagOf(e.field), e.message); }

Status CheckDemandFlags(const ServeArgs& a) {
  // Each flag's range was checked while parsing (cli/flags.h). The number
  // of steps is bounded: service.csv has one row per step (~60 bytes).
  const double steps = std::ceil(a.duration_s / a.step_s);
  if (steps > kMaxSteps) {
    return Bad("--hours", fmt::format("{} over steps of {} is {:.3g} steps, ~{:.0f} MB of service.csv; at most {} "
                                      "steps: shorten --hours or lengthen --step",
                                      FormatDuration(a.duration_s), FormatDuration(a.step_s), steps,
                                      steps * 60 / 1e6, kMaxSteps));
  }
  DiurnalProfile d{a.peak_hour, a.trough_hour, a.trough_ratio};
  if (Status s = ValidateDiurnalProfile(d, "inference"); !s) return AsFlagError(s.error());
  if (a.trace.empty() == a.rate.empty()) {
    return Bad("--trace", "expected exactly one of --trace FILE and --rate POINTS");
  }
  if (!a.rate.empty()) {
    if (auto points = ParseRatePoints(a.rate, "inference"); !points) return AsFlagError(points.error());
  }
  if (!a.rate.empty() && !(a.tokens_per_request > 0)) {
    return Bad("--tokens-per-request", "--rate needs the mean tokens per request (> 0)");
  }
  return Status::Ok();
}

std::string Num(double v) { return fmt::format("{:.3f}", v); }

int RunServe(const ServeArgs& a) {
  if (Status s = CheckDemandFlags(a); !s) return ReportError(s.error());
  ServiceSpec spec;
  spec.name = "service";
  spec.gpus_per_replica = a.gpus_per_replica;
  spec.tokens_per_s_per_replica = a.tokens_per_replica;
  spec.batch_slots = a.batch_slots;
  // Checked again below once the trace gives its mean, if it is 0 here.
  spec.tokens_per_request = a.tokens_per_request > 0 ? a.tokens_per_request : 1;
  spec.slo_ms = a.slo_ms;
  spec.min_replicas = a.min_replicas;
  spec.max_replicas = a.max_replicas;
  spec.target_utilization = a.target_util;
  spec.tolerance = a.tolerance;
  spec.scale_up_cooldown_s = a.up_cooldown_s;
  spec.scale_down_cooldown_s = a.down_cooldown_s;
  spec.startup_s = a.startup_s;
  if (a.tokens_per_request != 0 && !(a.tokens_per_request > 0)) {
    return ReportError(Bad("--tokens-per-request",
                           fmt::format("expected tokens > 0, got {}", a.tokens_per_request)));
  }
  if (Status s = ValidateServiceSpec(spec); !s) return ReportError(AsFlagError(s.error()));

  DemandOptions o;
  o.step_s = a.step_s;
  o.duration_s = a.duration_s;
  o.scale = a.scale;
  o.weights = {a.input_weight, a.output_weight};
  o.diurnal = {a.peak_hour, a.trough_hour, a.trough_ratio};

  Result<DemandCurve> curve = Error{};
  LlmTraceStats stats;
  std::string format_name = "rate";
  if (!a.trace.empty()) {
    auto format = ParseLlmTraceFormat(a.format, "inference");
    if (!format) return ReportError(Bad("--format", format.error().message));
    auto trace = ReadLlmTrace(a.trace, *format);
    if (!trace) return ReportError(trace.error());
    format_name = LlmTraceFormatName(trace->format);
    stats = SummarizeLlmTrace(*trace, o.weights, a.step_s);
    if (a.tokens_per_request == 0) {
      if (!(stats.mean_tokens_per_request > 0)) {
        return ReportError(Bad("--tokens-per-request",
                               "the trace has no tokens under these weights; give the mean"));
      }
      spec.tokens_per_request = stats.mean_tokens_per_request;
    }
    curve = TraceDemand(*trace, o);
    if (!curve) return ReportError(Error::InvalidInput(a.trace, 0, curve.error().field,
                                                       curve.error().message));
  } else {
    auto points = ParseRatePoints(a.rate, "inference");
    if (!points) return ReportError(AsFlagError(points.error()));
    curve = RateCurveDemand(*points, o);
    if (!curve) return ReportError(AsFlagError(curve.error()));
  }
  const DemandCurve& c = *curve;

  // Start warm: the replicas the autoscaler would want for the first step.
  Autoscaler probe(spec);
  InferenceService svc(spec, probe.Recommend(0, c.tokens_per_s.empty() ? 0 : c.tokens_per_s[0], 0));
  svc.set_record_samples(true);
  for (size_t b = 0; b < c.tokens_per_s.size(); ++b) {
    svc.Step(static_cast<double>(b) * c.step_s, c.step_s, c.tokens_per_s[b]);
  }
  const ServiceMetrics& m = svc.metrics();

  auto out = OutputDir::Open(a.out);
  if (!out) return ReportError(out.error());
  OutBuffer csv;
  csv.Reserve(c.tokens_per_s.size() * 64 + 128);
  csv.Put("t_s,demand_tokens_s,replicas,utilization,slo_attainment,ready_replicas,"
          "idle_replicas\n");
  for (const ServiceSample& s : svc.samples()) {
    csv.Put(fmt::format("{},{},{},{:.6f},{:.6f},{},{}\n", s.t_s, Num(s.demand_tokens_s),
                        s.replicas, s.utilization, s.slo_attainment, s.ready_replicas,
                        spec.max_replicas - s.replicas));
  }
  const std::string csv_path = a.out + "/service.csv";
  if (Status s = (*out)->Write("service.csv", csv.str()); !s) return ReportError(s.error());

  const double idle_hours = m.idle_replica_seconds / 3600;
  nlohmann::ordered_json j;
  j["schema"] = "rackscale.inference.summary";
  j["schema_version"] = 1;
  if (!a.trace.empty()) {
    j["trace"] = a.trace;
    j["rate"] = nullptr;
  } else {
    j["trace"] = nullptr;
    j["rate"] = a.rate;
  }
  j["format"] = format_name;
  j["requests"] = stats.requests;
  j["trace_span_s"] = stats.span_s;
  j["trace_mean_tokens_s"] = stats.mean_tokens_per_s;
  j["scale"] = a.scale;
  j["input_weight"] = a.input_weight;
  j["output_weight"] = a.output_weight;
  j["peak_hour"] = a.peak_hour;
  j["trough_hour"] = a.trough_hour;
  j["trough_ratio"] = a.trough_ratio;
  j["step_s"] = c.step_s;
  j["steps"] = m.steps;
  j["gpus_per_replica"] = spec.gpus_per_replica;
  j["tokens_per_s_per_replica"] = spec.tokens_per_s_per_replica;
  j["tokens_per_request"] = spec.tokens_per_request;
  j["batch_slots"] = spec.batch_slots;
  j["slo_ms"] = spec.slo_ms;
  j["min_replicas"] = spec.min_replicas;
  j["max_replicas"] = spec.max_replicas;
  j["target_utilization"] = spec.target_utilization;
  j["tolerance"] = spec.tolerance;
  j["scale_up_cooldown_s"] = spec.scale_up_cooldown_s;
  j["scale_down_cooldown_s"] = spec.scale_down_cooldown_s;
  j["startup_s"] = spec.startup_s;
  j["demand_mean_tokens_s"] = c.Mean();
  j["demand_peak_tokens_s"] = c.Peak();
  j["slo_attainment"] = m.SloAttainment();
  j["served_share"] = m.demand_tokens > 0 ? m.served_tokens / m.demand_tokens : 1.0;
  j["replica_hours"] = m.ReplicaHours();
  j["gpu_hours"] = svc.GpuHours();
  j["mean_replicas"] = m.MeanReplicas();
  j["peak_replicas"] = m.peak_replicas;
  j["fewest_replicas"] = m.min_replicas;
  j["idle_replica_hours"] = idle_hours;
  j["idle_gpu_hours"] = idle_hours * spec.gpus_per_replica;
  const std::string json_path = a.out + "/summary.json";
  if (Status s = (*out)->Write("summary.json", j.dump(2) + "\n"); !s) return ReportError(s.error());
  if (Status s = (*out)->Commit(); !s) return ReportError(s.error());

  if (!a.trace.empty()) {
    std::printf("trace      %s: %s, %lld requests over %.0f s, mean %.0f tokens/s, "
                "%.0f tokens/request\n",
                a.trace.c_str(), format_name.c_str(), static_cast<long long>(stats.requests),
                stats.span_s, stats.mean_tokens_per_s, stats.mean_tokens_per_request);
    std::printf("demand     x %g, diurnal (peak at %g h, trough %g x peak at %g h): mean %.0f, "
                "peak %.0f tokens/s over %lld steps of %g s\n",
                a.scale, a.peak_hour, a.trough_ratio, a.trough_hour, c.Mean(), c.Peak(),
                static_cast<long long>(m.steps), c.step_s);
  } else {
    std::printf("demand     rate curve x %g: mean %.0f, peak %.0f tokens/s over %lld steps of "
                "%g s\n",
                a.scale, c.Mean(), c.Peak(), static_cast<long long>(m.steps), c.step_s);
  }
  std::printf("replicas   %d GPUs x %.0f tokens/s each, %d..%d, target %.0f%%: mean %.1f, "
              "fewest %d, peak %d\n",
              spec.gpus_per_replica, spec.tokens_per_s_per_replica, spec.min_replicas,
              spec.max_replicas, spec.target_utilization * 100, m.MeanReplicas(),
              m.min_replicas, m.peak_replicas);
  std::printf("SLO        %.4f of demand waited <= %g ms for one of %d batch slots\n",
              m.SloAttainment(), spec.slo_ms, spec.batch_slots);
  std::printf("GPU-hours  %.1f (%.1f replica-hours); idle reserve %.1f GPU-hours\n",
              svc.GpuHours(), m.ReplicaHours(), idle_hours * spec.gpus_per_replica);
  std::printf("wrote      %s, %s\n", csv_path.c_str(), json_path.c_str());
  return kExitOk;
}

}  // namespace

void RegisterInference(CLI::App& app, CommandFn* run) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* sub = app.add_subcommand(
      "inference",
      "Simulate one LLM inference service alone over a day: demand from a request trace\n"
      "(Azure CSV or Mooncake JSON lines, tiled, shaped by a diurnal profile, scaled) or a\n"
      "rate curve; an HPA-style autoscaler; the SLO attainment of an M/M/B model per replica\n"
      "(docs/inference.md). Writes DIR/service.csv and DIR/summary.json.\n"
      "Example: rackscale inference --trace AzureLLMInferenceTrace_conv.csv --scale 50 \\\n"
      "           --tokens-per-replica 20000 --max 100 --out out");
  auto* trace = AddInFile(sub, "--trace", &a->trace,
                          "LLM request trace: AzureLLMInferenceTrace_*.csv or mooncake_*.jsonl[.gz]");
  auto* rate = sub->add_option("--rate", a->rate,
                               "Instead of a trace: tokens/s as 'R' or 'T:R,T:R,...' "
                               "(seconds:tokens/s, linear in between)");
  trace->excludes(rate);
  AddChoice(sub, "--format", &a->format, "Trace format: auto, azure or mooncake", {"auto", "azure", "mooncake"});
  AddNumber(sub, "--scale", &a->scale, "Multiplies the demand", 0, 1e6);
  AddNumber(sub, "--trough-ratio", &a->trough_ratio, "Diurnal trough as a share of the peak (1: flat day)", 0, 1);
  AddNumber(sub, "--peak-hour", &a->peak_hour, "Local hour of the diurnal peak", 0, 24, "h");
  AddNumber(sub, "--trough-hour", &a->trough_hour, "Local hour of the diurnal trough", 0, 24, "h");
  AddDuration(sub, "--step", &a->step_s, "Time per step (demand bucket, autoscaler period)", DurationUnit::kSeconds,
              1, 86400);
  AddDuration(sub, "--hours", &a->duration_s, "Time simulated from local midnight", DurationUnit::kHours, 1,
              3660.0 * 86400);
  AddNumber(sub, "--input-weight", &a->input_weight, "Weight of a prompt token in demand", 0, 1e6);
  AddNumber(sub, "--output-weight", &a->output_weight, "Weight of a generated token in demand", 0, 1e6);
  AddNumber(sub, "--tokens-per-replica", &a->tokens_per_replica,
            "Weighted tokens/s one replica sustains with --batch-slots requests at the per-token latency you "
            "accept (measure it; no default)",
            1e-6, 1e12)
      ->required();
  AddNumber(sub, "--tokens-per-request", &a->tokens_per_request,
            "Mean weighted tokens per request (default, 0: the trace's mean)", 0, 1e12);
  AddInt(sub, "--batch-slots", &a->batch_slots, "Requests one replica runs at once", 1, 1 << 16);
  AddNumber(sub, "--slo-ms", &a->slo_ms,
            "SLO: the longest wait of a request for a batch slot, in ms (the default is a round figure, not a "
            "measured one)",
            1e-3, 1e9, "ms");
  AddInt(sub, "--gpus-per-replica", &a->gpus_per_replica, "GPUs per replica (one domain)", 1, 1 << 20);
  AddInt(sub, "--min", &a->min_replicas, "Fewest replicas", 0, 1 << 24);
  AddInt(sub, "--max", &a->max_replicas, "Most replicas (the service's reserve)", 1, 1 << 24);
  AddNumber(sub, "--target-util", &a->target_util, "Autoscaler's target utilization", 1e-6, 1);
  AddNumber(sub, "--tolerance", &a->tolerance, "Autoscaler ignores |utilization / target - 1| up to this", 0, 0.999);
  AddDuration(sub, "--up-cooldown", &a->up_cooldown_s,
              "How long a rise must persist before scaling up (HPA stabilization window)", DurationUnit::kSeconds, 0,
              366.0 * 86400);
  AddDuration(sub, "--down-cooldown", &a->down_cooldown_s,
              "How long demand must stay low before scaling down (HPA stabilization window)",
              DurationUnit::kSeconds, 0, 366.0 * 86400);
  AddDuration(sub, "--startup", &a->startup_s, "Time from a replica's start until it serves",
              DurationUnit::kSeconds, 0, 366.0 * 86400);
  AddOutDir(sub, "--out", &a->out, "Output directory")->required();
  sub->callback([a, run] { *run = [a] { return RunServe(*a); }; });
}

}  // namespace rackscale
