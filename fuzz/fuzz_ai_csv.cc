// libFuzzer target for the native AI CSV reader (property: reader_fuzz.h,
// adapted: skipping bad lines never changes a clean parse).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "workload/ai_trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto strict = rackscale::ParseAiCsv(text, "fuzz", false);
  if (!strict.ok() && strict.error().message.empty()) __builtin_trap();
  auto lenient = rackscale::ParseAiCsv(text, "fuzz", true);
  if (strict.ok() && (!lenient.ok() || lenient->jobs.size() != strict->jobs.size())) {
    __builtin_trap();
  }
  return 0;
}
