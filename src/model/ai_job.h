// An AI-cluster job: a gang of whole GPUs (all-or-nothing), a fractional-GPU
// pod (a share of one GPU, in thousandths) or a CPU-only job, with its
// tenant, GPU-model constraint, topology constraint, priority and
// preemptibility. In a fleet, a tenant's fractional pods pack onto GPUs that
// tenant holds (sched/fleet_scheduler.h); on a node list the GPU-sharing
// policies place pods (sched/gpu_share.h, `rackscale pack`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/gpu_node.h"
#include "model/units.h"

namespace rackscale {

// How tightly a gang must be placed: every GPU in one node, in one NVLink
// domain, in one network block, anywhere in one site, or (multi-site) in
// one site if one has room, else across sites (sched/fleet_scheduler.h).
enum class TopologyScope : uint8_t { kAny, kBlock, kDomain, kNode, kMultiSite };

const char* TopologyScopeName(TopologyScope s);
bool ParseTopologyScope(std::string_view s, TopologyScope* out);

inline constexpr double kCheckpointDefault = 0;
inline constexpr double kCheckpointAuto = -1;
inline constexpr double kCheckpointNone = -2;

struct AiJob {
  JobId id = 0;
  TenantId tenant = 0;
  Seconds submit = 0;
  Seconds runtime = 0;
  Seconds requested = 0;  // requested wall time; <= 0 unknown
  int32_t gpus = 0;       // whole GPUs; 0 = a CPU-only job
  int32_t gpu_milli = 1000;  // < 1000: a share of one GPU (then gpus = 1)
  int64_t cpu_milli = 0;  // CPU-only jobs: on one CPU node
  int64_t memory_mib = 0;
  GpuModelMask models = kAnyGpuModel;
  TopologyScope topology = TopologyScope::kAny;
  int32_t priority = 0;
  bool preemptible = false;
  // Checkpoint interval of its work, in seconds: kCheckpointDefault (the
  // simulation's), kCheckpointAuto (Young/Daly), kCheckpointNone, or > 0.
  double checkpoint = 0;
  int64_t line = 0;

  bool fractional() const { return gpus == 1 && gpu_milli < 1000; }
  // GPUs' worth of work per second: gpus, or the share of a fractional pod.
  double gpu_share() const { return fractional() ? gpu_milli / 1000.0 : gpus; }

  Seconds Walltime() const {
    Seconds w = requested > 0 ? requested : runtime;
    return w < runtime ? runtime : w;
  }
};

}  // namespace rackscale
