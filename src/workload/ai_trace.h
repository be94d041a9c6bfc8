// AI workloads: the native AI CSV reader, the Philly trace mapped onto a
// topology, and the synthetic generator (`rackscale gen ai`).
//
// Native AI CSV (docs/traces.md): a header naming the columns, any order.
// Required: id, submit, runtime, gpus. Optional: walltime, tenant,
// cpu_milli, memory_mib, models ("GB200|H100"), topology (any, block,
// domain, node), priority, preemptible (0/1, true/false).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/ai_job.h"
#include "workload/trace.h"

namespace rackscale {

struct AiWorkload {
  std::vector<AiJob> jobs;           // in file order
  std::vector<std::string> tenants;  // tenants[0] is "" (no tenant given)
  GpuModels models;                  // names used in `models` constraints
  int64_t bad_lines = 0;
  std::vector<Error> bad_line_errors;
};

Result<AiWorkload> ParseAiCsv(std::string_view text, const std::string& source,
                              bool skip_bad_lines);

// Reads an AI workload: native AI CSV (a header with a "gpus" column), or a
// Philly trace mapped onto a topology: gpus = num_gpus, topology = domain for
// gangs up to `domain_gpus`, any beyond; tenant = virtual cluster.
// `format`: "auto" (guess), "csv" (native AI CSV) or "philly".
Result<AiWorkload> ReadAiWorkload(const std::string& path, bool skip_bad_lines,
                                  int32_t domain_gpus, const std::string& format = "auto");

// Writes the native AI CSV (all columns).
std::string FormatAiCsv(const AiWorkload& w);

// A synthetic AI workload with the shape of published GPU-cluster traces
// (Philly, Helios, Acme; docs/traces.md): most jobs take 1-8 GPUs, a heavy
// tail of gangs of 256-16,384 GPUs; log-normal runtimes; Poisson arrivals
// over `days` days; tenants with Zipf-like shares; a share of CPU-only jobs.
struct AiGenParams {
  int64_t jobs = 10000;
  double days = 30;
  int32_t tenants = 8;
  double cpu_fraction = 0.2;      // CPU-only jobs
  double gang_fraction = 0.002;   // gangs of 256..max_gang GPUs
  int32_t max_gang = 16384;
  // The largest gangs take max_gang GPUs exactly (else the largest power of
  // two up to it): gangs sized to a capacity.
  bool max_gang_exact = false;
  double preemptible_fraction = 0.1;
  // Single-GPU jobs that ask for a share of a GPU instead (shares drawn from
  // the openb default workload's fractional pods).
  double share_fraction = 0;
  int32_t domain_gpus = 72;       // gangs up to this size ask for one domain
  // If both are set, GPU-job runtimes are scaled by one factor so that the
  // offered load sum(gpus x runtime) / (gpus x span) is `load`.
  double load = 0;
  int64_t capacity_gpus = 0;
  uint64_t seed = 1;
};
Result<AiWorkload> GenerateAi(const AiGenParams& p);

}  // namespace rackscale
