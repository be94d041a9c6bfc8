// Output writers for `rackscale sim`. Schemas: docs/outputs.md.
#pragma once

#include <string>

#include "report/metrics.h"

namespace rackscale {

inline constexpr int kSummarySchemaVersion = 1;

// jobs.csv: header `id,submit,start,end,size,status`, one row per job in id
// order; start and end are empty unless the job is done.
std::string FormatJobsCsv(const Workload& w, const FlatSimResult& r);

// What the run was, for the record in summary.json and the human summary.
struct RunInfo {
  std::string trace;    // path as given
  std::string format;   // swf, philly, csv
  std::string cluster;  // flat:N
  std::string policy;   // fifo, easy
  double wall_seconds = 0;   // total, parsing and writing included
  double sim_seconds = 0;    // the event loop alone
  bool timing = true;        // false: leave wall-clock figures out (byte-identical runs)
};

// summary.json: the metrics, the run description and (unless !info.timing)
// the wall-clock figures. Deterministic apart from the "timing" object.
std::string FormatSummaryJson(const FlatSummary& s, const RunInfo& info);

// A few lines a person can read at a glance.
std::string FormatHumanSummary(const FlatSummary& s, const RunInfo& info);

// "3h 25m", "42s", "2d 4h": a duration for people.
std::string HumanDuration(double seconds);

}  // namespace rackscale
