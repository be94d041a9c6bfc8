// TopoIndex: free capacity of a Fleet, indexed for topology-aware placement.
//
// Domains are grouped in pools: (partition, domain type, site). Partition 0
// is the shared fleet; other partitions are dedicated clusters (or any other
// set) that a caller moves domains into and out of. A placement stays in one
// pool, so no gang spans sites (a site's network is not another's), and a
// caller can leave a site out (e.g. when it has no power left). Pool ids run
// partition-major, then domain type, then site (only FindAcross, for a gang
// of scope multi-site, takes domains from several pools). Each pool keeps
//   - its nodes in buckets by free units (GPUs; cores for CPU-only nodes),
//   - its domains in buckets by free GPUs,
//   - per block, the list of its fully free domains, and its blocks in
//     buckets by that count,
// so that every placement decision is a handful of bucket look-ups (bitset
// scans over at most a few hundred buckets), never a scan of the fleet.
//
// `topo` placement of a gang of G whole GPUs in a pool whose nodes hold n
// GPUs and domains D:
//   G <= n (or scope node):  the domain with the fewest free GPUs that has
//                             a node that fits (among the first 64 such
//                             domains), then its node with the fewest free
//                             GPUs that fit; else the fullest fitting node;
//   G <= D (or scope domain): the domain with the fewest free GPUs that fit,
//                             its nodes taken fullest-free first;
//   otherwise:                ceil(G / D) fully free domains (whole domains),
//                             all in one block if any block has enough (the
//                             block with the fewest that suffice), else from
//                             the blocks with the most (scopes any and
//                             multi-site).
// CPU-only jobs take the CPU node with the fewest free cores that fit.
//
// FindAcross places a gang of whole domains over several pools of one
// domain type (scope multi-site, when no single pool has room): the sites
// with the most fully free domains first (site order on ties), so that it
// touches as few sites as possible, each giving all it may (at most its
// limit) and the last only what is left; within a site, its pools in the
// order given, each as a gang of scope any would take its domains.
//
// Costs. Find is a handful of bucket look-ups, plus the nodes of the
// domains it examines for a job within one domain (at most 64 domains for
// a job within one node) and O(domains taken) for a gang of whole domains.
// Commit and Release cost O(parts): a whole domain is one part (GangPart
// runs) and moves between buckets once. While a domain is fully free its
// nodes stand in the node buckets as one item (in the place, and so the
// order, its nodes would hold one by one); while it is fully taken they
// are in no node bucket (no search asks for 0 free units); and in both
// states their free units follow from the domain's (node_free), so nothing
// per node is written. A change to one node of such a domain spreads it out
// first: O(its nodes), once. A gang's domains whose nodes were linked one
// by one (freed node by node) cost O(their nodes) when the gang takes them,
// at most once per such linking. SetNodeDown and MoveDomain cost O(nodes
// of the domain) at most (O(1) for a whole or fully taken one).
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "model/ai_job.h"
#include "model/fleet.h"

namespace rackscale {

// Intrusive buckets: items 0..n-1 (each in at most one bucket of one list
// family), buckets 0..B-1 per head set, with a bitset of non-empty buckets.
class BucketHeads {
 public:
  void Init(int32_t buckets);
  int32_t head(int32_t b) const { return head_[static_cast<size_t>(b)]; }
  // Smallest non-empty bucket >= b, or -1.
  int32_t FirstAtLeast(int32_t b) const;
  // Largest non-empty bucket, or -1.
  int32_t Last() const;
  void Push(int32_t item, int32_t b, std::vector<int32_t>& next, std::vector<int32_t>& prev);
  void Erase(int32_t item, int32_t b, std::vector<int32_t>& next, std::vector<int32_t>& prev);
  // Puts `item` just before `at` (in bucket b) in its list.
  void InsertBefore(int32_t item, int32_t at, int32_t b, std::vector<int32_t>& next, std::vector<int32_t>& prev);

 private:
  std::vector<int32_t> head_;
  std::vector<uint64_t> nonempty_;
};

// `nodes` consecutive nodes from `node`, all in one domain, each giving
// `units`: a whole domain taken by a gang is one part, so that a gang's
// parts are O(its domains), not O(its nodes).
struct GangPart {
  int32_t node;
  int32_t units;      // GPUs, or cores for CPU jobs, on each node
  int32_t nodes = 1;
};

struct Placement {
  int32_t pool = -1;
  std::vector<GangPart> parts;  // a node appears at most once
  int32_t domains = 0, blocks = 0;
  int32_t sites = 1;  // > 1: a multi-site gang; `pool` is then the pool giving the most domains
  // A fractional pod joining a GPU its tenant already shares: that GPU's id
  // in the FleetScheduler (parts then name its node with 0 units).
  int32_t shared_gpu = -1;
};

class TopoIndex {
 public:
  TopoIndex(const Fleet& fleet, int32_t partitions);

  // Finds a placement for `job` in pool `pool` without changing anything;
  // false if it does not fit there now.
  bool Find(const AiJob& job, int32_t pool, Placement* out) const;
  // A gang of ceil(G / D) whole domains taken from `pools` (all of one GPU
  // domain type, any partitions and sites), pool i giving at most limit[i]
  // domains; false if they do not hold enough. See the header comment.
  bool FindAcross(const AiJob& job, const std::vector<int32_t>& pools,
                  const std::vector<int32_t>& limit, Placement* out) const;
  void Commit(const Placement& p);
  void Release(const Placement& p);

  // Takes node n out of service (no free units; it must have no running
  // work) or puts it back with all its units free.
  void SetNodeDown(int32_t n, bool down);

  // Adds an empty partition (its pools after every existing pool); returns
  // its number. Partitions are never removed: an unused one stays empty.
  int32_t AddPartition();
  int32_t num_partitions() const { return static_cast<int32_t>(partition_pools_.size()); }

  // Moves domain `d` (with whatever runs on it) into partition `p`.
  void MoveDomain(int32_t d, int32_t partition);

  // Could `job` fit in `pool` if every job there ended? (Its GPU model, and
  // its size against the pool's nodes, domains and number of domains.)
  bool FitsEmpty(const AiJob& job, int32_t pool) const;

  // The pools of partition p, in (domain type, site) order.
  const std::vector<int32_t>& partition_pools(int32_t p) const { return partition_pools_[p]; }
  // Free GPUs in a partition and in the whole fleet.
  int64_t free_gpus(int32_t partition) const { return partition_free_gpus_[partition]; }
  int64_t free_gpus() const;
  int32_t node_free(int32_t n) const { return NodeFree(n); }
  // The pool domain d is in now, and the domain type of a pool.
  int32_t domain_pool(int32_t d) const { return domain_pool_[d]; }
  int32_t pool_domain_type(int32_t pool) const { return pools_[pool].domain_type; }
  int32_t pool_site(int32_t pool) const { return pools_[pool].site; }
  int32_t pool_partition(int32_t pool) const { return pools_[pool].partition; }
  int32_t domain_free(int32_t d) const { return domain_free_[d]; }
  int32_t domain_units(int32_t d) const { return domain_units_[d]; }  // when fully free
  // A pool's domains (in it now), fully free domains, GPUs per domain, and
  // whether its nodes are GPU nodes.
  int64_t pool_num_domains(int32_t pool) const { return pools_[pool].num_domains; }
  int32_t pool_full_domains(int32_t pool) const { return pools_[pool].full_domains; }
  int32_t pool_domain_gpus(int32_t pool) const { return pools_[pool].domain_gpus; }
  bool pool_gpu(int32_t pool) const { return pools_[pool].node_units_gpu; }

 private:
  struct Pool {
    int32_t partition, domain_type, site;
    bool node_units_gpu;  // node buckets count GPUs (else cores)
    int32_t node_units, domain_gpus;
    BucketHeads nodes, domains, blocks;
    std::vector<int32_t> block_full;      // per block: fully free domains here
    std::vector<int32_t> block_full_head; // per block: list of fully free domains
    int64_t num_domains = 0;
    int32_t full_domains = 0;             // fully free domains in the pool
  };
  int32_t PoolOf(int32_t d) const { return domain_pool_[d]; }
  int32_t PoolId(int32_t partition, int32_t d) const;
  void AddDomain(int32_t d, int32_t pool);
  void RemoveDomain(int32_t d);
  void SetNodeFree(int32_t node, int32_t units);
  // Node n's free units: implied by its domain's when that is fully free or
  // fully taken (node_free_ is then not kept), else node_free_.
  int32_t NodeFree(int32_t n) const {
    const int32_t d = fleet_.nodes[static_cast<size_t>(n)].domain;
    const int32_t f = domain_free_[static_cast<size_t>(d)];
    if (f == 0) return 0;
    if (f == domain_units_[static_cast<size_t>(d)]) return domain_node_units_[static_cast<size_t>(d)];
    return node_free_[static_cast<size_t>(n)];
  }
  bool WholeFree(int32_t d) const {
    return domain_units_[static_cast<size_t>(d)] > 0 &&
           domain_free_[static_cast<size_t>(d)] == domain_units_[static_cast<size_t>(d)];
  }
  // Writes node_free_ for domain d's nodes (before a change to one of them).
  void Materialize(int32_t d);
  // Domain d's node buckets: its fully free nodes as one item (nn + d), or
  // each node with free units in its bucket. Link: after the domain became
  // fully free; Spread: one item per node again (in the same place).
  void LinkWhole(int32_t d, Pool& P);
  void SpreadWhole(int32_t d, Pool& P);
  // The node an item of the node buckets stands for (a whole domain's item:
  // its last node, the one pushed last).
  int32_t ItemNode(int32_t item) const;
  // Adds node n to / takes it out of the bucket of f free units (none for 0).
  void LinkNode(int32_t n, int32_t f, Pool& P);
  void UnlinkNode(int32_t n, int32_t f, Pool& P);
  // Domain d's free units change by delta (its nodes already moved).
  void MoveDomainFree(int32_t d, int32_t pool, int32_t delta);
  // Commit (sign -1) or Release (+1) of a placement's parts.
  void Apply(const Placement& p, int sign);
  // Domain d (fully free) enters / leaves its block's list in `pool`.
  void LinkFull(int32_t d, int32_t pool);
  void UnlinkFull(int32_t d, int32_t pool);
  bool FindNodes(int32_t d, int32_t gpus, std::vector<GangPart>* parts) const;
  // Appends q fully free domains of `pool` to *chosen: all from the block
  // with the fewest fully free domains that suffice, else (if `spread`)
  // from the blocks with the most first. Adds the blocks used to *blocks.
  bool ChooseWholeDomains(int32_t pool, int32_t q, bool spread, std::vector<int32_t>* chosen,
                          int32_t* blocks) const;
  // Appends to out->parts the nodes of the chosen (fully free) domains: G
  // GPUs, D per domain.
  void TakeWholeDomains(const std::vector<int32_t>& chosen, int32_t G, int32_t D, Placement* out) const;

  const Fleet& fleet_;
  int32_t sites_ = 1;
  std::vector<Pool> pools_;
  std::vector<std::vector<int32_t>> partition_pools_;
  std::vector<int64_t> partition_free_gpus_;
  // Per node: free units (see NodeFree); per node-bucket item (nodes, then
  // one per domain for a whole free domain): bucket links.
  std::vector<int32_t> node_free_, node_next_, node_prev_;
  int32_t num_nodes_ = 0;
  // Per domain: units of each of its nodes; whether its nodes stand in the
  // node buckets as one item.
  std::vector<int32_t> domain_node_units_;
  std::vector<uint8_t> whole_linked_;
  // Per domain: free GPUs (units for CPU domains), pool, bucket links,
  // fully-free-list links.
  std::vector<int32_t> domain_free_, domain_units_, domain_pool_;
  std::vector<int32_t> dom_next_, dom_prev_, full_next_, full_prev_;
  // Per (pool, block): the same block is linked once per pool it has domains in.
  std::vector<std::vector<int32_t>> block_next_, block_prev_;
};

}  // namespace rackscale
