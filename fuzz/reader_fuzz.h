// The property every reader's fuzz target checks: on any bytes, a reader
// returns jobs or an Error with a message (never crashes, hangs or reads out
// of bounds), and skipping bad lines never changes a clean parse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "workload/trace.h"

template <typename Parser>
int FuzzReader(Parser parse, const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto strict = parse(text, "fuzz", false);
  if (!strict.ok() && strict.error().message.empty()) __builtin_trap();
  auto lenient = parse(text, "fuzz", true);
  if (strict.ok() && (!lenient.ok() || lenient->jobs.size() != strict->jobs.size())) {
    __builtin_trap();
  }
  return 0;
}
