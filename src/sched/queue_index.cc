#include "sched/queue_index.h"

#include <algorithm>

namespace rackscale {

void QueueIndex::Grow(size_t need) {
  size_t leaves = std::max<size_t>(leaves_, 1024);
  while (leaves < need) leaves *= 2;
  if (leaves == leaves_) return;
  std::vector<Node> tree(2 * leaves);
  for (size_t i = 0; i < leaves_; ++i) tree[leaves + i] = tree_[leaves_ + i];
  for (size_t i = leaves - 1; i >= 1; --i) {
    tree[i].min_size = std::min(tree[2 * i].min_size, tree[2 * i + 1].min_size);
    tree[i].min_wall = std::min(tree[2 * i].min_wall, tree[2 * i + 1].min_wall);
  }
  tree_.swap(tree);
  leaves_ = leaves;
}

void QueueIndex::Update(size_t i) {
  for (i /= 2; i >= 1; i /= 2) {
    Node& n = tree_[i];
    SlotCount s = std::min(tree_[2 * i].min_size, tree_[2 * i + 1].min_size);
    Seconds w = std::min(tree_[2 * i].min_wall, tree_[2 * i + 1].min_wall);
    if (s == n.min_size && w == n.min_wall) break;  // ancestors unchanged too
    n.min_size = s;
    n.min_wall = w;
  }
}

void QueueIndex::Insert(size_t pos, SlotCount size, Seconds walltime) {
  if (pos >= leaves_) Grow(pos + 1);
  tree_[leaves_ + pos] = Node{size, walltime};
  Update(leaves_ + pos);
}

void QueueIndex::Erase(size_t pos) {
  tree_[leaves_ + pos] = Node{};
  Update(leaves_ + pos);
}

size_t QueueIndex::Find(size_t node, size_t lo, size_t hi, size_t from) const {
  if (hi <= from) return kNone;
  const Node& n = tree_[node];
  // Prune: nothing here fits the free slots; or nothing fits the extra slots
  // and nothing is short enough to end by the shadow time.
  if (n.min_size > q_free_) return kNone;
  if (n.min_size > q_small_ && n.min_wall > q_window_) return kNone;
  if (node >= leaves_) {
    // A leaf: test it exactly (the subtree minima may come from two jobs).
    return (n.min_wall <= q_window_ || n.min_size <= q_small_) ? lo : kNone;
  }
  size_t mid = lo + (hi - lo) / 2;
  size_t r = Find(2 * node, lo, mid, from);
  if (r != kNone) return r;
  return Find(2 * node + 1, mid, hi, from);
}

size_t QueueIndex::FindBackfill(size_t from, SlotCount free, SlotCount extra,
                                Seconds window) const {
  if (from >= leaves_ || free <= 0) return kNone;
  q_free_ = free;
  q_small_ = std::min(free, extra);
  q_window_ = window;
  return Find(1, 0, leaves_, from);
}

}  // namespace rackscale
