// libFuzzer target for the openb node and pod list readers: any bytes give a
// list or an Error with a message; never a crash, hang or bad read.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "workload/openb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto nodes = rackscale::ParseOpenbNodes(text, "fuzz");
  if (!nodes.ok() && nodes.error().message.empty()) __builtin_trap();
  rackscale::GpuModels models;
  auto pods = rackscale::ParseOpenbPods(text, "fuzz", &models);
  if (!pods.ok() && pods.error().message.empty()) __builtin_trap();
  if (pods.ok()) {
    for (const auto& p : *pods) {
      if (p.gpu_milli < 0 || p.gpu_milli > 1000 || p.num_gpu < 0) __builtin_trap();
    }
  }
  return 0;
}
