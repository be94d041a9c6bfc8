#include "model/cluster.h"

#include <fmt/format.h>

#include "base/text.h"
#include "model/job.h"

namespace rackscale {

const char* JobStatusName(JobStatus s) {
  switch (s) {
    case JobStatus::kDone: return "done";
    case JobStatus::kRejected: return "rejected";
    case JobStatus::kInvalid: return "invalid";
    case JobStatus::kUnfinished: return "unfinished";
  }
  return "?";
}

Result<FlatCluster> ParseClusterSpec(std::string_view spec, const std::string& source) {
  constexpr std::string_view kFlat = "flat:";
  if (spec.substr(0, kFlat.size()) != kFlat) {
    return Error::InvalidInput(source, 0, "cluster",
                               fmt::format("expected 'flat:N' (N slots), got {}", Quote(spec)));
  }
  auto n = ParseInt(spec.substr(kFlat.size()));
  if (!n || *n < 1 || *n > (int64_t{1} << 40)) {
    return Error::InvalidInput(
        source, 0, "cluster",
        fmt::format("expected a slot count between 1 and 2^40 after 'flat:', got {}",
                    Quote(spec.substr(kFlat.size()))));
  }
  return FlatCluster{*n};
}

}  // namespace rackscale
