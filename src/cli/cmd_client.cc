// The command-line clients of `rackscale serve` (docs/api.md,
// docs/operate.md#clients), after kubectl and Slurm's sbatch, squeue,
// scancel and scontrol:
//   rackscale job submit|list|show|cancel|events|logs|export
//   rackscale queue
//   rackscale node list|drain|resume
//   rackscale tenant list|show|set|delete
//   rackscale token create|list|revoke
// Each resolves the server and the token (ctl::ResolveClientSettings), sends
// its requests through ctl::ApiClient, prints a table for people or, with
// --json, the server's JSON, and exits with the code of cli/client.h.
#include <sys/stat.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "ctl/client.h"

namespace rackscale {

using nlohmann::json;

int ExitCodeForStatus(int status) {
  if (status >= 200 && status < 300) return kExitOk;
  switch (status) {
    case 400:
    case 413: return kExitBadInput;
    case 401:
    case 403: return kExitServer;
    case 404: return kExitNotFound;
    case 409: return kExitConflict;
    default: return kExitFailure;
  }
}

namespace {

// Display width: UTF-8 code points.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// A number ("12", "-5", "2.5"), an elapsed time ("1:02:03", "2-03:04:05")
// or a lone "-" (none).
bool LooksNumeric(const std::string& s) {
  if (s == "-") return true;
  if (s.empty() || s.find_first_not_of("0123456789-:.") != std::string::npos) return false;
  if (s.find(':') != std::string::npos)
    return s.find('.') == std::string::npos && std::isdigit(static_cast<unsigned char>(s[0]));
  const size_t digits = s[0] == '-' ? 1 : 0;
  return s.size() > digits && std::isdigit(static_cast<unsigned char>(s[digits])) &&
         s.find('-', digits) == std::string::npos && s.find('.') == s.rfind('.');
}

}  // namespace

std::string FormatTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  size_t cols = header.size();
  for (const auto& r : rows) cols = std::max(cols, r.size());
  assert(header.empty() || cols == header.size());
  std::vector<size_t> width(cols, 0);
  std::vector<bool> right(cols, true), any(cols, false);
  auto cell = [](const std::vector<std::string>& r, size_t c) -> const std::string& {
    static const std::string kEmpty;
    return c < r.size() ? r[c] : kEmpty;
  };
  for (size_t c = 0; c < cols; ++c) {
    width[c] = Width(cell(header, c));
    for (const auto& r : rows) {
      const std::string& v = cell(r, c);
      width[c] = std::max(width[c], Width(v));
      if (v.empty()) continue;
      any[c] = true;
      right[c] = right[c] && LooksNumeric(v);
    }
    right[c] = right[c] && any[c];
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& r) {
    std::string l;
    for (size_t c = 0; c < cols; ++c) {
      const std::string& v = cell(r, c);
      const std::string pad(width[c] - Width(v), ' ');
      if (c > 0) l += "  ";
      l += right[c] ? pad + v : v + pad;
    }
    const size_t end = l.find_last_not_of(' ');
    l.resize(end == std::string::npos ? 0 : end + 1);
    out += l;
    out += '\n';
  };
  if (!header.empty()) line(header);
  for (const auto& r : rows) line(r);
  return out;
}

std::string FormatElapsed(int64_t seconds) {
  const int64_t s = std::max<int64_t>(seconds, 0);
  const int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
  if (d > 0) return fmt::format("{}-{:02}:{:02}:{:02}", d, h, m, sec);
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, sec);
  return fmt::format("{}:{:02}", m, sec);
}

std::string FormatUnixTime(int64_t t) {
  if (t == 0) return "-";
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (gmtime_r(&tt, &tm) == nullptr) return std::to_string(t);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatIndexRanges(const std::vector<int64_t>& v) {
  std::string out;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? std::to_string(v[i]) : fmt::format("{}-{}", v[i], v[j]);
    i = j + 1;
  }
  return out;
}

std::string Cell(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

namespace {

// ---------------------------------------------------------------------------
// Connection, errors and output.

// The flags every client command takes.
struct Conn {
  std::string server, token, token_file;
  bool json = false;
};

void AddConnFlags(CLI::App* sub, Conn* c, bool json_flag = true) {
  AddServerUrl(sub, "--server", &c->server,
               "The server's URL (else $RACKSCALE_SERVER, else `server` in the config file, else "
               "http://127.0.0.1:8642)");
  AddToken(sub, "--token", &c->token,
           "The bearer token (else --token-file, $RACKSCALE_TOKEN, or `token`/`token_file` in the config file "
           "$RACKSCALE_CONFIG or ~/.config/rackscale/config.toml)");
  AddInFile(sub, "--token-file", &c->token_file, "A file that holds the bearer token");
  if (json_flag) sub->add_flag("--json", c->json, "Print the server's JSON instead of a table");
}

// A client for the resolved server and token, or nullopt with the error
// printed and *rc set.
std::optional<ctl::ApiClient> Connect(const Conn& c, int* rc) {
  ctl::ClientSources s = ctl::ClientSources::FromEnvironment();
  s.server_flag = c.server;
  s.token_flag = c.token;
  s.token_file_flag = c.token_file;
  Result<ctl::ClientSettings> settings = ctl::ResolveClientSettings(s);
  if (!settings.ok()) {
    *rc = ReportError(settings.error());
    return std::nullopt;
  }
  ctl::ApiClient::Options o;
  o.server = settings->server;
  o.token = settings->token;
  Result<ctl::ApiClient> api = ctl::ApiClient::Create(std::move(o));
  if (!api.ok()) {
    *rc = ReportError(api.error());
    return std::nullopt;
  }
  return std::move(*api);
}

// Request fields -> the flags that set them (for error messages).
using FlagOf = std::map<std::string, std::string>;

int Fail(const std::string& message, int rc) {
  std::fprintf(stderr, "rackscale: error: %s\n", message.c_str());
  return rc;
}

// Prints an error answer; returns its exit code.
int ReportApiError(const ctl::ApiResponse& r, const FlagOf* flag_of) {
  const ctl::ApiError e = r.error();
  std::string text;
  if (!e.field.empty()) {
    text = fmt::format("field '{}'", e.field);
    if (flag_of != nullptr) {
      auto it = flag_of->find(e.field.substr(0, e.field.find_first_of(".[")));
      if (it != flag_of->end()) text += " (" + it->second + ")";
    }
    text += ": ";
  }
  text += fmt::format("{} (HTTP {} {})", e.message, r.status, e.code);
  if (r.status == 401) text += "; check the token (--token, --token-file, RACKSCALE_TOKEN or the config file)";
  return Fail(text, ExitCodeForStatus(r.status));
}

// The answer to a request when it is a 2xx with a JSON object; otherwise
// prints why (no answer, an error answer, not JSON), sets *rc, nullopt.
std::optional<ctl::ApiResponse> Expect(Result<ctl::ApiResponse> r, int* rc, const FlagOf* flag_of = nullptr) {
  if (!r.ok()) {
    *rc = Fail(r.error().ToString(), kExitServer);
    return std::nullopt;
  }
  if (!r->ok()) {
    *rc = ReportApiError(*r, flag_of);
    return std::nullopt;
  }
  if (!r->json.is_object()) {
    *rc = Fail(fmt::format("HTTP {}: the answer is not a JSON object (is this a rackscale server?)", r->status),
               kExitFailure);
    return std::nullopt;
  }
  return std::move(*r);
}

int Print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  return kExitOk;
}

int PrintJson(const json& j) { return PrintJsonDocument(j.dump(2) + "\n"); }

// An integer field of a JSON object, 0 when absent or not an integer.
int64_t Int(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string Str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() ? Cell(*it) : std::string();
}

const json& Array(const json& o, const char* key) {
  static const json kEmpty = json::array();
  auto it = o.find(key);
  return it != o.end() && it->is_array() ? *it : kEmpty;
}

// An argument as a POSIX shell reads it back.
std::string ShellWord(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-") ==
                        std::string::npos) {
    return s;
  }
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Seconds(const json& v) {
  if (!v.is_number_integer()) return Cell(v);
  const int64_t s = v.get<int64_t>();
  return s == 0 ? "0" : fmt::format("{} ({})", s, FormatDuration(static_cast<double>(s)));
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A field's value for people: times as UTC, durations with their unit,
// commands as shell words, env as K=V.
std::string Human(const std::string& key, const json& v) {
  if (EndsWith(key, "_time") && v.is_number_integer()) return FormatUnixTime(v.get<int64_t>());
  if (EndsWith(key, "_s") && v.is_number_integer()) return Seconds(v);
  if (key == "command" && v.is_array()) {
    std::string out;
    for (const json& a : v) out += (out.empty() ? "" : " ") + ShellWord(Cell(a));
    return out;
  }
  if (key == "env" && v.is_object()) {
    std::string out;
    for (const auto& [k, val] : v.items()) out += (out.empty() ? "" : " ") + k + "=" + ShellWord(Cell(val));
    return out;
  }
  return Cell(v);
}

// Text validators.
CLI::Validator NonEmpty() {
  return CLI::Validator([](std::string& s) { return s.empty() ? std::string("expected a name, got ''") : ""; }, "");
}

CLI::Validator CommaList(std::string what, std::set<std::string> allowed) {
  return CLI::Validator(
      [what, allowed](std::string& s) -> std::string {
        size_t pos = 0;
        for (;;) {
          const size_t comma = s.find(',', pos);
          const std::string item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
          bool ok = !item.empty() && item.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos;
          if (ok && !allowed.empty()) ok = allowed.count(item) > 0;
          if (!ok) return fmt::format("expected a comma-separated list of {}, got {}", what, Quote(s));
          if (comma == std::string::npos) return "";
          pos = comma + 1;
        }
      },
      "");
}

// An id (a job's, a token's): a whole number >= 1, kept as its digits for
// the request path.
std::string CheckId(std::string& s) {
  const bool digits = !s.empty() && s.size() <= 19 && s.find_first_not_of("0123456789") == std::string::npos;
  const std::optional<int64_t> id = digits ? ParseInt(s) : std::nullopt;
  return id && *id >= 1 ? "" : fmt::format("expected an id (a whole number >= 1), got {}", Quote(s));
}

CLI::Option* AddId(CLI::App* sub, const std::string& name, std::string* v, const std::string& help) {
  return sub->add_option(name, *v, help)->required()->check(CLI::Validator(CheckId, ""));
}

// ---------------------------------------------------------------------------
// Jobs.

const char* const kJobStates = "pending, running, succeeded, failed, cancelled";
const std::set<std::string> kJobStateSet = {"pending", "running", "succeeded", "failed", "cancelled"};

// Elapsed run time of a job: until now while running, start to end when it ran and ended.
int64_t Elapsed(const json& j, int64_t now) {
  const int64_t start = Int(j, "start_time"), end = Int(j, "end_time");
  if (start == 0) return 0;
  return Str(j, "state") == "running" ? now - start : end > start ? end - start : 0;
}

const std::vector<std::string> kJobColumns = {"ID", "TENANT", "NAME", "STATE", "GPUS", "NODES", "TIME", "REASON"};

std::vector<std::string> JobRow(const json& j, int64_t now) {
  const json& placement = Array(j, "placement");
  std::set<std::string> nodes;
  for (const json& t : placement) nodes.insert(Str(t, "node"));
  const int64_t want = Int(j, "nodes");
  return {Str(j, "id"),
          Str(j, "tenant"),
          Str(j, "name"),
          Str(j, "state"),
          Str(j, "gpus"),
          !nodes.empty() ? std::to_string(nodes.size())
          : want > 0     ? std::to_string(want)
                         : "",
          FormatElapsed(Elapsed(j, now)),
          Str(j, "reason")};
}

// The jobs of GET /v1/jobs with `q`, page after page while `all` (else the
// first page). *more: the server has more than was fetched. Returns the
// exit code.
int FetchJobs(ctl::ApiClient& api, ctl::Query q, bool all, json* jobs, bool* more) {
  *jobs = json::array();
  *more = false;
  std::string cursor;
  for (;;) {
    ctl::Query page = q;
    if (!cursor.empty()) page.emplace_back("cursor", cursor);
    int rc = kExitOk;
    std::optional<ctl::ApiResponse> r = Expect(api.Get("/v1/jobs", page), &rc);
    if (!r) return rc;
    for (const json& j : Array(r->json, "jobs")) jobs->push_back(j);
    auto next = r->json.find("next_cursor");
    if (next == r->json.end() || !next->is_string() || next->get<std::string>().empty()) return kExitOk;
    if (!all) {
      *more = true;
      return kExitOk;
    }
    if (next->get<std::string>() == cursor) {
      return Fail(fmt::format("{}: GET /v1/jobs: next_cursor '{}' did not advance", api.server(), cursor),
                  kExitFailure);
    }
    cursor = next->get<std::string>();
  }
}

struct SubmitArgs {
  Conn conn;
  int32_t gpus = 0, cpus = 0, nodes = 0, priority = 0;
  std::string topology, gpu_model, on_node_lost, name, tenant, request_id, file;
  bool preemptible = false;
  double time_limit_s = 0, checkpoint_s = 0, duration_s = 0;
  std::vector<std::string> env, command;
};

const FlagOf kSubmitFlags = {
    {"name", "--name"},
    {"tenant", "--tenant"},
    {"gpus", "--gpus"},
    {"cpus", "--cpus"},
    {"nodes", "--nodes"},
    {"topology", "--topology"},
    {"gpu_model", "--gpu-model"},
    {"priority", "--priority"},
    {"preemptible", "--preemptible"},
    {"time_limit_s", "--time-limit"},
    {"checkpoint_s", "--checkpoint"},
    {"on_node_lost", "--on-node-lost"},
    {"command", "COMMAND"},
    {"env", "--env"},
    {"duration_s", "--duration"},
    {"request_id", "--request-id"},
};

// The request body: the --file's object, then the flags given over it.
Result<json> SubmitBody(const SubmitArgs& a, const CLI::App& sub) {
  json body = json::object();
  if (!a.file.empty()) {
    Result<std::string> text = ReadFileMaybeGz(a.file, "JSON");
    if (!text.ok()) return text.error();
    body = json::parse(*text, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return Error::InvalidInput(a.file, 0, "", "expected a JSON object: the fields of POST /v1/jobs (docs/api.md)");
    }
  }
  auto given = [&](const char* flag) { return sub.count(flag) > 0; };
  if (given("--name")) body["name"] = a.name;
  if (given("--tenant")) body["tenant"] = a.tenant;
  if (given("--gpus")) body["gpus"] = a.gpus;
  if (given("--cpus")) body["cpus"] = a.cpus;
  if (given("--nodes")) body["nodes"] = a.nodes;
  if (given("--topology")) body["topology"] = a.topology;
  if (given("--gpu-model")) body["gpu_model"] = a.gpu_model;
  if (given("--priority")) body["priority"] = a.priority;
  if (a.preemptible) body["preemptible"] = true;
  if (given("--time-limit")) body["time_limit_s"] = std::llround(a.time_limit_s);
  if (given("--checkpoint")) body["checkpoint_s"] = std::llround(a.checkpoint_s);
  if (given("--on-node-lost")) body["on_node_lost"] = a.on_node_lost;
  if (given("--duration")) body["duration_s"] = std::llround(a.duration_s);
  if (given("--request-id")) body["request_id"] = a.request_id;
  if (!a.env.empty()) {
    json& env = body["env"];
    if (env.is_null()) env = json::object();
    if (!env.is_object()) return Error::InvalidInput(a.file, 0, "env", "expected an object of NAME: VALUE");
    for (const std::string& kv : a.env) {
      const size_t eq = kv.find('=');
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  if (!a.command.empty()) body["command"] = a.command;
  return body;
}

int RunSubmit(const SubmitArgs& a, const CLI::App& sub) {
  Result<json> body = SubmitBody(a, sub);
  if (!body.ok()) return ReportError(body.error());
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  std::optional<ctl::ApiResponse> r = Expect(api->Post("/v1/jobs", *body), &rc, &kSubmitFlags);
  if (!r) return rc;
  if (a.conn.json) return PrintJson(r->json);
  if (r->status == 200) {
    return Print(fmt::format("Job {} was already submitted with request id '{}'\n", Str(r->json, "id"),
                             Str(r->json, "request_id")));
  }
  return Print(fmt::format("Submitted job {}\n", Str(r->json, "id")));
}

void RegisterJobSubmit(CLI::App& job, CommandFn* run) {
  auto a = std::make_shared<SubmitArgs>();
  CLI::App* sub = job.add_subcommand(
      "submit",
      "Submit a job (POST /v1/jobs) and print its id, like sbatch. The fields of --file (a JSON object of "
      "POST /v1/jobs's fields, docs/api.md) are the base; the flags given override them; the words after -- are "
      "the command, run on every node of the job's placement. --time-limit is required (here or in the file). "
      "Durations take rackscale's grammar (90s, 45m, 36h, 2d, D-HH:MM:SS); a bare number is seconds, unlike "
      "sbatch --time.\n"
      "Example: rackscale job submit --gpus 16 --topology domain --time-limit 2d --checkpoint 30m "
      "--env EPOCHS=3 -- python train.py --lr 3e-4");
  AddInt(sub, "--gpus", &a->gpus, "GPUs", 0, 1048576);
  AddInt(sub, "--cpus", &a->cpus, "CPU cores of a CPU job (with --gpus 0)", 0, 1048576);
  AddInt(sub, "--nodes", &a->nodes, "Exactly this many whole nodes", 1, 65536);
  AddChoice(sub, "--topology", &a->topology, "Where the gang may spread (default any)",
            {"any", "block", "domain", "node", "multi-site"});
  sub->add_option("--gpu-model", a->gpu_model, "An accelerator of the fleet (default: any)");
  AddInt(sub, "--priority", &a->priority, "Priority", -1000000, 1000000);
  sub->add_flag("--preemptible", a->preemptible, "The job may be preempted");
  AddDuration(sub, "--time-limit", &a->time_limit_s, "Time limit", DurationUnit::kSeconds, 1, 3650 * 86400.0);
  AddDuration(sub, "--checkpoint", &a->checkpoint_s, "The job checkpoints this often", DurationUnit::kSeconds, 1,
              3650 * 86400.0);
  AddChoice(sub, "--on-node-lost", &a->on_node_lost,
            "When a node of the job is lost (default: requeue with --checkpoint, else fail)", {"requeue", "fail"});
  sub->add_option("--env", a->env, "An environment variable NAME=VALUE for the command (repeatable)")
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            const size_t eq = s.find('=');
            const std::string name = s.substr(0, eq);
            const bool ok = eq != std::string::npos && !name.empty() &&
                            !std::isdigit(static_cast<unsigned char>(name[0])) &&
                            name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
                                std::string::npos;
            return ok ? "" : fmt::format("expected NAME=VALUE with NAME of [A-Za-z_][A-Za-z0-9_]*, got {}", Quote(s));
          },
          ""));
  AddDuration(sub, "--duration", &a->duration_s, "How long an emulated agent runs the job", DurationUnit::kSeconds, 0,
              3650 * 86400.0);
  sub->add_option("--name", a->name, "The job's name");
  sub->add_option("--tenant", a->tenant, "Submit for this tenant (admin token only; a tenant token implies its own)");
  sub->add_option("--request-id", a->request_id,
                  "A client-chosen id: submitting again with the same id returns the same job instead of a new one");
  AddInFile(sub, "--file", &a->file, "A JSON object of the job's fields (docs/api.md), overridden by the flags");
  sub->add_option("command", a->command, "The command and its arguments, after --");
  AddConnFlags(sub, &a->conn);
  sub->callback([a, run, sub] { *run = [a, sub] { return RunSubmit(*a, *sub); }; });
}

struct ListArgs {
  Conn conn;
  std::string states, tenant, fields;
  int64_t limit = 100;
  bool all = false;
};

int RunList(const ListArgs& a) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  ctl::Query q;
  if (!a.states.empty()) q.emplace_back("state", a.states);
  if (!a.tenant.empty()) q.emplace_back("tenant", a.tenant);
  q.emplace_back("limit", std::to_string(a.limit));
  if (!a.fields.empty()) q.emplace_back("fields", a.fields);
  json jobs;
  bool more = false;
  if ((rc = FetchJobs(*api, q, a.all, &jobs, &more)) != kExitOk) return rc;
  if (a.conn.json) {
    json out = {{"jobs", jobs}};
    if (more) out["more"] = true;
    rc = PrintJson(out);
  } else {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header;
    if (a.fields.empty()) {
      header = kJobColumns;
      const int64_t now = std::time(nullptr);
      for (const json& j : jobs) rows.push_back(JobRow(j, now));
    } else {
      std::vector<std::string> keys = {"id"};
      for (size_t pos = 0; pos <= a.fields.size();) {
        const size_t comma = std::min(a.fields.find(',', pos), a.fields.size());
        const std::string k = a.fields.substr(pos, comma - pos);
        if (k != "id") keys.push_back(k);
        pos = comma + 1;
      }
      for (const std::string& k : keys) {
        std::string h = k;
        for (char& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        header.push_back(h);
      }
      for (const json& j : jobs) {
        std::vector<std::string> row;
        for (const std::string& k : keys) row.push_back(j.contains(k) ? Human(k, j[k]) : "");
        rows.push_back(std::move(row));
      }
    }
    rc = Print(FormatTable(header, rows));
  }
  if (more) std::fprintf(stderr, "rackscale: more jobs follow: --all lists them all\n");
  return rc;
}

void RegisterJobList(CLI::App& job, CommandFn* run) {
  auto a = std::make_shared<ListArgs>();
  CLI::App* sub = job.add_subcommand(
      "list",
      "List jobs (GET /v1/jobs) in id order: a tenant's token sees its own. One page of --limit jobs, or every "
      "page with --all. --json prints {\"jobs\": [...]} (with \"more\": true when a page was left).\n"
      "Example: rackscale job list --state pending,running --all");
  sub->add_option("--state", a->states, fmt::format("Only jobs in these states (comma list of {})", kJobStates))
      ->check(CommaList(fmt::format("job states ({})", kJobStates), kJobStateSet));
  sub->add_option("--tenant", a->tenant, "Only this tenant's jobs (admin token)");
  AddInt(sub, "--limit", &a->limit, "Jobs per page", 1, 1000);
  sub->add_flag("--all", a->all, "Follow next_cursor through every page");
  sub->add_option("--fields", a->fields, "Only these job fields, as the table's columns (comma list; id always)")
      ->check(CommaList("job fields (docs/api.md)", {}));
  AddConnFlags(sub, &a->conn);
  sub->callback([a, run] { *run = [a] { return RunList(*a); }; });
}

struct JobIdArgs {
  Conn conn;
  std::string id;
};

// The key order of `job show`; other keys follow in the server's order.
const std::vector<std::string> kShowOrder = {
    "id",         "name",        "tenant",       "state",        "reason",       "attempt",
    "exit_code",  "gpus",        "cpus",         "nodes",        "topology",     "gpu_model",
    "priority",   "preemptible", "time_limit_s", "checkpoint_s", "on_node_lost", "duration_s",
    "request_id", "submit_time", "start_time",   "end_time",     "command",      "env"};

int RunShow(const JobIdArgs& a) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  std::optional<ctl::ApiResponse> r = Expect(api->Get(fmt::format("/v1/jobs/{}", a.id)), &rc);
  if (!r) return rc;
  const json& j = r->json;
  if (a.conn.json) return PrintJson(j);
  std::vector<std::vector<std::string>> rows;
  for (const std::string& k : kShowOrder) {
    if (j.contains(k)) rows.push_back({k, Human(k, j[k])});
  }
  for (const auto& [k, v] : j.items()) {
    if (k != "placement" && std::find(kShowOrder.begin(), kShowOrder.end(), k) == kShowOrder.end()) {
      rows.push_back({k, Human(k, v)});
    }
  }
  if (Str(j, "state") == "running" || Int(j, "end_time") > 0) {
    rows.push_back({"elapsed", FormatElapsed(Elapsed(j, std::time(nullptr)))});
  }
  std::string out = FormatTable({}, rows);
  const json& placement = Array(j, "placement");
  if (!placement.empty()) {
    std::vector<std::vector<std::string>> tasks;
    for (const json& t : placement) {
      std::vector<int64_t> gpus;
      for (const json& g : Array(t, "gpus")) gpus.push_back(g.is_number_integer() ? g.get<int64_t>() : -1);
      tasks.push_back({Str(t, "rank"), Str(t, "node"), FormatIndexRanges(gpus), Str(t, "phase"), Str(t, "log")});
    }
    out += "\nplacement:\n" + FormatTable({"RANK", "NODE", "GPUS", "PHASE", "LOG"}, tasks);
  }
  return Print(out);
}

void RegisterJobShow(CLI::App& job, CommandFn* run) {
  auto a = std::make_shared<JobIdArgs>();
  CLI::App* sub = job.add_subcommand(
      "show",
      "Show one job (GET /v1/jobs/ID): its fields, then its placement (rank, node, GPUs, phase, log), like "
      "scontrol show job. Times are UTC.\n"
      "Example: rackscale job show 42");
  AddId(sub, "id", &a->id, "The job's id");
  AddConnFlags(sub, &a->conn);
  sub->callback([a, run] { *run = [a] { return RunShow(*a); }; });
}

struct CancelArgs {
  Conn conn;
  std::vector<std::string> ids;
};

int RunCancel(const CancelArgs& a) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  int first = kExitOk;
  for (const std::string& id : a.ids) {
    int one = kExitOk;
    std::optional<ctl::ApiResponse> r = Expect(api->Post(fmt::format("/v1/jobs/{}/cancel", id), json::object()), &one);
    if (!r) {
      if (first == kExitOk) first = one;
      if (one == kExitServer) break;  // the others would fail the same way
      continue;
    }
    if (a.conn.json) {
      Print(r->json.dump() + "\n");
    } else {
      Print(fmt::format("Cancelled job {}\n", id));
    }
  }
  return first;
}

void RegisterJobCancel(CLI::App& job, CommandFn* run) {
  auto a = std::make_shared<CancelArgs>();
  CLI::App* sub = job.add_subcommand(
      "cancel",
      "Cancel jobs (POST /v1/jobs/ID/cancel), like scancel: each in turn; a failure is reported and the rest are "
      "still cancelled; the exit code is the first failure's. Cancelling a finished job is a conflict (exit 5). "
      "--json prints each cancelled job's object on one line.\n"
      "Example: rackscale job cancel 42 43");
  sub->add_option("ids", a->ids, "Job ids")->required()->check(CLI::Validator(CheckId, ""));
  AddConnFlags(sub, &a->conn);
  sub->callback([a, run] { *run = [a] { return RunCancel(*a); }; });
}

int RunEvents(const JobIdArgs& a) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  std::optional<ctl::ApiResponse> r = Expect(api->Get(fmt::format("/v1/jobs/{}/events", a.id)), &rc);
  if (!r) return rc;
  if (a.conn.json) return PrintJson(r->json);
  std::vector<std::vector<std::string>> rows;
  for (const json& e : Array(r->json, "events")) {
    rows.push_back({Str(e, "seq"), FormatUnixTime(Int(e, "time")), Str(e, "type"), Str(e, "node"),
                    e.contains("data") ? e["data"].dump() : ""});
  }
  return Print(FormatTable({"SEQ", "TIME", "TYPE", "NODE", "DATA"}, rows));
}

void RegisterJobEvents(CLI::App& job, CommandFn* run) {
  auto a = std::make_shared<JobIdArgs>();
  CLI::App* sub = job.add_subcommand(
      "events",
      "A job's events (GET /v1/jobs/ID/events): submitted, started (attempt, placement), running, preempted, "
      "requeued, and how it ended. Times are UTC.\n"
      "Example: rackscale job events 42");
  AddId(sub, "id", &a->id, "The job's id");
  AddConnFlags(sub, &a->conn);
  sub->callback([a, run] { *run = [a] { return RunEvents(*a); }; });
}

// The agent's default --log-dir (rackscale agent).
constexpr const char* kAgentLogDir = "/var/log/rackscale/tasks";

struct LogsArgs {
  Conn conn;
  std::string id;
  int32_t rank = 0;
  int32_t attempt = 0;  // 0: the last
  bool err = false;
  std::string log_dir = kAgentLogDir;
};

// Copies the file at `path` to stdout; false if it cannot be opened.
bool CopyToStdout(const std::string& path, int* rc) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  struct stat st;
  if (::fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
    std::fclose(f);
    return false;
  }
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) std::fwrite(buf, 1, n, stdout);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  *rc = failed ? Fail(path + ": read failed", kExitFailure) : kExitOk;
  return true;
}

int RunLogs(const LogsArgs& a) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  std::optional<ctl::ApiResponse> r = Expect(api->Get("/v1/jobs/" + a.id), &rc);
  if (!r) return rc;
  const json& j = r->json;
  const int64_t last = Int(j, "attempt");
  const int64_t attempt = a.attempt > 0 ? a.attempt : last;
  if (last == 0) {
    return Fail(fmt::format("job {} is {} and has not started: no logs", a.id, Str(j, "state")), kExitFailure);
  }
  if (attempt > last)
    return Fail(fmt::format("--attempt {}: job {} has attempts 1 to {}", attempt, a.id, last), kExitBadInput);
  // The running attempt's placement is in the job; an ended one's (the
  // server clears it) in the attempt's job.started event.
  json placement = Array(j, "placement");
  if (attempt != last || placement.empty()) {
    std::optional<ctl::ApiResponse> ev = Expect(api->Get("/v1/jobs/" + a.id + "/events"), &rc);
    if (!ev) return rc;
    placement = json::array();
    for (const json& e : Array(ev->json, "events")) {
      const json& data = e.contains("data") ? e["data"] : json();
      if (Str(e, "type") == "job.started" && data.is_object() && Int(data, "attempt") == attempt) {
        placement = Array(data, "placement");
      }
    }
    if (placement.empty()) {
      return Fail(fmt::format("job {}: no placement of attempt {} in its events", a.id, attempt), kExitFailure);
    }
  }
  if (static_cast<size_t>(a.rank) >= placement.size()) {
    return Fail(fmt::format("--rank {}: job {} has ranks 0 to {}", a.rank, a.id, placement.size() - 1), kExitBadInput);
  }
  const json& task = placement[static_cast<size_t>(a.rank)];
  const std::string node = Str(task, "node");
  const char* ext = a.err ? ".err" : ".out";
  // The path the agent reported (its .out; .err beside it), else the agent's layout under --log-dir.
  std::string path = Str(task, "log");
  const bool reported = !path.empty();
  if (reported && a.err && EndsWith(path, ".out")) path.replace(path.size() - 4, 4, ".err");
  const std::string layout = fmt::format("{}/{}-{}{}", a.id, attempt, a.rank, ext);
  if (!reported) path = a.log_dir + "/" + layout;
  if (CopyToStdout(path, &rc)) return rc;
  if (reported) {
    return Fail(fmt::format("job {} rank {} ran on node {}: its log is there at {} (not readable on this host)", a.id,
                            a.rank, node, path),
                kExitFailure);
  }
  return Fail(fmt::format("job {} rank {} ran on node {}, whose agent has not reported its log's path; {} is not "
                          "readable on this host (the agent writes LOG_DIR/{} on its node; --log-dir names LOG_DIR as "
                          "seen from here)",
                          a.id, a.rank, node, path, layout),
              kExitFailure);
}

void RegisterJobLogs(CLI::App& job, CommandFn* run) {
  auto a = std::make_shared<LogsArgs>();
  CLI::App* sub = job.add_subcommand(
      "logs",
      "Print the output of one rank of one attempt of a job (by default its current or last one). The agent that "
      "runs a task writes its stdout and stderr on its node to LOG_DIR/JOB/ATTEMPT-RANK.out and .err and reports "
      "the .out's path, which the running job's placement carries (\"log\"); otherwise (not reported yet, or an "
      "ended attempt, whose node comes from its job.started event) the path is --log-dir's. The file is read when "
      "it is readable on this host (the agent's machine, or a shared file system); otherwise the command says on "
      "which node it is (exit 1). The server does not carry logs.\n"
      "Example: rackscale job logs 42 --rank 1 --err");
  AddId(sub, "id", &a->id, "The job's id");
  AddInt(sub, "--rank", &a->rank, "The rank (the placement's index)", 0, 65535);
  AddInt(sub, "--attempt", &a->attempt, "The attempt (0: the last one)", 0, 1000000);
  sub->add_flag("--err", a->err, "Print the task's stderr (.err) instead of its stdout (.out)");
  sub->add_option("--log-dir", a->log_dir,
                  "The agents' log directory as seen from this host, for a log whose path the agent has not "
                  "reported")
      ->capture_default_str();
  AddConnFlags(sub, &a->conn, false);
  sub->callback([a, run] { *run = [a] { return RunLogs(*a); }; });
}

struct ExportArgs {
  Conn conn;
  int64_t since = 0;
  std::string out;
};

int RunExport(const ExportArgs& a) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  Result<ctl::ApiResponse> r = api->Get("/v1/export", {{"since", std::to_string(a.since)}});
  if (!r.ok()) return Fail(r.error().ToString(), kExitServer);
  if (!r->ok()) return ReportApiError(*r, nullptr);
  if (a.out.empty()) return Print(r->body);
  if (Status st = WriteFile(a.out, r->body); !st) return ReportError(st.error());
  return kExitOk;
}

void RegisterJobExport(CLI::App& job, CommandFn* run) {
  auto a = std::make_shared<ExportArgs>();
  CLI::App* sub = job.add_subcommand(
      "export",
      "Export the event stream (GET /v1/export, admin token) as JSON lines, one event per line, for rackscale "
      "sim --replay.\n"
      "Example: rackscale job export --since 1000 -o events.jsonl");
  AddInt(sub, "--since", &a->since, "Only events after this sequence number", 0, INT64_MAX);
  AddOutFile(sub, "-o,--output", &a->out, "Write to this file (replaced atomically) instead of stdout");
  AddConnFlags(sub, &a->conn, false);
  sub->callback([a, run] { *run = [a] { return RunExport(*a); }; });
}

// ---------------------------------------------------------------------------
// The queue.

struct QueueArgs {
  Conn conn;
  std::string tenant;
};

int RunQueue(const QueueArgs& a) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  std::optional<ctl::ApiResponse> q = Expect(api->Get("/v1/queue"), &rc);
  if (!q) return rc;
  json tenants = json::array();
  for (const json& t : Array(q->json, "tenants")) {
    if (a.tenant.empty() || Str(t, "tenant") == a.tenant) tenants.push_back(t);
  }
  ctl::Query jq = {{"state", "pending,running"},
                   {"limit", "1000"},
                   {"fields", "tenant,name,state,gpus,nodes,start_time,end_time,reason,placement"}};
  if (!a.tenant.empty()) jq.emplace_back("tenant", a.tenant);
  json jobs;
  bool more = false;
  if ((rc = FetchJobs(*api, jq, true, &jobs, &more)) != kExitOk) return rc;
  if (a.conn.json) return PrintJson({{"tenants", tenants}, {"jobs", jobs}});
  std::vector<std::vector<std::string>> rows;
  for (const json& t : tenants) {
    rows.push_back(
        {Str(t, "tenant"), Str(t, "pending"), Str(t, "running"), Str(t, "gpus_pending"), Str(t, "gpus_running")});
  }
  std::string out = FormatTable({"TENANT", "PENDING", "RUNNING", "GPUS_PENDING", "GPUS_RUNNING"}, rows);
  rows.clear();
  const int64_t now = std::time(nullptr);
  for (const json& j : jobs) rows.push_back(JobRow(j, now));
  out += "\n" + FormatTable(kJobColumns, rows);
  return Print(out);
}

void RegisterQueue(CLI::App& app, CommandFn* run) {
  auto a = std::make_shared<QueueArgs>();
  CLI::App* sub = app.add_subcommand(
      "queue",
      "The queue, like squeue: per tenant, its pending and running jobs and GPUs (GET /v1/queue), then every "
      "pending and running job (GET /v1/jobs, all pages): ID TENANT NAME STATE GPUS NODES TIME (elapsed) REASON. "
      "A tenant's token sees its own. --json prints {\"tenants\": [...], \"jobs\": [...]}.\n"
      "Example: rackscale queue --tenant t0");
  sub->add_option("--tenant", a->tenant, "Only this tenant");
  AddConnFlags(sub, &a->conn);
  sub->callback([a, run] { *run = [a] { return RunQueue(*a); }; });
}

// ---------------------------------------------------------------------------
// Nodes.

struct NodeArgs {
  Conn conn;
  std::string name, reason;
};

int RunNodeList(const NodeArgs& a) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  std::optional<ctl::ApiResponse> r = Expect(api->Get("/v1/nodes"), &rc);
  if (!r) return rc;
  if (a.conn.json) return PrintJson(r->json);
  std::vector<std::vector<std::string>> rows;
  for (const json& n : Array(r->json, "nodes")) {
    rows.push_back({Str(n, "name"), Str(n, "state"), Str(n, "gpus"), Str(n, "gpus_used"), Str(n, "gpu_model"),
                    Str(n, "site"), Str(n, "domain_type"), Str(n, "agent"), Str(n, "reason")});
  }
  return Print(FormatTable({"NAME", "STATE", "GPUS", "USED", "MODEL", "SITE", "DOMAIN", "AGENT", "REASON"}, rows));
}

int RunNodeChange(const NodeArgs& a, bool drain) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  json body = json::object();
  if (!a.reason.empty()) body["reason"] = a.reason;
  const std::string path = fmt::format("/v1/nodes/{}/{}", ctl::UrlEncode(a.name), drain ? "drain" : "resume");
  std::optional<ctl::ApiResponse> r = Expect(api->Post(path, body), &rc);
  if (!r) return rc;
  if (a.conn.json) return PrintJson(r->json);
  return Print(fmt::format("Node {} is {}\n", a.name, Str(r->json, "state")));
}

void RegisterNode(CLI::App& app, CommandFn* run) {
  CLI::App* node = app.add_subcommand("node", "The fleet's nodes: list, drain, resume (docs/operate.md#clients)");
  node->require_subcommand(1);
  {
    auto a = std::make_shared<NodeArgs>();
    CLI::App* sub = node->add_subcommand(
        "list",
        "List the fleet's nodes (GET /v1/nodes): state (unknown until an agent registers it, up, draining, "
        "drained, lost), GPUs and those in use, model, site, domain type, agent, reason.\n"
        "Example: rackscale node list");
    AddConnFlags(sub, &a->conn);
    sub->callback([a, run] { *run = [a] { return RunNodeList(*a); }; });
  }
  {
    auto a = std::make_shared<NodeArgs>();
    CLI::App* sub = node->add_subcommand(
        "drain",
        "Drain a node (admin): no new work is placed on it; it is drained once its jobs end. Only an up node can "
        "be drained (exit 5 otherwise).\n"
        "Example: rackscale node drain east-d0002-n00 --reason 'bad DIMM'");
    sub->add_option("name", a->name, "The node's name")->required()->check(NonEmpty());
    sub->add_option("--reason", a->reason, "Why (shown by node list)");
    AddConnFlags(sub, &a->conn);
    sub->callback([a, run] { *run = [a] { return RunNodeChange(*a, true); }; });
  }
  {
    auto a = std::make_shared<NodeArgs>();
    CLI::App* sub = node->add_subcommand("resume",
                                         "Return a draining or drained node to service (admin).\n"
                                         "Example: rackscale node resume east-d0002-n00");
    sub->add_option("name", a->name, "The node's name")->required()->check(NonEmpty());
    AddConnFlags(sub, &a->conn);
    sub->callback([a, run] { *run = [a] { return RunNodeChange(*a, false); }; });
  }
}

// ---------------------------------------------------------------------------
// Tenants.

struct TenantArgs {
  Conn conn;
  std::string name, cohort;
  double weight = 1;
  int64_t nominal_gpus = -1, borrowing_limit = -1;
};

// -1 (no quota, no limit) as "-".
std::string Limit(const json& o, const char* key) {
  const std::string v = Str(o, key);
  return v == "-1" ? "-" : v;
}

int RunTenantList(const TenantArgs& a) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  std::optional<ctl::ApiResponse> r = Expect(api->Get("/v1/tenants"), &rc);
  if (!r) return rc;
  if (a.conn.json) return PrintJson(r->json);
  std::vector<std::vector<std::string>> rows;
  for (const json& t : Array(r->json, "tenants")) {
    rows.push_back({Str(t, "name"), Str(t, "weight"), Limit(t, "nominal_gpus"), Str(t, "cohort"),
                    Limit(t, "borrowing_limit_gpus"), Str(t, "gpus_in_use")});
  }
  return Print(FormatTable({"NAME", "WEIGHT", "NOMINAL_GPUS", "COHORT", "BORROWING_LIMIT", "GPUS_IN_USE"}, rows));
}

int RunTenantShow(const TenantArgs& a) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  std::optional<ctl::ApiResponse> r = Expect(api->Get("/v1/tenants/" + ctl::UrlEncode(a.name)), &rc);
  if (!r) return rc;
  if (a.conn.json) return PrintJson(r->json);
  std::vector<std::vector<std::string>> rows;
  for (const auto& [k, v] : r->json.items()) rows.push_back({k, Cell(v)});
  return Print(FormatTable({}, rows));
}

int RunTenantSet(const TenantArgs& a, const CLI::App& sub) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  const std::string path = "/v1/tenants/" + ctl::UrlEncode(a.name);
  // PUT replaces the record: start from the current one (or the defaults of
  // a new tenant) so that the flags not given keep their values.
  json body = {{"weight", 1}, {"nominal_gpus", -1}, {"cohort", ""}, {"borrowing_limit_gpus", -1}};
  Result<ctl::ApiResponse> cur = api->Get(path);
  if (!cur.ok()) return Fail(cur.error().ToString(), kExitServer);
  if (cur->ok() && cur->json.is_object()) {
    for (auto& [k, v] : body.items()) {
      if (cur->json.contains(k)) v = cur->json[k];
    }
  } else if (cur->status != 404) {
    return ReportApiError(*cur, nullptr);
  }
  if (sub.count("--weight") > 0) body["weight"] = a.weight;
  if (sub.count("--nominal-gpus") > 0) body["nominal_gpus"] = a.nominal_gpus;
  if (sub.count("--cohort") > 0) body["cohort"] = a.cohort;
  if (sub.count("--borrowing-limit") > 0) body["borrowing_limit_gpus"] = a.borrowing_limit;
  const FlagOf flags = {{"weight", "--weight"},
                        {"nominal_gpus", "--nominal-gpus"},
                        {"cohort", "--cohort"},
                        {"borrowing_limit_gpus", "--borrowing-limit"}};
  std::optional<ctl::ApiResponse> r = Expect(api->Put(path, body), &rc, &flags);
  if (!r) return rc;
  if (a.conn.json) return PrintJson(r->json);
  return Print(fmt::format("Tenant {} {}: weight {}, nominal GPUs {}, cohort '{}', borrowing limit {}\n", a.name,
                           r->status == 201 ? "created" : "updated", Str(r->json, "weight"),
                           Limit(r->json, "nominal_gpus"), Str(r->json, "cohort"),
                           Limit(r->json, "borrowing_limit_gpus")));
}

int RunTenantDelete(const TenantArgs& a) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  std::optional<ctl::ApiResponse> r = Expect(api->Delete("/v1/tenants/" + ctl::UrlEncode(a.name)), &rc);
  if (!r) return rc;
  if (a.conn.json) return PrintJson(r->json);
  return Print(fmt::format("Deleted tenant {} (its tokens are revoked)\n", a.name));
}

void RegisterTenant(CLI::App& app, CommandFn* run) {
  CLI::App* tenant = app.add_subcommand("tenant", "Tenants and their quotas: list, show, set, delete");
  tenant->require_subcommand(1);
  {
    auto a = std::make_shared<TenantArgs>();
    CLI::App* sub = tenant->add_subcommand(
        "list",
        "List tenants (GET /v1/tenants; a tenant's token sees its own): weight, nominal GPUs and borrowing limit "
        "('-': none), cohort, GPUs in use.\n"
        "Example: rackscale tenant list");
    AddConnFlags(sub, &a->conn);
    sub->callback([a, run] { *run = [a] { return RunTenantList(*a); }; });
  }
  {
    auto a = std::make_shared<TenantArgs>();
    CLI::App* sub = tenant->add_subcommand("show", "Show one tenant.\nExample: rackscale tenant show t0");
    sub->add_option("name", a->name, "The tenant's name")->required()->check(NonEmpty());
    AddConnFlags(sub, &a->conn);
    sub->callback([a, run] { *run = [a] { return RunTenantShow(*a); }; });
  }
  {
    auto a = std::make_shared<TenantArgs>();
    CLI::App* sub = tenant->add_subcommand(
        "set",
        "Create a tenant or change its settings (admin; PUT /v1/tenants/NAME). The settings not given keep their "
        "current values (a new tenant's defaults: weight 1, no quota, no cohort, no borrowing limit). The current "
        "record is read first and written back whole: two admins setting one tenant at once can lose a change.\n"
        "Example: rackscale tenant set t3 --weight 2 --nominal-gpus 512 --cohort research");
    sub->add_option("name", a->name, "The tenant's name")->required()->check(NonEmpty());
    AddNumber(sub, "--weight", &a->weight, "Fair-share weight", 1e-6, 1e6);
    AddInt(sub, "--nominal-gpus", &a->nominal_gpus, "GPU quota (-1: none)", -1, int64_t{1} << 40);
    sub->add_option("--cohort", a->cohort, "The cohort whose unused quota it may borrow ('': none)");
    AddInt(sub, "--borrowing-limit", &a->borrowing_limit, "GPUs it may borrow beyond its quota (-1: no limit)", -1,
           int64_t{1} << 40);
    AddConnFlags(sub, &a->conn);
    sub->callback([a, run, sub] { *run = [a, sub] { return RunTenantSet(*a, *sub); }; });
  }
  {
    auto a = std::make_shared<TenantArgs>();
    CLI::App* sub = tenant->add_subcommand(
        "delete",
        "Delete a tenant (admin) and revoke its tokens. A tenant with pending or running jobs cannot be deleted "
        "(exit 5).\n"
        "Example: rackscale tenant delete t3");
    sub->add_option("name", a->name, "The tenant's name")->required()->check(NonEmpty());
    AddConnFlags(sub, &a->conn);
    sub->callback([a, run] { *run = [a] { return RunTenantDelete(*a); }; });
  }
}

// ---------------------------------------------------------------------------
// Tokens.

struct TokenArgs {
  Conn conn;
  std::string role, tenant, agent;
  std::string id;
};

int RunTokenCreate(const TokenArgs& a) {
  if (a.role == "tenant" && a.tenant.empty()) return Fail("--role tenant needs --tenant", kExitBadInput);
  if (a.role == "agent" && a.agent.empty()) return Fail("--role agent needs --agent", kExitBadInput);
  if (a.role != "tenant" && !a.tenant.empty()) return Fail("--tenant applies to --role tenant only", kExitBadInput);
  if (a.role != "agent" && !a.agent.empty()) return Fail("--agent applies to --role agent only", kExitBadInput);
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  json body = {{"role", a.role}};
  if (!a.tenant.empty()) body["tenant"] = a.tenant;
  if (!a.agent.empty()) body["agent"] = a.agent;
  const FlagOf flags = {{"role", "--role"}, {"tenant", "--tenant"}, {"agent", "--agent"}};
  std::optional<ctl::ApiResponse> r = Expect(api->Post("/v1/tokens", body), &rc, &flags);
  if (!r) return rc;
  if (a.conn.json) return PrintJson(r->json);
  const std::string of = !a.tenant.empty() ? ", tenant " + a.tenant : !a.agent.empty() ? ", agent " + a.agent : "";
  std::fprintf(stderr, "Created token %s (role %s%s); it is shown only this once\n", Str(r->json, "id").c_str(),
               a.role.c_str(), of.c_str());
  return Print(Str(r->json, "token") + "\n");
}

int RunTokenList(const TokenArgs& a) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  std::optional<ctl::ApiResponse> r = Expect(api->Get("/v1/tokens"), &rc);
  if (!r) return rc;
  if (a.conn.json) return PrintJson(r->json);
  std::vector<std::vector<std::string>> rows;
  for (const json& t : Array(r->json, "tokens")) {
    rows.push_back(
        {Str(t, "id"), Str(t, "role"), Str(t, "tenant"), Str(t, "agent"), FormatUnixTime(Int(t, "created"))});
  }
  return Print(FormatTable({"ID", "ROLE", "TENANT", "AGENT", "CREATED"}, rows));
}

int RunTokenRevoke(const TokenArgs& a) {
  int rc = kExitOk;
  std::optional<ctl::ApiClient> api = Connect(a.conn, &rc);
  if (!api) return rc;
  std::optional<ctl::ApiResponse> r = Expect(api->Delete(fmt::format("/v1/tokens/{}", a.id)), &rc);
  if (!r) return rc;
  if (a.conn.json) return PrintJson(r->json);
  return Print(fmt::format("Revoked token {}\n", a.id));
}

void RegisterToken(CLI::App& app, CommandFn* run) {
  CLI::App* token = app.add_subcommand("token", "Bearer tokens (admin): create, list, revoke");
  token->require_subcommand(1);
  {
    auto a = std::make_shared<TokenArgs>();
    CLI::App* sub = token->add_subcommand(
        "create",
        "Create a token (POST /v1/tokens). The token is printed alone on stdout, once: the server keeps only its "
        "SHA-256. Its id and role go to stderr.\n"
        "Example: rackscale token create --role tenant --tenant t0 > t0.token");
    AddChoice(sub, "--role", &a->role, "The token's role", {"admin", "tenant", "agent"})->required();
    sub->add_option("--tenant", a->tenant, "The tenant of a tenant token");
    sub->add_option("--agent", a->agent, "The agent name of an agent token");
    AddConnFlags(sub, &a->conn);
    sub->callback([a, run] { *run = [a] { return RunTokenCreate(*a); }; });
  }
  {
    auto a = std::make_shared<TokenArgs>();
    CLI::App* sub =
        token->add_subcommand("list",
                              "List the tokens (ids, roles, tenants, agents, creation times; never the secrets).\n"
                              "Example: rackscale token list");
    AddConnFlags(sub, &a->conn);
    sub->callback([a, run] { *run = [a] { return RunTokenList(*a); }; });
  }
  {
    auto a = std::make_shared<TokenArgs>();
    CLI::App* sub = token->add_subcommand("revoke",
                                          "Revoke a token by id (the last admin token cannot be revoked: exit 5).\n"
                                          "Example: rackscale token revoke 3");
    AddId(sub, "id", &a->id, "The token's id (token list)");
    AddConnFlags(sub, &a->conn);
    sub->callback([a, run] { *run = [a] { return RunTokenRevoke(*a); }; });
  }
}

}  // namespace

void RegisterClients(CLI::App& app, CommandFn* run) {
  CLI::App* job = app.add_subcommand(
      "job", "Jobs on a running control plane (rackscale serve): submit, list, show, cancel, events, logs, export");
  job->require_subcommand(1);
  RegisterJobSubmit(*job, run);
  RegisterJobList(*job, run);
  RegisterJobShow(*job, run);
  RegisterJobCancel(*job, run);
  RegisterJobEvents(*job, run);
  RegisterJobLogs(*job, run);
  RegisterJobExport(*job, run);
  RegisterQueue(app, run);
  RegisterNode(app, run);
  RegisterTenant(app, run);
  RegisterToken(app, run);
}

}  // namespace rackscale
