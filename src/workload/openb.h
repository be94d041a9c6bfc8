// Readers for the Alibaba GPU cluster trace of the FGD paper ("openb",
// clusterdata cluster-trace-gpu-v2023): node lists and pod lists.
//
// Node list: header `sn,cpu_milli,memory_mib,gpu,model` (columns by name).
// Pod list: header with at least `name,cpu_milli,memory_mib,num_gpu,gpu_milli`
// and optionally gpu_spec, qos, pod_phase, creation_time, deletion_time,
// scheduled_time. gpu_milli is per GPU: a pod with num_gpu = 1 and
// gpu_milli < 1000 shares one GPU; gpu_spec like "V100M16|V100M32" limits
// the GPU models it may use (empty: any).
//
// Errors name the file, line and column, as every reader's do.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/fleet.h"
#include "model/gpu_node.h"

namespace rackscale {

struct PodSpec {
  std::string name;
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  int32_t num_gpu = 0;
  int32_t gpu_milli = 0;  // per GPU, 0..1000
  GpuModelMask models = kAnyGpuModel;
  std::string qos, phase;
  int64_t creation_time = 0, deletion_time = 0, scheduled_time = 0;
  int64_t line = 0;

  // Total GPU request in milli-GPU.
  int64_t TotalGpuMilli() const { return static_cast<int64_t>(num_gpu) * gpu_milli; }
};

struct NodeList {
  std::vector<NodeSpec> nodes;
  GpuModels models;
};

// Parses an openb node list. Model names are interned into `models` (which
// may already hold names, e.g. from pods).
Result<NodeList> ParseOpenbNodes(std::string_view text, const std::string& source);
Result<NodeList> ReadOpenbNodes(const std::string& path);

// Parses an openb pod list; gpu_spec names are interned into `models`.
Result<std::vector<PodSpec>> ParseOpenbPods(std::string_view text, const std::string& source,
                                            GpuModels* models);
Result<std::vector<PodSpec>> ReadOpenbPods(const std::string& path, GpuModels* models);

// The nodes of a fleet as a node list (name "<domain>/<node>", model = the
// accelerator), for the GPU-sharing policies.
NodeList NodeListFromFleet(const Fleet& f);

// Loads a cluster: a path ending in .toml is a fleet description
// (docs/cluster.md); anything else is read as an openb node list.
Result<Fleet> LoadFleet(const std::string& path);

}  // namespace rackscale
