// Server: `rackscale serve`. The HTTP/JSON API (cpp-httplib) in front of one
// Control, with its state in a Store.
//
// Threads. HTTP requests are decoded (JSON, query strings) on the HTTP
// pool's threads and handed to one core thread as commands. The core
// thread takes every command queued since its last turn, runs them against
// the Control in arrival order, then lets time pass (node timeouts, time
// limits, a scheduling pass if anything changed), commits everything the
// turn changed to the store in ONE transaction (group commit: what arrives
// while a commit runs rides the next one), and only then answers the turn's
// requests and publishes its events to watchers and agents. So an answer
// never reports state that is not durable, and no agent sees a decision
// before it is committed. A failed commit (disk full, I/O error) answers
// the whole turn 503 and rebuilds the Control from the store, so memory
// never runs ahead of the disk.
//
// Long polls (/v1/watch, /v1/agent/watch) wait on the published event ring
// in their HTTP threads, not in the core thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "ctl/control.h"
#include "ctl/store.h"

namespace httplib {
class Server;
}

namespace rackscale::ctl {

// "HOST:PORT" (HOST may be empty: every address; PORT 0..65535, 0: any
// free port). False if it is not that.
bool ParseListen(const std::string& listen, std::string* host, int* port);

struct ServerOptions {
  std::string fleet_path;
  std::string tenants_path;     // seeds the tenants of a new store
  std::string db_url;
  std::string listen = "127.0.0.1:8642";
  std::string admin_token_file;  // where a new store's first admin token is written
  ControlOptions control;
  int http_threads = 64;
  int64_t tick_ms = 100;          // node timeouts and time limits are checked this often
  int64_t pass_interval_ms = 5000;  // a pass this often while jobs wait, even if nothing changed
  size_t ring_events = 1 << 18;   // events kept in memory for watchers
  bool quiet = false;
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> Create(const ServerOptions& o);
  ~Server();
  // Binds, serves until Stop() (or a signal handler calling it); calls
  // `listening(port)` once bound. Returns the bind error, if any.
  Status Run(const std::function<void(int port)>& listening);
  void Stop();
  // The admin token created for a new store (empty when the store had one).
  const std::string& bootstrap_admin_token() const { return bootstrap_token_; }

 private:
  struct Command {
    std::function<Reply(Control&, Store&, int64_t now, int64_t now_ms)> fn;
    Reply reply;
    bool done = false;
  };
  Server() = default;
  // Queues a command and waits for its answer (after its turn's commit).
  Reply Call(std::function<Reply(Control&, Store&, int64_t, int64_t)> fn);
  void CoreLoop();
  void Publish(std::vector<LiveEvent>&& events);
  void Routes();
  // Who a bearer token is (asked of the core thread, which owns the tokens).
  Principal WhoIs(const std::string& token);
  // A long poll on the published events after `since`: waits (up to
  // timeout_s) until `take` adds an item for the caller from at least one of
  // them, or the time is up, and writes {"KEY":[items],"seq":LAST SCANNED}
  // (at most `max` items). kBeyond / kOlder: `since` is past the last event,
  // or older than the ring keeps (nothing written).
  enum class RingAnswer { kOk, kBeyond, kOlder };
  using Add = std::function<void(const std::string&)>;
  RingAnswer PollRing(int64_t since, int64_t timeout_s, const char* key, int max, std::string* out,
                      const std::function<void(const LiveEvent&, const Add&)>& take);
  Status Reload(int64_t now_ms);
  std::string ServerMetrics() const;

  ServerOptions opts_;
  Fleet fleet_;
  TenantsConfig tenants_;
  bool have_tenants_ = false;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Control> control_;
  std::unique_ptr<httplib::Server> http_;
  std::string bootstrap_token_;

  // The command queue.
  std::mutex mu_;
  std::condition_variable cv_;       // core thread: commands arrived
  std::condition_variable done_cv_;  // requesters: a turn finished
  std::vector<std::shared_ptr<Command>> queue_;
  std::atomic<bool> stop_{false};  // read by long polls under ring_mu_, not mu_
  std::thread core_;

  // Published (committed) events.
  mutable std::mutex ring_mu_;
  std::condition_variable ring_cv_;
  std::deque<LiveEvent> ring_;
  int64_t ring_first_ = 1;  // seq of ring_.front(), or next seq when empty
  int64_t ring_last_ = 0;

  std::atomic<bool> ready_{false};
  // Counters (core thread writes; metrics read).
  std::atomic<int64_t> commits_{0}, commit_failures_{0}, commit_us_sum_{0}, pass_us_sum_{0}, turns_{0};
  std::atomic<int64_t> requests_{0};
  mutable std::mutex lat_mu_;
  std::vector<int64_t> commit_us_;  // recent commit latencies (ring of 4096)
  size_t commit_us_next_ = 0;
};

}  // namespace rackscale::ctl
