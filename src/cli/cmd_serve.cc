// `rackscale serve`: the live control plane (src/ctl/server.h, docs/operate.md).
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "base/text.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "ctl/server.h"

namespace rackscale {
namespace {

struct ServeArgs {
  std::string fleet, tenants, db = "rackscale.db", listen = "127.0.0.1:8642", admin_token_file, port_file;
  std::string policy = "fairshare", power = "none";
  double node_timeout_s = 30, grace_s = 10, tick_s = 0.1, pass_interval_s = 5;
  int32_t http_threads = 64;
  bool quiet = false;
};

// The database file behind a store URL, for the admin token's default place.
std::string DbPath(const std::string& url) {
  std::string p = url;
  if (p.rfind("sqlite://", 0) == 0) {
    p = p.substr(9);
  } else if (p.rfind("sqlite:", 0) == 0) {
    p = p.substr(7);
  }
  return p;
}

int RunServe(const ServeArgs& a) {
  ctl::ServerOptions o;
  o.fleet_path = a.fleet;
  o.tenants_path = a.tenants;
  o.db_url = a.db;
  o.listen = a.listen;
  o.admin_token_file = a.admin_token_file.empty() ? DbPath(a.db) + ".admin-token" : a.admin_token_file;
  // Everything a flag names is checked before the store is opened (which
  // creates it): nothing is written for a command that cannot run.
  {
    std::string host;
    int port = 0;
    if (!ctl::ParseListen(a.listen, &host, &port)) {
      return ReportError(Error::InvalidInput("--listen", 0, "listen",
                                             "expected HOST:PORT (PORT 0..65535; 0: any free port), got " +
                                                 Quote(a.listen)));
    }
    const std::string db = DbPath(a.db);
    if (a.db.empty() || (a.db.find("://") != std::string::npos && a.db.rfind("sqlite://", 0) != 0)) {
      return ReportError(Error::InvalidInput(
          "--db", 0, "db", "expected sqlite:PATH or a path to a database file, got " + Quote(a.db)));
    }
    for (const auto& [flag, path] : {std::pair<const char*, std::string>{"--db", db},
                                     {"--admin-token-file", o.admin_token_file},
                                     {"--port-file", a.port_file}}) {
      if (path.empty()) continue;
      const std::filesystem::path p(path);
      const std::filesystem::path dir = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
      std::error_code ec;
      if (!std::filesystem::is_directory(dir, ec) || std::filesystem::is_directory(p, ec)) {
        return ReportError(Error::InvalidInput(flag, 0, flag + 2,
                                               "expected a file in an existing folder, got " + Quote(path)));
      }
    }
  }
  auto policy = ParseFleetQueuePolicy(a.policy, "--policy");
  if (!policy.ok()) return ReportError(policy.error());
  auto power = ParsePowerPolicy(a.power, "--power");
  if (!power.ok()) return ReportError(power.error());
  o.control.policy = *policy;
  o.control.power = *power;
  o.control.node_timeout_ms = static_cast<int64_t>(a.node_timeout_s * 1000);
  o.control.grace_s = static_cast<int32_t>(a.grace_s);
  o.tick_ms = std::max<int64_t>(1, static_cast<int64_t>(a.tick_s * 1000));
  o.pass_interval_ms = std::max<int64_t>(1, static_cast<int64_t>(a.pass_interval_s * 1000));
  o.http_threads = a.http_threads;
  o.quiet = a.quiet;
  // SIGINT and SIGTERM stop the server through a thread that waits for them
  // (nothing async-signal-unsafe runs in a handler).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto server = ctl::Server::Create(o);
  if (!server.ok()) return ReportError(server.error());
  ctl::Server* s = server->get();
  std::thread signals([s, set] {
    int sig = 0;
    sigwait(&set, &sig);
    s->Stop();
  });
  signals.detach();
  Status st = s->Run([&](int port) {
    if (!a.port_file.empty()) {
      // Written whole, then renamed: a reader never sees half a number.
      const std::string tmp = a.port_file + ".tmp";
      if (std::FILE* f = std::fopen(tmp.c_str(), "w")) {
        std::fprintf(f, "%d\n", port);
        std::fclose(f);
        std::rename(tmp.c_str(), a.port_file.c_str());
      }
    }
    if (a.quiet) return;
    std::fprintf(stderr, "rackscale serve: listening on port %d (store %s)\n", port, a.db.c_str());
    if (!s->bootstrap_admin_token().empty()) {
      std::fprintf(stderr, "rackscale serve: a new store: the admin token is in %s\n", o.admin_token_file.c_str());
    }
  });
  if (!st) return ReportError(st.error());
  return kExitOk;
}

}  // namespace

void RegisterServe(CLI::App& app, CommandFn* run) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* sub = app.add_subcommand(
      "serve",
      "Run the live control plane: an HTTP/JSON API (docs/api.md) over the scheduler core, with its state in a "
      "SQLite database (WAL, synchronous=FULL, group commit). Agents (rackscale agent) register the fleet's nodes "
      "and run the tasks it places; tenants submit jobs with rackscale job submit. A new database gets an admin "
      "token, written to --admin-token-file. SIGINT or SIGTERM stops it; a restart resumes from the database.\n"
      "Example: rackscale serve --fleet examples/small.toml --tenants examples/tenants-small.toml --db ctl.db");
  AddInFile(sub, "--fleet", &a->fleet, "Fleet file (docs/cluster.md): the nodes agents may register")->required();
  AddInFile(sub, "--tenants", &a->tenants, "Tenants file: seeds the tenants, weights and quotas of a new database");
  sub->add_option("--db", a->db, "Store URL: sqlite:PATH or a path")->capture_default_str();
  sub->add_option("--listen", a->listen, "HOST:PORT to listen on (port 0: any free port)")->capture_default_str();
  sub->add_option("--port-file", a->port_file, "Write the port listened on to this file once bound (with --listen HOST:0)");
  sub->add_option("--admin-token-file", a->admin_token_file,
                  "Where a new database's admin token is written (mode 0600; default: the database path + "
                  ".admin-token)");
  AddChoice(sub, "--policy", &a->policy, "Queue policy of the scheduler core", {"fifo", "easy", "fairshare", "priority"});
  AddChoice(sub, "--power", &a->power, "Site power caps", {"none", "admit", "throttle"});
  AddDuration(sub, "--node-timeout", &a->node_timeout_s,
              "A node whose agent is silent this long is lost: its jobs requeue or fail by their policy",
              DurationUnit::kSeconds, 1, 86400);
  AddDuration(sub, "--grace", &a->grace_s, "Between SIGTERM and SIGKILL when a task is cancelled or preempted",
              DurationUnit::kSeconds, 0, 3600);
  AddDuration(sub, "--tick", &a->tick_s, "How often node timeouts and time limits are checked",
              DurationUnit::kSeconds, 0.001, 60);
  AddDuration(sub, "--pass-interval", &a->pass_interval_s,
              "While jobs wait, a scheduling pass this often even if nothing changed (passes also follow every change)",
              DurationUnit::kSeconds, 0.01, 3600);
  AddInt(sub, "--http-threads", &a->http_threads, "HTTP worker threads (long polls hold one each)", 4, 4096);
  sub->add_flag("-q,--quiet", a->quiet, "Print nothing but errors");
  sub->callback([a, run] { *run = [a] { return RunServe(*a); }; });
}

}  // namespace rackscale
