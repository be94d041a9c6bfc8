// QueueIndex: the waiting jobs in queue order, indexed for backfilling.
//
// Queue positions are dense integers handed out in arrival order. A segment
// tree over positions keeps, per subtree, the smallest size and the smallest
// walltime of its waiting jobs, so that "the first waiting job after p that
// fits the free slots and either ends by the shadow time or fits the extra
// slots" is found by descending only into subtrees that may hold one, instead
// of walking the whole queue on every pass.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "model/units.h"

namespace rackscale {

class QueueIndex {
 public:
  static constexpr size_t kNone = std::numeric_limits<size_t>::max();

  // Sizes the index for positions [0, n) up front (optional).
  void Reserve(size_t n) { Grow(n); }

  // Marks position `pos` waiting with this size (>= 1) and walltime (>= 1).
  // Grows the index as needed.
  void Insert(size_t pos, SlotCount size, Seconds walltime);
  // Marks `pos` no longer waiting.
  void Erase(size_t pos);

  // Returns the first waiting position p >= from with
  //   size(p) <= free  and  (walltime(p) <= window  or  size(p) <= extra),
  // or kNone. This is exactly the EASY backfill test for one candidate.
  size_t FindBackfill(size_t from, SlotCount free, SlotCount extra, Seconds window) const;

 private:
  static constexpr int64_t kInf = std::numeric_limits<int64_t>::max();
  struct Node {
    SlotCount min_size = kInf;
    Seconds min_wall = kInf;
  };
  void Grow(size_t need);
  void Update(size_t leaf);
  size_t Find(size_t node, size_t lo, size_t hi, size_t from) const;

  std::vector<Node> tree_;  // 1-based heap layout; leaves at [leaves_, 2*leaves_)
  size_t leaves_ = 0;
  // Query parameters, kept here to keep the recursion's frame small.
  mutable SlotCount q_free_ = 0, q_small_ = 0;
  mutable Seconds q_window_ = 0;
};

}  // namespace rackscale
