#include "sched/flat_scheduler.h"

#include <cassert>

#include <fmt/format.h>

namespace rackscale {

Result<QueuePolicy> ParseQueuePolicy(std::string_view name, const std::string& source) {
  if (name == "fifo") return QueuePolicy::kFifo;
  if (name == "easy") return QueuePolicy::kEasy;
  return Error::InvalidInput(source, 0, "policy",
                             fmt::format("expected 'fifo' or 'easy', got '{}'", name));
}

const char* QueuePolicyName(QueuePolicy p) {
  switch (p) {
    case QueuePolicy::kFifo: return "fifo";
    case QueuePolicy::kEasy: return "easy";
  }
  return "?";
}

FlatScheduler::FlatScheduler(SlotCount capacity, QueuePolicy policy)
    : capacity_(capacity), policy_(policy), free_(capacity) {}

void FlatScheduler::Reserve(size_t jobs) {
  entries_.reserve(jobs);
  if (policy_ == QueuePolicy::kEasy) queue_.Reserve(jobs);
}

FlatScheduler::Ticket FlatScheduler::Submit(SlotCount size, Seconds walltime) {
  assert(size >= 1 && size <= capacity_ && walltime >= 1);
  Ticket t = static_cast<Ticket>(entries_.size());
  entries_.push_back(Entry{size, walltime, 0, State::kWaiting});
  if (policy_ == QueuePolicy::kEasy) queue_.Insert(t, size, walltime);
  ++queued_;
  return t;
}

void FlatScheduler::Finish(Ticket t) {
  Entry& e = entries_[t];
  assert(e.state == State::kRunning);
  e.state = State::kDone;
  free_ += e.size;
  --running_;
  if (policy_ == QueuePolicy::kEasy) ends_.Remove(e.est_end, e.size);
}

void FlatScheduler::Start(Ticket t, Seconds now, std::vector<Ticket>* started) {
  Entry& e = entries_[t];
  assert(e.state == State::kWaiting && e.size <= free_);
  e.state = State::kRunning;
  e.est_end = now + e.walltime;
  free_ -= e.size;
  --queued_;
  ++running_;
  if (policy_ == QueuePolicy::kEasy) {
    queue_.Erase(t);
    ends_.Add(e.est_end, e.size);
  }
  started->push_back(t);
}

void FlatScheduler::Schedule(Seconds now, std::vector<Ticket>* started) {
  // FIFO: start from the head while it fits.
  const Ticket end = static_cast<Ticket>(entries_.size());
  while (head_ < end) {
    if (entries_[head_].state != State::kWaiting) {
      ++head_;  // started earlier by backfilling
      continue;
    }
    if (entries_[head_].size > free_) break;
    Start(head_, now, started);
    ++head_;
  }
  if (policy_ == QueuePolicy::kEasy && head_ < end && free_ > 0) Backfill(now, started);
}

void FlatScheduler::Backfill(Seconds now, std::vector<Ticket>* started) {
  const Entry& head = entries_[head_];
  // Every running job ends no earlier than now, and the head fits an empty
  // pool, so the running jobs free enough slots.
  auto [shadow, freed] = ends_.FirstReaching(head.size - free_);
  SlotCount extra = free_ + freed - head.size;
  const Seconds window = shadow - now;
  size_t pos = head_ + 1;
  while (free_ > 0) {
    pos = queue_.FindBackfill(pos, free_, extra, window);
    if (pos == QueueIndex::kNone) break;
    const Entry& e = entries_[pos];
    if (e.walltime > window) extra -= e.size;  // started on the extra slots
    Start(static_cast<Ticket>(pos), now, started);
    ++backfilled_;
    ++pos;
  }
}

}  // namespace rackscale
