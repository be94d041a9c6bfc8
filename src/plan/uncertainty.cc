#include "plan/uncertainty.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace rackscale {
namespace {

uint64_t Mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Standard normal CDF.
double Phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Rng DrawRng(uint64_t seed, int64_t draw) {
  return Rng(Mix64(Mix64(seed) ^ Mix64(static_cast<uint64_t>(draw) + 0x632be59bd9b4e019ULL)));
}

const char* Distribution::Name() const {
  switch (kind) {
    case Kind::kUniform: return "uniform";
    case Kind::kTriangular: return "triangular";
    case Kind::kNormal: return "normal";
    case Kind::kLogNormal: return "lognormal";
    case Kind::kDiscrete: return "discrete";
  }
  return "?";
}

double Distribution::Sample(Rng& rng) const {
  switch (kind) {
    case Kind::kUniform:
      return low + (high - low) * rng.Uniform();
    case Kind::kTriangular: {
      // Inverse CDF: one variate.
      const double u = rng.Uniform();
      const double w = high - low;
      if (!(w > 0)) return low;
      const double f = (mode - low) / w;
      if (u < f) return low + std::sqrt(u * w * (mode - low));
      return high - std::sqrt((1 - u) * w * (high - mode));
    }
    case Kind::kNormal:
    case Kind::kLogNormal: {
      // Drawn again while outside [low, high]; CheckDistribution keeps at
      // least 1% of the mass inside, so 10,000 tries all fail with
      // probability below 1e-43 (then the last is clamped).
      double x = 0;
      for (int i = 0; i < 10000; ++i) {
        const double z = rng.Normal();
        x = kind == Kind::kNormal ? mean + sd * z : median * std::exp(sigma * z);
        if (x >= low && x <= high) return x;
      }
      return std::clamp(x, low, high);
    }
    case Kind::kDiscrete: {
      double total = 0;
      for (double w : weights) total += w;
      const double u = rng.Uniform() * total;
      double acc = 0;
      for (size_t i = 0; i < values.size(); ++i) {
        acc += weights[i];
        if (u < acc) return values[i];
      }
      return values.back();
    }
  }
  return 0;
}

std::string Distribution::Describe() const {
  switch (kind) {
    case Kind::kUniform: return fmt::format("uniform({:g} .. {:g})", low, high);
    case Kind::kTriangular: return fmt::format("triangular({:g}, mode {:g}, {:g})", low, mode, high);
    case Kind::kNormal: return fmt::format("normal(mean {:g}, sd {:g}) in [{:g}, {:g}]", mean, sd, low, high);
    case Kind::kLogNormal: return fmt::format("lognormal(median {:g}, sigma {:g}) in [{:g}, {:g}]", median, sigma, low, high);
    case Kind::kDiscrete: {
      double total = 0;
      for (double w : weights) total += w;
      std::string out = "discrete(";
      for (size_t i = 0; i < values.size(); ++i) {
        out += fmt::format("{}{:g}: {:.0f}%", i ? ", " : "", values[i], 100 * weights[i] / total);
      }
      return out + ")";
    }
  }
  return "?";
}

double TruncatedMass(const Distribution& d) {
  if (d.kind == Distribution::Kind::kNormal) {
    return Phi((d.high - d.mean) / d.sd) - Phi((d.low - d.mean) / d.sd);
  }
  if (d.kind == Distribution::Kind::kLogNormal) {
    auto cdf = [&](double x) { return x <= 0 ? 0.0 : Phi(std::log(x / d.median) / d.sigma); };
    return cdf(d.high) - cdf(d.low);
  }
  return 1;
}

KeyBounds BoundsOfKey(const std::string& key) {
  const std::string field = key.substr(key.rfind('.') + 1);
  if (EndsWith(field, "_scale")) return {0, 100};
  if (field == "lead_slip_months") return {-240, 240};
  if (field == "lead_months") return {0, 240};
  if (field == "max_phases") return {0, 10000};
  if (field == "usd_per_domain" || field == "usd_per_mw") return {0, 1e10};
  if (field == "usd_per_mwh") return {0, 1e5};
  if (field == "usd_per_gpu_hour" || field == "penalty_usd_per_gpu_hour") return {0, 1e4};
  if (field == "initial_mw" || field == "mw_per_phase") return {0, 1e6};
  if (field == "kw_per_domain") return {1e-3, 1e6};
  if (field == "life_years") return {0.1, 100};
  if (field == "average_load" || field == "billed_share" || field == "discount_rate") return {0, 1};
  if (field == "pue") return {1, 5};
  if (field == "operating_cash_flow_growth") return {-0.9, 10};
  if (field == "growth_per_year") return {-0.9, 100};
  if (key == "on_demand.gpus") return {0, 1e9};
  if (field == "other_capex_usd_per_year") return {0, 1e15};
  return {-1e15, 1e15};
}

std::string CheckDistribution(const Distribution& d, const KeyBounds& b) {
  auto finite = [](double x) { return std::isfinite(x); };
  auto inside = [&](double x) { return x >= b.lo && x <= b.hi; };
  const std::string range = fmt::format("[{:g}, {:g}]", b.lo, b.hi);
  switch (d.kind) {
    case Distribution::Kind::kUniform:
    case Distribution::Kind::kTriangular:
      if (!finite(d.low) || !finite(d.high) || !finite(d.mode)) return "low, mode and high must be finite numbers";
      if (!(d.low < d.high)) return fmt::format("expected low < high, got low {:g}, high {:g}", d.low, d.high);
      if (d.kind == Distribution::Kind::kTriangular && !(d.mode >= d.low && d.mode <= d.high)) {
        return fmt::format("expected low <= mode <= high, got {:g}, {:g}, {:g}", d.low, d.mode, d.high);
      }
      if (!inside(d.low) || !inside(d.high)) return fmt::format("the draws must lie in {} for this key, got [{:g}, {:g}]", range, d.low, d.high);
      return "";
    case Distribution::Kind::kNormal:
    case Distribution::Kind::kLogNormal: {
      const bool normal = d.kind == Distribution::Kind::kNormal;
      if (normal && (!finite(d.mean) || !(d.sd > 0) || !finite(d.sd))) return "expected a finite mean and sd > 0";
      if (!normal && (!(d.median > 0) || !finite(d.median) || !(d.sigma > 0) || !finite(d.sigma))) {
        return "expected median > 0 and sigma > 0 (finite)";
      }
      if (!finite(d.low) || !finite(d.high)) return "low and high (the truncation) must be finite numbers";
      if (!(d.low < d.high)) return fmt::format("expected low < high, got low {:g}, high {:g}", d.low, d.high);
      if (!inside(d.low) || !inside(d.high)) {
        return fmt::format("the truncation [low, high] must lie in {} for this key, got [{:g}, {:g}]", range, d.low, d.high);
      }
      const double mass = TruncatedMass(d);
      if (!(mass >= 0.01)) {
        return fmt::format("[low, high] = [{:g}, {:g}] holds {:.3g}% of the distribution; widen it or move it (at least 1%)", d.low,
                           d.high, 100 * mass);
      }
      return "";
    }
    case Distribution::Kind::kDiscrete: {
      if (d.values.empty()) return "expected one or more values";
      if (d.weights.size() != d.values.size()) {
        return fmt::format("expected as many weights as values ({}), got {}", d.values.size(), d.weights.size());
      }
      double total = 0;
      for (size_t i = 0; i < d.values.size(); ++i) {
        if (!finite(d.values[i])) return fmt::format("values[{}] must be a finite number", i);
        if (!inside(d.values[i])) return fmt::format("values[{}] = {:g} is outside {} for this key", i, d.values[i], range);
        if (!finite(d.weights[i]) || d.weights[i] < 0) return fmt::format("weights[{}] must be a finite number >= 0", i);
        total += d.weights[i];
      }
      if (!(total > 0)) return "the weights must add up to more than 0";
      return "";
    }
  }
  return "";
}

}  // namespace rackscale
