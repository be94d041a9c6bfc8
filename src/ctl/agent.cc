// The node agent (ctl/agent.h).
#include "ctl/agent.h"

#include <fmt/format.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <queue>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ctl/task_runner.h"

namespace rackscale::ctl {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;

constexpr size_t kReportBatch = 1000;
constexpr milliseconds kReportGather{10};
constexpr int64_t kPollMs = 100;                // TaskRunner::Poll while real tasks run
constexpr int64_t kEndedKeepMs = 180000;        // an acknowledged end is remembered this long
constexpr int64_t kAfterFirstSync = INT64_MAX;  // Ended::acked_ms of ends read from the journal
constexpr int32_t kCannotStart = 127;           // the exit code of a task that could not be started

struct RefHash {
  size_t operator()(const TaskRef& r) const {
    return std::hash<int64_t>()(r.job * 1000003 + (int64_t{r.attempt} << 24) + r.rank);
  }
};

Json RefJson(const TaskRef& r) { return Json{{"job", r.job}, {"attempt", r.attempt}, {"rank", r.rank}}; }

bool RefFromJson(const Json& j, TaskRef* r) {
  for (const char* k : {"job", "attempt", "rank"}) {
    if (!j.is_object() || !j.contains(k) || !j[k].is_number_integer()) return false;
  }
  *r = TaskRef{j["job"].get<int64_t>(), j["attempt"].get<int32_t>(), j["rank"].get<int32_t>()};
  return true;
}

std::string RefText(const TaskRef& r) { return fmt::format("{}.{}.{}", r.job, r.attempt, r.rank); }

// An answer: status 0 when no answer came (connection refused, timeout).
struct Http {
  int status = 0;
  std::string body, error;
  bool ok() const { return status >= 200 && status < 300; }
  bool auth() const { return status == 401 || status == 403; }
  // "STATUS code: message" from the API's error body, else the transport error.
  std::string Why() const {
    if (status == 0) return error;
    const std::string code = ErrorPart("code"), message = ErrorPart("message"), field = ErrorPart("field");
    if (code.empty() && message.empty()) return fmt::format("HTTP {}", status);
    return fmt::format("{} {}: {}{}", status, code, message, field.empty() ? "" : " (field " + field + ")");
  }
  // A string of the API's {"error": {...}} body; "" when absent.
  std::string ErrorPart(const char* key) const {
    const Json j = Json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
    const Json& e = j["error"];
    return e.contains(key) && e[key].is_string() ? e[key].get<std::string>() : "";
  }
};

}  // namespace

struct Agent::Impl {
  explicit Impl(AgentOptions options) : o(std::move(options)) {}

  // ------------------------------------------------------------ plumbing

  void Log(const std::string& m) {
    if (o.log) {
      o.log(m);
    } else {
      std::fprintf(stderr, "rackscale agent: %s\n", m.c_str());
    }
  }

  void Fatal(AgentEnd end, const std::string& why) {
    {
      std::lock_guard<std::mutex> l(wake_mu);
      if (fatal == AgentEnd::kStopped) {
        fatal = end;
        fatal_message = why;
      }
    }
    RequestStop();
  }

  void RequestStop() {
    stop = true;
    { std::lock_guard<std::mutex> l(wake_mu); }
    wake_cv.notify_all();
    { std::lock_guard<std::mutex> l(mu); }
    tick_cv.notify_all();
    { std::lock_guard<std::mutex> l(rmu); }
    rcv.notify_all();
  }

  // Waits `s` seconds or until stopping; false when stopping.
  bool Sleep(double s) {
    std::unique_lock<std::mutex> l(wake_mu);
    return !wake_cv.wait_for(l, milliseconds(static_cast<int64_t>(s * 1000)), [&] { return stop.load(); });
  }

  // A backoff: 0.1 s doubling up to max_backoff_s; Reset() after a success.
  struct Backoff {
    double next = 0.1;
    bool Wait(Impl* a) {
      const double s = next;
      next = std::min(next * 2, a->o.max_backoff_s);
      return a->Sleep(s);
    }
    void Reset() { next = 0.1; }
  };

  // One client per thread; Run() can abandon its request from outside.
  std::unique_ptr<httplib::Client> NewClient(int read_timeout_s) {
    auto c = std::make_unique<httplib::Client>(origin);
    c->set_bearer_token_auth(o.token);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    c->set_connection_timeout(5);
    c->set_read_timeout(read_timeout_s);
    c->set_write_timeout(30);
    std::lock_guard<std::mutex> l(clients_mu);
    clients.push_back(c.get());
    return c;
  }
  void DropClient(httplib::Client* c) {
    std::lock_guard<std::mutex> l(clients_mu);
    clients.erase(std::remove(clients.begin(), clients.end(), c), clients.end());
  }
  void AbandonRequests() {
    std::lock_guard<std::mutex> l(clients_mu);
    for (httplib::Client* c : clients) c->stop();
  }

  Http Call(httplib::Client& c, bool post, const std::string& path, const std::string& body = "") {
    httplib::Result r = post ? c.Post(prefix + path, body, "application/json") : c.Get(prefix + path);
    if (!r) return Http{0, "", httplib::to_string(r.error()) + " error"};
    return Http{r->status, r->body, ""};
  }

  // Notes the first failure of an outage and the recovery, once each.
  void Reachable(const Http& r) {
    if (r.status == 0 && !stop) {
      if (reachable.exchange(false)) Log(fmt::format("cannot reach {}: {} (retrying)", o.server, r.error));
    } else if (r.status != 0 && !reachable.exchange(true)) {
      Log(fmt::format("{} answers again", o.server));
    }
  }

  // ------------------------------------------------------------ tasks (under mu)

  void QueueReport(const TaskRef& ref, bool exited, int32_t exit_code, int32_t signal, const std::string& log) {
    std::lock_guard<std::mutex> l(rmu);
    reports.push_back(TaskReport{ref, exited ? "exited" : "running", exit_code, signal, log});
    if (reports.size() == 1 || reports.size() == kReportBatch) rcv.notify_one();
  }

  void AddTimer(int64_t end_ms, const TaskRef& ref) {
    const bool earlier = timers.empty() || end_ms < timers.top().first;
    timers.emplace(end_ms, ref);
    if (earlier) tick_cv.notify_one();
  }

  // A task ended: remembered (until acknowledged, and a while after) and reported.
  void Ended(const TaskRef& ref, int32_t exit_code, int32_t signal, const std::string& log) {
    running.erase(ref);
    ended[ref] = EndedTask{exit_code, signal, log, -1};
    QueueReport(ref, true, exit_code, signal, log);
  }

  // Ends a task the agent journals itself (an emulated one; a real one the
  // runner does not know).
  void EndJournaled(const TaskRef& ref, int32_t exit_code, int32_t signal) {
    const Local& t = running.at(ref);
    if (Status s = journal->Append(JournalRecord{false, ref, t.node, t.gpus, UnixMillis(), exit_code, signal});
        !s.ok()) {
      Log("warning: " + s.error().ToString());
    }
    Ended(ref, exit_code, signal, "");
  }

  void ApplyRun(const Task& t) {
    if (!node_names.count(t.node)) {
      Log(fmt::format("task {} is for node '{}', which this agent does not hold: ignored", RefText(t.ref), t.node));
      return;
    }
    if (running.count(t.ref)) return;                    // idempotent
    if (auto e = ended.find(t.ref); e != ended.end()) {  // ran already: the server has not heard
      QueueReport(t.ref, true, e->second.exit_code, e->second.signal, e->second.log);
      return;
    }
    Local l;
    l.node = t.node;
    l.gpus = t.gpus;
    l.grace_s = t.grace_s;
    if (emulated()) {
      l.emulated = true;
      l.start_ms = UnixMillis();
      l.end_ms = l.start_ms + t.duration_s * 1000;
      if (Status s = journal->Append(JournalRecord{true, t.ref, t.node, t.gpus, l.start_ms, 0, 0}); !s.ok()) {
        Log(fmt::format("task {} cannot start: {}", RefText(t.ref), s.error().ToString()));
        ended[t.ref] = EndedTask{kCannotStart, 0, "", -1};
        QueueReport(t.ref, true, kCannotStart, 0, "");
        return;
      }
      AddTimer(l.end_ms, t.ref);
    } else {
      Result<std::string> log = runner->Start(t);
      if (!log.ok()) {
        Log(fmt::format("task {} cannot start: {}", RefText(t.ref), log.error().ToString()));
        ended[t.ref] = EndedTask{kCannotStart, 0, "", -1};
        QueueReport(t.ref, true, kCannotStart, 0, "");
        return;
      }
      l.log = *log;
      tick_cv.notify_one();  // polling starts
    }
    QueueReport(t.ref, false, 0, 0, l.log);
    running.emplace(t.ref, std::move(l));
  }

  void ApplyKill(const TaskRef& ref, int32_t grace_s) {
    auto it = running.find(ref);
    if (it == running.end()) {
      if (auto e = ended.find(ref); e != ended.end()) {
        QueueReport(ref, true, e->second.exit_code, e->second.signal, e->second.log);
      } else {
        // Never started here (its run came before this kill, or it was
        // cancelled before this agent resynchronised): it holds nothing,
        // and the server waits for its end to give its GPUs again.
        QueueReport(ref, true, 128 + SIGTERM, SIGTERM, "");
      }
      return;
    }
    if (it->second.emulated) {
      EndJournaled(ref, 128 + SIGTERM, SIGTERM);
    } else {
      runner->Kill(ref, grace_s);
    }
  }

  // The server's whole desired set: run what is missing, kill what is not
  // wanted, report what runs.
  void Reconcile(const std::vector<Task>& tasks) {
    std::unordered_set<TaskRef, RefHash> want;
    for (const Task& t : tasks) {
      want.insert(t.ref);
      auto it = running.find(t.ref);
      if (it == running.end()) {
        ApplyRun(t);
        continue;
      }
      Local& l = it->second;
      l.grace_s = t.grace_s;
      if (l.resumed) {  // from the journal: now its duration is known
        l.resumed = false;
        l.end_ms = l.start_ms + t.duration_s * 1000;
        AddTimer(l.end_ms, t.ref);
      }
      QueueReport(t.ref, false, 0, 0, l.log);
    }
    std::vector<std::pair<TaskRef, int32_t>> unwanted;
    for (const auto& [ref, l] : running) {
      if (!want.count(ref)) unwanted.emplace_back(ref, l.grace_s);
    }
    for (const auto& [ref, grace] : unwanted) {
      Log(fmt::format("task {} runs here but the server does not list it: killing it", RefText(ref)));
      ApplyKill(ref, grace);
    }
    if (!synced) {
      synced = true;
      const int64_t now = UnixMillis();
      for (auto& [ref, e] : ended) {
        if (e.acked_ms == kAfterFirstSync) e.acked_ms = now;
      }
    }
  }

  // ------------------------------------------------------------ threads

  void Ticker() {
    std::unique_lock<std::mutex> l(mu);
    int64_t last_prune = UnixMillis();
    while (!stop) {
      int64_t now = UnixMillis();
      while (!timers.empty() && timers.top().first <= now) {
        const auto [end_ms, ref] = timers.top();
        timers.pop();
        auto it = running.find(ref);
        if (it != running.end() && it->second.emulated && !it->second.resumed && it->second.end_ms == end_ms) {
          EndJournaled(ref, 0, 0);
        }
      }
      if (runner && runner->size() > 0) {
        for (const TaskExit& e : runner->Poll()) Ended(e.ref, e.exit_code, e.signal, e.log);
      }
      if (now - last_prune > 10000) {
        last_prune = now;
        for (auto it = ended.begin(); it != ended.end();) {
          const int64_t acked = it->second.acked_ms;
          it = acked >= 0 && acked != kAfterFirstSync && now - acked > kEndedKeepMs ? ended.erase(it) : std::next(it);
        }
      }
      int64_t wait = timers.empty() ? 1000 : std::clamp<int64_t>(timers.top().first - now, 1, 1000);
      if (runner && runner->size() > 0) wait = std::min(wait, kPollMs);
      tick_cv.wait_for(l, milliseconds(wait));
    }
  }

  // The server answered these reports: their ends may be forgotten in a while.
  void Answered(std::vector<TaskReport>::const_iterator from, std::vector<TaskReport>::const_iterator to) {
    const int64_t now = UnixMillis();
    std::lock_guard<std::mutex> l(mu);
    for (; from != to; ++from) {
      auto e = ended.find(from->task);
      if (from->state == "exited" && e != ended.end() && e->second.acked_ms < 0) e->second.acked_ms = now;
    }
  }

  std::string ReportBody(const std::vector<TaskReport>& batch) {
    Json reps = Json::array();
    for (const TaskReport& r : batch) {
      Json j = RefJson(r.task);
      j["state"] = r.state;
      j["exit_code"] = r.exit_code;
      j["signal"] = r.signal;
      j["log"] = r.log;
      reps.push_back(std::move(j));
    }
    return Json{{"reports", reps}}.dump();
  }

  void Reporter() {
    std::unique_ptr<httplib::Client> c = NewClient(30);
    Backoff backoff;
    while (!stop) {
      std::vector<TaskReport> batch;
      {
        std::unique_lock<std::mutex> l(rmu);
        rcv.wait(l, [&] { return stop || !reports.empty(); });
        if (reports.size() < kReportBatch) {
          rcv.wait_for(l, kReportGather, [&] { return stop || reports.size() >= kReportBatch; });
        }
        if (stop) break;
        batch.assign(reports.begin(), reports.begin() + static_cast<ptrdiff_t>(std::min(reports.size(), kReportBatch)));
      }
      const Http r = Call(*c, true, "/v1/agent/report", ReportBody(batch));
      Reachable(r);
      size_t drop_at = 0, drop_n = 0;  // the queue's entries to drop (the head is `batch`)
      if (r.ok()) {
        backoff.Reset();
        drop_n = batch.size();
      } else if (r.auth()) {
        Fatal(AgentEnd::kAuthRefused, "the server refused the agent's token: " + r.Why());
        break;
      } else if (r.status >= 400 && r.status < 500) {
        // Refused: retrying cannot help. The one entry the error names goes, else the batch.
        const std::string field = r.ErrorPart("field");
        size_t bad = 0;
        const bool one = std::sscanf(field.c_str(), "reports[%zu]", &bad) == 1 && bad < batch.size();
        Log(fmt::format(
            "the server refused {}: {}",
            one ? "the report of task " + RefText(batch[bad].task) : fmt::format("{} reports", batch.size()), r.Why()));
        drop_at = one ? bad : 0;
        drop_n = one ? 1 : batch.size();
      } else if (!backoff.Wait(this)) {
        break;
      }
      if (drop_n > 0) {  // answered: acknowledged, or refused for good
        Answered(batch.begin() + static_cast<ptrdiff_t>(drop_at),
                 batch.begin() + static_cast<ptrdiff_t>(drop_at + drop_n));
        std::lock_guard<std::mutex> l(rmu);
        reports.erase(reports.begin() + static_cast<ptrdiff_t>(drop_at),
                      reports.begin() + static_cast<ptrdiff_t>(drop_at + drop_n));
      }
    }
    DropClient(c.get());
  }

  void Heartbeat() {
    std::unique_ptr<httplib::Client> c = NewClient(30);
    std::vector<std::string> names;
    for (const NodeInventory& n : nodes) names.push_back(n.name);
    while (Sleep(o.heartbeat_s)) {
      if (!registered) continue;
      std::vector<TaskRef> refs;
      {
        std::lock_guard<std::mutex> l(mu);
        refs.reserve(running.size());
        for (const auto& [ref, t] : running) refs.push_back(ref);
      }
      // At most kMaxBatch entries of each list per request.
      for (size_t i = 0; i == 0 || i < std::max(names.size(), refs.size()); i += kMaxBatch) {
        Json body{{"nodes", Json::array()}, {"running", Json::array()}};
        for (size_t k = i; k < std::min(names.size(), i + kMaxBatch); ++k) body["nodes"].push_back(names[k]);
        for (size_t k = i; k < std::min(refs.size(), i + kMaxBatch); ++k) body["running"].push_back(RefJson(refs[k]));
        const Http r = Call(*c, true, "/v1/agent/heartbeat", body.dump());
        Reachable(r);
        if (r.auth()) {
          Fatal(AgentEnd::kAuthRefused, "the server refused the agent's token: " + r.Why());
          break;
        }
        if (r.status == 404 || r.status == 409) {  // our nodes are not ours there: claim them again
          Log("heartbeat refused (" + r.Why() + "): registering again");
          need_register = true;
          AbandonWatch();
          break;
        }
        if (!r.ok()) break;
        const Json j = Json::parse(r.body, nullptr, false);
        if (!j.is_object() || !j.contains("kill") || !j["kill"].is_array()) continue;
        std::lock_guard<std::mutex> l(mu);
        for (const Json& k : j["kill"]) {
          TaskRef ref;
          auto it = RefFromJson(k, &ref) ? running.find(ref) : running.end();
          if (it == running.end()) continue;
          Log(fmt::format("heartbeat: the server no longer wants task {}: killing it", RefText(ref)));
          ApplyKill(ref, it->second.grace_s);
        }
      }
    }
    DropClient(c.get());
  }

  void AbandonWatch() {
    std::lock_guard<std::mutex> l(clients_mu);
    if (watch_client) watch_client->stop();
  }

  // GET /v1/nodes, following next_cursor; the nodes [offset, offset + n).
  bool ClaimEmulatedNodes(httplib::Client& c) {
    Backoff backoff;
    std::vector<NodeInventory> all;
    std::string cursor;
    while (!stop) {
      const Http r = Call(c, false, "/v1/nodes" + (cursor.empty() ? "" : "?cursor=" + cursor));
      Reachable(r);
      if (r.auth()) {
        Fatal(AgentEnd::kAuthRefused, "the server refused the agent's token: " + r.Why());
        return false;
      }
      if (!r.ok()) {
        if (r.status != 0) Log("GET /v1/nodes: " + r.Why());
        if (!backoff.Wait(this)) return false;
        continue;
      }
      backoff.Reset();
      const Json j = Json::parse(r.body, nullptr, false);
      const Json* list = j.is_array() ? &j : j.is_object() && j.contains("nodes") ? &j["nodes"] : nullptr;
      if (!list || !list->is_array()) {
        Fatal(AgentEnd::kBadInput, "GET /v1/nodes: expected {\"nodes\": [...]}");
        return false;
      }
      for (const Json& n : *list) {
        if (!n.is_object() || !n.contains("name") || !n["name"].is_string()) {
          Fatal(AgentEnd::kBadInput, "GET /v1/nodes: a node without a name");
          return false;
        }
        NodeInventory inv;
        inv.name = n["name"].get<std::string>();
        if (n.contains("gpus") && n["gpus"].is_number_integer()) inv.gpus = n["gpus"].get<int32_t>();
        if (n.contains("gpu_model") && n["gpu_model"].is_string()) inv.gpu_model = n["gpu_model"].get<std::string>();
        inv.addr = o.addr;
        all.push_back(std::move(inv));
      }
      cursor = j.is_object() && j.contains("next_cursor") && j["next_cursor"].is_string()
                   ? j["next_cursor"].get<std::string>()
                   : "";
      if (!cursor.empty()) continue;
      const size_t from = static_cast<size_t>(o.node_offset), want = static_cast<size_t>(o.emulate);
      if (all.size() < from + want) {
        Fatal(AgentEnd::kBadInput,
              fmt::format("the fleet has {} nodes: cannot emulate {} from index {}", all.size(), want, from));
        return false;
      }
      nodes.assign(all.begin() + static_cast<ptrdiff_t>(from), all.begin() + static_cast<ptrdiff_t>(from + want));
      return true;
    }
    return false;
  }

  bool Register(httplib::Client& c) {
    Backoff backoff;
    for (size_t i = 0; i < nodes.size() && !stop;) {
      Json list = Json::array();
      for (size_t k = i; k < std::min(nodes.size(), i + kMaxBatch); ++k) {
        const NodeInventory& n = nodes[k];
        list.push_back(Json{{"name", n.name}, {"gpus", n.gpus}, {"gpu_model", n.gpu_model}, {"addr", n.addr}});
      }
      const Http r = Call(c, true, "/v1/agent/register", Json{{"nodes", list}}.dump());
      Reachable(r);
      if (r.ok()) {
        backoff.Reset();
        i += kMaxBatch;
      } else if (r.auth()) {
        Fatal(AgentEnd::kAuthRefused, "the server refused the agent's token: " + r.Why());
        return false;
      } else if (r.status >= 400 && r.status < 500 && r.status != 408 && r.status != 429) {
        Fatal(AgentEnd::kBadInput, "the server refused the registration: " + r.Why());
        return false;
      } else {
        if (r.status != 0) Log("register: " + r.Why() + " (retrying)");
        if (!backoff.Wait(this)) return false;
      }
    }
    if (stop) return false;
    Log(fmt::format("registered {} node{} with {}", nodes.size(), nodes.size() == 1 ? "" : "s", o.server));
    registered = true;
    return true;
  }

  // Decodes the tasks of a JSON array (strictly, DecodeTask); logs and skips any that do not decode.
  std::vector<Task> DecodeTasks(const Json& list) {
    std::vector<Task> out;
    for (const Json& t : list) {
      Decoded<Task> d = DecodeTask(t.dump());
      if (d.ok()) {
        out.push_back(std::move(*d.value));
      } else {
        Log(fmt::format("a task from the server does not decode: {} (field {}): {}", d.error.message, d.error.field,
                        t.dump().substr(0, 200)));
      }
    }
    return out;
  }

  // GET /v1/agent/tasks and Reconcile. False: try again (after a backoff).
  bool Resync(httplib::Client& c) {
    const Http r = Call(c, false, "/v1/agent/tasks");
    Reachable(r);
    if (r.auth()) {
      Fatal(AgentEnd::kAuthRefused, "the server refused the agent's token: " + r.Why());
      return false;
    }
    if (!r.ok()) {
      if (r.status != 0) Log("GET /v1/agent/tasks: " + r.Why());
      need_register = true;
      return false;
    }
    const Json j = Json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("seq") || !j["seq"].is_number_integer() || !j.contains("tasks") ||
        !j["tasks"].is_array()) {
      Log("GET /v1/agent/tasks: expected {\"seq\": N, \"tasks\": [...]}");
      return false;
    }
    const std::vector<Task> tasks = DecodeTasks(j["tasks"]);
    std::lock_guard<std::mutex> l(mu);
    Reconcile(tasks);
    seq = j["seq"].get<int64_t>();
    return true;
  }

  // One long poll. False: resynchronise.
  bool Watch(httplib::Client& c) {
    const Http r = Call(c, false, fmt::format("/v1/agent/watch?since={}&timeout={}", seq, o.watch_timeout_s));
    Reachable(r);
    if (r.auth()) {
      Fatal(AgentEnd::kAuthRefused, "the server refused the agent's token: " + r.Why());
      return false;
    }
    if (r.status == 410) return false;
    if (!r.ok()) {
      if (r.status != 0) Log("watch: " + r.Why());
      if (r.status == 0 || r.status == 404 || r.status == 409) need_register = true;
      return false;
    }
    const Json j = Json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("seq") || !j["seq"].is_number_integer() || !j.contains("changes") ||
        !j["changes"].is_array() || j["seq"].get<int64_t>() < seq) {
      Log("watch: an answer that does not follow the cursor: resynchronising");
      return false;
    }
    std::lock_guard<std::mutex> l(mu);
    for (const Json& ch : j["changes"]) {
      const std::string op =
          ch.is_object() && ch.contains("op") && ch["op"].is_string() ? ch["op"].get<std::string>() : "";
      TaskRef ref;
      if (op == "run" && ch.contains("task")) {
        for (const Task& t : DecodeTasks(Json::array({ch["task"]}))) ApplyRun(t);
      } else if (op == "kill" && RefFromJson(ch, &ref)) {
        int32_t grace = 10;
        if (ch.contains("grace_s") && ch["grace_s"].is_number_integer()) {
          grace = ch["grace_s"].get<int32_t>();
        } else if (auto it = running.find(ref); it != running.end()) {
          grace = it->second.grace_s;
        }
        ApplyKill(ref, grace);
      } else {
        Log("watch: a change this agent does not know: " + ch.dump().substr(0, 200) + ": resynchronising");
        return false;
      }
    }
    seq = j["seq"].get<int64_t>();
    return true;
  }

  void Session() {
    std::unique_ptr<httplib::Client> c = NewClient(o.watch_timeout_s + 30);
    {
      std::lock_guard<std::mutex> l(clients_mu);
      watch_client = c.get();
    }
    Backoff backoff;
    bool claimed = !emulated();
    bool resync = true;
    while (!stop) {
      if (!claimed) {
        if (!ClaimEmulatedNodes(*c)) break;
        std::lock_guard<std::mutex> l(mu);
        for (const NodeInventory& n : nodes) node_names.insert(n.name);
        claimed = true;
      }
      if (need_register.exchange(false)) {
        if (!Register(*c)) break;
        resync = true;
      }
      if (resync) {
        if (!Resync(*c)) {
          if (!backoff.Wait(this)) break;
          continue;
        }
        resync = false;
      }
      if (Watch(*c)) {
        backoff.Reset();
      } else {
        resync = true;
        if (need_register && !backoff.Wait(this)) break;
      }
    }
    {
      std::lock_guard<std::mutex> l(clients_mu);
      watch_client = nullptr;
    }
    DropClient(c.get());
  }

  // Opens the state, adopts or resumes the previous agent's tasks.
  bool Startup(std::string* why) {
    if (Status s = MakePrivateDirs(o.state_dir); !s.ok()) {
      *why = s.error().ToString();
      return false;
    }
    auto j = Journal::Open(o.state_dir);
    if (!j.ok()) {
      *why = j.error().ToString();
      return false;
    }
    journal = std::move(*j);
    for (const JournalRecord& e : journal->recent_ends()) {
      ended[e.ref] = EndedTask{e.exit_code, e.signal, "", kAfterFirstSync};
    }
    std::vector<TaskRef> unknown;  // open in the journal, running nowhere
    if (emulated()) {
      for (const auto& [ref, rec] : journal->open()) {
        Local l;
        l.emulated = l.resumed = true;
        l.node = rec.node;
        l.gpus = rec.gpus;
        l.start_ms = rec.t_ms;
        running.emplace(ref, std::move(l));
      }
      if (!running.empty()) Log(fmt::format("resuming {} emulated tasks from the journal", running.size()));
    } else {
      if (Status s = MakePrivateDirs(o.log_dir); !s.ok()) {
        *why = s.error().ToString();
        return false;
      }
      runner = std::make_unique<TaskRunner>(o.state_dir, o.log_dir, journal.get());
      Result<std::vector<TaskRef>> adopted = runner->Adopt();
      if (!adopted.ok()) {
        *why = adopted.error().ToString();
        return false;
      }
      for (const TaskRef& ref : *adopted) running.emplace(ref, Local{});
      if (!adopted->empty()) Log(fmt::format("adopted {} running tasks", adopted->size()));
      std::unordered_set<TaskRef, RefHash> known;
      for (const TaskRef& ref : runner->RunningRefs()) known.insert(ref);
      for (const auto& [ref, rec] : journal->open()) {
        if (!known.count(ref)) unknown.push_back(ref);
      }
      node_names.insert(o.node.name);
      nodes = {o.node};
    }
    for (const TaskRef& ref : unknown) {  // lost with the state file: ended, status unknown
      const JournalRecord rec = journal->open().at(ref);
      running.emplace(ref, Local{true, false, rec.node, rec.gpus, 10, rec.t_ms, 0, ""});
      EndJournaled(ref, -1, 0);
    }
    return true;
  }

  bool emulated() const { return o.emulate > 0; }

  AgentOptions o;
  std::string origin, prefix;
  std::vector<NodeInventory> nodes;  // set before the heartbeat thread starts, then read only

  std::atomic<bool> stop{false}, registered{false}, need_register{true}, reachable{true};
  std::mutex wake_mu;  // guards fatal*; with wake_cv, interruptible sleeps
  std::condition_variable wake_cv;
  AgentEnd fatal = AgentEnd::kStopped;
  std::string fatal_message;

  std::mutex clients_mu;
  std::vector<httplib::Client*> clients;
  httplib::Client* watch_client = nullptr;

  // The tasks, under mu.
  struct Local {
    bool emulated = false;
    bool resumed = false;  // emulated, from the journal: its end awaits the server's task
    std::string node;
    std::vector<int32_t> gpus;
    int32_t grace_s = 10;
    int64_t start_ms = 0, end_ms = 0;  // emulated: Unix ms
    std::string log;
  };
  struct EndedTask {
    int32_t exit_code = 0, signal = 0;
    std::string log;
    int64_t acked_ms = -1;  // when the server acknowledged the report; -1: not yet
  };
  std::mutex mu;
  std::condition_variable tick_cv;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<TaskRunner> runner;
  std::unordered_set<std::string> node_names;
  std::unordered_map<TaskRef, Local, RefHash> running;
  std::unordered_map<TaskRef, EndedTask, RefHash> ended;
  using Timer = std::pair<int64_t, TaskRef>;
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const { return b.first < a.first; }
  };
  std::priority_queue<Timer, std::vector<Timer>, Later> timers;
  bool synced = false;  // a Reconcile has run
  int64_t seq = 0;      // the watch cursor (session thread)

  // Reports not yet acknowledged, oldest first, under rmu (taken after mu, never before).
  std::mutex rmu;
  std::condition_variable rcv;
  std::deque<TaskReport> reports;
};

Agent::Agent(AgentOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Agent::~Agent() = default;

void Agent::Stop() { impl_->RequestStop(); }

AgentEnd Agent::Run(std::string* message) {
  Impl& a = *impl_;
  ::signal(SIGPIPE, SIG_IGN);
  std::string why;
  if (!SplitServerUrl(a.o.server, &a.origin, &a.prefix, &why)) {
    *message = "--server: " + why;
    return AgentEnd::kBadInput;
  }
  {
    std::lock_guard<std::mutex> l(a.mu);
    if (!a.Startup(&why)) {
      *message = why;
      return AgentEnd::kFailure;
    }
  }
  std::thread ticker([&] { a.Ticker(); });
  std::thread reporter([&] { a.Reporter(); });
  std::atomic<bool> session_done{false};
  std::thread session([&] {
    a.Session();
    session_done = true;
  });
  // The heartbeat needs the node list, which the session may fetch first.
  std::thread heartbeat([&] {
    while (!a.registered && a.Sleep(0.05)) {
    }
    a.Heartbeat();
  });
  {
    std::unique_lock<std::mutex> l(a.wake_mu);
    a.wake_cv.wait(l, [&] { return a.stop.load(); });
  }
  // Requests in flight are abandoned (again and again: one may start just after).
  while (!session_done) {
    a.AbandonRequests();
    std::this_thread::sleep_for(milliseconds(20));
  }
  session.join();
  for (std::thread* t : {&heartbeat, &reporter}) {
    while (true) {
      a.AbandonRequests();
      std::unique_lock<std::mutex> l(a.clients_mu);
      if (a.clients.empty()) break;
      l.unlock();
      std::this_thread::sleep_for(milliseconds(20));
    }
    t->join();
  }
  ticker.join();
  *message = a.fatal_message;
  return a.fatal;
}

bool SplitServerUrl(const std::string& url, std::string* origin, std::string* prefix, std::string* why) {
  const size_t colon = url.find("://");
  const std::string scheme = colon == std::string::npos ? "" : url.substr(0, colon);
  if (scheme != "http" && scheme != "https") {
    *why = fmt::format("expected http://HOST[:PORT] or https://HOST[:PORT], got '{}'", url);
    return false;
  }
  const size_t host_at = colon + 3;
  const size_t slash = url.find('/', host_at);
  const std::string authority = url.substr(host_at, slash == std::string::npos ? std::string::npos : slash - host_at);
  std::string path = slash == std::string::npos ? "" : url.substr(slash);
  while (!path.empty() && path.back() == '/') path.pop_back();
  std::string host = authority, port;
  if (!authority.empty() && authority[0] == '[') {  // [v6]:port
    const size_t rb = authority.find(']');
    host = rb == std::string::npos ? "" : authority.substr(0, rb + 1);
    if (rb != std::string::npos && rb + 1 < authority.size()) {
      if (authority[rb + 1] != ':') host.clear();
      port = authority.substr(rb + 2);
    }
  } else if (const size_t pc = authority.rfind(':'); pc != std::string::npos) {
    host = authority.substr(0, pc);
    port = authority.substr(pc + 1);
  }
  bool ok = !host.empty() && host.find_first_of(" @?#") == std::string::npos &&
            path.find_first_of(" ?#") == std::string::npos;
  if (ok && (!port.empty() || authority.back() == ':')) {
    const bool digits = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    ok = digits && std::stoi(port) >= 1 && std::stoi(port) <= 65535;
  }
  for (char ch : url) ok = ok && static_cast<unsigned char>(ch) > 0x20 && static_cast<unsigned char>(ch) < 0x7f;
  if (!ok) {
    *why = fmt::format("expected http://HOST[:PORT][/PATH] or https://..., got '{}'", url);
    return false;
  }
  *origin = scheme + "://" + authority;
  *prefix = path;
  return true;
}

bool ParseNvidiaSmiXml(std::string_view xml, int32_t* gpus, std::string* model) {
  auto tag = [&](std::string_view name, size_t from) -> std::pair<std::string, size_t> {
    const std::string open = "<" + std::string(name) + ">", close = "</" + std::string(name) + ">";
    const size_t a = xml.find(open, from);
    if (a == std::string_view::npos) return {"", std::string_view::npos};
    const size_t b = xml.find(close, a + open.size());
    if (b == std::string_view::npos) return {"", std::string_view::npos};
    return {std::string(xml.substr(a + open.size(), b - a - open.size())), b};
  };
  int32_t count = 0;
  for (size_t at = xml.find("<gpu id="); at != std::string_view::npos; at = xml.find("<gpu id=", at + 1)) ++count;
  const auto [attached, pos] = tag("attached_gpus", 0);
  if (pos != std::string_view::npos && !attached.empty() &&
      attached.find_first_not_of("0123456789 ") == std::string::npos) {
    count = std::stoi(attached);
  }
  if (count <= 0) return false;
  std::string product = tag("product_name", 0).first;
  // Words that are not the model: the vendor and the product lines.
  for (bool again = true; again;) {
    again = false;
    for (const char* word : {"NVIDIA ", "Tesla ", "GeForce ", "Quadro "}) {
      if (product.rfind(word, 0) == 0) {
        product = product.substr(std::string(word).size());
        again = true;
      }
    }
  }
  const size_t end = product.find_first_of(" -");
  *gpus = count;
  *model = product.substr(0, end);
  return true;
}

}  // namespace rackscale::ctl
