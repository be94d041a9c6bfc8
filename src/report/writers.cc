#include "report/writers.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/text.h"

namespace rackscale {

std::string FormatJobsCsv(const Workload& w, const FlatSimResult& r) {
  const size_t n = w.jobs.size();
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  auto by_id = [&](uint32_t a, uint32_t b) { return w.jobs[a].id < w.jobs[b].id; };
  if (!std::is_sorted(order.begin(), order.end(), by_id)) {
    std::sort(order.begin(), order.end(), by_id);
  }
  OutBuffer out;
  out.Reserve(n * 48 + 64);
  out.Put("id,submit,start,end,size,status\n");
  for (uint32_t i : order) {
    const Job& j = w.jobs[i];
    const JobOutcome& o = r.outcomes[i];
    out.PutInt(j.id);
    out.Put(',');
    out.PutInt(j.submit);
    out.Put(',');
    if (o.status == JobStatus::kDone) {
      out.PutInt(o.start);
      out.Put(',');
      out.PutInt(o.start + j.runtime);
    } else {
      out.Put(',');
    }
    out.Put(',');
    out.PutInt(j.size);
    out.Put(',');
    out.Put(JobStatusName(o.status));
    out.Put('\n');
  }
  return out.Take();
}

std::string FormatSummaryJson(const FlatSummary& s, const RunInfo& info) {
  nlohmann::ordered_json j;
  j["schema"] = "rackscale.sim.summary";
  j["schema_version"] = kSummarySchemaVersion;
  j["trace"] = info.trace;
  j["format"] = info.format;
  j["cluster"] = info.cluster;
  j["slots"] = s.slots;
  j["policy"] = info.policy;
  j["jobs"] = s.jobs;
  j["done"] = s.done;
  j["invalid"] = s.invalid;
  j["rejected"] = s.rejected;
  j["bad_lines"] = s.bad_lines;
  j["utilization"] = s.utilization;
  j["makespan"] = s.makespan;
  j["first_submit"] = s.first_submit;
  j["last_end"] = s.last_end;
  j["mean_wait"] = s.mean_wait;
  j["p50_wait"] = s.p50_wait;
  j["p95_wait"] = s.p95_wait;
  j["p99_wait"] = s.p99_wait;
  j["max_wait"] = s.max_wait;
  j["mean_bounded_slowdown"] = s.mean_bounded_slowdown;
  j["bounded_slowdown_threshold"] = 10;
  j["simulated_events"] = s.events;
  j["scheduling_passes"] = s.passes;
  j["backfilled"] = s.backfilled;
  if (info.timing) {  // the only fields that differ between identical runs
    j["wall_seconds"] = info.wall_seconds;
    j["sim_seconds"] = info.sim_seconds;
    j["jobs_per_second"] = info.wall_seconds > 0 ? s.jobs / info.wall_seconds : 0.0;
    j["events_per_second"] = info.sim_seconds > 0 ? s.events / info.sim_seconds : 0.0;
    j["simulated_seconds_per_wall_second"] =
        info.wall_seconds > 0 ? s.makespan / info.wall_seconds : 0.0;
  }
  // Replace invalid UTF-8 (say, in a path) instead of throwing.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string HumanDuration(double seconds) {
  if (seconds < 0) return fmt::format("-{}", HumanDuration(-seconds));
  int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m {:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h {:02}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d {:02}h", s / 86400, (s % 86400) / 3600);
}

static std::string Thousands(int64_t v) {
  std::string digits = fmt::format("{}", v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string FormatHumanSummary(const FlatSummary& s, const RunInfo& info) {
  std::string out;
  out += fmt::format("{} on {}, policy {}\n", info.trace, info.cluster, info.policy);
  out += fmt::format("  jobs         {} ({} done, {} rejected as too large, {} invalid", 
                     Thousands(s.jobs), Thousands(s.done), Thousands(s.rejected),
                     Thousands(s.invalid));
  if (s.bad_lines > 0) out += fmt::format(", {} bad lines skipped", Thousands(s.bad_lines));
  out += ")\n";
  out += fmt::format("  utilization  {:.1f}% over a makespan of {}\n", 100.0 * s.utilization,
                     HumanDuration(static_cast<double>(s.makespan)));
  out += fmt::format("  wait         mean {}, p50 {}, p95 {}, p99 {}, max {}\n",
                     HumanDuration(s.mean_wait), HumanDuration(static_cast<double>(s.p50_wait)),
                     HumanDuration(static_cast<double>(s.p95_wait)),
                     HumanDuration(static_cast<double>(s.p99_wait)),
                     HumanDuration(static_cast<double>(s.max_wait)));
  out += fmt::format("  slowdown     mean bounded slowdown {:.2f} (10 s bound)\n",
                     s.mean_bounded_slowdown);
  if (info.policy == "easy") {
    out += fmt::format("  backfilled   {} jobs ({:.1f}% of those that ran)\n",
                       Thousands(s.backfilled),
                       s.done > 0 ? 100.0 * static_cast<double>(s.backfilled) /
                                        static_cast<double>(s.done)
                                  : 0.0);
  }
  if (info.timing) {
    out += fmt::format("  run          {} events in {:.2f} s wall ({:.2f} s simulating); "
                       "{:.3g} simulated s per wall s\n",
                       Thousands(s.events), info.wall_seconds, info.sim_seconds,
                       info.wall_seconds > 0 ? s.makespan / info.wall_seconds : 0.0);
  }
  return out;
}

}  // namespace rackscale
