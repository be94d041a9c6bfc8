// GPU-sharing placement: the target workload, the fragmentation measure and
// each policy's choice, checked by hand on clusters of two to four nodes;
// then the FGD paper's experiment on the public openb trace.
#include <gtest/gtest.h>

#include <map>

#include "sched/gpu_share.h"
#include "sim/pack.h"
#include "sim/share_sim.h"
#include "test_util.h"

namespace rackscale {
namespace {

NodeSpec Node(const char* name, int64_t cpu, int64_t mem, int32_t gpus, GpuModelId model = 0) {
  NodeSpec n;
  n.name = name;
  n.cpu_milli = cpu;
  n.memory_mib = mem;
  n.gpus = gpus;
  n.model = model;
  return n;
}

ShareRequest Pod(int64_t cpu, int32_t num, int32_t milli, int64_t mem = 0,
                 GpuModelMask models = kAnyGpuModel) {
  ShareRequest r;
  r.cpu_milli = cpu;
  r.memory_mib = mem;
  r.num_gpu = num;
  r.gpu_milli = milli;
  r.models = models;
  return r;
}

TaskType Type(ShareRequest r, double w) { return TaskType{r, w}; }

ShareCluster Make(const std::vector<NodeSpec>& nodes, std::vector<TaskType> target = {}) {
  if (target.empty()) target = {Type(Pod(1000, 1, 500), 1.0)};
  return ShareCluster::Create(nodes, std::move(target)).value();
}

// Places `r` on node `node` at GPU `gpu` (or whole GPUs from the lowest).
void Put(ShareCluster& c, const ShareRequest& r, int node, int gpu = -1) {
  SharePlacement p;
  p.node = node;
  p.gpu = gpu;
  if (!r.shared() && !r.cpu_only()) {
    int need = r.num_gpu;
    for (int g = 0; need > 0; ++g) {
      if (c.GpuLeft(static_cast<size_t>(node), g) == 1000) {
        p.gpu_mask |= 1u << g;
        --need;
      }
    }
  }
  c.Commit(r, p);
}

int ChooseNode(ShareCluster& c, const ShareRequest& r, SharePolicy p, uint64_t seed = 1) {
  Rng rng(seed);
  auto x = c.Choose(r, p, rng);
  return x ? x->node : -1;
}

TEST(TargetWorkload, GroupsSortsCutsAt95PercentAndRenormalises) {
  // 10 pods of A, 6 of B, 3 of C, 1 of D (20 in all). A+B+C = 19 = 95%:
  // D is left out; weights 10/19, 6/19, 3/19. Memory does not split kinds.
  std::vector<ShareRequest> pods;
  for (int i = 0; i < 10; ++i) pods.push_back(Pod(1000, 1, 500, i));
  for (int i = 0; i < 6; ++i) pods.push_back(Pod(2000, 0, 0));
  for (int i = 0; i < 3; ++i) pods.push_back(Pod(4000, 2, 1000));
  pods.push_back(Pod(100, 1, 1000));
  auto t = TargetWorkload(pods);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].request.gpu_milli, 500);
  EXPECT_DOUBLE_EQ(t[0].weight, 10.0 / 19.0);
  EXPECT_TRUE(t[1].request.cpu_only());
  EXPECT_DOUBLE_EQ(t[1].weight, 6.0 / 19.0);
  EXPECT_EQ(t[2].request.num_gpu, 2);
  EXPECT_DOUBLE_EQ(t[2].weight, 3.0 / 19.0);
}

TEST(Fragmentation, HandComputed) {
  // Types: A share 500 (w .5), B CPU-only (w .25), C two whole GPUs (w .25),
  // A and C need 1000 mCPU. One node, 4 GPUs, left after placements:
  // [1000, 300, 0, 1000], CPU left 4000. Idle G = 2300.
  //   A fits (two GPUs >= 500): fragments = GPUs < 500 = 300 -> .5 * 300 = 150
  //   B cannot use GPUs:         all idle GPU         -> .25 * 2300 = 575
  //   C fits (two free GPUs):    fragments = 300      -> .25 * 300 = 75
  // F = 800.
  std::vector<TaskType> t = {Type(Pod(1000, 1, 500), .5), Type(Pod(1000, 0, 0), .25),
                             Type(Pod(1000, 2, 1000), .25)};
  ShareCluster c = Make({Node("n", 5000, 1 << 20, 4)}, t);
  Put(c, Pod(0, 1, 700), 0, 1);
  Put(c, Pod(1000, 1, 1000), 0, 2);
  EXPECT_DOUBLE_EQ(c.NodeFragmentation(0), 800);
  EXPECT_DOUBLE_EQ(c.fragmentation_milli(), 800);
  // Take CPU down to 500: A and C no longer fit, so all idle GPU counts for
  // them too: F = .5*2300 + .25*2300 + .25*2300 = 2300.
  Put(c, Pod(3500, 0, 0), 0);
  EXPECT_DOUBLE_EQ(c.NodeFragmentation(0), 2300);
  EXPECT_EQ(c.gpu_allocated_milli(), 1700);
}

TEST(SharePolicies, FeasibilityCpuMemoryModelAndGpus) {
  // Node 0: model 0, 2 GPUs; node 1: model 1, 1 GPU, little memory.
  ShareCluster c = Make({Node("a", 8000, 1000, 2, 0), Node("b", 8000, 100, 1, 1)});
  for (SharePolicy p : {SharePolicy::kFirst, SharePolicy::kRandom, SharePolicy::kBestFit,
                        SharePolicy::kDotProd, SharePolicy::kGpuPacking,
                        SharePolicy::kGpuClustering, SharePolicy::kFgd}) {
    // Only model 1 allowed -> node 1.
    EXPECT_EQ(ChooseNode(c, Pod(1000, 1, 500, 0, GpuModelMask{1} << 1), p), 1) << SharePolicyName(p);
    // Too much memory for node 1 -> node 0, or nothing if model 1 is required.
    EXPECT_EQ(ChooseNode(c, Pod(1000, 1, 500, 500, GpuModelMask{1} << 1), p), -1);
    EXPECT_EQ(ChooseNode(c, Pod(1000, 2, 1000), p), 0);  // two whole GPUs: only node 0
    EXPECT_EQ(ChooseNode(c, Pod(9000, 0, 0), p), -1);    // CPU fits nowhere
  }
}

TEST(SharePolicies, BestFitTakesTheTightestNode) {
  // Left after placing a (1000 mCPU, 1 GPU) pod, as 0.5*cpu/128000 + 0.5*gpu/8000:
  // node 0 (64 cores, 8 GPUs): .5*63000/128000 + .5*7000/8000 = .684 -> 31
  // node 1 (16 cores, 2 GPUs): .5*15000/128000 + .5*1000/8000 = .121 -> 87
  ShareCluster c = Make({Node("big", 64000, 1 << 20, 8), Node("small", 16000, 1 << 20, 2)});
  EXPECT_EQ(ChooseNode(c, Pod(1000, 1, 1000), SharePolicy::kBestFit), 1);
}

TEST(SharePolicies, DotProdPrefersLeastFreeResourcesAlongTheRequest) {
  // Request (8000 mCPU, 1 GPU); dot with free (cpu/128000, gpu/8000):
  // node 0: 64000, 8 GPUs -> .5*.0625 + 1*.125 = .156 -> 100*(1-.078) = 92
  // node 1: 96000, 2 GPUs -> .75*.0625 + .25*.125 = .078 -> 96
  ShareCluster c = Make({Node("a", 64000, 1 << 20, 8), Node("b", 96000, 1 << 20, 2)});
  EXPECT_EQ(ChooseNode(c, Pod(8000, 1, 1000), SharePolicy::kDotProd), 1);
}

TEST(SharePolicies, GpuPackingPrefersUsedGpusThenUsedNodesThenIdleNodes) {
  // Node 0 idle (8 GPUs): max(33-8, 8) = 25. Node 1: GPU 0 has 600 left, the
  // rest free. Node 2: all GPUs busy but GPU 3 with 400 left.
  ShareCluster c = Make({Node("idle", 64000, 1 << 20, 8), Node("used", 64000, 1 << 20, 8),
                         Node("tight", 64000, 1 << 20, 4)});
  Put(c, Pod(0, 1, 400), 1, 0);
  for (int g = 0; g < 3; ++g) Put(c, Pod(0, 1, 1000), 2, g);
  Put(c, Pod(0, 1, 600), 2, 3);
  // A 300 share: node 1 uses GPU 0 (600 left: s = 60, 100 - 6 = 94); node 2
  // uses GPU 3 (400 left: 100 - 4 = 96). Node 2 wins.
  EXPECT_EQ(ChooseNode(c, Pod(0, 1, 300), SharePolicy::kGpuPacking), 2);
  // A 500 share does not fit node 2's hole: node 1 scores 94 (GPU 0), node 0 25.
  EXPECT_EQ(ChooseNode(c, Pod(0, 1, 500), SharePolicy::kGpuPacking), 1);
  // A whole GPU: node 1 needs one free GPU: max(50-1, 33) = 49 > 25.
  EXPECT_EQ(ChooseNode(c, Pod(0, 1, 1000), SharePolicy::kGpuPacking), 1);
}

TEST(SharePolicies, GpuClusteringGroupsPodsOfOneKind) {
  // Node 0 holds a share pod, node 1 a whole-GPU pod, node 2 is idle.
  // b = 25*(8000-left)/8000: node 0 left 7500 -> 1; node 1 left 7000 -> 3; node 2 -> 0.
  ShareCluster c = Make({Node("s", 64000, 1 << 20, 8), Node("w", 64000, 1 << 20, 8),
                         Node("e", 64000, 1 << 20, 8)});
  Put(c, Pod(0, 1, 500), 0, 0);
  Put(c, Pod(0, 1, 1000), 1);
  // A share: node 0 = 75 + 1; node 1 = 0 + 3; node 2 = 25 + 0.
  EXPECT_EQ(ChooseNode(c, Pod(0, 1, 300), SharePolicy::kGpuClustering), 0);
  // A whole GPU: node 1 = 75 + 3 wins.
  EXPECT_EQ(ChooseNode(c, Pod(0, 1, 1000), SharePolicy::kGpuClustering), 1);
}

TEST(SharePolicies, FgdFillsAHoleInsteadOfOpeningAGpu) {
  // Target: shares of 500 (w 1). Node 0 has a GPU with 500 left (a usable
  // slot, no fragment); node 1 is idle. A 300 share placed into node 0's hole
  // leaves 200 that a 500 task cannot use (+200 fragment); placed on a fresh
  // GPU it leaves 700 (usable: +0). FGD takes the fresh GPU on node 1 (or
  // node 0's free GPU 1) rather than the hole.
  ShareCluster c = Make({Node("a", 64000, 1 << 20, 2), Node("b", 64000, 1 << 20, 2)},
                        {Type(Pod(0, 1, 500), 1.0)});
  Put(c, Pod(0, 1, 500), 0, 0);
  Rng rng(1);
  auto p = c.Choose(Pod(0, 1, 300), SharePolicy::kFgd, rng);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->node == 0 && p->gpu == 0);
  // A 500 share fills the hole exactly: fragments unchanged and the idle
  // drops; it goes to GPU 0 of node 0 (score ties broken by the first node
  // and the lowest GPU).
  p = c.Choose(Pod(0, 1, 500), SharePolicy::kFgd, rng);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->node, 0);
  EXPECT_EQ(p->gpu, 0);
}

TEST(SharePolicies, WholeGpusTakeTheLowestFreeIndexesAndRandomIsUniform) {
  ShareCluster c = Make({Node("a", 64000, 1 << 20, 4), Node("b", 64000, 1 << 20, 4),
                         Node("c", 100, 1 << 20, 4)});
  Put(c, Pod(0, 1, 200), 0, 1);
  Rng rng(3);
  auto p = c.Choose(Pod(0, 2, 1000), SharePolicy::kFirst, rng);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->node, 0);
  EXPECT_EQ(p->gpu_mask, 0b1101u & 0b0101u);  // GPUs 0 and 2: the lowest fully free
  std::map<int, int> hits;
  for (int i = 0; i < 3000; ++i) {
    auto q = c.Choose(Pod(1000, 1, 500), SharePolicy::kRandom, rng);
    ASSERT_TRUE(q);
    ++hits[q->node];
  }
  EXPECT_EQ(hits.count(2), 0u);  // node c lacks CPU
  EXPECT_NEAR(hits[0], 1500, 150);
  EXPECT_NEAR(hits[1], 1500, 150);
}

// The score indexes against a plain scan of every node: the same winner
// (highest score, first in cluster order) after thousands of random commits
// and releases, enough to wrap the change log several times.
TEST(SharePolicies, IndexedChoiceMatchesAFullScan) {
  std::vector<NodeSpec> nodes;
  Rng gen(11);
  for (int i = 0; i < 37; ++i) {
    const int32_t gpus = static_cast<int32_t>(gen.Below(3)) * 4;  // 0, 4 or 8
    nodes.push_back(Node("n", 16000 + 16000 * static_cast<int64_t>(gen.Below(4)),
                         65536 * (1 + static_cast<int64_t>(gen.Below(2))), gpus,
                         static_cast<GpuModelId>(gen.Below(2))));
  }
  const std::vector<ShareRequest> kinds = {
      Pod(2000, 1, 250), Pod(4000, 1, 500, 4096), Pod(8000, 1, 1000), Pod(8000, 2, 1000),
      Pod(16000, 4, 1000, 0, GpuModelMask{1}), Pod(6000, 0, 0, 30000), Pod(1000, 1, 700)};
  std::vector<TaskType> target;
  for (const ShareRequest& r : kinds) target.push_back(Type(r, 1.0 / kinds.size()));
  for (SharePolicy policy : {SharePolicy::kFirst, SharePolicy::kBestFit, SharePolicy::kDotProd,
                             SharePolicy::kGpuPacking, SharePolicy::kGpuClustering,
                             SharePolicy::kFgd, SharePolicy::kRandom}) {
    ShareCluster c = Make(nodes, target);
    Rng rng(5);
    std::vector<std::pair<ShareRequest, SharePlacement>> placed;
    int chosen = 0;
    for (int step = 0; step < 12000; ++step) {
      if (!placed.empty() && (rng.Below(2) == 0 || step % 7 == 0)) {
        const size_t j = rng.Below(placed.size());
        c.Release(placed[j].first, placed[j].second);
        placed[j] = placed.back();
        placed.pop_back();
        continue;
      }
      const ShareRequest& r = kinds[rng.Below(kinds.size())];
      int64_t top = -1;
      int want = -1, feasible = 0;
      for (size_t i = 0; i < nodes.size(); ++i) {
        const int64_t s = c.NodeScoreForTest(i, r, policy);
        feasible += s >= 0;
        if (s > top) top = s, want = static_cast<int>(i);
      }
      auto p = c.Choose(r, policy, rng);
      ASSERT_EQ(p.has_value(), want >= 0) << SharePolicyName(policy) << " step " << step;
      if (!p) continue;
      if (policy == SharePolicy::kRandom) {
        ASSERT_GE(c.NodeScoreForTest(static_cast<size_t>(p->node), r, policy), 0);
      } else {
        ASSERT_EQ(p->node, want) << SharePolicyName(policy) << " step " << step;
      }
      c.Commit(r, *p);
      placed.emplace_back(r, *p);
      ++chosen;
    }
    EXPECT_GT(chosen, 3000) << SharePolicyName(policy);
  }
}

// The state-class index against a brute-force scan of every node, decision
// by decision: nodes of four shapes in random order (so many nodes share a
// state and top scores tie across classes), random commits and releases
// (enough to grow the class slots and wrap the change log), every policy.
// Each decision must give the scan's node (the highest score, ties to the
// first node in cluster order), its GPU or GPU set and, for random, the same
// draws from the Rng.
TEST(SharePolicies, ClassIndexMatchesABruteForceScan) {
  const NodeSpec shapes[] = {Node("a", 32000, 131072, 4, 0), Node("b", 64000, 262144, 8, 1),
                             Node("c", 16000, 65536, 0), Node("d", 96000, 262144, 2, 0)};
  std::vector<NodeSpec> nodes;
  Rng gen(21);
  for (int i = 0; i < 100; ++i) nodes.push_back(shapes[gen.Below(4)]);
  const std::vector<ShareRequest> kinds = {
      Pod(2000, 1, 250), Pod(4000, 1, 500, 4096), Pod(8000, 1, 1000), Pod(8000, 2, 1000),
      Pod(16000, 4, 1000, 0, GpuModelMask{2}), Pod(6000, 0, 0, 30000), Pod(1000, 1, 700),
      Pod(3000, 1, 120, 0, GpuModelMask{1}), Pod(24000, 1, 600, 100000), Pod(500, 8, 1000)};
  std::vector<TaskType> target;
  for (size_t i = 0; i + 2 < kinds.size(); ++i) target.push_back(Type(kinds[i], 0.1 + 0.05 * i));
  for (SharePolicy policy : {SharePolicy::kFirst, SharePolicy::kRandom, SharePolicy::kBestFit,
                             SharePolicy::kDotProd, SharePolicy::kGpuPacking,
                             SharePolicy::kGpuClustering, SharePolicy::kFgd}) {
    const char* name = SharePolicyName(policy);
    ShareCluster c = Make(nodes, target);
    EXPECT_EQ(c.ClassCountForTest(), 4u) << name;
    Rng rng(7);
    std::vector<std::pair<ShareRequest, SharePlacement>> placed;
    int chosen = 0, ties = 0;
    size_t most_classes = 0;
    for (int step = 0; step < 5000; ++step) {
      if (!placed.empty() && rng.Below(5) < 2) {
        const size_t j = rng.Below(placed.size());
        c.Release(placed[j].first, placed[j].second);
        placed[j] = placed.back();
        placed.pop_back();
        continue;
      }
      const ShareRequest& r = kinds[rng.Below(kinds.size())];
      // The scan.
      Rng expect = rng;
      int64_t top = -1;
      int want = -1, at_top = 0;
      std::vector<int> feasible;
      for (size_t i = 0; i < nodes.size(); ++i) {
        const int64_t s = c.NodeScoreForTest(i, r, policy);
        if (s >= 0) feasible.push_back(static_cast<int>(i));
        if (s > top) top = s, want = static_cast<int>(i), at_top = 0;
        at_top += s == top && s >= 0;
      }
      ties += at_top > 1;
      if (policy == SharePolicy::kRandom && !feasible.empty()) {
        want = feasible[expect.Below(feasible.size())];
      }
      int32_t want_gpu = -1;
      uint32_t want_mask = 0;
      if (want >= 0 && !r.cpu_only()) {
        const size_t w = static_cast<size_t>(want);
        const int ngpu = nodes[w].gpus;
        if (r.shared()) {
          if (policy == SharePolicy::kFgd) {
            want_gpu = c.NodeGpuForTest(w, r, policy);
          } else if (policy == SharePolicy::kRandom) {
            uint64_t seen = 0;
            for (int g = 0; g < ngpu; ++g) {
              if (c.GpuLeft(w, g) >= r.gpu_milli && expect.Below(++seen) == 0) want_gpu = g;
            }
          } else {
            for (int g = 0; g < ngpu; ++g) {
              const int32_t l = c.GpuLeft(w, g);
              if (l < r.gpu_milli) continue;
              if (want_gpu < 0) want_gpu = g;
              if (policy != SharePolicy::kFirst && l < c.GpuLeft(w, want_gpu)) want_gpu = g;
            }
          }
        } else {
          int need = r.num_gpu;
          for (int g = 0; g < ngpu && need > 0; ++g) {
            if (c.GpuLeft(w, g) == 1000) {
              want_mask |= 1u << g;
              --need;
            }
          }
        }
      }
      auto p = c.Choose(r, policy, rng);
      ASSERT_EQ(p.has_value(), want >= 0) << name << " step " << step;
      ASSERT_EQ(rng.Next(), expect.Next()) << name << " step " << step;
      if (!p) continue;
      ASSERT_EQ(p->node, want) << name << " step " << step;
      ASSERT_EQ(p->gpu, want_gpu) << name << " step " << step;
      ASSERT_EQ(p->gpu_mask, want_mask) << name << " step " << step;
      c.Commit(r, *p);
      placed.emplace_back(r, *p);
      ++chosen;
      most_classes = std::max(most_classes, c.ClassCountForTest());
    }
    EXPECT_GT(chosen, 1500) << name;
    EXPECT_GT(most_classes, 32u) << name;  // the slots grew past the first tree
    if (policy != SharePolicy::kRandom) {
      EXPECT_GT(ties, 500) << name;
    }
  }
}

TEST(SharePolicies, Names) {
  for (const char* n : {"first", "random", "bestfit", "dotprod", "gpupacking", "gpuclustering", "fgd"}) {
    auto p = ParseSharePolicy(n, "x");
    ASSERT_TRUE(p.ok()) << n;
    EXPECT_STREQ(SharePolicyName(*p), n);
  }
  EXPECT_FALSE(ParseSharePolicy("tetris", "--policy").ok());
}

// The FGD paper's main result (Weng et al., ATC'23, Fig. 9a): unallocated GPU
// share at 100 % arrived on the openb default workload, mean of 10 seeds.
TEST(PackExperiment, ReproducesThePaperWithinOnePoint) {
  RACKSCALE_REQUIRE_TRACE(nodes_path, "openb/openb_node_list_gpu_node.csv");
  RACKSCALE_REQUIRE_TRACE(pods_path, "openb/openb_pod_list_default.csv");
  auto nodes = ReadOpenbNodes(nodes_path);
  ASSERT_TRUE(nodes.ok()) << nodes.error().ToString();
  auto pods = ReadOpenbPods(pods_path, &nodes->models);
  ASSERT_TRUE(pods.ok()) << pods.error().ToString();
  const std::pair<SharePolicy, double> kPaper[] = {
      {SharePolicy::kRandom, 13.70},     {SharePolicy::kDotProd, 9.38},
      {SharePolicy::kGpuClustering, 8.35}, {SharePolicy::kGpuPacking, 8.22},
      {SharePolicy::kBestFit, 7.14},     {SharePolicy::kFgd, 4.77}};
  for (auto [policy, paper] : kPaper) {
    double sum = 0;
    for (uint64_t seed = 42; seed <= 51; ++seed) {
      PackOptions o;
      o.policy = policy;
      o.seed = seed;
      auto r = RunPack(*nodes, *pods, o);
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->rows.size(), 131u);
      EXPECT_EQ(r->trace_pods, 8152);
      sum += r->unallocated_at_100;
    }
    EXPECT_NEAR(sum / 10, paper, 1.0) << SharePolicyName(policy);
  }
}

// The paper's other workloads on the same cluster, against the authors'
// published per-seed results (hkust-adsl/kubernetes-scheduler-simulator,
// experiments/analysis/expected_results/analysis_allo_discrete.csv: mean over
// seeds 42-51 of 100 - allocation at 100 % arrived).
TEST(PackExperiment, OtherWorkloadsMatchTheAuthorsResults) {
  RACKSCALE_REQUIRE_TRACE(nodes_path, "openb/openb_node_list_gpu_node.csv");
  struct Expect {
    const char* workload;
    double random, dotprod, clustering, packing, bestfit, fgd;
  };
  const Expect kExpected[] = {
      {"cpu050", 10.978, 6.966, 6.479, 6.538, 6.440, 5.004},
      {"gpushare40", 15.136, 10.696, 10.243, 10.226, 8.557, 6.039},
      {"gpuspec10", 13.743, 9.826, 8.044, 7.763, 6.901, 5.337},
      {"multigpu20", 13.081, 8.153, 6.657, 6.500, 6.266, 4.472}};
  for (const Expect& e : kExpected) {
    RACKSCALE_REQUIRE_TRACE(pods_path, std::string("openb/openb_pod_list_") + e.workload + ".csv");
    auto nodes = ReadOpenbNodes(nodes_path);
    ASSERT_TRUE(nodes.ok());
    auto pods = ReadOpenbPods(pods_path, &nodes->models);
    ASSERT_TRUE(pods.ok()) << pods.error().ToString();
    const std::pair<SharePolicy, double> want[] = {
        {SharePolicy::kRandom, e.random},         {SharePolicy::kDotProd, e.dotprod},
        {SharePolicy::kGpuClustering, e.clustering}, {SharePolicy::kGpuPacking, e.packing},
        {SharePolicy::kBestFit, e.bestfit},       {SharePolicy::kFgd, e.fgd}};
    for (auto [policy, expected] : want) {
      double sum = 0;
      for (uint64_t seed = 42; seed <= 51; ++seed) {
        PackOptions o;
        o.policy = policy;
        o.seed = seed;
        auto r = RunPack(*nodes, *pods, o);
        ASSERT_TRUE(r.ok());
        sum += r->unallocated_at_100;
      }
      EXPECT_NEAR(sum / 10, expected, 1.0) << e.workload << " " << SharePolicyName(policy);
    }
  }
}

TEST(ShareSim, PodsArriveLeaveAndWaitBestEffort) {
  // One node with one GPU. p0 takes 500 milli over [0, 100). p1 (600) at 10
  // does not fit the 500 left and waits; p2 (400) at 10 fits and starts at
  // once (best effort, as Kubernetes retries unschedulable pods); p1 starts
  // when p2 and p0 have left: at 100, ends 110. p3 asks 2 GPUs: rejected;
  // p4 has no lifetime: invalid.
  NodeList nl;
  nl.nodes.push_back(Node("n0", 8000, 1 << 20, 1));
  nl.models.Intern("X");
  auto pod = [](const char* name, int64_t t0, int64_t t1, int32_t num, int32_t milli) {
    PodSpec p;
    p.name = name;
    p.cpu_milli = 100;
    p.num_gpu = num;
    p.gpu_milli = milli;
    p.creation_time = t0;
    p.deletion_time = t1;
    return p;
  };
  std::vector<PodSpec> pods = {pod("p0", 0, 100, 1, 500), pod("p1", 10, 20, 1, 600),
                               pod("p2", 10, 30, 1, 400), pod("p3", 5, 9, 2, 1000),
                               pod("p4", 7, 7, 1, 100)};
  for (SharePolicy policy : {SharePolicy::kFgd, SharePolicy::kBestFit, SharePolicy::kFirst}) {
    ShareSimOptions o;
    o.policy = policy;
    auto r = SimulateShare(nl, pods, o);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->outcomes[0].start, 0);
    EXPECT_EQ(r->outcomes[2].start, 10);
    EXPECT_EQ(r->outcomes[2].end, 30);
    EXPECT_EQ(r->outcomes[1].start, 100);
    EXPECT_EQ(r->outcomes[1].end, 110);
    EXPECT_EQ(r->outcomes[3].status, JobStatus::kRejected);
    EXPECT_EQ(r->outcomes[4].status, JobStatus::kInvalid);
    // Allocated milli-seconds: 500*100 + 400*20 + 600*10.
    EXPECT_DOUBLE_EQ(r->allocated_milli_seconds, 500.0 * 100 + 400 * 20 + 600 * 10);
  }
}

TEST(PackExperiment, RowsAreMonotoneAndRunsDeterministic) {
  // A small synthetic cluster and workload.
  NodeList nl;
  for (int i = 0; i < 20; ++i) nl.nodes.push_back(Node("n", 32000, 1 << 20, 4));
  nl.models.Intern("X");
  std::vector<PodSpec> pods;
  for (int i = 0; i < 60; ++i) {
    PodSpec p;
    p.name = "p" + std::to_string(i);
    p.cpu_milli = 1000 + 500 * (i % 5);
    p.num_gpu = i % 7 == 0 ? 0 : (i % 11 == 0 ? 2 : 1);
    p.gpu_milli = p.num_gpu == 0 ? 0 : (p.num_gpu == 2 || i % 3 == 0 ? 1000 : 250 + 50 * (i % 4));
    pods.push_back(p);
  }
  PackOptions o;
  o.seed = 9;
  auto a = RunPack(nl, pods, o);
  auto b = RunPack(nl, pods, o);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->rows.size(), 131u);
  for (size_t i = 0; i < a->rows.size(); ++i) {
    EXPECT_EQ(a->rows[i].allocated, b->rows[i].allocated);
    EXPECT_EQ(a->rows[i].fragmented, b->rows[i].fragmented);
    EXPECT_EQ(a->rows[i].arrived_pct, static_cast<int>(i));
    if (i > 0) {
      EXPECT_GE(a->rows[i].allocated, a->rows[i - 1].allocated);
      EXPECT_GE(a->rows[i].arrived, a->rows[i - 1].arrived);
    }
    // The row for v is taken once arrived reached v (or at the end).
    EXPECT_TRUE(a->rows[i].arrived >= static_cast<double>(i) || i + 1 == a->rows.size() ||
                a->rows[i].arrived == a->rows.back().arrived);
    EXPECT_LE(a->rows[i].allocated, a->rows[i].arrived + 1e-9);
  }
  EXPECT_GT(a->tuned_pods, 0);
  EXPECT_EQ(a->placed + a->failed, a->trace_pods + a->tuned_pods);
  o.tune = 0;
  EXPECT_FALSE(RunPack(nl, pods, o).ok());
}

}  // namespace
}  // namespace rackscale
