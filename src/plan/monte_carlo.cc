#include "plan/monte_carlo.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "base/file.h"
#include "base/text.h"
#include "plan/plan_run.h"
#include "plan/sensitivity.h"

namespace rackscale {
namespace {

using json = nlohmann::ordered_json;

std::string MonthOf(const McIdentity& id, int64_t t) {
  if (t < 0) return "never";
  const int32_t y = std::stoi(id.start.substr(0, 4));
  const int32_t m = std::stoi(id.start.substr(5, 2));
  const int64_t ym = y * 12 + m - 1 + t;
  return fmt::format("{:04}-{:02}", ym / 12, ym % 12 + 1);
}

std::string CsvQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += "\"\"";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out + "\"";
}

// The columns before the error (which is last and may hold commas).
size_t FixedColumns(const McIdentity& id) { return 1 + id.inputs.size() + 5 + id.contracts.size() + 3; }

std::string CsvHeader(const McIdentity& id) {
  std::string h = "draw";
  for (const McInput& in : id.inputs) h += "," + in.key;
  h += ",status,npv_usd,first_full_month,first_full_date,short_gpu_months";
  for (const std::string& c : id.contracts) h += ",met:" + c;
  h += ",capex_usd,solver_stopped_by,solver_gap,error";
  return h;
}

Status WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Io("pipe", std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

json Percentiles(std::vector<double> v, const std::function<json(double)>& show) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  return json{{"p10", show(NearestRank(v, 10))}, {"p50", show(NearestRank(v, 50))}, {"p90", show(NearestRank(v, 90))}};
}

}  // namespace

std::string ScenarioDigest(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return fmt::format("fnv1a64:{:016x}", h);
}

double NearestRank(const std::vector<double>& sorted, int p) {
  const int64_t n = static_cast<int64_t>(sorted.size());
  int64_t rank = (static_cast<int64_t>(p) * n + 99) / 100;  // ceil(p n / 100)
  rank = std::clamp<int64_t>(rank, 1, n);
  return sorted[static_cast<size_t>(rank - 1)];
}

McDraw SolveDraw(const Scenario& s, const PlanOptions& o, uint64_t seed, int64_t index) {
  McDraw d;
  d.index = index;
  Rng rng = DrawRng(seed, index);
  Scenario copy = s;
  for (const UncertainInput& u : s.uncertainty) d.values.push_back(u.dist.Sample(rng));
  for (size_t k = 0; k < s.uncertainty.size(); ++k) {
    if (Status st = SetScenarioValue(copy, s.uncertainty[k].key, d.values[k]); !st) {
      d.ok = false;
      d.error = st.error().ToString();
      return d;
    }
  }
  auto p = SolveScenario(copy, o);
  if (!p) {
    d.ok = false;
    d.error = p.error().ToString();
    d.met.assign(s.contracts.size(), 0);
    return d;
  }
  d.npv_usd = TotalNpv(*p);
  d.first_full_month = p->result.first_full_month;
  d.met.assign(s.contracts.size(), 1);
  for (const PlanShortfall& f : p->result.shortfalls) {
    d.short_gpu_months += f.gpus;
    if (f.contract >= 0 && static_cast<size_t>(f.contract) < d.met.size()) d.met[static_cast<size_t>(f.contract)] = 0;
  }
  d.capex_usd = p->result.capex_usd;
  d.stopped_by = p->result.stopped_by;
  d.gap = p->result.gap;
  return d;
}

McIdentity MonteCarloIdentity(const Scenario& s, const std::string& digest, const McOptions& o) {
  McIdentity id;
  id.scenario = s.name;
  id.digest = digest;
  id.start = s.MonthName(0);
  id.months = s.months;
  id.seed = o.seed;
  id.draws = o.draws;
  id.solve_for = o.plan.solve_for_payroll ? "payroll" : "";
  id.time_limit_s = o.plan.time_limit_s > 0 ? o.plan.time_limit_s : s.time_limit_s;
  id.node_limit = s.node_limit;
  for (const UncertainInput& u : s.uncertainty) {
    auto base = GetScenarioValue(s, u.key);
    id.inputs.push_back({u.key, DescribeScenarioKey(u.key), u.dist.Describe(), base ? *base : 0.0});
  }
  for (const ContractSpec& c : s.contracts) id.contracts.push_back(c.name);
  return id;
}

std::string FormatMcDrawRow(const McIdentity& id, const McDraw& d) {
  std::string row = std::to_string(d.index);
  for (double v : d.values) row += fmt::format(",{}", v);
  if (d.ok) {
    row += fmt::format(",ok,{},{},{},{}", d.npv_usd, d.first_full_month, MonthOf(id, d.first_full_month), d.short_gpu_months);
    for (int m : d.met) row += fmt::format(",{}", m);
    row += fmt::format(",{},{},{},", d.capex_usd, d.stopped_by, d.gap);
  } else {
    row += ",error,,,,";
    for (size_t k = 0; k < id.contracts.size(); ++k) row += ",";
    row += ",,,," + CsvQuote(d.error);
  }
  return row;
}

Result<McDraw> ParseMcDrawRow(const McIdentity& id, std::string_view line, const std::string& source, int64_t line_no) {
  const size_t fixed = FixedColumns(id);
  std::vector<std::string_view> f;
  size_t pos = 0;
  for (size_t k = 0; k < fixed; ++k) {
    const size_t comma = line.find(',', pos);
    if (comma == std::string_view::npos) {
      return Error::InvalidInput(source, line_no, "", fmt::format("expected {} columns", fixed + 1));
    }
    f.push_back(line.substr(pos, comma - pos));
    pos = comma + 1;
  }
  const std::string_view err = line.substr(pos);
  auto bad = [&](size_t col, const char* what) {
    return Error::InvalidInput(source, line_no, std::string(col < fixed ? "" : "error"),
                               fmt::format("column {}: expected {}, got '{}'", col + 1, what, col < f.size() ? f[col] : err));
  };
  McDraw d;
  size_t c = 0;
  auto i = ParseInt(f[c]);
  if (!i) return bad(c, "a draw index");
  d.index = *i;
  ++c;
  for (size_t k = 0; k < id.inputs.size(); ++k, ++c) {
    auto v = ParseDouble(f[c]);
    if (!v) return bad(c, "a number");
    d.values.push_back(*v);
  }
  const std::string_view status = f[c++];
  if (status == "ok") {
    auto npv = ParseDouble(f[c]);
    if (!npv) return bad(c, "a number");
    d.npv_usd = *npv;
    ++c;
    auto full = ParseInt(f[c]);
    if (!full) return bad(c, "a month index");
    d.first_full_month = *full;
    c += 2;  // the date is the index's
    auto sh = ParseDouble(f[c]);
    if (!sh) return bad(c, "a number");
    d.short_gpu_months = *sh;
    ++c;
    for (size_t k = 0; k < id.contracts.size(); ++k, ++c) {
      if (f[c] != "0" && f[c] != "1") return bad(c, "0 or 1");
      d.met.push_back(f[c] == "1" ? 1 : 0);
    }
    auto capex = ParseDouble(f[c]);
    if (!capex) return bad(c, "a number");
    d.capex_usd = *capex;
    ++c;
    d.stopped_by = std::string(f[c++]);
    auto gap = ParseDouble(f[c]);
    if (!gap) return bad(c, "a number");
    d.gap = *gap;
  } else if (status == "error") {
    d.ok = false;
    d.met.assign(id.contracts.size(), 0);
    if (err.size() < 2 || err.front() != '"' || err.back() != '"') return bad(fixed, "a quoted message");
    std::string e;
    for (size_t k = 1; k + 1 < err.size(); ++k) {
      e += err[k];
      if (err[k] == '"') ++k;  // "" is one quote
    }
    d.error = e;
  } else {
    return bad(c - 1, "ok or error");
  }
  return d;
}

std::string FormatMcDrawsCsv(const McRun& r) {
  std::string out = CsvHeader(r.id) + "\n";
  for (const McDraw& d : r.draws) out += FormatMcDrawRow(r.id, d) + "\n";
  return out;
}

Result<McRun> RunMonteCarlo(const Scenario& s, const std::string& digest, const McOptions& o) {
  if (s.uncertainty.empty()) {
    return Error::InvalidInput(s.source, 0, "uncertainty",
                               "--monte-carlo needs an [uncertainty] table: the inputs to draw and their distributions "
                               "(docs/scenario.md, \"[uncertainty]\")");
  }
  if (o.draws < 1 || o.draws > kMaxMonteCarloDraws) {
    return Error::InvalidInput("--monte-carlo", 0, "monte-carlo", fmt::format("expected draws in [1, {}], got {}", kMaxMonteCarloDraws, o.draws));
  }
  const int64_t end = o.end < 0 ? o.draws : o.end;
  if (o.begin < 0 || o.begin >= end || end > o.draws) {
    return Error::InvalidInput("--draws", 0, "draws",
                               fmt::format("expected START:END with 0 <= START < END <= {}, got {}:{}", o.draws, o.begin, end));
  }
  McRun run;
  run.id = MonteCarloIdentity(s, digest, o);
  run.begin = o.begin;
  run.end = end;
  const int64_t n = end - o.begin;
  std::vector<McDraw> got(static_cast<size_t>(n));
  std::vector<bool> have(static_cast<size_t>(n), false);
  int64_t done = 0;
  // Every draw goes through its mc_draws.csv row, in one process or many,
  // so the result is the same either way.
  auto take = [&](std::string_view line) -> Status {
    auto d = ParseMcDrawRow(run.id, line, "worker", 0);
    if (!d) {
      Error e = d.error();
      e.kind = ErrorKind::kInternal;
      return e;
    }
    const int64_t k = d->index - o.begin;
    if (k < 0 || k >= n || have[static_cast<size_t>(k)]) return Error{ErrorKind::kInternal, "worker", 0, "", "unexpected draw"};
    have[static_cast<size_t>(k)] = true;
    got[static_cast<size_t>(k)] = std::move(*d);
    ++done;
    if (o.progress) o.progress(done, n);
    return Status::Ok();
  };
  const int jobs = static_cast<int>(std::clamp<int64_t>(o.jobs, 1, n));
  if (jobs == 1) {
    for (int64_t i = o.begin; i < end; ++i) {
      if (Status st = take(FormatMcDrawRow(run.id, SolveDraw(s, o.plan, o.seed, i))); !st) return st.error();
    }
  } else {
    // Workers share a counter of the next draw to solve.
    void* mem = mmap(nullptr, sizeof(std::atomic<int64_t>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return Error::Io("mmap", std::strerror(errno));
    auto* next = new (mem) std::atomic<int64_t>(o.begin);
    std::fflush(stdout);
    std::fflush(stderr);
    std::vector<pid_t> pids;
    std::vector<int> fds;
    for (int w = 0; w < jobs; ++w) {
      int p[2];
      if (pipe(p) != 0) return Error::Io("pipe", std::strerror(errno));
      const pid_t pid = fork();
      if (pid < 0) return Error::Io("fork", std::strerror(errno));
      if (pid == 0) {
        ::close(p[0]);
        for (int fd : fds) ::close(fd);
        for (;;) {
          const int64_t i = next->fetch_add(1);
          if (i >= end) break;
          if (!WriteAll(p[1], FormatMcDrawRow(run.id, SolveDraw(s, o.plan, o.seed, i)) + "\n")) _exit(3);
        }
        ::close(p[1]);
        _exit(0);
      }
      ::close(p[1]);
      pids.push_back(pid);
      fds.push_back(p[0]);
    }
    std::vector<std::string> buf(fds.size());
    std::vector<bool> open(fds.size(), true);
    size_t left = fds.size();
    Status all = Status::Ok();
    while (left > 0) {
      std::vector<pollfd> pf;
      std::vector<size_t> which;
      for (size_t w = 0; w < fds.size(); ++w) {
        if (open[w]) {
          pf.push_back({fds[w], POLLIN, 0});
          which.push_back(w);
        }
      }
      if (poll(pf.data(), pf.size(), -1) < 0) {
        if (errno == EINTR) continue;
        all = Error::Io("poll", std::strerror(errno));
        break;
      }
      for (size_t k = 0; k < pf.size(); ++k) {
        if (pf[k].revents == 0) continue;
        const size_t w = which[k];
        char tmp[65536];
        const ssize_t got_bytes = ::read(fds[w], tmp, sizeof tmp);
        if (got_bytes < 0 && errno == EINTR) continue;
        if (got_bytes <= 0) {
          open[w] = false;
          --left;
          ::close(fds[w]);
          continue;
        }
        buf[w].append(tmp, static_cast<size_t>(got_bytes));
        size_t nl;
        while ((nl = buf[w].find('\n')) != std::string::npos) {
          if (all) all = take(std::string_view(buf[w]).substr(0, nl));
          buf[w].erase(0, nl + 1);
        }
      }
    }
    for (size_t w = 0; w < fds.size(); ++w) {
      if (open[w]) ::close(fds[w]);
    }
    for (pid_t pid : pids) {
      int status = 0;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (all && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        all = Error{ErrorKind::kInternal, "--jobs", 0, "",
                       WIFSIGNALED(status) ? fmt::format("a worker process died of signal {}", WTERMSIG(status))
                                           : fmt::format("a worker process exited with status {}", WEXITSTATUS(status))};
      }
    }
    munmap(mem, sizeof(std::atomic<int64_t>));
    if (!all) return all.error();
  }
  for (int64_t k = 0; k < n; ++k) {
    if (!have[static_cast<size_t>(k)]) {
      return Error{ErrorKind::kInternal, "--monte-carlo", 0, "", fmt::format("draw {} came back from no worker", o.begin + k)};
    }
  }
  run.draws = std::move(got);
  return run;
}

json McSummaryJson(const McRun& r) {
  const McIdentity& id = r.id;
  json j;
  j["schema"] = "rackscale.mc_summary/1";
  j["scenario"] = {{"name", id.scenario}, {"digest", id.digest}, {"start", id.start}, {"months", id.months}};
  j["seed"] = id.seed;
  j["draws"] = id.draws;
  j["slice"] = {{"begin", r.begin}, {"end", r.end}};
  j["options"] = {{"solve_for", id.solve_for}, {"time_limit_s", id.time_limit_s}, {"node_limit", id.node_limit}};
  j["percentile_rule"] = "nearest rank: P of n draws is the value of rank ceil(P/100 x n) in ascending order";
  std::vector<const McDraw*> ok;
  for (const McDraw& d : r.draws) {
    if (d.ok) ok.push_back(&d);
  }
  json inputs = json::array();
  for (size_t k = 0; k < id.inputs.size(); ++k) {
    const McInput& in = id.inputs[k];
    std::vector<double> v;
    double sum = 0;
    for (const McDraw& d : r.draws) {
      v.push_back(d.values[k]);
      sum += d.values[k];
    }
    json x = {{"key", in.key}, {"label", in.label}, {"dist", in.dist}, {"base", in.base}};
    x["mean"] = v.empty() ? json(nullptr) : json(sum / static_cast<double>(v.size()));
    x["drawn"] = Percentiles(v, [](double y) { return json(y); });
    inputs.push_back(x);
  }
  j["inputs"] = inputs;
  std::map<std::string, int64_t> stopped;
  double max_gap = 0;
  for (const McDraw* d : ok) {
    ++stopped[d->stopped_by];
    max_gap = std::max(max_gap, d->gap);
  }
  json stop = json::object();
  for (const auto& [k, v] : stopped) stop[k] = v;
  json errors = json::array();
  for (const McDraw& d : r.draws) {
    if (!d.ok && errors.size() < 10) errors.push_back({{"draw", d.index}, {"error", d.error}});
  }
  j["plans"] = {{"ok", ok.size()}, {"failed", r.draws.size() - ok.size()}, {"stopped_by", stop}, {"max_gap", max_gap},
                {"first_errors", errors}};
  std::vector<double> npv, full;
  double npv_sum = 0;
  int64_t never = 0;
  for (const McDraw* d : ok) {
    npv.push_back(d->npv_usd);
    npv_sum += d->npv_usd;
    full.push_back(d->first_full_month < 0 ? std::numeric_limits<double>::infinity() : static_cast<double>(d->first_full_month));
    never += d->first_full_month < 0 ? 1 : 0;
  }
  json nj = Percentiles(npv, [](double y) { return json(y); });
  if (!npv.empty()) {
    nj["mean"] = npv_sum / static_cast<double>(npv.size());
    nj["min"] = *std::min_element(npv.begin(), npv.end());
    nj["max"] = *std::max_element(npv.begin(), npv.end());
  }
  j["npv_usd"] = nj;
  json fj = Percentiles(full, [&](double y) { return json(std::isinf(y) ? "never" : MonthOf(id, static_cast<int64_t>(y))); });
  if (!full.empty()) {
    fj["never_share"] = static_cast<double>(never) / static_cast<double>(full.size());
  }
  j["first_full_month"] = fj;
  json cj = json::array();
  for (size_t c = 0; c < id.contracts.size(); ++c) {
    int64_t met = 0;
    for (const McDraw* d : ok) met += d->met[c];
    cj.push_back({{"name", id.contracts[c]},
                  {"met_on_time", met},
                  {"p_met_on_time", ok.empty() ? json(nullptr) : json(static_cast<double>(met) / static_cast<double>(ok.size()))}});
  }
  j["contracts"] = cj;
  return j;
}

std::string FormatMcSummaryJson(const McRun& r) { return McSummaryJson(r).dump(2) + "\n"; }

std::string FormatMcHuman(const McRun& r) {
  const json j = McSummaryJson(r);
  const McIdentity& id = r.id;
  auto usd = [](const json& v) {
    const double x = v.get<double>();
    return std::fabs(x) >= 1e9 ? fmt::format("${:.2f}B", x / 1e9) : fmt::format("${:.1f}M", x / 1e6);
  };
  std::string out;
  const bool full = r.begin == 0 && r.end == id.draws;
  out += fmt::format("Monte Carlo: {} '{}', seed {}, {} uncertain input{}\n",
                     full ? fmt::format("{} draws of", id.draws) : fmt::format("draws {}..{} of {} of", r.begin, r.end - 1, id.draws),
                     id.scenario, id.seed, id.inputs.size(), id.inputs.size() == 1 ? "" : "s");
  for (const json& in : j["inputs"]) {
    out += fmt::format("  {:<44} {}  (base {:g})\n", in["key"].get<std::string>(), in["dist"].get<std::string>(), in["base"].get<double>());
  }
  const int64_t ok = j["plans"]["ok"].get<int64_t>();
  if (ok == 0) {
    out += "  no draw was planned: every re-plan failed (mc_draws.csv has why)\n";
    return out;
  }
  const json& n = j["npv_usd"];
  out += fmt::format("  NPV            P10 {}  P50 {}  P90 {}  (mean {}; min {}, max {})\n", usd(n["p10"]), usd(n["p50"]), usd(n["p90"]),
                     usd(n["mean"]), usd(n["min"]), usd(n["max"]));
  const json& f = j["first_full_month"];
  out += fmt::format("  full delivery  P10 {}  P50 {}  P90 {}  (never in {:.0f}% of draws)\n", f["p10"].get<std::string>(),
                     f["p50"].get<std::string>(), f["p90"].get<std::string>(), 100 * f["never_share"].get<double>());
  for (const json& c : j["contracts"]) {
    out += fmt::format("  contract {} met on time in {} of {} draws ({:.1f}%)\n", c["name"].get<std::string>(), c["met_on_time"].get<int64_t>(),
                       ok, 100 * c["p_met_on_time"].get<double>());
  }
  std::string stops;
  for (const auto& [k, v] : j["plans"]["stopped_by"].items()) stops += fmt::format("{}{} by {}", stops.empty() ? "" : ", ", v.get<int64_t>(), k);
  out += fmt::format("  solver         {} plans ({}); largest gap {:.2f}%", ok, stops, 100 * j["plans"]["max_gap"].get<double>());
  const int64_t failed = j["plans"]["failed"].get<int64_t>();
  if (failed > 0) out += fmt::format("; {} draws failed (mc_draws.csv says why)", failed);
  out += "\n";
  return out;
}

Result<McRun> ReadMonteCarloDir(const std::string& dir) {
  const std::string spath = dir + "/mc_summary.json";
  auto text = ReadFileMaybeGz(spath);
  if (!text) return text.error();
  json j;
  try {
    j = json::parse(*text);
  } catch (const std::exception& e) {
    return Error::InvalidInput(spath, 0, "", fmt::format("not JSON: {}", e.what()));
  }
  McRun r;
  try {
    if (j.at("schema").get<std::string>() != "rackscale.mc_summary/1") {
      return Error::InvalidInput(spath, 0, "schema", "expected rackscale.mc_summary/1");
    }
    McIdentity& id = r.id;
    id.scenario = j.at("scenario").at("name").get<std::string>();
    id.digest = j.at("scenario").at("digest").get<std::string>();
    id.start = j.at("scenario").at("start").get<std::string>();
    id.months = j.at("scenario").at("months").get<int32_t>();
    id.seed = j.at("seed").get<uint64_t>();
    id.draws = j.at("draws").get<int64_t>();
    r.begin = j.at("slice").at("begin").get<int64_t>();
    r.end = j.at("slice").at("end").get<int64_t>();
    id.solve_for = j.at("options").at("solve_for").get<std::string>();
    id.time_limit_s = j.at("options").at("time_limit_s").get<double>();
    id.node_limit = j.at("options").at("node_limit").get<int64_t>();
    for (const json& in : j.at("inputs")) {
      id.inputs.push_back({in.at("key").get<std::string>(), in.at("label").get<std::string>(), in.at("dist").get<std::string>(),
                           in.at("base").get<double>()});
    }
    for (const json& c : j.at("contracts")) id.contracts.push_back(c.at("name").get<std::string>());
  } catch (const std::exception& e) {
    return Error::InvalidInput(spath, 0, "", fmt::format("not a Monte-Carlo summary: {}", e.what()));
  }
  if (r.id.start.size() != 7 || !(r.begin >= 0 && r.begin < r.end && r.end <= r.id.draws)) {
    return Error::InvalidInput(spath, 0, "slice", "expected 0 <= begin < end <= draws and a start month");
  }
  const std::string cpath = dir + "/mc_draws.csv";
  auto csv = ReadFileMaybeGz(cpath);
  if (!csv) return csv.error();
  LineCursor cur(*csv);
  std::string_view line;
  if (!cur.Next(&line) || line != CsvHeader(r.id)) {
    return Error::InvalidInput(cpath, 1, "", "the header does not match mc_summary.json's inputs and contracts");
  }
  while (cur.Next(&line)) {
    if (line.empty()) continue;
    auto d = ParseMcDrawRow(r.id, line, cpath, cur.line_no());
    if (!d) return d.error();
    const int64_t want = r.begin + static_cast<int64_t>(r.draws.size());
    if (d->index != want) {
      return Error::InvalidInput(cpath, cur.line_no(), "draw", fmt::format("expected draw {}, got {}", want, d->index));
    }
    r.draws.push_back(std::move(*d));
  }
  if (static_cast<int64_t>(r.draws.size()) != r.end - r.begin) {
    return Error::InvalidInput(cpath, 0, "", fmt::format("expected draws {}..{} ({} rows), got {} rows", r.begin, r.end - 1, r.end - r.begin,
                                                         r.draws.size()));
  }
  return r;
}

Result<McRun> MergeMonteCarlo(const std::vector<McRun>& slices, const std::vector<std::string>& dirs) {
  if (slices.empty()) return Error::InvalidInput("plan-merge", 0, "", "expected one or more slice folders");
  auto ident = [](const McRun& r) {
    McRun x;
    x.id = r.id;
    json j = McSummaryJson(x);
    return json{j["scenario"], j["seed"], j["draws"], j["options"], j["inputs"], j["contracts"]}.dump();
  };
  const std::string first = ident(slices[0]);
  for (size_t k = 1; k < slices.size(); ++k) {
    if (ident(slices[k]) != first) {
      const McIdentity &a = slices[0].id, &b = slices[k].id;
      std::string what = a.digest != b.digest       ? fmt::format("scenario {} vs {}", a.digest, b.digest)
                         : a.seed != b.seed         ? fmt::format("seed {} vs {}", a.seed, b.seed)
                         : a.draws != b.draws       ? fmt::format("draws {} vs {}", a.draws, b.draws)
                                                    : std::string("options");
      return Error::InvalidInput(dirs[k], 0, "mc_summary.json",
                                 fmt::format("not a slice of the same run as {} ({} differ)", dirs[0], what));
    }
  }
  std::vector<size_t> order(slices.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return slices[a].begin < slices[b].begin; });
  McRun out;
  out.id = slices[0].id;
  out.begin = 0;
  out.end = out.id.draws;
  int64_t at = 0;
  for (size_t k : order) {
    const McRun& s = slices[k];
    if (s.begin > at) {
      return Error::InvalidInput("plan-merge", 0, "", fmt::format("draws {}..{} are in no slice", at, s.begin - 1));
    }
    if (s.begin < at) {
      return Error::InvalidInput(dirs[k], 0, "slice", fmt::format("draws {}..{} are in more than one slice", s.begin, std::min(at, s.end) - 1));
    }
    for (const McDraw& d : s.draws) out.draws.push_back(d);
    at = s.end;
  }
  if (at != out.id.draws) {
    return Error::InvalidInput("plan-merge", 0, "", fmt::format("draws {}..{} are in no slice", at, out.id.draws - 1));
  }
  return out;
}

}  // namespace rackscale
