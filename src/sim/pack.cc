#include "sim/pack.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace rackscale {
ShareRequest ShareRequestOf(const PodSpec& p) {
  ShareRequest r;
  r.cpu_milli = p.cpu_milli;
  r.memory_mib = p.memory_mib;
  r.num_gpu = p.num_gpu;
  r.gpu_milli = p.gpu_milli;
  r.models = p.models;
  return r;
}

Result<PackResult> RunPack(const NodeList& nodes, const std::vector<PodSpec>& pods,
                           const PackOptions& o) {
  if (!(o.tune > 0 && o.tune <= 10)) {
    return Error::InvalidInput("pack", 0, "--tune", "expected a ratio in (0, 10]");
  }
  if (pods.empty()) return Error::InvalidInput("pack", 0, "--pods", "the workload has no pods");

  // The workload in name order: the base for both the shuffle and the draws.
  std::vector<uint32_t> by_name(pods.size());
  std::iota(by_name.begin(), by_name.end(), 0u);
  std::stable_sort(by_name.begin(), by_name.end(),
                   [&](uint32_t a, uint32_t b) { return pods[a].name < pods[b].name; });
  std::vector<ShareRequest> workload;
  workload.reserve(pods.size());
  for (uint32_t i : by_name) workload.push_back(ShareRequestOf(pods[i]));

  Rng rng(o.seed);

  int64_t capacity = 0;
  for (const NodeSpec& n : nodes.nodes) capacity += static_cast<int64_t>(n.gpus) * kMilliPerGpu;
  if (capacity == 0) return Error::InvalidInput("pack", 0, "--nodes", "the cluster has no GPUs");

  // 1. A uniformly random order of the workload (Fisher-Yates).
  std::vector<uint32_t> order(workload.size());
  std::iota(order.begin(), order.end(), 0u);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
  // 2. Draws with replacement until one more would pass tune x capacity.
  int64_t requested = 0;
  for (const ShareRequest& r : workload) requested += r.total_gpu_milli();
  const double limit = o.tune * static_cast<double>(capacity);
  PackResult res;
  res.trace_pods = static_cast<int64_t>(workload.size());
  while (true) {
    uint32_t k = static_cast<uint32_t>(rng.Below(workload.size()));
    if (static_cast<double>(requested + workload[k].total_gpu_milli()) > limit) break;
    requested += workload[k].total_gpu_milli();
    order.push_back(k);
    ++res.tuned_pods;
    if (res.tuned_pods > 100'000'000) {
      return Error::InvalidInput("pack", 0, "--pods",
                                 "the workload requests no GPUs: tuning never ends");
    }
  }

  // 3. The node order, which decides ties between equally scored nodes: a
  // random permutation per seed (the paper's simulator renames the nodes with
  // a random prefix, and its scheduler keeps the first top-scoring node).
  std::vector<NodeSpec> node_order = nodes.nodes;
  for (size_t i = node_order.size(); i > 1; --i) {
    std::swap(node_order[i - 1], node_order[rng.Below(i)]);
  }
  auto cluster = ShareCluster::Create(node_order, TargetWorkload(workload));
  if (!cluster) return cluster.error();

  // 4. Place one by one.
  const int max_pct = static_cast<int>(std::ceil(100.0 * o.tune));
  res.rows.resize(static_cast<size_t>(max_pct) + 1);
  int next_row = 0;
  int64_t arrived = 0;
  auto pct = [&](double milli) { return 100.0 * milli / static_cast<double>(capacity); };
  auto snapshot = [&](int v) {
    PackRow& row = res.rows[static_cast<size_t>(v)];
    row.arrived_pct = v;
    row.arrived = pct(static_cast<double>(arrived));
    row.allocated = pct(static_cast<double>(cluster->gpu_allocated_milli()));
    row.fragmented = pct(cluster->fragmentation_milli());
  };
  for (uint32_t k : order) {
    const ShareRequest& r = workload[k];
    arrived += r.total_gpu_milli();
    if (auto p = cluster->Choose(r, o.policy, rng)) {
      cluster->Commit(r, *p);
      ++res.placed;
    } else {
      ++res.failed;
    }
    // Rows for every integer value that arrived has now reached.
    while (next_row <= max_pct && arrived * 100 >= static_cast<int64_t>(next_row) * capacity) {
      snapshot(next_row++);
    }
  }
  while (next_row <= max_pct) snapshot(next_row++);
  res.gpu_capacity_milli = capacity;
  res.final_allocated = pct(static_cast<double>(cluster->gpu_allocated_milli()));
  res.final_fragmented = pct(cluster->fragmentation_milli());
  res.unallocated_at_100 = 100.0 - res.rows[100 <= max_pct ? 100 : static_cast<size_t>(max_pct)].allocated;
  return res;
}

}  // namespace rackscale
