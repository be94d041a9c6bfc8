#include "report/metrics.h"

#include <algorithm>
#include <limits>

namespace rackscale {

__extension__ typedef __int128 Int128;  // exact sums of size x runtime

FlatSummary Summarize(const Workload& w, const FlatSimResult& r, SlotCount slots) {
  FlatSummary s;
  s.jobs = static_cast<int64_t>(w.jobs.size());
  s.slots = slots;
  s.bad_lines = w.bad_lines;
  s.events = r.events;
  s.passes = r.passes;
  s.backfilled = r.backfilled;
  std::vector<Seconds> waits;
  waits.reserve(w.jobs.size());
  Int128 work = 0, wait_sum = 0;
  double bsld_sum = 0;
  s.first_submit = std::numeric_limits<Seconds>::max();
  s.last_end = std::numeric_limits<Seconds>::min();
  for (size_t i = 0; i < w.jobs.size(); ++i) {
    const Job& j = w.jobs[i];
    const JobOutcome& o = r.outcomes[i];
    switch (o.status) {
      case JobStatus::kInvalid: ++s.invalid; continue;
      case JobStatus::kRejected: ++s.rejected; continue;
      case JobStatus::kUnfinished: continue;  // not produced by the flat simulator
      case JobStatus::kDone: break;
    }
    ++s.done;
    Seconds wait = o.start - j.submit;
    waits.push_back(wait);
    wait_sum += wait;
    work += static_cast<Int128>(j.size) * j.runtime;
    double bsld = static_cast<double>(wait + j.runtime) /
                  static_cast<double>(std::max<Seconds>(j.runtime, 10));
    bsld_sum += std::max(1.0, bsld);
    s.first_submit = std::min(s.first_submit, j.submit);
    s.last_end = std::max(s.last_end, o.start + j.runtime);
  }
  if (s.done == 0) {
    s.first_submit = s.last_end = 0;
    return s;
  }
  s.makespan = s.last_end - s.first_submit;
  s.utilization = static_cast<double>(work) /
                  (static_cast<double>(slots) * static_cast<double>(s.makespan));
  s.mean_wait = static_cast<double>(wait_sum) / static_cast<double>(s.done);
  s.mean_bounded_slowdown = bsld_sum / static_cast<double>(s.done);
  // Nearest rank: the value at 1-based rank ceil(p * n / 100) of the sorted
  // waits. Selected in increasing rank order, each nth_element working on
  // the part above the previous one: O(n) instead of a full sort.
  auto begin = waits.begin();
  auto rank = [&](int p) {
    auto nth = waits.begin() + static_cast<std::ptrdiff_t>(NearestRankIndex(waits.size(), p));
    std::nth_element(begin, nth, waits.end());
    begin = nth;
    return *nth;
  };
  s.p50_wait = rank(50);
  s.p95_wait = rank(95);
  s.p99_wait = rank(99);
  s.max_wait = *std::max_element(begin, waits.end());
  return s;
}

}  // namespace rackscale
