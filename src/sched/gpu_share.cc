#include "sched/gpu_share.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace rackscale {
namespace {

// The normalising constants of the paper's simulator ("max spec" of a node).
constexpr double kMaxSpecCpu = 128000.0;
constexpr double kMaxSpecGpu = 8000.0;

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

int Kind(const ShareRequest& r) { return r.shared() ? 0 : r.num_gpu; }

bool ModelAllowed(GpuModelMask mask, GpuModelId model) { return (mask >> model) & 1u; }

}  // namespace

Result<SharePolicy> ParseSharePolicy(std::string_view name, const std::string& source) {
  static constexpr std::pair<std::string_view, SharePolicy> kNames[] = {
      {"first", SharePolicy::kFirst},           {"random", SharePolicy::kRandom},
      {"bestfit", SharePolicy::kBestFit},       {"dotprod", SharePolicy::kDotProd},
      {"gpupacking", SharePolicy::kGpuPacking}, {"gpuclustering", SharePolicy::kGpuClustering},
      {"fgd", SharePolicy::kFgd}};
  for (auto [n, p] : kNames) {
    if (n == name) return p;
  }
  return Error::InvalidInput(source, 0, "policy",
                             fmt::format("expected first, random, bestfit, dotprod, gpupacking, "
                                         "gpuclustering or fgd, got '{}'",
                                         name));
}

const char* SharePolicyName(SharePolicy p) {
  switch (p) {
    case SharePolicy::kFirst: return "first";
    case SharePolicy::kRandom: return "random";
    case SharePolicy::kBestFit: return "bestfit";
    case SharePolicy::kDotProd: return "dotprod";
    case SharePolicy::kGpuPacking: return "gpupacking";
    case SharePolicy::kGpuClustering: return "gpuclustering";
    case SharePolicy::kFgd: return "fgd";
  }
  return "?";
}

std::vector<TaskType> TargetWorkload(const std::vector<ShareRequest>& pods, double coverage) {
  using Key = std::tuple<int64_t, int32_t, int32_t, GpuModelMask>;
  std::map<Key, int64_t> count;
  for (const ShareRequest& r : pods) {
    int32_t milli = r.cpu_only() ? 0 : r.gpu_milli;
    int32_t num = r.cpu_only() ? 0 : r.num_gpu;
    ++count[Key{r.cpu_milli, milli, num, r.models}];
  }
  std::vector<std::pair<Key, int64_t>> kinds(count.begin(), count.end());
  // Most popular first; ties: larger CPU, GPU milli, GPU count, model mask.
  std::sort(kinds.begin(), kinds.end(), [](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    return a.first > b.first;
  });
  const double need = coverage * static_cast<double>(pods.size());
  int64_t kept = 0;
  size_t n = 0;
  while (n < kinds.size() && static_cast<double>(kept) < need) kept += kinds[n++].second;
  std::vector<TaskType> out;
  for (size_t i = 0; i < n; ++i) {
    const auto& [key, c] = kinds[i];
    TaskType t;
    t.request.cpu_milli = std::get<0>(key);
    t.request.gpu_milli = std::get<1>(key);
    t.request.num_gpu = std::get<2>(key);
    t.request.models = std::get<3>(key);
    t.weight = static_cast<double>(c) / static_cast<double>(kept);
    out.push_back(t);
  }
  return out;
}

Result<ShareCluster> ShareCluster::Create(const std::vector<NodeSpec>& specs,
                                          std::vector<TaskType> target) {
  ShareCluster c;
  c.target_ = std::move(target);
  c.nodes_.reserve(specs.size());
  c.cls_.reserve(specs.size());
  for (const NodeSpec& s : specs) {
    if (s.gpus > kMaxGpusPerShareNode) {
      return Error::InvalidInput(s.name, s.line, "gpu",
                                 fmt::format("a node may have at most {} GPUs here, got {}",
                                             kMaxGpusPerShareNode, s.gpus));
    }
    Node n;
    n.cpu_left = s.cpu_milli;
    n.mem_left = s.memory_mib;
    n.model = s.model;
    n.ngpu = s.gpus;
    for (int g = 0; g < s.gpus; ++g) n.left[static_cast<size_t>(g)] = kMilliPerGpu;
    c.gpu_capacity_ += static_cast<int64_t>(s.gpus) * kMilliPerGpu;
    c.shapes_.emplace_back(s.cpu_milli, s.memory_mib, s.gpus, s.model);
    const ClassSig sig = SigOf(n);
    auto [it, fresh] = c.class_of_.try_emplace(sig, static_cast<uint32_t>(c.classes_.size()));
    if (fresh) {
      c.Refresh(n);
      Class k;
      k.rep = n;
      k.gen = 1;
      c.classes_.push_back(std::move(k));
    } else {
      n.max_left = c.classes_[it->second].rep.max_left;
      n.full_free = c.classes_[it->second].rep.full_free;
      n.total_left = c.classes_[it->second].rep.total_left;
      n.frag = c.classes_[it->second].rep.frag;  // the same state, the same value
    }
    c.classes_[it->second].members.insert(c.classes_[it->second].members.end(),
                                          static_cast<uint32_t>(c.nodes_.size()));
    c.cls_.push_back(it->second);
    c.frag_total_ += n.frag;
    c.nodes_.push_back(n);
  }
  std::sort(c.shapes_.begin(), c.shapes_.end());
  c.shapes_.erase(std::unique(c.shapes_.begin(), c.shapes_.end()), c.shapes_.end());
  c.gpu_left_ = c.gpu_capacity_;
  while (c.slot_cap_ < c.classes_.size()) c.slot_cap_ *= 2;
  return c;
}

double ShareCluster::Fragmentation(int64_t cpu_left, const int32_t* left, int32_t ngpu,
                                   GpuModelId model) const {
  int64_t total = 0;
  for (int32_t g = 0; g < ngpu; ++g) total += left[g];
  if (total == 0) return 0;
  const double all = static_cast<double>(total);
  double f = 0;
  for (const TaskType& t : target_) {
    const ShareRequest& r = t.request;
    if (r.cpu_only() || !ModelAllowed(r.models, model) || cpu_left < r.cpu_milli) {
      f += t.weight * all;  // the task cannot use any of the idle GPU here
      continue;
    }
    int32_t fit = 0;
    int64_t small = 0;
    for (int32_t g = 0; g < ngpu; ++g) {
      if (left[g] >= r.gpu_milli) {
        ++fit;
      } else {
        small += left[g];
      }
    }
    // The task fits: only GPUs too small for one unit of it are fragments.
    f += t.weight * static_cast<double>(fit >= r.num_gpu ? small : total);
  }
  return f;
}

void ShareCluster::Refresh(Node& n) {
  n.max_left = 0;
  n.full_free = 0;
  n.total_left = 0;
  for (int32_t g = 0; g < n.ngpu; ++g) {
    int32_t l = n.left[static_cast<size_t>(g)];
    n.max_left = std::max(n.max_left, l);
    n.full_free += l == kMilliPerGpu;
    n.total_left += l;
  }
  n.frag = Fragmentation(n.cpu_left, n.left.data(), n.ngpu, n.model);
}

bool ShareCluster::Feasible(const Node& n, const ShareRequest& r) const {
  if (n.cpu_left < r.cpu_milli || n.mem_left < r.memory_mib) return false;
  if (r.cpu_only()) return true;
  if (n.ngpu == 0 || !ModelAllowed(r.models, n.model)) return false;
  if (r.num_gpu == 1) return n.max_left >= r.gpu_milli;
  return n.full_free >= r.num_gpu;
}

int32_t ShareCluster::BestGpu(const Node& n, int32_t milli) const {
  int32_t best = -1;
  for (int32_t g = 0; g < n.ngpu; ++g) {
    int32_t l = n.left[static_cast<size_t>(g)];
    if (l >= milli && (best < 0 || l < n.left[static_cast<size_t>(best)])) best = g;
  }
  return best;
}

ShareCluster::Scored ShareCluster::Score(const Node& n, const ShareRequest& r,
                                         SharePolicy policy) const {
  switch (policy) {
    case SharePolicy::kDotProd: {
      // Smallest dot product of the request and the node's free resources.
      double dot = (static_cast<double>(n.cpu_left) / kMaxSpecCpu) *
                       (static_cast<double>(r.cpu_milli) / kMaxSpecCpu) +
                   (static_cast<double>(n.total_left) / kMaxSpecGpu) *
                       (static_cast<double>(r.total_gpu_milli()) / kMaxSpecGpu);
      return {static_cast<int64_t>(100.0 * (1.0 - dot / 2.0)), -1};
    }
    case SharePolicy::kBestFit: {
      // Least CPU and GPU left after placing, equally weighted.
      double rest = 0.5 * static_cast<double>(n.cpu_left - r.cpu_milli) / kMaxSpecCpu +
                    0.5 * static_cast<double>(n.total_left - r.total_gpu_milli()) / kMaxSpecGpu;
      return {static_cast<int64_t>((1.0 - rest) * 100.0), -1};
    }
    case SharePolicy::kGpuClustering: {
      if (r.cpu_only()) return {0, -1};
      const int64_t b = (25 * (8000 - static_cast<int64_t>(n.total_left))) / 8000;
      const int kind = Kind(r);
      if (n.kind_count[static_cast<size_t>(kind)] > 0) {
        return {(n.kinds_present == 1 ? 75 : 50) + b, -1};
      }
      return {(n.kinds_present == 0 ? 25 : 0) + b, -1};
    }
    case SharePolicy::kGpuPacking: {
      if (r.cpu_only()) return {0, -1};
      if (n.full_free == n.ngpu) {  // an idle node: last resort, big nodes last
        return {std::max<int64_t>(33 - n.full_free, n.full_free), -1};
      }
      // The GPUs it would take, least left first (index order on ties).
      std::array<int32_t, kMaxGpusPerShareNode> order;
      for (int32_t g = 0; g < n.ngpu; ++g) order[static_cast<size_t>(g)] = g;
      std::stable_sort(order.begin(), order.begin() + n.ngpu, [&](int32_t a, int32_t b) {
        return n.left[static_cast<size_t>(a)] < n.left[static_cast<size_t>(b)];
      });
      int32_t taken = 0, free_taken = 0;
      int64_t s = 0;
      for (int32_t k = 0; k < n.ngpu && taken < r.num_gpu; ++k) {
        int32_t l = n.left[static_cast<size_t>(order[static_cast<size_t>(k)])];
        if (l < r.gpu_milli) continue;
        ++taken;
        free_taken += l == kMilliPerGpu;
        s += l * 100 / kMilliPerGpu;
      }
      if (free_taken > 0) return {std::max<int64_t>(50 - free_taken, 33), -1};
      return {std::max<int64_t>(100 - s / 10, 50), -1};
    }
    case SharePolicy::kFirst:
    case SharePolicy::kRandom:
    case SharePolicy::kFgd:
      break;
  }
  return {0, -1};
}

ShareCluster::Scored ShareCluster::FgdScore(const Node& n, const ShareRequest& r) const {
  // Score = floor(100 * sigmoid((F_before - F_after) / 1000)): the least
  // growth of fragmentation wins, quantised as the paper's simulator does.
  auto score_of = [&](double after) {
    return static_cast<int64_t>(100.0 * Sigmoid((n.frag - after) / 1000.0));
  };
  std::array<int32_t, kMaxGpusPerShareNode> left = n.left;
  const int64_t cpu = n.cpu_left - r.cpu_milli;
  Scored best{-1, -1};
  if (r.shared()) {
    // Try each GPU that fits; equal lefts give equal results, keep the first.
    for (int32_t g = 0; g < n.ngpu; ++g) {
      const int32_t l = n.left[static_cast<size_t>(g)];
      if (l < r.gpu_milli) continue;
      bool seen = false;
      for (int32_t h = 0; h < g && !seen; ++h) seen = n.left[static_cast<size_t>(h)] == l;
      if (seen) continue;
      left[static_cast<size_t>(g)] = l - r.gpu_milli;
      int64_t s = score_of(Fragmentation(cpu, left.data(), n.ngpu, n.model));
      left[static_cast<size_t>(g)] = l;
      if (s > best.score) best = {s, g};
    }
  } else {
    int32_t need = r.cpu_only() ? 0 : r.num_gpu;
    for (int32_t g = 0; g < n.ngpu && need > 0; ++g) {
      if (left[static_cast<size_t>(g)] == kMilliPerGpu) {
        left[static_cast<size_t>(g)] = 0;
        --need;
      }
    }
    best = {score_of(Fragmentation(cpu, left.data(), n.ngpu, n.model)), -1};
  }
  return best;
}

ShareCluster::Scored ShareCluster::NodeScore(const Node& n, const ShareRequest& r,
                                             SharePolicy policy) const {
  if (!Feasible(n, r)) return {-1, -1};
  switch (policy) {
    case SharePolicy::kFirst:
    case SharePolicy::kRandom:
      return {0, -1};  // every feasible node alike: leftmost / k-th feasible
    case SharePolicy::kFgd:
      return FgdScore(n, r);
    default:
      return Score(n, r, policy);
  }
}

ShareCluster::KindKey ShareCluster::KeyOf(const ShareRequest& r, SharePolicy policy) {
  return KindKey{policy,
                 r.cpu_milli,
                 r.memory_mib,
                 r.cpu_only() ? 0 : r.gpu_milli,
                 r.cpu_only() ? 0 : r.num_gpu,
                 r.models};
}

ShareCluster::ClassSig ShareCluster::SigOf(const Node& n) {
  ClassSig s;
  s.cpu_left = n.cpu_left;
  s.mem_left = n.mem_left;
  s.left = n.left;
  s.kind_bits = n.kind_bits;
  s.ngpu = n.ngpu;
  s.model = n.model;
  return s;
}

size_t ShareCluster::SigHash::operator()(const ClassSig& s) const {
  auto mix = [](uint64_t h, uint64_t x) {
    h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xbf58476d1ce4e5b9ULL;
  };
  uint64_t h = mix(static_cast<uint64_t>(s.cpu_left), static_cast<uint64_t>(s.mem_left));
  h = mix(h, (static_cast<uint64_t>(s.kind_bits) << 32) | (static_cast<uint64_t>(s.ngpu) << 8) | s.model);
  for (int32_t g = 0; g < s.ngpu; g += 2) {
    h = mix(h, (static_cast<uint64_t>(static_cast<uint32_t>(s.left[static_cast<size_t>(g)])) << 32) |
                   static_cast<uint32_t>(s.left[static_cast<size_t>(g) + 1]));
  }
  return static_cast<size_t>(h ^ (h >> 31));
}

// Moves node i to the class of its (changed) state and logs the move.
void ShareCluster::Reclass(size_t i) {
  const uint32_t from = cls_[i];
  const ClassSig sig = SigOf(nodes_[i]);
  uint32_t to;
  if (auto it = class_of_.find(sig); it != class_of_.end()) {
    to = it->second;
    if (to == from) return;  // the same state as before
    Class& old = classes_[from];
    old.members.erase(static_cast<uint32_t>(i));
    if (old.members.empty()) {
      class_of_.erase(SigOf(old.rep));
      free_slots_.push_back(from);
    }
    classes_[to].members.insert(static_cast<uint32_t>(i));
  } else if (classes_[from].members.size() == 1) {
    // The node was alone in its class: the slot takes the new state.
    auto h = class_of_.extract(SigOf(classes_[from].rep));
    h.key() = sig;
    class_of_.insert(std::move(h));
    to = from;
    classes_[to].rep = nodes_[i];
    ++classes_[to].gen;
  } else {
    classes_[from].members.erase(static_cast<uint32_t>(i));
    if (!free_slots_.empty()) {
      to = free_slots_.back();
      free_slots_.pop_back();
    } else {
      to = static_cast<uint32_t>(classes_.size());
      classes_.emplace_back();
      while (slot_cap_ < classes_.size()) slot_cap_ *= 2;
    }
    class_of_.emplace(sig, to);
    Class& k = classes_[to];
    k.rep = nodes_[i];
    ++k.gen;
    k.members.insert(static_cast<uint32_t>(i));
  }
  cls_[i] = to;
  changes_.push_back(Move{static_cast<uint32_t>(i), from, to});
  if (changes_.size() <= 4 * nodes_.size() + 4096) return;
  // Keep the log short: indexes that are behind rebuild on their next use.
  for (auto& [key, k] : index_) {
    if (k.synced != changes_.size()) k.stale = true;
    k.synced = 0;
  }
  changes_.clear();
}

int ShareCluster::ClassScore(KindIndex& k, uint32_t slot) {
  const Class& c = classes_[slot];
  if (k.gen[slot] != c.gen) {
    const Scored s = NodeScore(c.rep, k.r, k.policy);
    k.gen[slot] = c.gen;
    k.score[slot] = static_cast<int32_t>(s.score);
    k.gpu[slot] = static_cast<int8_t>(s.gpu);
  }
  return k.score[slot];
}

uint64_t ShareCluster::ClassKey(KindIndex& k, uint32_t slot) {
  if (slot >= classes_.size() || classes_[slot].members.empty()) return 0;
  const int s = ClassScore(k, slot);
  if (s < 0) return 0;
  // Higher score first; on equal scores the lower first node.
  return (static_cast<uint64_t>(s) + 1) << 32 | (0xffffffffu - *classes_[slot].members.begin());
}

void ShareCluster::SetClass(KindIndex& k, uint32_t slot) {
  size_t v = slot_cap_ + slot;
  k.tree[v] = ClassKey(k, slot);
  for (v /= 2; v >= 1; v /= 2) {
    const uint64_t best = std::max(k.tree[2 * v], k.tree[2 * v + 1]);
    if (k.tree[v] == best) break;  // nothing above changes either
    k.tree[v] = best;
  }
}

void ShareCluster::SetNodeBit(KindIndex& k, size_t i) {
  const bool now = ClassScore(k, cls_[i]) >= 0;
  uint64_t& w = k.bits[i / 64];
  const uint64_t bit = uint64_t{1} << (i % 64);
  if (((w & bit) != 0) == now) return;
  w ^= bit;
  const int32_t d = now ? 1 : -1;
  k.feasible += d;
  for (size_t b = i / 64 / kBlockWords + 1; b < k.fenwick.size(); b += b & (~b + 1)) k.fenwick[b] += d;
}

void ShareCluster::Rebuild(KindIndex& k) {
  if (k.gen.size() < slot_cap_) {
    k.gen.resize(slot_cap_, 0);
    k.score.resize(slot_cap_, -1);
    k.gpu.resize(slot_cap_, -1);
  }
  if (k.policy != SharePolicy::kRandom) {
    // Slots past classes_ were never used: their leaves stay 0.
    if (k.tree.size() != 2 * slot_cap_) k.tree.assign(2 * slot_cap_, 0);
    for (size_t s = 0; s < classes_.size(); ++s) {
      k.tree[slot_cap_ + s] = ClassKey(k, static_cast<uint32_t>(s));
    }
    for (size_t v = slot_cap_ - 1; v >= 1; --v) k.tree[v] = std::max(k.tree[2 * v], k.tree[2 * v + 1]);
    return;
  }
  const size_t words = (nodes_.size() + 63) / 64;
  const size_t blocks = (words + kBlockWords - 1) / kBlockWords;
  k.bits.assign(words, 0);
  k.fenwick.assign(blocks + 1, 0);
  k.feasible = 0;
  std::vector<uint8_t> fits(classes_.size(), 0);
  for (size_t s = 0; s < classes_.size(); ++s) {
    fits[s] = !classes_[s].members.empty() && ClassScore(k, static_cast<uint32_t>(s)) >= 0;
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    k.bits[i / 64] |= static_cast<uint64_t>(fits[cls_[i]]) << (i % 64);
  }
  for (size_t b = 1; b <= blocks; ++b) {
    int32_t n = 0;
    for (size_t w = (b - 1) * kBlockWords; w < std::min(words, b * kBlockWords); ++w) {
      n += std::popcount(k.bits[w]);
    }
    k.feasible += n;
    k.fenwick[b] += n;
    if (const size_t up = b + (b & (~b + 1)); up <= blocks) k.fenwick[up] += k.fenwick[b];
  }
}

ShareCluster::KindIndex& ShareCluster::IndexFor(const ShareRequest& r, SharePolicy policy) {
  auto [it, fresh] = index_.try_emplace(KeyOf(r, policy));
  KindIndex& k = it->second;
  if (fresh) {
    k.r = r;
    k.policy = policy;
  }
  const size_t behind = changes_.size() - k.synced;
  const bool random = policy == SharePolicy::kRandom;
  if (k.stale || (random ? behind > nodes_.size() / 8 : (k.tree.size() != 2 * slot_cap_ || behind > slot_cap_))) {
    Rebuild(k);
  } else {
    if (k.gen.size() < slot_cap_) {
      k.gen.resize(slot_cap_, 0);
      k.score.resize(slot_cap_, -1);
      k.gpu.resize(slot_cap_, -1);
    }
    for (size_t c = k.synced; c < changes_.size(); ++c) {
      const Move& m = changes_[c];
      if (random) {
        SetNodeBit(k, m.node);
      } else {
        SetClass(k, m.from);
        if (m.to != m.from) SetClass(k, m.to);
      }
    }
  }
  k.stale = false;
  k.synced = changes_.size();
  return k;
}

// The j-th feasible node (0-based) in cluster order.
size_t ShareCluster::RandomPick(const KindIndex& k, uint64_t j) const {
  // Fenwick descent to the block holding it, then the words of that block.
  size_t b = 0;
  size_t step = 1;
  while (step * 2 < k.fenwick.size()) step *= 2;
  for (; step > 0; step /= 2) {
    if (b + step < k.fenwick.size() && static_cast<uint64_t>(k.fenwick[b + step]) <= j) {
      b += step;
      j -= static_cast<uint64_t>(k.fenwick[b]);
    }
  }
  for (size_t w = b * kBlockWords;; ++w) {
    uint64_t x = k.bits[w];
    const uint64_t c = static_cast<uint64_t>(std::popcount(x));
    if (j >= c) {
      j -= c;
      continue;
    }
    for (; j > 0; --j) x &= x - 1;
    return w * 64 + static_cast<size_t>(std::countr_zero(x));
  }
}

std::optional<SharePlacement> ShareCluster::Choose(const ShareRequest& r, SharePolicy policy,
                                                   Rng& rng) {
  if (nodes_.empty()) return std::nullopt;
  KindIndex& k = IndexFor(r, policy);
  int32_t chosen;
  if (policy == SharePolicy::kRandom) {
    // Uniform over the feasible nodes: the j-th feasible one in cluster order.
    if (k.feasible == 0) return std::nullopt;
    chosen = static_cast<int32_t>(RandomPick(k, rng.Below(static_cast<uint64_t>(k.feasible))));
  } else {
    // The highest score wins; ties go to the first node in the cluster's
    // order, as in the paper's simulator (whose scheduler keeps the first
    // top-scoring node; it randomises the node order per seed).
    if (k.tree[1] == 0) return std::nullopt;
    chosen = static_cast<int32_t>(0xffffffffu - static_cast<uint32_t>(k.tree[1]));
  }
  const int32_t chosen_gpu = k.gpu[cls_[static_cast<size_t>(chosen)]];

  const Node& n = nodes_[static_cast<size_t>(chosen)];
  SharePlacement p;
  p.node = chosen;
  if (r.cpu_only()) return p;
  if (r.shared()) {
    switch (policy) {
      case SharePolicy::kFirst:
        for (int32_t g = 0; g < n.ngpu && p.gpu < 0; ++g) {
          if (n.left[static_cast<size_t>(g)] >= r.gpu_milli) p.gpu = g;
        }
        break;
      case SharePolicy::kRandom: {
        uint64_t seen = 0;
        for (int32_t g = 0; g < n.ngpu; ++g) {
          if (n.left[static_cast<size_t>(g)] >= r.gpu_milli && rng.Below(++seen) == 0) p.gpu = g;
        }
        break;
      }
      case SharePolicy::kFgd:
        p.gpu = chosen_gpu;
        break;
      default:
        p.gpu = BestGpu(n, r.gpu_milli);
        break;
    }
    return p;
  }
  // Whole GPUs: the lowest-index fully free ones.
  int32_t need = r.num_gpu;
  for (int32_t g = 0; g < n.ngpu && need > 0; ++g) {
    if (n.left[static_cast<size_t>(g)] == kMilliPerGpu) {
      p.gpu_mask |= 1u << g;
      --need;
    }
  }
  return p;
}

void ShareCluster::Release(const ShareRequest& r, const SharePlacement& p) {
  Node& n = nodes_[static_cast<size_t>(p.node)];
  n.cpu_left += r.cpu_milli;
  n.mem_left += r.memory_mib;
  if (!r.cpu_only()) {
    if (r.shared()) {
      n.left[static_cast<size_t>(p.gpu)] += r.gpu_milli;
    } else {
      for (int32_t g = 0; g < n.ngpu; ++g) {
        if (p.gpu_mask & (1u << g)) n.left[static_cast<size_t>(g)] = kMilliPerGpu;
      }
    }
    gpu_left_ += r.total_gpu_milli();
    int32_t& k = n.kind_count[static_cast<size_t>(Kind(r))];
    if (--k == 0) {
      --n.kinds_present;
      n.kind_bits &= ~(1u << Kind(r));
    }
  }
  frag_total_ -= n.frag;
  Refresh(n);
  frag_total_ += n.frag;
  Reclass(static_cast<size_t>(p.node));
}

bool ShareCluster::FitsEmpty(const ShareRequest& r) const {
  auto [it, fresh] = fits_empty_.try_emplace(KeyOf(r, SharePolicy::kFirst), false);
  if (!fresh) return it->second;
  for (const auto& [cpu, mem, gpus, model] : shapes_) {
    if (cpu < r.cpu_milli || mem < r.memory_mib) continue;
    if (r.cpu_only() || (gpus > 0 && ModelAllowed(r.models, model) && r.num_gpu <= gpus)) {
      it->second = true;
      break;
    }
  }
  return it->second;
}

void ShareCluster::Commit(const ShareRequest& r, const SharePlacement& p) {
  Node& n = nodes_[static_cast<size_t>(p.node)];
  n.cpu_left -= r.cpu_milli;
  n.mem_left -= r.memory_mib;
  if (!r.cpu_only()) {
    if (r.shared()) {
      n.left[static_cast<size_t>(p.gpu)] -= r.gpu_milli;
    } else {
      for (int32_t g = 0; g < n.ngpu; ++g) {
        if (p.gpu_mask & (1u << g)) n.left[static_cast<size_t>(g)] = 0;
      }
    }
    gpu_left_ -= r.total_gpu_milli();
    int32_t& k = n.kind_count[static_cast<size_t>(Kind(r))];
    if (k++ == 0) {
      ++n.kinds_present;
      n.kind_bits |= 1u << Kind(r);
    }
  }
  frag_total_ -= n.frag;
  Refresh(n);
  frag_total_ += n.frag;
  Reclass(static_cast<size_t>(p.node));
}

}  // namespace rackscale
