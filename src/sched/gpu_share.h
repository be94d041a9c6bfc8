// GPU-sharing placement on nodes with CPU, memory and GPUs divisible into
// thousandths, as in the FGD paper (Weng et al., "Beware of Fragmentation:
// Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent",
// USENIX ATC'23) and its public Kubernetes-based simulator.
//
// A pod asks for CPU (milli-cores), memory (MiB) and either nothing on the
// GPU side, a share of one GPU (num_gpu = 1, gpu_milli < 1000) or whole GPUs
// (num_gpu >= 1, gpu_milli = 1000), possibly limited to some GPU models.
// A node is feasible if CPU and memory fit, the model is allowed, and the
// GPUs fit (a share: one GPU with that much left; whole GPUs: that many fully
// free GPUs). Each policy scores every feasible node with an integer in
// [0, 100] exactly as the paper's simulator does (docs/placement.md); the
// highest score wins and ties go to the first such node in the cluster's node
// order, as in the paper's simulator (callers that want random tie-breaking
// shuffle the node order, as that simulator does per seed). Inside the node,
// whole GPUs are the lowest-index fully free ones; a share goes to the GPU
// that the policy's rule picks.
//
// No decision scans the cluster, and no index grows with it per request kind.
// A node's score and GPU choice depend only on its state: CPU and memory
// left, GPU model and count, the milli left on each GPU in index order, and
// which GPU-request kinds it holds (for GpuClustering). Nodes in equal states
// form a state class (a hash map from state to class); a class keeps its
// nodes in an ordered set, so its first node in cluster order is at hand.
// Each (policy, request kind) keeps, per class, the score computed once for
// that class's state, and a max tree over the class slots whose key is
// (score, first node): the root is the winner, the highest score with ties
// to the first such node in cluster order. Commit and Release move the node
// between classes (creating or freeing one) and append the move to a change
// log; an index replays the log lazily the next time its kind is placed
// (re-keying only the classes touched, rescoring only new ones), or rebuilds
// its tree over the classes if it fell more than a tree's worth behind. The
// random policy needs the k-th feasible node in cluster order: its indexes
// keep one bit per node (feasible or not, from the class scores) and counts
// per block of 4096 nodes in a Fenwick tree, so a draw is O(log n + 64).
// The draws and choices are exactly those of a scan over every node.
// Time per decision: O(changed classes x log classes), with no term in the
// node count except random's bit rebuild on a kind's first use. Memory:
// O(nodes) for the node states and class sets, plus O(kinds x classes) for
// the indexes (and n/8 bytes per random kind). Classes are far fewer than
// nodes in a large, lightly loaded cluster: an openb-like cluster of 310,528
// nodes starts in 16 classes (docs/placement.md has measured figures).
//
// Fragmentation (the paper's measure) is taken against a target workload of
// task types with popularity weights: for a node and a task type, the idle
// GPU milli the task cannot use. The cluster's fragmentation is kept up to
// date incrementally.
//
// Pure scheduler core: no clock, no files. Randomness comes from the Rng the
// caller passes. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "model/gpu_node.h"

namespace rackscale {

inline constexpr int kMaxGpusPerShareNode = 16;

enum class SharePolicy {
  kFirst,          // first feasible node in list order; first GPU that fits
  kRandom,         // uniformly random feasible node and GPU
  kBestFit,        // least CPU + GPU left after placing
  kDotProd,        // smallest dot product of request and node's free resources
  kGpuPacking,     // prefer used GPUs, then used nodes, then empty nodes
  kGpuClustering,  // prefer nodes holding pods of the same GPU-request kind
  kFgd,            // Fragmentation Gradient Descent: least fragmentation growth
};

// "first", "random", "bestfit", "dotprod", "gpupacking", "gpuclustering", "fgd".
Result<SharePolicy> ParseSharePolicy(std::string_view name, const std::string& source);
const char* SharePolicyName(SharePolicy p);

struct ShareRequest {
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  int32_t num_gpu = 0;
  int32_t gpu_milli = 0;  // per GPU
  GpuModelMask models = kAnyGpuModel;

  bool cpu_only() const { return num_gpu == 0 || gpu_milli == 0; }
  bool shared() const { return num_gpu == 1 && gpu_milli > 0 && gpu_milli < kMilliPerGpu; }
  int64_t total_gpu_milli() const { return static_cast<int64_t>(num_gpu) * gpu_milli; }
};

// One kind of task in the target workload, with its share of all tasks.
struct TaskType {
  ShareRequest request;  // memory is ignored by the fragmentation measure
  double weight = 0;
};

// The paper's target workload: tasks grouped by (CPU, GPU milli, GPU count,
// model constraint), most popular first (ties: more CPU, then more GPU milli,
// more GPUs, larger model mask), kept until they cover `coverage` of all
// tasks, weights renormalised to sum to 1. `pods` are the workload's tasks.
std::vector<TaskType> TargetWorkload(const std::vector<ShareRequest>& pods, double coverage = 0.95);

struct SharePlacement {
  int32_t node = -1;
  // For a share: the GPU index; for whole GPUs: a bit per GPU taken.
  int32_t gpu = -1;
  uint32_t gpu_mask = 0;
};

class ShareCluster {
 public:
  // Fails if a node has more than kMaxGpusPerShareNode GPUs.
  static Result<ShareCluster> Create(const std::vector<NodeSpec>& nodes,
                                     std::vector<TaskType> target);

  // Picks a node (and GPUs) for `r` under `policy`, or nullopt if no node is
  // feasible. Does not change the cluster. Draws from `rng` only for the
  // random policy.
  std::optional<SharePlacement> Choose(const ShareRequest& r, SharePolicy policy, Rng& rng);

  // Applies a placement returned by Choose for the same request.
  void Commit(const ShareRequest& r, const SharePlacement& p);
  // Undoes a Commit: the pod left.
  void Release(const ShareRequest& r, const SharePlacement& p);
  // Could `r` fit some node of this cluster if it were empty?
  bool FitsEmpty(const ShareRequest& r) const;

  // Capacity and usage, in milli-GPU.
  int64_t gpu_capacity_milli() const { return gpu_capacity_; }
  int64_t gpu_allocated_milli() const { return gpu_capacity_ - gpu_left_; }
  // The cluster's fragmentation against the target workload, in milli-GPU.
  double fragmentation_milli() const { return frag_total_; }
  size_t size() const { return nodes_.size(); }

  // For tests: the fragmentation of node i now.
  double NodeFragmentation(size_t i) const { return nodes_[i].frag; }
  int32_t GpuLeft(size_t node, int gpu) const { return nodes_[node].left[gpu]; }
  int64_t CpuLeft(size_t node) const { return nodes_[node].cpu_left; }
  // For tests: node i's score for r under policy, -1 if r does not fit.
  int64_t NodeScoreForTest(size_t i, const ShareRequest& r, SharePolicy policy) const {
    return NodeScore(nodes_[i], r, policy).score;
  }
  // For tests: the GPU node i's score picked for r (FGD shares), else -1.
  int32_t NodeGpuForTest(size_t i, const ShareRequest& r, SharePolicy policy) const {
    return NodeScore(nodes_[i], r, policy).gpu;
  }
  // For tests: how many state classes the nodes fall into now.
  size_t ClassCountForTest() const { return class_of_.size(); }

 private:
  // GPU-request kinds for GpuClustering: 0 = a share, n = n whole GPUs.
  static constexpr int kKinds = kMaxGpusPerShareNode + 1;
  struct Node {
    int64_t cpu_left = 0;
    int64_t mem_left = 0;
    GpuModelId model = 0;
    int32_t ngpu = 0;
    std::array<int32_t, kMaxGpusPerShareNode> left{};  // milli left per GPU
    int32_t max_left = 0;    // largest left
    int32_t full_free = 0;   // GPUs with 1000 left
    int32_t total_left = 0;  // sum of left
    std::array<int32_t, kKinds> kind_count{};  // GPU pods on the node by kind
    int32_t kinds_present = 0;
    uint32_t kind_bits = 0;    // bit k: kind_count[k] > 0
    double frag = 0;          // fragmentation now
  };
  struct Scored {
    int64_t score;
    int32_t gpu;
  };

  bool Feasible(const Node& n, const ShareRequest& r) const;
  Scored Score(const Node& n, const ShareRequest& r, SharePolicy policy) const;
  Scored FgdScore(const Node& n, const ShareRequest& r) const;
  // The score of node n for r under policy, or -1 if r does not fit there.
  Scored NodeScore(const Node& n, const ShareRequest& r, SharePolicy policy) const;
  int32_t BestGpu(const Node& n, int32_t milli) const;
  // Fragmentation of a node state (cpu left, GPU lefts) of model `model`.
  double Fragmentation(int64_t cpu_left, const int32_t* left, int32_t ngpu, GpuModelId model) const;
  void Refresh(Node& n);

  std::vector<Node> nodes_;
  std::vector<TaskType> target_;
  int64_t gpu_capacity_ = 0;
  int64_t gpu_left_ = 0;
  double frag_total_ = 0;

  // The state classes and per-(policy, request kind) indexes described above.
  struct ClassSig {
    int64_t cpu_left = 0;
    int64_t mem_left = 0;
    std::array<int32_t, kMaxGpusPerShareNode> left{};
    uint32_t kind_bits = 0;  // bit k: the node holds a GPU pod of kind k
    int32_t ngpu = 0;
    GpuModelId model = 0;
    bool operator==(const ClassSig&) const = default;
  };
  struct SigHash {
    size_t operator()(const ClassSig& s) const;
  };
  static ClassSig SigOf(const Node& n);
  struct Class {
    Node rep;                    // the state every member is in
    std::set<uint32_t> members;  // node indexes; empty: the slot is free
    uint32_t gen = 0;            // bumped each time the slot takes a new state
  };
  struct Move {
    uint32_t node, from, to;  // class slots
  };
  using KindKey = std::tuple<SharePolicy, int64_t, int64_t, int32_t, int32_t, GpuModelMask>;
  static KindKey KeyOf(const ShareRequest& r, SharePolicy policy);
  struct KindIndex {
    ShareRequest r;
    SharePolicy policy = SharePolicy::kFirst;
    size_t synced = 0;  // change-log entries already applied
    bool stale = true;  // needs a full rebuild
    // Per class slot: the score of the class's state (-1: r does not fit)
    // and the GPU it picked (FGD shares), valid while gen matches the slot's.
    std::vector<uint32_t> gen;
    std::vector<int32_t> score;
    std::vector<int8_t> gpu;
    // Not random: max tree over the slots, heap layout, root 1; key
    // (score + 1) << 32 | ~first node, 0 for no feasible node below.
    std::vector<uint64_t> tree;
    // Random: a feasible bit per node, feasible nodes per block (Fenwick).
    std::vector<uint64_t> bits;
    std::vector<int32_t> fenwick;  // 1-based
    int64_t feasible = 0;
  };
  static constexpr size_t kBlockWords = 64;  // 4096 nodes per random block
  KindIndex& IndexFor(const ShareRequest& r, SharePolicy policy);
  int ClassScore(KindIndex& k, uint32_t slot);
  uint64_t ClassKey(KindIndex& k, uint32_t slot);
  void SetClass(KindIndex& k, uint32_t slot);
  void SetNodeBit(KindIndex& k, size_t i);
  void Rebuild(KindIndex& k);
  size_t RandomPick(const KindIndex& k, uint64_t j) const;
  void Reclass(size_t i);

  std::vector<uint32_t> cls_;  // per node: its class slot
  std::vector<Class> classes_;
  std::vector<uint32_t> free_slots_;
  std::unordered_map<ClassSig, uint32_t, SigHash> class_of_;
  size_t slot_cap_ = 1;  // a power of two >= classes_.size()
  std::map<KindKey, KindIndex> index_;
  std::vector<Move> changes_;  // class moves by Commit/Release, in order
  // Distinct node capacities (CPU, memory, GPUs, model), for FitsEmpty.
  std::vector<std::tuple<int64_t, int64_t, int32_t, GpuModelId>> shapes_;
  mutable std::map<KindKey, bool> fits_empty_;
};

}  // namespace rackscale
