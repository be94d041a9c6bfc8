// EndIndex against a brute-force multiset under random operations.
#include <gtest/gtest.h>

#include <map>

#include "base/random.h"
#include "sched/end_index.h"

namespace rackscale {
namespace {

std::pair<Seconds, SlotCount> Brute(const std::map<Seconds, SlotCount>& m, SlotCount need) {
  SlotCount sum = 0;
  for (auto [k, v] : m) {
    sum += v;
    if (sum >= need) return {k, sum};
  }
  return {-1, -1};
}

TEST(EndIndex, MatchesBruteForce) {
  Rng rng(1);
  EndIndex idx;
  std::map<Seconds, SlotCount> m;           // key -> total slots
  std::vector<std::pair<Seconds, SlotCount>> items;  // what may be removed
  for (int step = 0; step < 20000; ++step) {
    if (items.empty() || rng.Bernoulli(0.55)) {
      Seconds k = static_cast<Seconds>(rng.Below(200));
      SlotCount s = 1 + static_cast<SlotCount>(rng.Below(8));
      idx.Add(k, s);
      m[k] += s;
      items.emplace_back(k, s);
    } else {
      size_t i = rng.Below(items.size());
      auto [k, s] = items[i];
      items[i] = items.back();
      items.pop_back();
      idx.Remove(k, s);
      if ((m[k] -= s) == 0) m.erase(k);
    }
    SlotCount total = 0;
    for (auto [k, v] : m) total += v;
    ASSERT_EQ(idx.total(), total);
    ASSERT_EQ(idx.distinct_ends(), m.size());
    if (total > 0) {
      SlotCount need = 1 + static_cast<SlotCount>(rng.Below(static_cast<uint64_t>(total)));
      ASSERT_EQ(idx.FirstReaching(need), Brute(m, need)) << "step " << step;
    }
  }
}

}  // namespace
}  // namespace rackscale
