// An AI-cluster job: a gang of whole GPUs (all-or-nothing) or a CPU-only job,
// with its tenant, GPU-model constraint, topology constraint, priority and
// preemptibility. Fractional-GPU pods are placed by the GPU-sharing policies
// (sched/gpu_share.h, `rackscale pack`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/gpu_node.h"
#include "model/units.h"

namespace rackscale {

// How tightly a gang must be placed: every GPU in one node, in one NVLink
// domain, in one network block, or anywhere.
enum class TopologyScope : uint8_t { kAny, kBlock, kDomain, kNode };

const char* TopologyScopeName(TopologyScope s);
bool ParseTopologyScope(std::string_view s, TopologyScope* out);

struct AiJob {
  JobId id = 0;
  TenantId tenant = 0;
  Seconds submit = 0;
  Seconds runtime = 0;
  Seconds requested = 0;  // requested wall time; <= 0 unknown
  int32_t gpus = 0;       // whole GPUs; 0 = a CPU-only job
  int64_t cpu_milli = 0;  // CPU-only jobs: on one CPU node
  int64_t memory_mib = 0;
  GpuModelMask models = kAnyGpuModel;
  TopologyScope topology = TopologyScope::kAny;
  int32_t priority = 0;
  bool preemptible = false;
  int64_t line = 0;

  Seconds Walltime() const {
    Seconds w = requested > 0 ? requested : runtime;
    return w < runtime ? runtime : w;
  }
};

}  // namespace rackscale
