#include "sched/topo_index.h"

#include <algorithm>
#include <cassert>

namespace rackscale {

void BucketHeads::Init(int32_t buckets) {
  head_.assign(static_cast<size_t>(buckets), -1);
  nonempty_.assign(static_cast<size_t>((buckets + 63) / 64), 0);
}

int32_t BucketHeads::FirstAtLeast(int32_t b) const {
  if (b < 0) b = 0;
  const int32_t n = static_cast<int32_t>(head_.size());
  if (b >= n) return -1;
  size_t w = static_cast<size_t>(b) / 64;
  uint64_t bits = nonempty_[w] & (~uint64_t{0} << (b % 64));
  while (true) {
    if (bits != 0) return static_cast<int32_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(bits)));
    if (++w == nonempty_.size()) return -1;
    bits = nonempty_[w];
  }
}

int32_t BucketHeads::Last() const {
  for (size_t w = nonempty_.size(); w-- > 0;) {
    if (nonempty_[w] != 0) return static_cast<int32_t>(w * 64 + 63 - static_cast<size_t>(__builtin_clzll(nonempty_[w])));
  }
  return -1;
}

void BucketHeads::Push(int32_t item, int32_t b, std::vector<int32_t>& next,
                       std::vector<int32_t>& prev) {
  int32_t& h = head_[static_cast<size_t>(b)];
  next[static_cast<size_t>(item)] = h;
  prev[static_cast<size_t>(item)] = -1;
  if (h >= 0) prev[static_cast<size_t>(h)] = item;
  h = item;
  nonempty_[static_cast<size_t>(b) / 64] |= uint64_t{1} << (b % 64);
}

void BucketHeads::Erase(int32_t item, int32_t b, std::vector<int32_t>& next,
                        std::vector<int32_t>& prev) {
  const int32_t n = next[static_cast<size_t>(item)], p = prev[static_cast<size_t>(item)];
  if (p >= 0) {
    next[static_cast<size_t>(p)] = n;
  } else {
    head_[static_cast<size_t>(b)] = n;
  }
  if (n >= 0) prev[static_cast<size_t>(n)] = p;
  if (head_[static_cast<size_t>(b)] < 0) {
    nonempty_[static_cast<size_t>(b) / 64] &= ~(uint64_t{1} << (b % 64));
  }
}

void BucketHeads::InsertBefore(int32_t item, int32_t at, int32_t b, std::vector<int32_t>& next,
                               std::vector<int32_t>& prev) {
  const int32_t p = prev[static_cast<size_t>(at)];
  next[static_cast<size_t>(item)] = at;
  prev[static_cast<size_t>(item)] = p;
  prev[static_cast<size_t>(at)] = item;
  if (p >= 0) {
    next[static_cast<size_t>(p)] = item;
  } else {
    head_[static_cast<size_t>(b)] = item;
  }
}

namespace {

int32_t NodeUnits(const NodeType& t) {
  return t.gpus > 0 ? t.gpus : static_cast<int32_t>(t.cpu_milli / 1000);
}

}  // namespace

TopoIndex::TopoIndex(const Fleet& fleet, int32_t partitions) : fleet_(fleet) {
  sites_ = static_cast<int32_t>(fleet.sites.size());
  for (int32_t p = 0; p < partitions; ++p) AddPartition();
  const size_t nn = fleet.nodes.size(), nd = fleet.domains.size();
  num_nodes_ = static_cast<int32_t>(nn);
  node_free_.resize(nn);
  node_next_.assign(nn + nd, -1);
  node_prev_.assign(nn + nd, -1);
  for (size_t i = 0; i < nn; ++i) node_free_[i] = NodeUnits(fleet.node_type(static_cast<int32_t>(i)));
  domain_free_.resize(nd);
  domain_units_.resize(nd);
  domain_node_units_.assign(nd, 0);
  whole_linked_.assign(nd, 0);
  domain_pool_.assign(nd, -1);
  dom_next_.assign(nd, -1);
  dom_prev_.assign(nd, -1);
  full_next_.assign(nd, -1);
  full_prev_.assign(nd, -1);
  for (size_t d = 0; d < nd; ++d) {
    const Domain& dom = fleet.domains[d];
    int32_t units = 0;
    for (int32_t n = dom.first_node; n < dom.first_node + dom.num_nodes; ++n) units += node_free_[static_cast<size_t>(n)];
    domain_units_[d] = units;
    domain_free_[d] = units;
    if (dom.num_nodes > 0) domain_node_units_[d] = node_free_[static_cast<size_t>(dom.first_node)];
    AddDomain(static_cast<int32_t>(d), PoolId(0, static_cast<int32_t>(d)));
  }
}

int64_t TopoIndex::free_gpus() const {
  int64_t s = 0;
  for (int64_t x : partition_free_gpus_) s += x;
  return s;
}

void TopoIndex::AddDomain(int32_t d, int32_t pool) {
  Pool& P = pools_[static_cast<size_t>(pool)];
  const Domain& dom = fleet_.domains[static_cast<size_t>(d)];
  domain_pool_[static_cast<size_t>(d)] = pool;
  ++P.num_domains;
  if (WholeFree(d)) {
    LinkWhole(d, P);  // as its nodes pushed in order
  } else if (domain_free_[static_cast<size_t>(d)] > 0) {
    for (int32_t n = dom.first_node; n < dom.first_node + dom.num_nodes; ++n) {
      LinkNode(n, node_free_[static_cast<size_t>(n)], P);
    }
  }
  const int32_t f = domain_free_[static_cast<size_t>(d)];
  P.domains.Push(d, f, dom_next_, dom_prev_);
  if (P.node_units_gpu) partition_free_gpus_[static_cast<size_t>(P.partition)] += f;
  if (f == domain_units_[static_cast<size_t>(d)]) LinkFull(d, pool);
}

void TopoIndex::RemoveDomain(int32_t d) {
  const int32_t pool = domain_pool_[static_cast<size_t>(d)];
  Pool& P = pools_[static_cast<size_t>(pool)];
  const Domain& dom = fleet_.domains[static_cast<size_t>(d)];
  if (whole_linked_[static_cast<size_t>(d)]) {
    P.nodes.Erase(num_nodes_ + d, domain_node_units_[static_cast<size_t>(d)], node_next_, node_prev_);
    whole_linked_[static_cast<size_t>(d)] = 0;
  } else if (domain_free_[static_cast<size_t>(d)] > 0) {
    for (int32_t n = dom.first_node; n < dom.first_node + dom.num_nodes; ++n) UnlinkNode(n, NodeFree(n), P);
  }
  const int32_t f = domain_free_[static_cast<size_t>(d)];
  P.domains.Erase(d, f, dom_next_, dom_prev_);
  if (P.node_units_gpu) partition_free_gpus_[static_cast<size_t>(P.partition)] -= f;
  if (f == domain_units_[static_cast<size_t>(d)]) UnlinkFull(d, pool);
  domain_pool_[static_cast<size_t>(d)] = -1;
  --P.num_domains;
}

void TopoIndex::SetNodeDown(int32_t n, bool down) {
  SetNodeFree(n, down ? 0 : NodeUnits(fleet_.node_type(n)));
}

int32_t TopoIndex::PoolId(int32_t partition, int32_t d) const {
  const int32_t types = static_cast<int32_t>(fleet_.domain_types.size());
  const int32_t site = fleet_.site_of_domain(d);
  return (partition * types + fleet_.domains[static_cast<size_t>(d)].type) * sites_ + site;
}

int32_t TopoIndex::AddPartition() {
  const Fleet& fleet = fleet_;
  const int32_t types = static_cast<int32_t>(fleet.domain_types.size());
  int32_t max_per_block = 1;
  for (const Block& b : fleet.blocks) max_per_block = std::max(max_per_block, b.num_domains);
  const size_t nblocks = fleet.blocks.size();
  const int32_t p = static_cast<int32_t>(partition_pools_.size());
  partition_pools_.emplace_back();
  partition_free_gpus_.push_back(0);
  for (int32_t t = 0; t < types; ++t) {
    for (int32_t s = 0; s < sites_; ++s) {
      const DomainType& dt = fleet.domain_types[static_cast<size_t>(t)];
      const NodeType& nt = fleet.node_types[static_cast<size_t>(dt.node_type)];
      Pool P;
      P.partition = p;
      P.domain_type = t;
      P.site = s;
      P.node_units_gpu = nt.gpus > 0;
      P.node_units = NodeUnits(nt);
      P.domain_gpus = P.node_units * dt.nodes;
      P.nodes.Init(P.node_units + 1);
      P.domains.Init(P.domain_gpus + 1);
      P.blocks.Init(max_per_block + 1);
      P.block_full.assign(nblocks, 0);
      P.block_full_head.assign(nblocks, -1);
      const int32_t id = static_cast<int32_t>(pools_.size());
      block_next_.emplace_back(nblocks, -1);
      block_prev_.emplace_back(nblocks, -1);
      pools_.push_back(std::move(P));
      partition_pools_[static_cast<size_t>(p)].push_back(id);
    }
  }
  return p;
}

void TopoIndex::MoveDomain(int32_t d, int32_t partition) {
  const int32_t pool = PoolId(partition, d);
  if (domain_pool_[static_cast<size_t>(d)] == pool) return;
  RemoveDomain(d);
  AddDomain(d, pool);
}

void TopoIndex::SetNodeFree(int32_t node, int32_t units) {
  // Incremental: move the node between buckets, then its domain, and the
  // domain in or out of its block's fully-free list if that changes.
  const int32_t d = fleet_.nodes[static_cast<size_t>(node)].domain;
  const int32_t pool = domain_pool_[static_cast<size_t>(d)];
  Pool& P = pools_[static_cast<size_t>(pool)];
  const int32_t old = NodeFree(node);
  if (old == units) return;
  Materialize(d);
  SpreadWhole(d, P);
  UnlinkNode(node, old, P);
  node_free_[static_cast<size_t>(node)] = units;
  LinkNode(node, units, P);
  MoveDomainFree(d, pool, units - old);
}

void TopoIndex::Materialize(int32_t d) {
  const int32_t f = domain_free_[static_cast<size_t>(d)];
  if (f != 0 && f != domain_units_[static_cast<size_t>(d)]) return;  // node_free_ is kept
  const Domain& dom = fleet_.domains[static_cast<size_t>(d)];
  const int32_t v = f == 0 ? 0 : domain_node_units_[static_cast<size_t>(d)];
  std::fill(node_free_.begin() + dom.first_node, node_free_.begin() + dom.first_node + dom.num_nodes, v);
}

void TopoIndex::LinkWhole(int32_t d, Pool& P) {
  P.nodes.Push(num_nodes_ + d, domain_node_units_[static_cast<size_t>(d)], node_next_, node_prev_);
  whole_linked_[static_cast<size_t>(d)] = 1;
}

void TopoIndex::SpreadWhole(int32_t d, Pool& P) {
  if (!whole_linked_[static_cast<size_t>(d)]) return;
  // The item stands for the nodes last to first (pushed first to last):
  // put them in its place in that order.
  const Domain& dom = fleet_.domains[static_cast<size_t>(d)];
  const int32_t item = num_nodes_ + d, b = domain_node_units_[static_cast<size_t>(d)];
  for (int32_t n = dom.first_node + dom.num_nodes - 1; n >= dom.first_node; --n) {
    P.nodes.InsertBefore(n, item, b, node_next_, node_prev_);
  }
  P.nodes.Erase(item, b, node_next_, node_prev_);
  whole_linked_[static_cast<size_t>(d)] = 0;
}

int32_t TopoIndex::ItemNode(int32_t item) const {
  if (item < num_nodes_) return item;
  const Domain& dom = fleet_.domains[static_cast<size_t>(item - num_nodes_)];
  return dom.first_node + dom.num_nodes - 1;
}

void TopoIndex::LinkNode(int32_t n, int32_t f, Pool& P) {
  if (f > 0) P.nodes.Push(n, f, node_next_, node_prev_);
}

void TopoIndex::UnlinkNode(int32_t n, int32_t f, Pool& P) {
  if (f > 0) P.nodes.Erase(n, f, node_next_, node_prev_);
}

void TopoIndex::MoveDomainFree(int32_t d, int32_t pool, int32_t delta) {
  Pool& P = pools_[static_cast<size_t>(pool)];
  const int32_t dold = domain_free_[static_cast<size_t>(d)];
  const int32_t dnew = dold + delta;
  const int32_t full = domain_units_[static_cast<size_t>(d)];
  P.domains.Erase(d, dold, dom_next_, dom_prev_);
  domain_free_[static_cast<size_t>(d)] = dnew;
  P.domains.Push(d, dnew, dom_next_, dom_prev_);
  if (P.node_units_gpu) partition_free_gpus_[static_cast<size_t>(P.partition)] += delta;
  if (dold == full && dnew != full) {
    UnlinkFull(d, pool);
  } else if (dold != full && dnew == full) {
    LinkFull(d, pool);
  }
}

void TopoIndex::LinkFull(int32_t d, int32_t pool) {
  Pool& P = pools_[static_cast<size_t>(pool)];
  const int32_t b = fleet_.domains[static_cast<size_t>(d)].block;
  int32_t& head = P.block_full_head[static_cast<size_t>(b)];
  full_next_[static_cast<size_t>(d)] = head;
  full_prev_[static_cast<size_t>(d)] = -1;
  if (head >= 0) full_prev_[static_cast<size_t>(head)] = d;
  head = d;
  int32_t& c = P.block_full[static_cast<size_t>(b)];
  auto& bn = block_next_[static_cast<size_t>(pool)];
  auto& bp = block_prev_[static_cast<size_t>(pool)];
  if (c > 0) P.blocks.Erase(b, c, bn, bp);
  ++c;
  P.blocks.Push(b, c, bn, bp);
  ++P.full_domains;
}

void TopoIndex::UnlinkFull(int32_t d, int32_t pool) {
  Pool& P = pools_[static_cast<size_t>(pool)];
  const int32_t b = fleet_.domains[static_cast<size_t>(d)].block;
  const int32_t nx = full_next_[static_cast<size_t>(d)], pv = full_prev_[static_cast<size_t>(d)];
  if (pv >= 0) {
    full_next_[static_cast<size_t>(pv)] = nx;
  } else {
    P.block_full_head[static_cast<size_t>(b)] = nx;
  }
  if (nx >= 0) full_prev_[static_cast<size_t>(nx)] = pv;
  int32_t& c = P.block_full[static_cast<size_t>(b)];
  auto& bn = block_next_[static_cast<size_t>(pool)];
  auto& bp = block_prev_[static_cast<size_t>(pool)];
  P.blocks.Erase(b, c, bn, bp);
  if (--c > 0) P.blocks.Push(b, c, bn, bp);
  --P.full_domains;
}

bool TopoIndex::FindNodes(int32_t d, int32_t gpus,
                          std::vector<GangPart>* parts) const {
  const Domain& dom = fleet_.domains[static_cast<size_t>(d)];
  const int32_t top = domain_node_units_[static_cast<size_t>(d)];
  if (WholeFree(d)) {
    // Every node free: the first nodes in order, as one part (a whole
    // domain) or a run of full nodes and the rest on the next node.
    const int32_t full = std::min(gpus / top, dom.num_nodes);
    if (full > 0) parts->push_back(GangPart{dom.first_node, top, full});
    const int32_t rest = gpus - full * top;
    if (rest > 0 && full < dom.num_nodes) parts->push_back(GangPart{dom.first_node + full, rest});
    return rest == 0 || full < dom.num_nodes;
  }
  if (domain_free_[static_cast<size_t>(d)] == 0) return gpus <= 0;
  // Fewest nodes: the freest nodes first (node order on ties). Free counts
  // are small integers, so walk them from the node's size down instead of
  // sorting (no allocation; a domain has at most a few dozen nodes).
  int32_t left = gpus;
  for (int32_t level = top; level >= 1 && left > 0; --level) {
    for (int32_t n = dom.first_node; n < dom.first_node + dom.num_nodes && left > 0; ++n) {
      const int32_t f = node_free_[static_cast<size_t>(n)];
      if (f != level) continue;
      const int32_t take = std::min(left, f);
      parts->push_back(GangPart{n, take});
      left -= take;
    }
  }
  return left == 0;
}

bool TopoIndex::FitsEmpty(const AiJob& job, int32_t pool) const {
  const Pool& P = pools_[static_cast<size_t>(pool)];
  if (P.num_domains == 0) return false;
  if (job.gpus <= 0) {
    return !P.node_units_gpu && P.node_units >= (job.cpu_milli + 999) / 1000;
  }
  if (!P.node_units_gpu) return false;
  const DomainType& dt = fleet_.domain_types[static_cast<size_t>(P.domain_type)];
  const int32_t accel = fleet_.node_types[static_cast<size_t>(dt.node_type)].accelerator;
  if (!((job.models >> accel) & 1u)) return false;
  switch (job.topology) {
    case TopologyScope::kNode: return job.gpus <= P.node_units;
    case TopologyScope::kDomain: return job.gpus <= P.domain_gpus;
    default: return job.gpus <= P.domain_gpus ||
                    (job.gpus + P.domain_gpus - 1) / P.domain_gpus <= P.num_domains;
  }
}

bool TopoIndex::Find(const AiJob& job, int32_t pool, Placement* out) const {
  const Pool& P = pools_[static_cast<size_t>(pool)];
  out->pool = pool;
  out->parts.clear();
  out->domains = out->blocks = 0;
  out->sites = 1;
  if (job.gpus <= 0) {  // a CPU-only job: one CPU node
    if (P.node_units_gpu) return false;
    const int32_t cores = static_cast<int32_t>(std::max<int64_t>(1, (job.cpu_milli + 999) / 1000));
    const int32_t b = P.nodes.FirstAtLeast(cores);
    if (b < 0) return false;
    out->parts.push_back(GangPart{ItemNode(P.nodes.head(b)), cores});
    out->domains = out->blocks = 1;
    return true;
  }
  if (!P.node_units_gpu) return false;
  const DomainType& dt = fleet_.domain_types[static_cast<size_t>(P.domain_type)];
  const int32_t accel = fleet_.node_types[static_cast<size_t>(dt.node_type)].accelerator;
  if (!((job.models >> accel) & 1u)) return false;
  const int32_t G = job.gpus, n = P.node_units, D = P.domain_gpus;
  if (G <= n) {
    // Best fit twice: the fullest domain with a node that can take it, then
    // the fullest such node in it, so that small jobs pack into domains
    // already in use and whole domains stay free for gangs. A bounded number
    // of domains is examined; past that, the fullest node anywhere.
    constexpr int kDomainScan = 64;
    int scanned = 0;
    for (int32_t b = P.domains.FirstAtLeast(G); b >= 0 && scanned < kDomainScan;
         b = P.domains.FirstAtLeast(b + 1)) {
      for (int32_t d = P.domains.head(b); d >= 0 && scanned < kDomainScan;
           d = dom_next_[static_cast<size_t>(d)], ++scanned) {
        const Domain& dom = fleet_.domains[static_cast<size_t>(d)];
        int32_t best = -1;
        if (WholeFree(d)) {  // every node free: the first fits best
          best = dom.first_node;
        } else {
          for (int32_t x = dom.first_node; x < dom.first_node + dom.num_nodes; ++x) {
          const int32_t f = node_free_[static_cast<size_t>(x)];
            if (f >= G && (best < 0 || f < node_free_[static_cast<size_t>(best)])) best = x;
          }
        }
        if (best >= 0) {
          out->parts.push_back(GangPart{best, G});
          out->domains = out->blocks = 1;
          return true;
        }
      }
    }
    const int32_t b = P.nodes.FirstAtLeast(G);
    if (b >= 0) {
      out->parts.push_back(GangPart{ItemNode(P.nodes.head(b)), G});
      out->domains = out->blocks = 1;
      return true;
    }
  }
  if (job.topology == TopologyScope::kNode) return false;
  if (G <= D) {
    const int32_t b = P.domains.FirstAtLeast(G);
    if (b < 0) return false;
    const int32_t d = P.domains.head(b);
    out->domains = out->blocks = 1;
    return FindNodes(d, G, &out->parts);
  }
  if (job.topology == TopologyScope::kDomain) return false;
  // Whole domains: q fully free ones, in as few blocks as possible.
  const int32_t q = (G + D - 1) / D;
  if (P.full_domains < q) return false;  // too few anywhere: fail without a walk
  std::vector<int32_t> chosen;
  chosen.reserve(static_cast<size_t>(q));
  if (!ChooseWholeDomains(pool, q, job.topology != TopologyScope::kBlock, &chosen, &out->blocks)) {
    return false;
  }
  out->domains = q;
  TakeWholeDomains(chosen, G, D, out);
  return true;
}

void TopoIndex::TakeWholeDomains(const std::vector<int32_t>& chosen, int32_t G, int32_t D, Placement* out) const {
  int32_t left = G;
  for (int32_t d : chosen) {
    const int32_t g = std::min(left, D);
    FindNodes(d, g, &out->parts);
    left -= g;
  }
}

bool TopoIndex::ChooseWholeDomains(int32_t pool, int32_t q, bool spread,
                                   std::vector<int32_t>* chosen, int32_t* blocks) const {
  const Pool& P = pools_[static_cast<size_t>(pool)];
  const size_t want = chosen->size() + static_cast<size_t>(q);
  auto take_block = [&](int32_t blk) {
    for (int32_t d = P.block_full_head[static_cast<size_t>(blk)]; d >= 0 && chosen->size() < want;
         d = full_next_[static_cast<size_t>(d)]) {
      chosen->push_back(d);
    }
    ++*blocks;
  };
  const int32_t fit = P.blocks.FirstAtLeast(q);
  if (fit >= 0) {
    take_block(P.blocks.head(fit));
    return true;
  }
  if (!spread) return false;
  const auto& next = block_next_[static_cast<size_t>(pool)];
  for (int32_t c = P.blocks.Last(); c > 0 && chosen->size() < want; --c) {
    for (int32_t blk = P.blocks.head(c); blk >= 0 && chosen->size() < want;
         blk = next[static_cast<size_t>(blk)]) {
      take_block(blk);
    }
  }
  return chosen->size() >= want;
}

bool TopoIndex::FindAcross(const AiJob& job, const std::vector<int32_t>& pools,
                           const std::vector<int32_t>& limit, Placement* out) const {
  out->parts.clear();
  out->domains = out->blocks = 0;
  out->sites = 0;
  out->shared_gpu = -1;
  if (pools.empty() || job.gpus <= 0) return false;
  const int32_t D = pools_[static_cast<size_t>(pools[0])].domain_gpus;
  if (D <= 0) return false;
  const int32_t G = job.gpus, q = (G + D - 1) / D;
  // What each site may give: the sum over its pools of min(limit, fully free).
  struct SiteTake {
    int32_t site;
    int64_t avail;
  };
  std::vector<SiteTake> sites;
  int64_t total = 0;
  for (size_t i = 0; i < pools.size(); ++i) {
    const Pool& P = pools_[static_cast<size_t>(pools[i])];
    const int64_t a = std::min<int64_t>(limit[i], P.full_domains);
    if (a <= 0) continue;
    total += a;
    auto it = std::find_if(sites.begin(), sites.end(), [&](const SiteTake& x) { return x.site == P.site; });
    if (it == sites.end()) {
      sites.push_back({P.site, a});
    } else {
      it->avail += a;
    }
  }
  if (total < q) return false;
  // The most first, site order on ties: the fewest sites.
  std::sort(sites.begin(), sites.end(), [](const SiteTake& a, const SiteTake& b) {
    return a.avail != b.avail ? a.avail > b.avail : a.site < b.site;
  });
  std::vector<int32_t> chosen;
  chosen.reserve(static_cast<size_t>(q));
  int64_t best_pool_domains = 0;
  for (const SiteTake& st : sites) {
    if (static_cast<int32_t>(chosen.size()) >= q) break;
    ++out->sites;
    for (size_t i = 0; i < pools.size() && static_cast<int32_t>(chosen.size()) < q; ++i) {
      const Pool& P = pools_[static_cast<size_t>(pools[i])];
      if (P.site != st.site) continue;
      const int64_t a = std::min<int64_t>(limit[i], P.full_domains);
      const int32_t k = static_cast<int32_t>(std::min<int64_t>(a, q - static_cast<int64_t>(chosen.size())));
      if (k <= 0) continue;
      if (!ChooseWholeDomains(pools[i], k, true, &chosen, &out->blocks)) return false;
      if (k > best_pool_domains) {
        best_pool_domains = k;
        out->pool = pools[i];
      }
    }
  }
  out->domains = q;
  TakeWholeDomains(chosen, G, D, out);
  return true;
}

void TopoIndex::Commit(const Placement& p) { Apply(p, -1); }

void TopoIndex::Release(const Placement& p) { Apply(p, +1); }

void TopoIndex::Apply(const Placement& p, int sign) {
  // Parts come grouped by domain: the domain moves between its buckets once
  // per run of its parts. A part that is a whole domain, going from fully
  // free to fully taken or back, moves as one item: O(1), nothing per node.
  const size_t np = p.parts.size();
  size_t i = 0;
  while (i < np) {
    const int32_t d = fleet_.nodes[static_cast<size_t>(p.parts[i].node)].domain;
    const int32_t pool = domain_pool_[static_cast<size_t>(d)];
    Pool& P = pools_[static_cast<size_t>(pool)];
    size_t end = i + 1;
    while (end < np && fleet_.nodes[static_cast<size_t>(p.parts[end].node)].domain == d) ++end;
    const Domain& dom = fleet_.domains[static_cast<size_t>(d)];
    const int32_t units = domain_units_[static_cast<size_t>(d)];
    const GangPart& first = p.parts[i];
    if (end == i + 1 && first.node == dom.first_node && first.nodes == dom.num_nodes &&
        first.units == domain_node_units_[static_cast<size_t>(d)] && units > 0) {
      const int32_t f = domain_free_[static_cast<size_t>(d)];
      if (sign < 0 && f == units) {
        // Taken whole: its nodes leave the node buckets (bucket 0 is not kept).
        if (whole_linked_[static_cast<size_t>(d)]) {
          P.nodes.Erase(num_nodes_ + d, first.units, node_next_, node_prev_);
          whole_linked_[static_cast<size_t>(d)] = 0;
        } else {  // linked node by node since they were freed one by one
          for (int32_t n = dom.first_node; n < dom.first_node + dom.num_nodes; ++n) UnlinkNode(n, first.units, P);
        }
        MoveDomainFree(d, pool, -units);
        i = end;
        continue;
      }
      if (sign > 0 && f == 0) {
        LinkWhole(d, P);  // as its nodes pushed in order, each fully free
        MoveDomainFree(d, pool, units);
        i = end;
        continue;
      }
    }
    // Node by node.
    Materialize(d);
    SpreadWhole(d, P);
    int32_t delta = 0;
    for (; i < end; ++i) {
      const GangPart& x = p.parts[i];
      for (int32_t n = x.node; n < x.node + x.nodes; ++n) {
        const int32_t old = node_free_[static_cast<size_t>(n)];
        const int32_t now = old + sign * x.units;
        assert(now >= 0);
        if (now == old) continue;
        UnlinkNode(n, old, P);
        node_free_[static_cast<size_t>(n)] = now;
        LinkNode(n, now, P);
        delta += now - old;
      }
    }
    if (delta != 0) MoveDomainFree(d, pool, delta);
  }
}

}  // namespace rackscale
