#include "ctl/server.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "ctl/openapi.h"

namespace rackscale::ctl {
namespace {

using json = nlohmann::json;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SteadyUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string BearerToken(const httplib::Request& req) {
  const std::string h = req.get_header_value("Authorization");
  static constexpr std::string_view kBearer = "Bearer ";
  if (h.size() > kBearer.size() && std::string_view(h).substr(0, kBearer.size()) == kBearer) {
    return h.substr(kBearer.size());
  }
  return "";
}

void Send(httplib::Response& res, const Reply& r) {
  res.status = r.status;
  res.set_content(r.body, r.content_type.c_str());
}

void SendErr(httplib::Response& res, const ApiError& e) { Send(res, Reply::Err(e)); }

// Query parameters: only those named are allowed, each at most once.
bool CheckParams(const httplib::Request& req, std::initializer_list<std::string_view> allowed, httplib::Response& res) {
  // A body is JSON (a form body would otherwise be read as parameters).
  if (!req.body.empty() || req.has_header("Content-Type")) {
    const std::string ct = req.get_header_value("Content-Type");
    if (!ct.empty() && ct.rfind("application/json", 0) != 0) {
      SendErr(res, ApiError{415, "unsupported_media_type", "request bodies are JSON: Content-Type: application/json",
                            "Content-Type"});
      return false;
    }
  }
  for (const auto& [k, v] : req.params) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      SendErr(res, ApiError::Invalid(k, "unknown query parameter '" + k + "'"));
      return false;
    }
    if (req.params.count(k) > 1) {
      SendErr(res, ApiError::Invalid(k, "query parameter '" + k + "' given more than once"));
      return false;
    }
  }
  return true;
}

bool IntParam(const httplib::Request& req, const char* name, int64_t lo, int64_t hi, int64_t dflt, int64_t* out,
              httplib::Response& res) {
  if (!req.has_param(name)) {
    *out = dflt;
    return true;
  }
  Decoded<int64_t> d = DecodeIntParam(name, req.get_param_value(name), lo, hi);
  if (!d.ok()) {
    SendErr(res, d.error);
    return false;
  }
  *out = *d.value;
  return true;
}

bool ListParam(const httplib::Request& req, const char* name, size_t max, std::vector<std::string>* out,
               httplib::Response& res) {
  if (!req.has_param(name)) return true;
  Decoded<std::vector<std::string>> d = DecodeListParam(name, req.get_param_value(name), max);
  if (!d.ok()) {
    SendErr(res, d.error);
    return false;
  }
  *out = std::move(*d.value);
  return true;
}

bool PathId(const httplib::Request& req, httplib::Response& res, int64_t* id) {
  Decoded<int64_t> d = DecodeIntParam("id", req.matches[1].str(), 1, INT64_MAX);
  if (!d.ok()) {
    SendErr(res, d.error);
    return false;
  }
  *id = *d.value;
  return true;
}

}  // namespace

bool ParseListen(const std::string& listen, std::string* host, int* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  if (host->empty()) *host = "0.0.0.0";
  const std::string p = listen.substr(colon + 1);
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), ::isdigit)) return false;
  *port = std::stoi(p);
  return *port <= 65535;
}

namespace {

Status WriteSecretFile(const std::string& path, const std::string& secret) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Io(path, std::string("cannot write the admin token: ") + std::strerror(errno));
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return Error::Io(path, std::string("cannot write the admin token: ") + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Create(const ServerOptions& o) {
  std::unique_ptr<Server> s(new Server());
  s->opts_ = o;
  auto fleet = ReadFleetToml(o.fleet_path);
  if (!fleet.ok()) return fleet.error();
  s->fleet_ = std::move(*fleet);
  if (!o.tenants_path.empty()) {
    auto t = ReadTenantsToml(o.tenants_path);
    if (!t.ok()) return t.error();
    s->tenants_ = std::move(*t);
    s->have_tenants_ = true;
    if (!s->tenants_.services.empty()) {
      return Error::InvalidInput(o.tenants_path, s->tenants_.services[0].line, "services",
                                 "rackscale serve does not run inference services (a simulation feature); remove "
                                 "them from the file");
    }
  }
  auto store = OpenStore(o.db_url);
  if (!store.ok()) return store.error();
  s->store_ = std::move(*store);
  const int64_t now_ms = WallMs();
  if (Status st = s->Reload(now_ms); !st) return st.error();
  // A new store: its first admin token, written where the operator finds it.
  s->bootstrap_token_ = s->control_->BootstrapAdmin(now_ms / 1000);
  if (s->control_->has_changes()) {
    std::vector<LiveEvent> live;
    Batch b = s->control_->TakeBatch(&live);
    if (Status st = s->store_->Commit(b); !st) return st.error();
    if (!s->bootstrap_token_.empty() && !o.admin_token_file.empty()) {
      if (Status st = WriteSecretFile(o.admin_token_file, s->bootstrap_token_); !st) return st.error();
    }
    s->ring_first_ = s->store_->last_seq() + 1;
    s->ring_last_ = s->store_->last_seq();
  }
  s->ready_ = true;
  return s;
}

Status Server::Reload(int64_t now_ms) {
  auto snap = store_->Load();
  if (!snap.ok()) return snap.error();
  auto c = Control::Create(fleet_, opts_.control, *snap, have_tenants_ ? &tenants_ : nullptr, now_ms);
  if (!c.ok()) return c.error();
  control_ = std::move(*c);
  {
    std::lock_guard<std::mutex> lock(ring_mu_);
    ring_.clear();
    ring_first_ = snap->last_seq + 1;
    ring_last_ = snap->last_seq;
  }
  // What the new Control emitted while loading (server.started, tenants
  // seeded on a new store) stays pending: the next commit carries it, and a
  // failed one leaves it pending for the one after (nothing is skipped).
  return Status::Ok();
}

Server::~Server() { Stop(); if (core_.joinable()) core_.join(); }

void Server::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  ring_cv_.notify_all();
  if (http_) http_->stop();
}

Reply Server::Call(std::function<Reply(Control&, Store&, int64_t, int64_t)> fn) {
  auto cmd = std::make_shared<Command>();
  cmd->fn = std::move(fn);
  std::unique_lock<std::mutex> lock(mu_);
  if (stop_) return Reply::Err(ApiError{503, "unavailable", "the server is stopping", ""});
  queue_.push_back(cmd);
  cv_.notify_one();
  done_cv_.wait(lock, [&] { return cmd->done; });
  return std::move(cmd->reply);
}

void Server::Publish(std::vector<LiveEvent>&& events) {
  if (events.empty()) return;
  std::lock_guard<std::mutex> lock(ring_mu_);
  for (LiveEvent& e : events) {
    ring_last_ = e.ev.seq;
    ring_.push_back(std::move(e));
  }
  while (ring_.size() > opts_.ring_events) {
    ring_.pop_front();
  }
  ring_first_ = ring_.empty() ? ring_last_ + 1 : ring_.front().ev.seq;
  ring_cv_.notify_all();
}

void Server::CoreLoop() {
  std::vector<std::shared_ptr<Command>> turn;
  int64_t last_tick_ms = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(opts_.tick_ms), [&] { return !queue_.empty() || stop_; });
      if (stop_) {
        for (auto& c : queue_) {
          c->reply = Reply::Err(ApiError{503, "unavailable", "the server is stopping", ""});
          c->done = true;
        }
        queue_.clear();
        done_cv_.notify_all();
        return;
      }
      turn.swap(queue_);
    }
    const int64_t now_ms = WallMs();
    const int64_t now = now_ms / 1000;
    for (auto& c : turn) c->reply = c->fn(*control_, *store_, now, now_ms);
    // Time: a pass after every turn that changed something; while jobs
    // wait, a pass every --pass-interval even if nothing did.
    const bool tick = now_ms - last_tick_ms >= opts_.pass_interval_ms;
    if (tick) last_tick_ms = now_ms;
    const int64_t p0 = SteadyUs();
    if (control_->Tick(now, now_ms, tick)) pass_us_sum_ += SteadyUs() - p0;
    if (control_->has_changes()) {
      std::vector<LiveEvent> live;
      Batch b = control_->TakeBatch(&live);
      const int64_t c0 = SteadyUs();
      Status st = store_->Commit(b);
      const int64_t us = SteadyUs() - c0;
      if (st) {
        ++commits_;
        commit_us_sum_ += us;
        {
          std::lock_guard<std::mutex> lock(lat_mu_);
          if (commit_us_.size() < 4096) {
            commit_us_.push_back(us);
          } else {
            commit_us_[commit_us_next_++ % 4096] = us;
          }
        }
        ready_ = true;
        Publish(std::move(live));
      } else {
        ++commit_failures_;
        ready_ = false;
        const ApiError e{503, "unavailable", "the store refused the commit: " + st.error().ToString(), ""};
        for (auto& c : turn) c->reply = Reply::Err(e);
        if (!opts_.quiet) std::fprintf(stderr, "rackscale serve: commit failed: %s\n", st.error().ToString().c_str());
        if (Status r = Reload(now_ms); !r) {
          std::fprintf(stderr, "rackscale serve: reloading the store failed: %s\n", r.error().ToString().c_str());
        }
      }
    }
    ++turns_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& c : turn) c->done = true;
    }
    done_cv_.notify_all();
    turn.clear();
  }
}

std::string Server::ServerMetrics() const {
  std::string out;
  out += "# HELP rackscale_commits_total Store transactions committed (group commits).\n"
         "# TYPE rackscale_commits_total counter\n";
  out += fmt::format("rackscale_commits_total {}\n", commits_.load());
  out += fmt::format("rackscale_commit_failures_total {}\n", commit_failures_.load());
  out += "# HELP rackscale_commit_seconds Commit latency.\n# TYPE rackscale_commit_seconds summary\n";
  std::vector<int64_t> lat;
  {
    std::lock_guard<std::mutex> lock(lat_mu_);
    lat = commit_us_;
  }
  std::sort(lat.begin(), lat.end());
  for (double q : {0.5, 0.99}) {
    const double v = lat.empty() ? 0 : lat[static_cast<size_t>(q * static_cast<double>(lat.size() - 1))] / 1e6;
    out += fmt::format("rackscale_commit_seconds{{quantile=\"{}\"}} {}\n", q, v);
  }
  out += fmt::format("rackscale_commit_seconds_sum {}\n", commit_us_sum_.load() / 1e6);
  out += fmt::format("rackscale_commit_seconds_count {}\n", commits_.load());
  out += "# HELP rackscale_pass_seconds_total Time spent in scheduling passes.\n"
         "# TYPE rackscale_pass_seconds_total counter\n";
  out += fmt::format("rackscale_pass_seconds_total {}\n", pass_us_sum_.load() / 1e6);
  out += fmt::format("rackscale_core_turns_total {}\n", turns_.load());
  out += fmt::format("rackscale_http_requests_total {}\n", requests_.load());
  return out;
}

Principal Server::WhoIs(const std::string& token) {
  Principal p;
  Call([&](Control& c, Store&, int64_t, int64_t) {
    p = c.Authenticate(token);
    return Reply{};
  });
  return p;
}

Server::RingAnswer Server::PollRing(int64_t since, int64_t timeout_s, const char* key, int max, std::string* out,
                                    const std::function<void(const LiveEvent&, const Add&)>& take) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  std::unique_lock<std::mutex> lock(ring_mu_);
  for (;;) {
    if (since > ring_last_) return RingAnswer::kBeyond;
    if (since + 1 < ring_first_) return RingAnswer::kOlder;
    *out = fmt::format("{{\"{}\":[", key);
    int64_t last = since;
    int n = 0;
    const Add add = [&](const std::string& item) {
      if (n++ > 0) *out += ',';
      *out += item;
    };
    for (size_t i = static_cast<size_t>(since + 1 - ring_first_); i < ring_.size() && n < max; ++i) {
      last = ring_[i].ev.seq;
      take(ring_[i], add);
    }
    if (n > 0 || std::chrono::steady_clock::now() >= deadline || stop_) {
      *out += fmt::format("],\"seq\":{}}}", last);
      return RingAnswer::kOk;
    }
    since = last;
    ring_cv_.wait_until(lock, deadline);
  }
}

void Server::Routes() {
  httplib::Server& s = *http_;
  using Req = httplib::Request;
  using Res = httplib::Response;
  s.set_payload_max_length(kMaxBodyBytes);
  s.set_pre_routing_handler([this](const Req&, Res&) {
    ++requests_;
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.set_error_handler([](const Req& req, Res& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) {
      SendErr(res, ApiError{413, "too_large", fmt::format("request bodies are at most {} bytes", kMaxBodyBytes), ""});
    } else if (res.status == 404) {
      SendErr(res, ApiError{404, "not_found", "no route " + req.method + " " + req.path, ""});
    } else if (res.status == 405) {
      SendErr(res, ApiError{405, "method_not_allowed", "method " + req.method + " not allowed on " + req.path, ""});
    }
  });
  s.set_exception_handler([](const Req&, Res& res, std::exception_ptr) {
    SendErr(res, ApiError{500, "internal", "internal error", ""});
  });

  s.Get("/healthz", [](const Req&, Res& res) { res.set_content("ok\n", "text/plain"); });
  s.Get("/readyz", [this](const Req&, Res& res) {
    res.status = ready_ ? 200 : 503;
    res.set_content(ready_ ? "ready\n" : "not ready: the last commit failed\n", "text/plain");
  });
  s.Get("/v1/openapi.json", [](const Req&, Res& res) { res.set_content(OpenApiJson(), "application/json"); });
  s.Get("/metrics", [this](const Req& req, Res& res) {
    const std::string token = BearerToken(req);
    const std::string extra = ServerMetrics();
    Send(res, Call([token, extra](Control& c, Store&, int64_t, int64_t) {
           return c.Metrics(c.Authenticate(token), extra);
         }));
  });

  // Jobs.
  s.Post("/v1/jobs", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    Decoded<JobSubmit> d = DecodeJobSubmit(req.body);
    if (!d.ok()) return SendErr(res, d.error);
    const std::string token = BearerToken(req);
    auto spec = std::make_shared<JobSubmit>(std::move(*d.value));
    Send(res, Call([token, spec](Control& c, Store&, int64_t now, int64_t) {
           return c.SubmitJob(c.Authenticate(token), std::move(*spec), now);
         }));
  });
  s.Get("/v1/jobs", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {"state", "tenant", "limit", "cursor", "fields"}, res)) return;
    std::vector<std::string> states, fields;
    int64_t limit = 0, cursor = 0;
    if (!ListParam(req, "state", 8, &states, res) || !ListParam(req, "fields", 64, &fields, res) ||
        !IntParam(req, "limit", 1, 1000, 100, &limit, res) || !IntParam(req, "cursor", 0, INT64_MAX, 0, &cursor, res)) {
      return;
    }
    std::string tenant;
    if (req.has_param("tenant")) {
      std::vector<std::string> t;
      if (!ListParam(req, "tenant", 1, &t, res)) return;
      if (!t.empty()) tenant = t[0];
    }
    const std::string token = BearerToken(req);
    Send(res, Call([=](Control& c, Store&, int64_t, int64_t) {
           return c.ListJobs(c.Authenticate(token), states, tenant, limit, cursor, fields);
         }));
  });
  s.Get(R"(/v1/jobs/([^/]+))", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {"fields"}, res)) return;
    int64_t id = 0;
    std::vector<std::string> fields;
    if (!PathId(req, res, &id) || !ListParam(req, "fields", 64, &fields, res)) return;
    const std::string token = BearerToken(req);
    Send(res, Call([=](Control& c, Store&, int64_t, int64_t) { return c.GetJob(c.Authenticate(token), id, fields); }));
  });
  auto cancel = [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    int64_t id = 0;
    if (!PathId(req, res, &id)) return;
    const std::string token = BearerToken(req);
    Send(res, Call([=](Control& c, Store&, int64_t now, int64_t) { return c.CancelJob(c.Authenticate(token), id, now); }));
  };
  s.Post(R"(/v1/jobs/([^/]+)/cancel)", cancel);
  s.Delete(R"(/v1/jobs/([^/]+))", cancel);
  s.Get(R"(/v1/jobs/([^/]+)/events)", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    int64_t id = 0;
    if (!PathId(req, res, &id)) return;
    const std::string token = BearerToken(req);
    Send(res, Call([=](Control& c, Store& store, int64_t, int64_t) {
           Principal p = c.Authenticate(token);
           Reply r = c.GetJob(p, id, {"id"});
           if (r.status != 200) return r;
           auto evs = store.EventsSince(0, 100000, id);
           if (!evs.ok()) return Reply::Err(ApiError{503, "unavailable", evs.error().ToString(), ""});
           std::string out = "{\"events\":[";
           for (size_t i = 0; i < evs->size(); ++i) {
             if (i > 0) out += ',';
             out += Control::EventJson((*evs)[i]);
           }
           out += "]}";
           return Reply::Json(200, std::move(out));
         }));
  });
  s.Get("/v1/queue", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    const std::string token = BearerToken(req);
    Send(res, Call([=](Control& c, Store&, int64_t, int64_t) { return c.Queue(c.Authenticate(token)); }));
  });

  // The event stream.
  s.Get("/v1/watch", [this](const Req& req, Res& res) {
    int64_t since = 0, timeout = 0;
    if (!CheckParams(req, {"since", "timeout"}, res) || !IntParam(req, "since", 0, INT64_MAX, 0, &since, res) ||
        !IntParam(req, "timeout", 0, 60, 30, &timeout, res)) {
      return;
    }
    const Principal p = WhoIs(BearerToken(req));
    if (p.role == Role::kNone) return SendErr(res, ApiError{401, "unauthenticated", "a valid bearer token is required", ""});
    if (p.role == Role::kAgent) return SendErr(res, ApiError{403, "permission_denied", "agents watch /v1/agent/watch", ""});
    std::string out;
    const RingAnswer a = PollRing(since, timeout, "events", 1000, &out, [&](const LiveEvent& e, const auto& add) {
      if (Control::Visible(p, e.ev)) add(e.json);
    });
    if (a == RingAnswer::kBeyond) {
      return SendErr(res, ApiError{410, "gone", fmt::format("seq {} is beyond the last event", since), "since"});
    }
    if (a == RingAnswer::kOk) return Send(res, Reply::Json(200, std::move(out)));
    // Older than the ring: from the store, in the core thread.
    Send(res, Call([=](Control&, Store& store, int64_t, int64_t) {
           auto evs = store.EventsSince(since, 1000);
           if (!evs.ok()) return Reply::Err(ApiError{503, "unavailable", evs.error().ToString(), ""});
           std::string out = "{\"events\":[";
           bool first = true;
           int64_t last = since;
           for (const StoredEvent& e : *evs) {
             last = e.seq;
             if (!Control::Visible(p, e)) continue;
             if (!first) out += ',';
             first = false;
             out += Control::EventJson(e);
           }
           out += fmt::format("],\"seq\":{}}}", last);
           return Reply::Json(200, std::move(out));
         }));
  });

  // Nodes.
  s.Get("/v1/nodes", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    const std::string token = BearerToken(req);
    Send(res, Call([=](Control& c, Store&, int64_t, int64_t) { return c.ListNodes(c.Authenticate(token)); }));
  });
  s.Post(R"(/v1/nodes/([^/]+)/drain)", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    Decoded<DrainPost> d = DecodeDrainPost(req.body);
    if (!d.ok()) return SendErr(res, d.error);
    const std::string token = BearerToken(req), name = req.matches[1].str(), reason = d.value->reason;
    Send(res, Call([=](Control& c, Store&, int64_t now, int64_t) {
           return c.DrainNode(c.Authenticate(token), name, reason, now);
         }));
  });
  s.Post(R"(/v1/nodes/([^/]+)/resume)", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    const std::string token = BearerToken(req), name = req.matches[1].str();
    Send(res, Call([=](Control& c, Store&, int64_t now, int64_t) { return c.ResumeNode(c.Authenticate(token), name, now); }));
  });

  // Agents.
  s.Post("/v1/agent/register", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    Decoded<AgentRegister> d = DecodeAgentRegister(req.body);
    if (!d.ok()) return SendErr(res, d.error);
    const std::string token = BearerToken(req);
    auto body = std::make_shared<AgentRegister>(std::move(*d.value));
    Send(res, Call([=](Control& c, Store&, int64_t now, int64_t now_ms) {
           return c.AgentRegister(c.Authenticate(token), *body, now, now_ms);
         }));
  });
  s.Post("/v1/agent/heartbeat", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    Decoded<AgentHeartbeat> d = DecodeAgentHeartbeat(req.body);
    if (!d.ok()) return SendErr(res, d.error);
    const std::string token = BearerToken(req);
    auto body = std::make_shared<AgentHeartbeat>(std::move(*d.value));
    Send(res, Call([=](Control& c, Store&, int64_t now, int64_t now_ms) {
           return c.AgentHeartbeat(c.Authenticate(token), *body, now, now_ms);
         }));
  });
  s.Get("/v1/agent/tasks", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    const std::string token = BearerToken(req);
    Send(res, Call([=](Control& c, Store&, int64_t, int64_t) { return c.AgentTasks(c.Authenticate(token)); }));
  });
  s.Post("/v1/agent/report", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    Decoded<AgentReport> d = DecodeAgentReport(req.body);
    if (!d.ok()) return SendErr(res, d.error);
    const std::string token = BearerToken(req);
    auto body = std::make_shared<AgentReport>(std::move(*d.value));
    Send(res, Call([=](Control& c, Store&, int64_t now, int64_t) {
           return c.AgentReport(c.Authenticate(token), *body, now);
         }));
  });
  s.Get("/v1/agent/watch", [this](const Req& req, Res& res) {
    int64_t since = 0, timeout = 0;
    if (!CheckParams(req, {"since", "timeout"}, res) || !IntParam(req, "since", 0, INT64_MAX, 0, &since, res) ||
        !IntParam(req, "timeout", 0, 60, 30, &timeout, res)) {
      return;
    }
    const Principal p = WhoIs(BearerToken(req));
    if (p.role == Role::kNone) return SendErr(res, ApiError{401, "unauthenticated", "a valid bearer token is required", ""});
    if (p.role != Role::kAgent) return SendErr(res, ApiError{403, "permission_denied", "only an agent token", ""});
    std::string out;
    const RingAnswer a = PollRing(since, timeout, "changes", 5000, &out, [&](const LiveEvent& e, const auto& add) {
      for (const LiveEvent::AgentOp& op : e.ops) {
        if (op.agent == p.agent) add(op.json);
      }
    });
    if (a != RingAnswer::kOk) {
      return SendErr(res, ApiError{410, "gone",
                                   fmt::format("seq {} is outside the retained events: resynchronise with "
                                               "GET /v1/agent/tasks",
                                               since),
                                   "since"});
    }
    Send(res, Reply::Json(200, std::move(out)));
  });

  // Admin.
  s.Get("/v1/tenants", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    const std::string token = BearerToken(req);
    Send(res, Call([=](Control& c, Store&, int64_t, int64_t) { return c.ListTenants(c.Authenticate(token)); }));
  });
  s.Get(R"(/v1/tenants/([^/]+))", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    const std::string token = BearerToken(req), name = req.matches[1].str();
    Send(res, Call([=](Control& c, Store&, int64_t, int64_t) { return c.GetTenant(c.Authenticate(token), name); }));
  });
  s.Put(R"(/v1/tenants/([^/]+))", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    Decoded<TenantPut> d = DecodeTenantPut(req.body);
    if (!d.ok()) return SendErr(res, d.error);
    const std::string name = req.matches[1].str();
    Decoded<std::vector<std::string>> n = DecodeListParam("name", name, 1);
    if (!n.ok() || n.value->size() != 1) return SendErr(res, ApiError::Invalid("name", "a tenant name"));
    const std::string token = BearerToken(req);
    const TenantPut put = *d.value;
    Send(res, Call([=](Control& c, Store&, int64_t now, int64_t) {
           return c.PutTenant(c.Authenticate(token), name, put, now);
         }));
  });
  s.Delete(R"(/v1/tenants/([^/]+))", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    const std::string token = BearerToken(req), name = req.matches[1].str();
    Send(res, Call([=](Control& c, Store&, int64_t now, int64_t) {
           return c.DeleteTenant(c.Authenticate(token), name, now);
         }));
  });
  s.Get("/v1/dedicated", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    const std::string token = BearerToken(req);
    Send(res, Call([=](Control& c, Store&, int64_t, int64_t) { return c.ListDedicated(c.Authenticate(token)); }));
  });
  s.Post("/v1/dedicated", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    Decoded<DedicatedPost> d = DecodeDedicatedPost(req.body);
    if (!d.ok()) return SendErr(res, d.error);
    const std::string token = BearerToken(req);
    const DedicatedPost post = *d.value;
    Send(res, Call([=](Control& c, Store&, int64_t now, int64_t) {
           return c.CreateDedicated(c.Authenticate(token), post, now);
         }));
  });
  s.Put(R"(/v1/dedicated/([^/]+))", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    int64_t id = 0;
    if (!PathId(req, res, &id)) return;
    Decoded<WindowPut> d = DecodeWindowPut(req.body);
    if (!d.ok()) return SendErr(res, d.error);
    const std::string token = BearerToken(req);
    const WindowPut w = *d.value;
    Send(res, Call([=](Control& c, Store&, int64_t now, int64_t) {
           return c.SetDedicatedWindow(c.Authenticate(token), id, w, now);
         }));
  });
  s.Delete(R"(/v1/dedicated/([^/]+))", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    int64_t id = 0;
    if (!PathId(req, res, &id)) return;
    const std::string token = BearerToken(req);
    Send(res, Call([=](Control& c, Store&, int64_t now, int64_t) {
           return c.DeleteDedicated(c.Authenticate(token), id, now);
         }));
  });
  s.Post("/v1/tokens", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    Decoded<TokenPost> d = DecodeTokenPost(req.body);
    if (!d.ok()) return SendErr(res, d.error);
    const std::string token = BearerToken(req);
    const TokenPost post = *d.value;
    Send(res, Call([=](Control& c, Store&, int64_t now, int64_t) {
           return c.CreateToken(c.Authenticate(token), post, now);
         }));
  });
  s.Get("/v1/tokens", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    const std::string token = BearerToken(req);
    Send(res, Call([=](Control& c, Store&, int64_t, int64_t) { return c.ListTokens(c.Authenticate(token)); }));
  });
  s.Delete(R"(/v1/tokens/([^/]+))", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {}, res)) return;
    int64_t id = 0;
    if (!PathId(req, res, &id)) return;
    const std::string token = BearerToken(req);
    Send(res, Call([=](Control& c, Store&, int64_t now, int64_t) { return c.RevokeToken(c.Authenticate(token), id, now); }));
  });
  s.Get("/v1/export", [this](const Req& req, Res& res) {
    if (!CheckParams(req, {"since"}, res)) return;
    int64_t since = 0;
    if (!IntParam(req, "since", 0, INT64_MAX, 0, &since, res)) return;
    const std::string token = BearerToken(req);
    Send(res, Call([=](Control& c, Store& store, int64_t, int64_t) {
           Principal p = c.Authenticate(token);
           if (p.role == Role::kNone) return Reply::Err(ApiError{401, "unauthenticated", "a valid bearer token is required", ""});
           if (p.role != Role::kAdmin) return Reply::Err(ApiError{403, "permission_denied", "export needs the admin token", ""});
           std::string out;
           int64_t after = since;
           for (;;) {
             auto evs = store.EventsSince(after, 10000);
             if (!evs.ok()) return Reply::Err(ApiError{503, "unavailable", evs.error().ToString(), ""});
             if (evs->empty()) break;
             for (const StoredEvent& e : *evs) {
               out += Control::EventJson(e);
               out += '\n';
               after = e.seq;
             }
           }
           return Reply{200, std::move(out), "application/x-ndjson"};
         }));
  });
}

Status Server::Run(const std::function<void(int port)>& listening) {
  std::string host;
  int port = 0;
  if (!ParseListen(opts_.listen, &host, &port)) {
    return Error::InvalidInput("--listen", 0, "listen", "'" + opts_.listen + "' is not HOST:PORT");
  }
  http_ = std::make_unique<httplib::Server>();
  const int threads = opts_.http_threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_->set_keep_alive_max_count(100000);
  http_->set_tcp_nodelay(true);  // small answers go out at once (no 40 ms delayed-ACK stall)
  http_->set_read_timeout(70, 0);
  Routes();
  int bound = port;
  if (port == 0) {
    bound = http_->bind_to_any_port(host.c_str());
  } else if (!http_->bind_to_port(host.c_str(), port)) {
    bound = -1;
  }
  if (bound < 0) return Error::Io(opts_.listen, "cannot listen there (in use, or not an address of this host)");
  core_ = std::thread([this] { CoreLoop(); });
  if (listening) listening(bound);
  http_->listen_after_bind();
  Stop();
  if (core_.joinable()) core_.join();
  return Status::Ok();
}

}  // namespace rackscale::ctl
