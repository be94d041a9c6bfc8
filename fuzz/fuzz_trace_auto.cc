// libFuzzer target: format detection plus whichever reader it picks, and the
// gzip path (inputs starting with the gzip magic are inflated first).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/file.h"
#include "workload/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    auto inflated = rackscale::Gunzip(text, "fuzz.gz");
    if (!inflated.ok() || inflated->size() > (1u << 24)) return 0;
    auto r = rackscale::ParseTrace(*inflated, "fuzz", rackscale::ReadOptions{});
    (void)r;
    return 0;
  }
  auto r = rackscale::ParseTrace(text, "fuzz", rackscale::ReadOptions{});
  (void)r;
  return 0;
}
