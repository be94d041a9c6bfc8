// EndIndex: the running jobs' estimated end times, ordered, with the slots
// they will free. Answers "at which estimated end do the freed slots first
// reach k?" in O(log n), so an EASY pass never rescans the running jobs.
//
// Jobs that share an estimated end share one entry (their slots summed):
// EASY's shadow time and extra slots depend only on the ends' values, not on
// the order of jobs tied at one end.
//
// Implementation: a treap (randomised balanced BST) in a node pool, each node
// keyed by end time and augmented with the slot sum of its subtree.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "model/units.h"

namespace rackscale {

class EndIndex {
 public:
  EndIndex() = default;

  // Records `slots` (> 0) that free at `end`.
  void Add(Seconds end, SlotCount slots);
  // Removes `slots` recorded at `end`; they must have been added.
  void Remove(Seconds end, SlotCount slots);

  // Returns the smallest end e such that the slots freeing at ends <= e
  // reach `need` (> 0), with that sum. Requires total() >= need.
  std::pair<Seconds, SlotCount> FirstReaching(SlotCount need) const;

  SlotCount total() const { return root_ < 0 ? 0 : nodes_[root_].sum; }
  size_t distinct_ends() const { return live_; }

 private:
  struct Node {
    Seconds key;
    SlotCount slots;  // at this key
    SlotCount sum;    // over the subtree
    uint64_t prio;
    int32_t left, right;
  };
  int32_t NewNode(Seconds key, SlotCount slots);
  void Pull(int32_t t) {
    Node& n = nodes_[t];
    n.sum = n.slots + (n.left >= 0 ? nodes_[n.left].sum : 0) +
            (n.right >= 0 ? nodes_[n.right].sum : 0);
  }
  // Splits t into keys < key and keys >= key.
  void Split(int32_t t, Seconds key, int32_t* lo, int32_t* hi);
  int32_t Merge(int32_t a, int32_t b);
  // Adds delta at key if present; returns false if absent. Updates sums.
  bool AddExisting(int32_t t, Seconds key, SlotCount delta);
  int32_t Erase(int32_t t, Seconds key, SlotCount slots);

  std::vector<Node> nodes_;
  std::vector<int32_t> free_;
  int32_t root_ = -1;
  size_t live_ = 0;
  uint64_t prio_state_ = 0x2545f4914f6cdd1dULL;  // fixed: behaviour is deterministic
};

}  // namespace rackscale
