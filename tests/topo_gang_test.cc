// TopoIndex with whole domains as one part (GangPart runs): the same
// decisions as the same placements applied node by node. Two indexes see
// the same random work -- small jobs, domain jobs, gangs, releases in random
// order, nodes going down and up, domains moved between partitions -- one
// given the placements as Find returns them (whole domains as runs), the
// other the same placements split into one part per node. Every Find must
// agree (same nodes, units, domains, blocks), and so must every free count.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"
#include "sched/topo_index.h"

namespace rackscale {
namespace {

// One site: 6 blocks of 4 domains of 4 nodes x 2 GPUs (D8), and 4 CPU nodes.
Fleet MakeFleet() {
  const std::string t = R"(
[accelerators.A]
busy_watts = 700
[nodes.na]
cpu_milli = 32000
memory_mib = 1024
gpus = 2
accelerator = "A"
[nodes.cpu]
cpu_milli = 8000
memory_mib = 1024
[domains.DA]
node = "na"
nodes = 4
[[sites]]
name = "s"
  [[sites.pools]]
  domain = "DA"
  count = 24
  per_block = 4
  [[sites.pools]]
  node = "cpu"
  count = 4
)";
  auto f = ParseFleetToml(t, "test.toml");
  EXPECT_TRUE(f.ok()) << f.error().ToString();
  return std::move(f).value();
}

Placement Split(const Placement& p) {
  Placement q = p;
  q.parts.clear();
  for (const GangPart& x : p.parts) {
    for (int32_t n = x.node; n < x.node + x.nodes; ++n) q.parts.push_back({n, x.units});
  }
  return q;
}

std::vector<std::pair<int32_t, int32_t>> Nodes(const Placement& p) {
  std::vector<std::pair<int32_t, int32_t>> out;
  for (const GangPart& x : Split(p).parts) out.push_back({x.node, x.units});
  return out;
}

TEST(TopoGang, WholeDomainPartsDecideAsNodeByNode) {
  const Fleet f = MakeFleet();
  TopoIndex a(f, 2), b(f, 2);
  Rng rng(17);
  struct Held {
    Placement whole, split;
  };
  std::vector<Held> running;
  std::vector<bool> down(f.nodes.size(), false);
  const int32_t types = static_cast<int32_t>(f.domain_types.size());
  int wholes = 0;
  for (int step = 0; step < 20000; ++step) {
    const uint64_t op = rng.Below(10);
    if (op < 5) {
      AiJob j;
      j.runtime = 1;
      const int32_t sizes[] = {1, 1, 2, 2, 3, 5, 8, 8, 12, 16, 20, 24, 40, 64};
      j.gpus = sizes[rng.Below(14)];
      const TopologyScope scopes[] = {TopologyScope::kAny, TopologyScope::kAny, TopologyScope::kBlock,
                                      TopologyScope::kDomain, TopologyScope::kNode};
      j.topology = scopes[rng.Below(5)];
      if (rng.Below(8) == 0) {
        j.gpus = 0;
        j.cpu_milli = 1000 * static_cast<int64_t>(1 + rng.Below(8));
      }
      const int32_t partition = static_cast<int32_t>(rng.Below(2));
      const int32_t pool = partition * types + (j.gpus > 0 ? 0 : 1);
      Placement pa, pb;
      const bool fa = a.Find(j, pool, &pa), fb = b.Find(j, pool, &pb);
      ASSERT_EQ(fa, fb) << "step " << step;
      if (!fa) continue;
      ASSERT_EQ(Nodes(pa), Nodes(pb)) << "step " << step;
      ASSERT_EQ(pa.domains, pb.domains);
      ASSERT_EQ(pa.blocks, pb.blocks);
      for (const GangPart& x : pa.parts) wholes += x.nodes > 1;
      a.Commit(pa);
      b.Commit(Split(pb));
      running.push_back({pa, Split(pb)});
    } else if (op < 8 && !running.empty()) {
      const size_t k = rng.Below(running.size());
      a.Release(running[k].whole);
      b.Release(running[k].split);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
    } else if (op == 8) {
      // A node with nothing running goes down, or a down one comes back.
      const int32_t n = static_cast<int32_t>(rng.Below(f.nodes.size()));
      const int32_t units = f.node_type(n).gpus > 0 ? f.node_type(n).gpus : static_cast<int32_t>(f.node_type(n).cpu_milli / 1000);
      if (down[static_cast<size_t>(n)] || a.node_free(n) == units) {
        down[static_cast<size_t>(n)] = !down[static_cast<size_t>(n)];
        a.SetNodeDown(n, down[static_cast<size_t>(n)]);
        b.SetNodeDown(n, down[static_cast<size_t>(n)]);
      }
    } else {
      const int32_t d = static_cast<int32_t>(rng.Below(f.domains.size()));
      const int32_t partition = static_cast<int32_t>(rng.Below(2));
      a.MoveDomain(d, partition);
      b.MoveDomain(d, partition);
    }
    for (size_t n = 0; n < f.nodes.size(); ++n) {
      ASSERT_EQ(a.node_free(static_cast<int32_t>(n)), b.node_free(static_cast<int32_t>(n))) << "step " << step;
    }
    ASSERT_EQ(a.free_gpus(0), b.free_gpus(0));
    ASSERT_EQ(a.free_gpus(1), b.free_gpus(1));
  }
  EXPECT_GT(wholes, 100);  // whole domains were taken as one part
}

TEST(TopoGang, WholeDomainIsOnePart) {
  const Fleet f = MakeFleet();
  TopoIndex idx(f, 1);
  AiJob j;
  j.runtime = 1;
  j.gpus = 20;  // two whole D8 domains and 4 GPUs (2 nodes) of a third
  Placement p;
  ASSERT_TRUE(idx.Find(j, 0, &p));
  ASSERT_EQ(p.parts.size(), 3u);
  EXPECT_EQ(p.parts[0].nodes, 4);
  EXPECT_EQ(p.parts[1].nodes, 4);
  EXPECT_EQ(p.parts[2].nodes, 2);
  EXPECT_EQ(p.parts[2].units, 2);
  idx.Commit(p);
  EXPECT_EQ(idx.free_gpus(0), 24 * 8 - 20);
  for (int32_t n = p.parts[0].node; n < p.parts[0].node + 4; ++n) EXPECT_EQ(idx.node_free(n), 0);
  idx.Release(p);
  EXPECT_EQ(idx.free_gpus(0), 24 * 8);
  for (int32_t n = p.parts[0].node; n < p.parts[0].node + 4; ++n) EXPECT_EQ(idx.node_free(n), 2);
}

}  // namespace
}  // namespace rackscale
