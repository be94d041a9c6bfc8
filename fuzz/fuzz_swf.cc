// libFuzzer target: ParseSwf must return jobs or an Error with a line number,
// never crash, hang or read out of bounds, on any bytes; and with skipping
// on, it must never fail on a line-level problem.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "workload/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto strict = rackscale::ParseSwf(text, "fuzz", false);
  if (!strict.ok() && strict.error().message.empty()) __builtin_trap();
  auto lenient = rackscale::ParseSwf(text, "fuzz", true);
  if (strict.ok() && (!lenient.ok() || lenient->jobs.size() != strict->jobs.size())) {
    __builtin_trap();  // skipping must not change a clean parse
  }
  return 0;
}
