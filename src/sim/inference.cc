#include "sim/inference.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace rackscale {
namespace {

// Replica counts stay far below 2^31 even after a ceil of a large ratio.
constexpr int32_t kMaxReplicas = 1 << 24;
// ErlangC is O(batch_slots) per step; larger batches are not real anyway.
constexpr int32_t kMaxBatchSlots = 1 << 16;

bool Finite(double v) { return std::isfinite(v); }

}  // namespace

Status ValidateServiceSpec(const ServiceSpec& s) {
  const std::string source = fmt::format("service '{}'", s.name);
  auto bad = [&](const char* field, std::string msg) {
    return Status(Error::InvalidInput(source, 0, field, std::move(msg)));
  };
  if (s.gpus_per_replica < 1 || s.gpus_per_replica > (1 << 20)) {
    return bad("gpus_per_replica", fmt::format("expected 1 to 2^20, got {}", s.gpus_per_replica));
  }
  if (!Finite(s.tokens_per_s_per_replica) || !(s.tokens_per_s_per_replica > 0)) {
    return bad("tokens_per_s_per_replica",
               fmt::format("expected tokens/s > 0, got {}", s.tokens_per_s_per_replica));
  }
  if (s.batch_slots < 1 || s.batch_slots > kMaxBatchSlots) {
    return bad("batch_slots",
               fmt::format("expected 1 to {} requests, got {}", kMaxBatchSlots, s.batch_slots));
  }
  if (!Finite(s.tokens_per_request) || !(s.tokens_per_request > 0)) {
    return bad("tokens_per_request",
               fmt::format("expected tokens > 0, got {}", s.tokens_per_request));
  }
  if (!Finite(s.slo_ms) || !(s.slo_ms > 0)) {
    return bad("slo_ms", fmt::format("expected milliseconds > 0, got {}", s.slo_ms));
  }
  if (s.min_replicas < 0 || s.min_replicas > kMaxReplicas) {
    return bad("min_replicas", fmt::format("expected 0 to 2^24, got {}", s.min_replicas));
  }
  if (s.max_replicas < std::max(1, s.min_replicas) || s.max_replicas > kMaxReplicas) {
    return bad("max_replicas", fmt::format("expected max(1, min_replicas = {}) to 2^24, got {}",
                                           s.min_replicas, s.max_replicas));
  }
  if (!Finite(s.target_utilization) || !(s.target_utilization > 0) ||
      s.target_utilization > 1) {
    return bad("target_utilization",
               fmt::format("expected a utilization in (0, 1], got {}", s.target_utilization));
  }
  if (!Finite(s.tolerance) || s.tolerance < 0 || s.tolerance >= 1) {
    return bad("tolerance", fmt::format("expected [0, 1), got {}", s.tolerance));
  }
  if (!Finite(s.scale_up_cooldown_s) || s.scale_up_cooldown_s < 0) {
    return bad("scale_up_cooldown_s",
               fmt::format("expected seconds >= 0, got {}", s.scale_up_cooldown_s));
  }
  if (!Finite(s.scale_down_cooldown_s) || s.scale_down_cooldown_s < 0) {
    return bad("scale_down_cooldown_s",
               fmt::format("expected seconds >= 0, got {}", s.scale_down_cooldown_s));
  }
  if (!Finite(s.startup_s) || s.startup_s < 0) {
    return bad("startup_s", fmt::format("expected seconds >= 0, got {}", s.startup_s));
  }
  return Status::Ok();
}

double ErlangC(int32_t servers, double a) {
  if (servers < 1 || !(a < servers)) return 1.0;
  if (!(a > 0)) return 0.0;
  // Erlang B by its recursion in inverse form, 1/B(k) = 1 + (k/a) / B(k-1):
  // one multiply-add per server (the fleet calls this for every service
  // every step). A huge 1/B (tiny a) only rounds B to 0, as it should.
  // Then C = B / (1 - rho (1 - B)).
  const double inv_a = 1.0 / a;
  double inv_b = 1.0;
  for (int32_t k = 1; k <= servers; ++k) inv_b = 1.0 + k * inv_a * inv_b;
  const double b = 1.0 / inv_b;
  const double rho = a / servers;
  return b / (1.0 - rho * (1.0 - b));
}

double SloAttainment(const ServiceSpec& spec, double demand, int32_t ready) {
  if (!(demand > 0)) return 1.0;
  if (ready <= 0) return 0.0;
  const double mu = spec.tokens_per_s_per_replica;
  const double rho = demand / (static_cast<double>(ready) * mu);
  if (!(rho < 1)) return 0.0;
  const double c = ErlangC(spec.batch_slots, spec.batch_slots * rho);
  const double d = spec.slo_ms / 1000.0;
  const double p = 1.0 - c * std::exp(-(1.0 - rho) * mu * d / spec.tokens_per_request);
  return std::clamp(p, 0.0, 1.0);
}

int32_t Autoscaler::Recommend(double t, double demand, int32_t current) {
  const double mu = spec_.tokens_per_s_per_replica;
  const double need = std::max(0.0, demand) / (spec_.target_utilization * mu);
  int32_t rec;
  if (current > 0 &&
      std::fabs(need / static_cast<double>(current) - 1.0) <= spec_.tolerance) {
    rec = current;
  } else {
    // ceil(current x u / target) = ceil(demand / (target x mu)); the relative
    // nudge keeps an exact quotient like 12.000000000000002 from adding one.
    const double c = std::ceil(need * (1.0 - 1e-12));
    rec = static_cast<int32_t>(std::min(c, static_cast<double>(kMaxReplicas)));
  }
  rec = std::clamp(rec, spec_.min_replicas, spec_.max_replicas);

  history_.push_back({t, rec});
  const double keep = std::max(spec_.scale_up_cooldown_s, spec_.scale_down_cooldown_s);
  while (!history_.empty() && history_.front().t < t - keep) history_.pop_front();
  int32_t up = std::numeric_limits<int32_t>::max();
  int32_t down = std::numeric_limits<int32_t>::min();
  for (const Rec& r : history_) {
    if (r.t >= t - spec_.scale_up_cooldown_s) up = std::min(up, r.replicas);
    if (r.t >= t - spec_.scale_down_cooldown_s) down = std::max(down, r.replicas);
  }
  if (up > current) return up;
  if (down < current) return down;
  return current;
}

InferenceService::InferenceService(ServiceSpec spec, int32_t initial_replicas)
    : spec_(std::move(spec)), autoscaler_(spec_) {
  ready_ = std::clamp(initial_replicas, spec_.min_replicas, spec_.max_replicas);
}

int32_t InferenceService::Starting() const {
  int32_t n = 0;
  for (const Pending& p : starting_) n += p.count;
  return n;
}

int32_t InferenceService::IdleReplicas() const {
  return std::max(0, spec_.max_replicas - replicas());
}

ServiceSample InferenceService::Serve(double t, double dt, double demand) {
  // Replicas whose startup has ended by t serve this step; one that becomes
  // ready inside the step starts serving with the next.
  while (!starting_.empty() && starting_.front().ready_at <= t) {
    ready_ += starting_.front().count;
    starting_.pop_front();
  }
  demand = std::max(0.0, demand);
  ServiceSample s;
  s.t_s = t;
  s.demand_tokens_s = demand;
  s.replicas = replicas();
  s.ready_replicas = ready_;
  const double capacity = static_cast<double>(ready_) * spec_.tokens_per_s_per_replica;
  s.utilization = capacity > 0 ? demand / capacity
                  : demand > 0 ? std::numeric_limits<double>::infinity()
                               : 0.0;
  s.slo_attainment = SloAttainment(spec_, demand, ready_);

  ServiceMetrics& m = metrics_;
  m.min_replicas = m.steps == 0 ? s.replicas : std::min(m.min_replicas, s.replicas);
  m.peak_replicas = std::max(m.peak_replicas, s.replicas);
  ++m.steps;
  m.seconds += dt;
  m.demand_tokens += demand * dt;
  m.attained_tokens += demand * dt * s.slo_attainment;
  m.served_tokens += std::min(demand, capacity) * dt;
  m.replica_seconds += s.replicas * dt;
  m.ready_replica_seconds += s.ready_replicas * dt;
  m.idle_replica_seconds += IdleReplicas() * dt;
  if (record_) samples_.push_back(s);
  return s;
}

int32_t InferenceService::Desired(double t, double demand) {
  return autoscaler_.Recommend(t, demand, replicas());
}

void InferenceService::Resize(double t, int32_t target) {
  target = std::max(0, target);
  int32_t held = replicas();
  if (target > held) {
    starting_.push_back({t + spec_.startup_s, target - held});
    // With no startup delay they serve at once.
    while (!starting_.empty() && starting_.front().ready_at <= t) {
      ready_ += starting_.front().count;
      starting_.pop_front();
    }
    return;
  }
  int32_t drop = held - target;
  while (drop > 0 && !starting_.empty()) {
    Pending& p = starting_.back();
    const int32_t k = std::min(drop, p.count);
    p.count -= k;
    drop -= k;
    if (p.count == 0) starting_.pop_back();
  }
  ready_ -= drop;
}

ServiceSample InferenceService::Step(double t, double dt, double demand) {
  ServiceSample s = Serve(t, dt, demand);
  Resize(t + dt, Desired(t + dt, demand));
  return s;
}

}  // namespace rackscale
