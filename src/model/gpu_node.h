// Nodes with CPU, memory and GPUs that can be shared in thousandths
// ("milli-GPU"), as in the Alibaba openb cluster and the FGD paper.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/units.h"

namespace rackscale {

using GpuModelId = uint8_t;
inline constexpr int kMaxGpuModels = 64;  // model sets are 64-bit masks
inline constexpr int32_t kMilliPerGpu = 1000;

// The GPU model names seen so far (node lists and pod constraints share it).
class GpuModels {
 public:
  // Returns the id of `name`, adding it if new; nullopt if the table is full.
  std::optional<GpuModelId> Intern(std::string_view name);
  std::optional<GpuModelId> Find(std::string_view name) const;
  const std::string& name(GpuModelId id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
};

// A set of GPU models as a bit mask; kAnyGpuModel accepts every model.
using GpuModelMask = uint64_t;
inline constexpr GpuModelMask kAnyGpuModel = ~GpuModelMask{0};

struct NodeSpec {
  std::string name;
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  int32_t gpus = 0;
  GpuModelId model = 0;  // meaningful when gpus > 0
  int64_t line = 0;
};

}  // namespace rackscale
