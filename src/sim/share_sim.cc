#include "sim/share_sim.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>
#include <queue>
#include <tuple>

#include "sim/pack.h"

namespace rackscale {
namespace {

constexpr size_t kKeepDecisions = size_t{1} << 21;

struct End {
  Seconds t;
  uint32_t pod;
  bool operator>(const End& o) const { return t != o.t ? t > o.t : pod > o.pod; }
};

}  // namespace

Result<ShareSimResult> SimulateShare(const NodeList& nodes, const std::vector<PodSpec>& pods,
                                     const ShareSimOptions& o) {
  const size_t n = pods.size();
  std::vector<ShareRequest> req(n);
  for (size_t i = 0; i < n; ++i) req[i] = ShareRequestOf(pods[i]);
  auto cluster = ShareCluster::Create(nodes.nodes, TargetWorkload(req));
  if (!cluster) return cluster.error();
  ShareSimResult r;
  r.outcomes.resize(n);
  r.gpu_capacity_milli = cluster->gpu_capacity_milli();

  // Kinds: pods with equal requests behave alike in one pass.
  std::map<std::tuple<int64_t, int64_t, int32_t, int32_t, GpuModelMask>, uint32_t> kind_of;
  std::vector<uint32_t> kind(n);
  for (size_t i = 0; i < n; ++i) {
    auto key = std::make_tuple(req[i].cpu_milli, req[i].memory_mib, req[i].num_gpu,
                               req[i].gpu_milli, req[i].models);
    kind[i] = kind_of.emplace(key, static_cast<uint32_t>(kind_of.size())).first->second;
  }
  std::vector<uint64_t> failed_pass(kind_of.size(), 0);

  std::vector<uint32_t> arrivals;
  for (size_t i = 0; i < n; ++i) {
    const PodSpec& p = pods[i];
    if (p.deletion_time <= p.creation_time) {
      r.outcomes[i].status = JobStatus::kInvalid;
    } else if (!cluster->FitsEmpty(req[i])) {
      r.outcomes[i].status = JobStatus::kRejected;
    } else {
      r.outcomes[i].status = JobStatus::kDone;
      arrivals.push_back(static_cast<uint32_t>(i));
    }
  }
  std::stable_sort(arrivals.begin(), arrivals.end(), [&](uint32_t a, uint32_t b) {
    return pods[a].creation_time < pods[b].creation_time;
  });
  if (!arrivals.empty()) {
    r.first = pods[arrivals.front()].creation_time;
    r.last = r.first;
  }
  Rng rng(o.seed);
  Rng sample_rng(0x5eed);  // for the decision-time sample only
  std::vector<SharePlacement> where(n);
  std::priority_queue<End, std::vector<End>, std::greater<End>> ends;
  std::vector<uint32_t> queue;  // waiting pods in arrival order
  size_t next = 0;
  uint64_t pass = 0;
  int64_t finished = 0;
  Seconds t = 0;
  bool have_t = false;
  SimProgress prog{0, r.first, arrivals.empty() ? 0 : pods[arrivals.back()].creation_time, 0,
                   static_cast<int64_t>(arrivals.size())};
  while (next < arrivals.size() || !ends.empty()) {
    Seconds nt = next < arrivals.size() ? pods[arrivals[next]].creation_time : INT64_MAX;
    if (!ends.empty()) nt = std::min(nt, ends.top().t);
    if (have_t) {
      const double dt = static_cast<double>(nt - t);
      r.allocated_milli_seconds += static_cast<double>(cluster->gpu_allocated_milli()) * dt;
      r.fragmented_milli_seconds += cluster->fragmentation_milli() * dt;
      r.pending_pod_seconds += static_cast<double>(queue.size()) * dt;
    }
    t = nt;
    have_t = true;
    bool freed = false;
    while (!ends.empty() && ends.top().t == t) {
      const uint32_t i = ends.top().pod;
      ends.pop();
      cluster->Release(req[i], where[i]);
      r.outcomes[i].end = t;
      r.last = std::max(r.last, t);
      freed = true;
      ++finished;
      ++r.events;
    }
    bool arrived = false;
    while (next < arrivals.size() && pods[arrivals[next]].creation_time == t) {
      queue.push_back(arrivals[next++]);
      arrived = true;
      ++r.events;
    }
    if (!freed && !arrived) continue;
    // One best-effort pass. A kind that failed is not retried in the pass;
    // without a release, kinds that failed before still fail.
    ++r.passes;
    if (freed) ++pass;
    std::vector<uint32_t> still;
    still.reserve(queue.size());
    for (uint32_t i : queue) {
      if (failed_pass[kind[i]] == pass + 1) {
        still.push_back(i);
        continue;
      }
      ++r.decisions;
      const auto t0 = o.time_decisions ? std::chrono::steady_clock::now()
                                       : std::chrono::steady_clock::time_point{};
      auto p = cluster->Choose(req[i], o.policy, rng);
      if (p) cluster->Commit(req[i], *p);
      if (o.time_decisions) {
        const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now() - t0)
                               .count();
        r.decision_total_ns += static_cast<double>(ns);
        const uint32_t x = static_cast<uint32_t>(std::min<int64_t>(ns, UINT32_MAX));
        if (r.decision_ns.size() < kKeepDecisions) {
          r.decision_ns.push_back(x);
        } else if (const uint64_t k = sample_rng.Below(static_cast<uint64_t>(r.decisions));
                   k < kKeepDecisions) {
          r.decision_ns[k] = x;
        }
      }
      if (p) {
        where[i] = *p;
        r.outcomes[i].start = t;
        r.outcomes[i].node = p->node;
        ends.push(End{t + (pods[i].deletion_time - pods[i].creation_time), i});
      } else {
        failed_pass[kind[i]] = pass + 1;
        still.push_back(i);
      }
    }
    queue.swap(still);
    if (o.progress && (r.events & 0xfff) == 0) {
      prog.now = t;
      prog.finished = finished;
      o.progress(prog);
    }
  }
  for (uint32_t i : queue) r.outcomes[i].status = JobStatus::kUnfinished;
  return r;
}

}  // namespace rackscale
