#include "model/gpu_node.h"

namespace rackscale {

std::optional<GpuModelId> GpuModels::Find(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<GpuModelId>(i);
  }
  return std::nullopt;
}

std::optional<GpuModelId> GpuModels::Intern(std::string_view name) {
  if (auto id = Find(name)) return id;
  if (names_.size() >= kMaxGpuModels) return std::nullopt;
  names_.emplace_back(name);
  return static_cast<GpuModelId>(names_.size() - 1);
}

}  // namespace rackscale
