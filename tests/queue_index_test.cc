// QueueIndex against a linear scan under random operations and queries.
#include <gtest/gtest.h>

#include "base/random.h"
#include "sched/queue_index.h"

namespace rackscale {
namespace {

TEST(QueueIndex, FindBackfillMatchesLinearScan) {
  Rng rng(3);
  QueueIndex q;
  struct E { bool on; SlotCount size; Seconds wall; };
  std::vector<E> v;
  for (int step = 0; step < 20000; ++step) {
    if (v.size() < 3000 && rng.Bernoulli(0.5)) {
      E e{true, 1 + static_cast<SlotCount>(rng.Below(16)),
          1 + static_cast<Seconds>(rng.Below(100))};
      q.Insert(v.size(), e.size, e.wall);
      v.push_back(e);
    } else if (!v.empty()) {
      size_t i = rng.Below(v.size());
      if (v[i].on) {
        v[i].on = false;
        q.Erase(i);
      }
    }
    size_t from = v.empty() ? 0 : rng.Below(v.size() + 1);
    SlotCount free = static_cast<SlotCount>(rng.Below(18));
    SlotCount extra = static_cast<SlotCount>(rng.Below(18));
    Seconds window = static_cast<Seconds>(rng.Below(110));
    size_t expect = QueueIndex::kNone;
    for (size_t i = from; i < v.size(); ++i) {
      const E& e = v[i];
      if (e.on && e.size <= free && (e.wall <= window || e.size <= extra)) {
        expect = i;
        break;
      }
    }
    ASSERT_EQ(q.FindBackfill(from, free, extra, window), expect) << "step " << step;
  }
}

}  // namespace
}  // namespace rackscale
