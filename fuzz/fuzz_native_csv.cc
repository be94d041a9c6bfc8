// libFuzzer target for rackscale::ParseNativeCsv (property: reader_fuzz.h).
#include "reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return FuzzReader(rackscale::ParseNativeCsv, data, size);
}
