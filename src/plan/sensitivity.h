// Sensitivity of a plan (`rackscale run --vary KEY=LOW:HIGH[:STEPS]`): the
// scenario re-planned with one input at each of STEPS evenly spaced values
// from LOW to HIGH, the others at base. Ranges are checked in full (key,
// numbers, every value applied to a copy of the scenario) before any solve.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "plan/plan_run.h"

namespace rackscale {

struct VaryRange {
  std::string text;  // as given, for errors
  std::string key;
  double low = 0, high = 0;
  int32_t steps = 2;
  double Value(int32_t i) const { return low + (high - low) * i / (steps - 1); }
};

// Parses KEY=LOW:HIGH[:STEPS] and checks it against the scenario. Errors
// name the flag (--vary) and the range as given.
Result<VaryRange> ParseVaryRange(const std::string& text, const Scenario& s);

// A person's name for a --vary key, with its unit: "hardware price (x base)".
std::string DescribeScenarioKey(const std::string& key);

struct SensitivityPoint {
  double value = 0;
  double npv_usd = 0;
  int64_t first_full_month = -1;
  double capex_usd = 0;
  double short_gpu_months = 0;
};

struct SensitivityRow {
  std::string key, label;  // label: DescribeScenarioKey(key)
  double base = 0;
  double npv_base = 0;
  int64_t full_base = -1;
  std::vector<SensitivityPoint> points;  // LOW .. HIGH
  const SensitivityPoint& low() const { return points.front(); }
  const SensitivityPoint& high() const { return points.back(); }
};

// Re-plans `base`'s scenario across each range (each re-plan tries the base
// plan's power phases at its root). `progress(done, total, what)` is called
// before each solve when set.
Result<std::vector<SensitivityRow>> RunSensitivity(
    const PlanRun& base, const PlanOptions& o, const std::vector<VaryRange>& ranges,
    const std::function<void(int, int, const std::string&)>& progress = {});

}  // namespace rackscale
