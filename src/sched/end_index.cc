#include "sched/end_index.h"

#include <cassert>

namespace rackscale {

int32_t EndIndex::NewNode(Seconds key, SlotCount slots) {
  // xorshift64: priorities only shape the tree, never the answers.
  prio_state_ ^= prio_state_ << 13;
  prio_state_ ^= prio_state_ >> 7;
  prio_state_ ^= prio_state_ << 17;
  Node n{key, slots, slots, prio_state_, -1, -1};
  ++live_;
  if (!free_.empty()) {
    int32_t t = free_.back();
    free_.pop_back();
    nodes_[t] = n;
    return t;
  }
  nodes_.push_back(n);
  return static_cast<int32_t>(nodes_.size() - 1);
}

void EndIndex::Split(int32_t t, Seconds key, int32_t* lo, int32_t* hi) {
  if (t < 0) {
    *lo = *hi = -1;
    return;
  }
  if (nodes_[t].key < key) {
    Split(nodes_[t].right, key, &nodes_[t].right, hi);
    *lo = t;
  } else {
    Split(nodes_[t].left, key, lo, &nodes_[t].left);
    *hi = t;
  }
  Pull(t);
}

int32_t EndIndex::Merge(int32_t a, int32_t b) {
  if (a < 0) return b;
  if (b < 0) return a;
  if (nodes_[a].prio > nodes_[b].prio) {
    nodes_[a].right = Merge(nodes_[a].right, b);
    Pull(a);
    return a;
  }
  nodes_[b].left = Merge(a, nodes_[b].left);
  Pull(b);
  return b;
}

bool EndIndex::AddExisting(int32_t t, Seconds key, SlotCount delta) {
  while (t >= 0) {
    Node& n = nodes_[t];
    if (key == n.key) break;
    t = key < n.key ? n.left : n.right;
  }
  if (t < 0) return false;
  // Found: walk again from the root adding delta to every sum on the path.
  int32_t u = root_;
  while (true) {
    Node& n = nodes_[u];
    n.sum += delta;
    if (key == n.key) {
      n.slots += delta;
      return true;
    }
    u = key < n.key ? n.left : n.right;
  }
}

void EndIndex::Add(Seconds end, SlotCount slots) {
  assert(slots > 0);
  if (AddExisting(root_, end, slots)) return;
  int32_t lo, hi;
  Split(root_, end, &lo, &hi);
  root_ = Merge(Merge(lo, NewNode(end, slots)), hi);
}

int32_t EndIndex::Erase(int32_t t, Seconds key, SlotCount slots) {
  assert(t >= 0);
  Node& n = nodes_[t];
  if (key == n.key) {
    if (n.slots > slots) {
      n.slots -= slots;
      n.sum -= slots;
      return t;
    }
    assert(n.slots == slots);
    int32_t merged = Merge(n.left, n.right);
    free_.push_back(t);
    --live_;
    return merged;
  }
  if (key < n.key) {
    int32_t l = Erase(n.left, key, slots);
    nodes_[t].left = l;
  } else {
    int32_t r = Erase(n.right, key, slots);
    nodes_[t].right = r;
  }
  Pull(t);
  return t;
}

void EndIndex::Remove(Seconds end, SlotCount slots) { root_ = Erase(root_, end, slots); }

std::pair<Seconds, SlotCount> EndIndex::FirstReaching(SlotCount need) const {
  assert(need > 0 && total() >= need);
  SlotCount before = 0;  // slots at keys left of the current subtree
  int32_t t = root_;
  while (true) {
    const Node& n = nodes_[t];
    SlotCount left = n.left >= 0 ? nodes_[n.left].sum : 0;
    if (before + left >= need) {
      t = n.left;
    } else if (before + left + n.slots >= need) {
      return {n.key, before + left + n.slots};
    } else {
      before += left + n.slots;
      t = n.right;
    }
  }
}

}  // namespace rackscale
