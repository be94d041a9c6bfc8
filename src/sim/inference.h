// Inference services: replicas of k GPUs inside one NVLink domain serving a
// token demand under a latency SLO, an autoscaler in the manner of the
// Kubernetes HorizontalPodAutoscaler, and the per-service metrics.
//
// Everything here is pure and deterministic: no clock, no placement. The
// fleet simulator (or `rackscale inference`, alone) drives a service in fixed
// steps: Serve() scores one step with the replicas that are ready, Desired()
// asks the autoscaler for a replica count from the demand it just measured,
// and Resize() applies what the fleet could grant (all of it when alone).
// Step() does the three in that order.
//
// The SLO model (docs/inference.md has the derivation and the limits):
// a replica runs up to B = batch_slots requests at once (continuous batching)
// and then delivers mu = tokens_per_s_per_replica; mu is quoted at the batch
// size whose time per output token the operator accepts, so a request in a
// slot meets the per-token SLO by construction. What load adds is the wait
// for a free slot, which delays the first token. The SLO is therefore on that
// wait: a request meets it if it waits at most slo_ms for a slot. Requests
// arrive as a Poisson stream of mean size m = tokens_per_request (weighted
// tokens), are routed at random to the n ready replicas (so each replica sees
// 1/n of the load), and hold a slot for an exponential time of mean B x m /
// mu. Each replica is then an M/M/B queue at utilization
// rho = lambda / (n x mu), and by Erlang's C formula
//   P(wait <= d) = 1 - C(B, B x rho) x exp(-(1 - rho) x mu x d / m)   (rho < 1)
// and 0 for rho >= 1 (a stationary queue past capacity grows without bound).
// Limits: stationary within a step (no backlog carried from one step to the
// next, no transient), exponential sizes (real lengths are heavier-tailed,
// which waits more), random routing (join-the-shortest-queue waits less),
// prefill and decode not modelled apart, no load shedding.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/ai_job.h"

namespace rackscale {

struct ServiceSpec {
  std::string name;
  std::string tenant;
  int32_t gpus_per_replica = 8;                   // k
  TopologyScope scope = TopologyScope::kDomain;   // a replica's GPUs lie in one domain
  double tokens_per_s_per_replica = 0;            // mu, weighted tokens/s at full batch
  int32_t batch_slots = 64;                       // B: requests a replica runs at once
  double tokens_per_request = 0;                  // m: mean weighted tokens per request
  double slo_ms = 1000;                           // the longest acceptable wait for a slot
  int32_t min_replicas = 1;
  int32_t max_replicas = 1;                       // also the replicas reserved for the service
  double target_utilization = 0.7;
  double tolerance = 0.1;                         // HPA: ignore |util/target - 1| <= this
  double scale_up_cooldown_s = 0;                 // HPA scaleUp stabilization window
  double scale_down_cooldown_s = 300;             // HPA scaleDown stabilization window
  double startup_s = 0;                           // from a replica's start until it serves
};

// Checks every field; an error names the service and the field.
Status ValidateServiceSpec(const ServiceSpec& spec);

// Erlang's C formula: the probability that an arrival waits in an M/M/c queue
// with c servers and offered load a = lambda / per-server rate (in Erlangs).
// 1 if a >= c. O(c) by the stable Erlang B recursion.
double ErlangC(int32_t servers, double offered_load);

// The fraction of the demand of one step that meets the SLO (the model above)
// with `ready_replicas` serving `demand_tokens_s`. 1 when there is no demand.
double SloAttainment(const ServiceSpec& spec, double demand_tokens_s, int32_t ready_replicas);

// Target tracking on utilization, like the Kubernetes HPA (autoscaling/v2):
// - utilization u = demand / (current x mu); if |u / target - 1| <= tolerance
//   the recommendation is `current`, else ceil(current x u / target), that is
//   ceil(demand / (target x mu)); with current = 0 it is that ceiling too (0
//   for no demand). Clamped to [min_replicas, max_replicas].
// - stabilization: each call records its recommendation with its time t. The
//   result is the smallest recommendation of the last scale_up_cooldown_s
//   seconds if that is above `current` (so a rise must persist that long;
//   with 0, scale up at once), else the largest of the last
//   scale_down_cooldown_s seconds if that is below `current` (so demand must
//   stay low that long before replicas go), else `current`. The windows hold
//   the recommendations made at times in [t - window, t].
// `current` counts all replicas held, starting ones included, so that a
// replica still loading its model is not asked for twice. Calls must come in
// non-decreasing t.
class Autoscaler {
 public:
  explicit Autoscaler(const ServiceSpec& spec) : spec_(spec) {}
  int32_t Recommend(double t, double demand_tokens_s, int32_t current);

 private:
  struct Rec {
    double t;
    int32_t replicas;
  };
  ServiceSpec spec_;
  std::deque<Rec> history_;
};

// One step of one service, as Serve() scored it.
struct ServiceSample {
  double t_s = 0;
  double demand_tokens_s = 0;
  int32_t replicas = 0;        // held (ready + starting): what the GPUs are spent on
  int32_t ready_replicas = 0;  // serving in this step
  double utilization = 0;      // demand / (ready x mu); +inf with demand and none ready
  double slo_attainment = 1;
};

struct ServiceMetrics {
  int64_t steps = 0;
  double seconds = 0;
  double demand_tokens = 0;    // sum of demand x dt
  double attained_tokens = 0;  // sum of demand x dt x attainment
  double served_tokens = 0;    // sum of min(demand, ready capacity) x dt
  double replica_seconds = 0;  // held replicas x dt
  double ready_replica_seconds = 0;
  double idle_replica_seconds = 0;  // (max_replicas - held) x dt: lendable
  int32_t peak_replicas = 0;
  int32_t min_replicas = 0;  // fewest held in any step (0 before the first)

  // Demand-weighted SLO attainment; 1 if there was no demand.
  double SloAttainment() const {
    return demand_tokens > 0 ? attained_tokens / demand_tokens : 1.0;
  }
  double ReplicaHours() const { return replica_seconds / 3600; }
  double MeanReplicas() const { return seconds > 0 ? replica_seconds / seconds : 0; }
};

class InferenceService {
 public:
  // `spec` must pass ValidateServiceSpec. Starts with `initial_replicas`
  // (clamped to [min, max]), all ready.
  InferenceService(ServiceSpec spec, int32_t initial_replicas);

  const ServiceSpec& spec() const { return spec_; }
  int32_t replicas() const { return ready_ + Starting(); }  // held
  int32_t ready_replicas() const { return ready_; }
  // Reserved (max_replicas) minus held: what the fleet may lend to
  // preemptible training now and must take back when Desired() grows.
  int32_t IdleReplicas() const;

  // Scores [t, t + dt) at `demand_tokens_s`: replicas whose startup ended by
  // t serve, all held ones are paid for. Returns the step's sample (recorded
  // too if set_record_samples). Steps must come in non-decreasing t.
  ServiceSample Serve(double t, double dt, double demand_tokens_s);

  // The autoscaler's count at time t for the demand measured up to t.
  int32_t Desired(double t, double demand_tokens_s);

  // Holds `replicas` from time t: new ones serve from t + startup_s; removal
  // cancels starting replicas first (the newest first), then ready ones.
  void Resize(double t, int32_t replicas);

  // Serve(t, dt, demand), then Resize(t + dt, Desired(t + dt, demand)): a
  // reactive autoscaler that acts on what it has measured, one step late.
  ServiceSample Step(double t, double dt, double demand_tokens_s);

  const ServiceMetrics& metrics() const { return metrics_; }
  double GpuHours() const { return metrics_.ReplicaHours() * spec_.gpus_per_replica; }

  void set_record_samples(bool on) { record_ = on; }
  const std::vector<ServiceSample>& samples() const { return samples_; }

 private:
  int32_t Starting() const;

  struct Pending {
    double ready_at;
    int32_t count;
  };
  ServiceSpec spec_;
  Autoscaler autoscaler_;
  int32_t ready_ = 0;
  std::deque<Pending> starting_;  // in start order
  ServiceMetrics metrics_;
  bool record_ = false;
  std::vector<ServiceSample> samples_;
};

}  // namespace rackscale
