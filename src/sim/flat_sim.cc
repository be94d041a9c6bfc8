#include "sim/flat_sim.h"

#include <algorithm>
#include <queue>

namespace rackscale {
namespace {

// A pending completion: (end time, ticket). The order among completions at
// one time does not matter: they all free their slots before the pass.
struct Completion {
  Seconds end;
  FlatScheduler::Ticket ticket;
  bool operator>(const Completion& o) const {
    return end != o.end ? end > o.end : ticket > o.ticket;
  }
};

}  // namespace

Result<FlatSimResult> SimulateFlat(const Workload& w, const FlatSimOptions& options) {
  FlatSimResult r;
  const size_t n = w.jobs.size();
  r.outcomes.resize(n);

  // Classify, and list the runnable jobs in arrival order (submit, id).
  std::vector<uint32_t> arrivals;
  arrivals.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const Job& j = w.jobs[i];
    if (j.size <= 0 || j.runtime <= 0) {
      r.outcomes[i].status = JobStatus::kInvalid;
    } else if (j.size > options.slots) {
      r.outcomes[i].status = JobStatus::kRejected;
    } else {
      r.outcomes[i].status = JobStatus::kDone;
      arrivals.push_back(static_cast<uint32_t>(i));
    }
  }
  // Every job starts by the last submit plus the runtimes of all jobs (the
  // pool never idles while a job waits after the last submit), so bounding
  // that sum bounds every time the simulation computes.
  {
    __extension__ typedef __int128 Int128;
    Int128 bound = 0, max_wall = 0;
    for (uint32_t i : arrivals) {
      const Job& j = w.jobs[i];
      bound += j.runtime;
      max_wall = std::max<Int128>(max_wall, j.Walltime());
    }
    Seconds max_submit = 0;
    for (uint32_t i : arrivals) max_submit = std::max(max_submit, w.jobs[i].submit);
    if (bound + max_submit + max_wall > (Int128{1} << 62)) {
      return Error::InvalidInput("", 0, "runtime",
                                 "the runtimes add up past 2^62 s of simulated time");
    }
    if (arrivals.size() > 0xffffffffu) {
      return Error::InvalidInput("", 0, "", "more than 2^32 - 1 runnable jobs");
    }
  }
  auto before = [&](uint32_t a, uint32_t b) {
    const Job& x = w.jobs[a];
    const Job& y = w.jobs[b];
    return x.submit != y.submit ? x.submit < y.submit : x.id < y.id;
  };
  if (!std::is_sorted(arrivals.begin(), arrivals.end(), before)) {
    std::sort(arrivals.begin(), arrivals.end(), before);
  }

  FlatScheduler sched(options.slots, options.policy);
  sched.Reserve(arrivals.size());
  std::priority_queue<Completion, std::vector<Completion>, std::greater<Completion>> ends;
  std::vector<FlatScheduler::Ticket> started;
  // Ticket k is the k-th arrival: the scheduler hands tickets out in order.
  size_t next = 0;
  int64_t finished = 0;
  const int64_t total = static_cast<int64_t>(arrivals.size());
  SimProgress prog{0, 0, 0, 0, total};
  if (!arrivals.empty()) {
    prog.first = w.jobs[arrivals.front()].submit;
    prog.last = w.jobs[arrivals.back()].submit;
  }
  int64_t next_report = 1 << 16;

  while (next < arrivals.size() || !ends.empty()) {
    Seconds t = next < arrivals.size() ? w.jobs[arrivals[next]].submit : ends.top().end;
    if (!ends.empty() && ends.top().end < t) t = ends.top().end;
    while (!ends.empty() && ends.top().end == t) {
      sched.Finish(ends.top().ticket);
      ends.pop();
      ++finished;
      ++r.events;
    }
    while (next < arrivals.size() && w.jobs[arrivals[next]].submit == t) {
      const Job& j = w.jobs[arrivals[next]];
      sched.Submit(j.size, j.Walltime());
      ++next;
      ++r.events;
    }
    started.clear();
    sched.Schedule(t, &started);
    ++r.passes;
    for (FlatScheduler::Ticket k : started) {
      uint32_t i = arrivals[k];
      r.outcomes[i].start = t;
      ends.push(Completion{t + w.jobs[i].runtime, k});
    }
    if (options.progress && r.events >= next_report) {
      next_report = r.events + (1 << 16);
      prog.now = t;
      prog.finished = finished;
      options.progress(prog);
    }
  }
  r.backfilled = sched.backfilled();
  if (options.progress) {
    prog.now = prog.last;
    prog.finished = finished;
    options.progress(prog);
  }
  return r;
}

}  // namespace rackscale
