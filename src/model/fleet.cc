#include "model/fleet.h"

#include <map>
#include <tuple>

#include <fmt/format.h>

namespace rackscale {

int64_t Fleet::TotalGpus() const {
  int64_t n = 0;
  for (const FleetNode& x : nodes) n += node_types[x.type].gpus;
  return n;
}

int64_t Fleet::TotalCpuMilli() const {
  int64_t n = 0;
  for (const FleetNode& x : nodes) n += node_types[x.type].cpu_milli;
  return n;
}

int64_t Fleet::TotalMemoryMib() const {
  int64_t n = 0;
  for (const FleetNode& x : nodes) n += node_types[x.type].memory_mib;
  return n;
}

Fleet FleetFromNodeList(const std::vector<NodeSpec>& specs, const GpuModels& models) {
  Fleet f;
  f.models = models;
  for (size_t m = 0; m < models.size(); ++m) {
    AcceleratorType a;
    a.name = models.name(static_cast<GpuModelId>(m));
    f.accelerators.push_back(a);
  }
  std::map<std::tuple<int64_t, int64_t, int32_t, int32_t>, int32_t> type_of;
  f.sites.push_back(Site{"openb", 0, 1.0, 0, 0, 1});
  f.blocks.push_back(Block{0, 0, static_cast<int32_t>(specs.size())});
  for (const NodeSpec& s : specs) {
    int32_t accel = s.gpus > 0 ? static_cast<int32_t>(s.model) : -1;
    auto key = std::make_tuple(s.cpu_milli, s.memory_mib, s.gpus, accel);
    auto it = type_of.find(key);
    if (it == type_of.end()) {
      NodeType t;
      t.name = fmt::format("{}c-{}g-{}{}{}", s.cpu_milli / 1000, s.memory_mib / 1024, s.gpus,
                           accel >= 0 ? "x" : "", accel >= 0 ? f.accelerators[accel].name : "");
      t.cpu_milli = s.cpu_milli;
      t.memory_mib = s.memory_mib;
      t.gpus = s.gpus;
      t.accelerator = accel;
      it = type_of.emplace(key, static_cast<int32_t>(f.node_types.size())).first;
      f.node_types.push_back(t);
      f.domain_types.push_back(DomainType{t.name, it->second, 1, t.gpus});
    }
    int32_t d = static_cast<int32_t>(f.domains.size());
    int32_t n = static_cast<int32_t>(f.nodes.size());
    f.domains.push_back(Domain{0, it->second, n, 1, s.gpus});
    f.nodes.push_back(FleetNode{d, it->second});
  }
  return f;
}

std::string DescribeFleet(const Fleet& f) {
  std::map<std::string, int64_t> gpus_by_model;
  for (const FleetNode& n : f.nodes) {
    const NodeType& t = f.node_types[n.type];
    if (t.gpus > 0) gpus_by_model[f.accelerators[t.accelerator].name] += t.gpus;
  }
  std::string models;
  for (const auto& [name, count] : gpus_by_model) {
    models += fmt::format("{}{} {}", models.empty() ? "" : ", ", count, name);
  }
  return fmt::format("{} sites, {} blocks, {} domains, {} nodes, {} GPUs ({}), {} CPU cores",
                     f.sites.size(), f.blocks.size(), f.domains.size(), f.nodes.size(),
                     f.TotalGpus(), models.empty() ? "none" : models, f.TotalCpuMilli() / 1000);
}

}  // namespace rackscale
