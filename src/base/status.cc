#include "base/status.h"

#include <fmt/format.h>

namespace rackscale {

std::string Error::ToString() const {
  std::string out;
  if (!source.empty()) {
    out += source;
    if (line > 0) out += fmt::format(":{}", line);
    out += ": ";
  }
  if (!field.empty()) out += fmt::format("field '{}': ", field);
  out += message;
  return out;
}

}  // namespace rackscale
