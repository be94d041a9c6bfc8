// libFuzzer target for the TOML readers (fleet and tenants): any bytes give a
// fleet / tenants config or an Error with a message and a key path or line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "model/fleet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // A valid description may ask for 10^8 nodes; skip inputs with numbers of
  // six digits or more so that runs stay within the fuzzer's memory limit.
  int run = 0;
  for (char c : text) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    if (run >= 6) return 0;
  }
  auto f = rackscale::ParseFleetToml(text, "fuzz.toml");
  if (!f.ok() && f.error().message.empty()) __builtin_trap();
  if (f.ok()) {
    for (const auto& d : f->domains) {
      if (d.first_node < 0 || d.first_node + d.num_nodes > static_cast<int32_t>(f->nodes.size())) {
        __builtin_trap();
      }
    }
  }
  auto t = rackscale::ParseTenantsToml(text, "fuzz.toml");
  if (!t.ok() && t.error().message.empty()) __builtin_trap();
  return 0;
}
