#include "report/verify.h"

#include <array>
#include <cmath>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/text.h"
#include "report/report_check.h"

namespace rackscale {
namespace {

using json = nlohmann::json;

// A CSV the simulator wrote (no quoting), its rows by column name.
struct Table {
  std::string path;
  std::map<std::string, size_t> cols;
  std::vector<std::vector<std::string>> rows;
  bool ok = false;

  const std::string& Cell(size_t row, const std::string& col) const {
    static const std::string empty;
    auto it = cols.find(col);
    if (it == cols.end() || it->second >= rows[row].size()) return empty;
    return rows[row][it->second];
  }
  double Num(size_t row, const std::string& col) const {
    const std::string& c = Cell(row, col);
    return c.empty() ? 0.0 : std::strtod(c.c_str(), nullptr);
  }
  // Half a unit of the cell's last digit (0 for an empty cell).
  double Tol(size_t row, const std::string& col) const {
    const std::string& c = Cell(row, col);
    return c.empty() ? 0.0 : CellTolerance(c);
  }
  bool Has(const std::string& col) const { return cols.count(col) > 0; }
  // "timeseries.csv:123" for row i (the header is line 1).
  std::string Where(size_t row) const { return fmt::format("{}:{}", path, row + 2); }
};

Table ReadTable(const std::string& path) {
  Table t;
  t.path = path;
  auto text = ReadFileMaybeGz(path, "CSV");
  if (!text) return t;
  LineCursor lines(*text);
  std::string_view line;
  while (lines.Next(&line)) {
    std::vector<std::string> f;
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      f.emplace_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (lines.line_no() == 1) {
      for (size_t i = 0; i < f.size(); ++i) t.cols[f[i]] = i;
    } else {
      t.rows.push_back(std::move(f));
    }
  }
  t.ok = true;
  return t;
}

json ReadJson(const std::string& path) {
  auto text = ReadFileMaybeGz(path, "JSON");
  return text ? json::parse(*text, nullptr, false) : json(json::value_t::discarded);
}

bool Exists(const std::string& p) { return std::filesystem::exists(p); }

class Verifier {
 public:
  explicit Verifier(VerifyResult* out) : out_(out) {}

  // |a - b| <= tol + 1e-6 relative; else a problem naming both.
  void Equal(double a, double b, double tol, const std::string& what) {
    ++out_->checks;
    if (!(std::fabs(a - b) <= tol + 1e-6 * std::max({1.0, std::fabs(a), std::fabs(b)}))) {
      out_->problems.push_back(fmt::format("{}: {} vs {} (differ by {}, tolerance {})", what, Fmt(a), Fmt(b), Fmt(a - b), Fmt(tol)));
    }
  }
  void AtMost(double a, double b, double tol, const std::string& what) {
    ++out_->checks;
    if (!(a <= b + tol + 1e-6 * std::max({1.0, std::fabs(a), std::fabs(b)}))) {
      out_->problems.push_back(fmt::format("{}: {} exceeds {}", what, Fmt(a), Fmt(b)));
    }
  }
  void True(bool ok, const std::string& what) {
    ++out_->checks;
    if (!ok) out_->problems.push_back(what);
  }
  void Problem(std::string what) { out_->problems.push_back(std::move(what)); }
  void Read(const std::string& path) { out_->files.push_back(path); }

  void Sim(const std::string& dir, const std::string& label);
  void Run(const std::string& dir);

 private:
  static std::string Fmt(double v) { return fmt::format("{:.6g}", v); }
  VerifyResult* out_;
};

void Verifier::Sim(const std::string& dir, const std::string& label) {
  const json summary = ReadJson(dir + "/summary.json");
  if (summary.is_discarded() || summary.value("schema", "") != "rackscale.fleet.summary") {
    Problem(fmt::format("{}/summary.json: not the summary of a fleet simulation", label));
    return;
  }
  Read(dir + "/summary.json");
  auto num = [&](const char* k) { return summary.contains(k) && summary[k].is_number() ? summary[k].get<double>() : 0.0; };
  Table jobs = ReadTable(dir + "/jobs.csv");
  Table tenants = ReadTable(dir + "/tenants.csv");
  Table sites = ReadTable(dir + "/sites.csv");
  for (const Table* t : {&jobs, &tenants, &sites}) {
    if (!t->ok) {
      Problem(fmt::format("{}: missing or unreadable", t->path));
      return;
    }
    Read(t->path);
  }
  jobs.path = label + "/jobs.csv";
  tenants.path = label + "/tenants.csv";
  sites.path = label + "/sites.csv";

  // jobs.csv: times in order, counts as the summary's.
  std::map<std::string, int64_t> by_status;
  double held = 0, held_tol = 0;
  for (size_t i = 0; i < jobs.rows.size(); ++i) {
    const std::string& st = jobs.Cell(i, "status");
    ++by_status[st];
    held += jobs.Num(i, "held_gpu_hours");
    held_tol += jobs.Tol(i, "held_gpu_hours");
    if (st != "done") continue;
    const double submit = jobs.Num(i, "submit"), first = jobs.Num(i, "first_start"), start = jobs.Num(i, "start"),
                 end = jobs.Num(i, "end");
    True(first >= submit && start >= first && end >= start,
         fmt::format("{}: job {} submit {} first_start {} start {} end {}: out of order", jobs.Where(i), jobs.Cell(i, "id"),
                     submit, first, start, end));
  }
  Equal(static_cast<double>(jobs.rows.size()), num("jobs"), 0, "jobs.csv rows vs summary.json jobs");
  for (const char* st : {"done", "rejected", "invalid", "unfinished"}) {
    Equal(static_cast<double>(by_status[st]), num(st), 0, fmt::format("jobs.csv {} jobs vs summary.json {}", st, st));
  }

  // Sites and tenants against the summary.
  double energy = 0, energy_tol = 0, cost = 0, cost_tol = 0, revenue = 0, revenue_tol = 0;
  for (size_t i = 0; i < sites.rows.size(); ++i) {
    energy += sites.Num(i, "energy_mwh");
    energy_tol += sites.Tol(i, "energy_mwh");
    cost += sites.Num(i, "cost_usd");
    cost_tol += sites.Tol(i, "cost_usd");
  }
  for (size_t i = 0; i < tenants.rows.size(); ++i) {
    revenue += tenants.Num(i, "revenue_usd");
    revenue_tol += tenants.Tol(i, "revenue_usd");
  }
  Equal(energy, num("energy_mwh"), energy_tol, "Σ sites.csv energy_mwh vs summary.json energy_mwh");
  Equal(cost, num("cost_usd"), cost_tol, "Σ sites.csv cost_usd vs summary.json cost_usd");
  Equal(revenue, num("revenue_usd"), revenue_tol, "Σ tenants.csv revenue_usd vs summary.json revenue_usd");

  // Services.
  std::map<std::string, std::pair<double, std::string>> service;  // name -> (GPUs per replica, tenant)
  double service_hours = 0, service_tol = 0;
  if (Exists(dir + "/services.csv")) {
    Table sv = ReadTable(dir + "/services.csv");
    Read(dir + "/services.csv");
    for (size_t i = 0; i < sv.rows.size(); ++i) {
      service[sv.Cell(i, "service")] = {sv.Num(i, "gpus_per_replica"), sv.Cell(i, "tenant")};
      service_hours += sv.Num(i, "gpu_hours");
      service_tol += sv.Tol(i, "gpu_hours");
    }
  }

  if (!Exists(dir + "/timeseries.csv")) return;
  Table ts = ReadTable(dir + "/timeseries.csv");
  Read(dir + "/timeseries.csv");
  ts.path = label + "/timeseries.csv";
  if (!ts.Has("covered_s")) {
    Problem(fmt::format("{}: no covered_s column (written by an older rackscale)", ts.path));
    return;
  }
  // Step by step: rows of one hour are contiguous (sites, tenants, services).
  const double ws = num("window_start"), we = num("window_end");
  double gpu_hours = 0, gpu_tol = 0, window_hours = 0, window_tol = 0, ts_energy = 0, ts_energy_tol = 0;
  double ts_revenue = 0, ts_revenue_tol = 0, ts_cost = 0, ts_cost_tol = 0;
  size_t i = 0;
  while (i < ts.rows.size()) {
    const std::string hour = ts.Cell(i, "hour");
    double site_busy = 0, site_tol = 0, tenant_busy = 0, tenant_tol = 0, covered = 0;
    std::map<std::string, double> busy_of_tenant;
    const size_t first = i;
    for (; i < ts.rows.size() && ts.Cell(i, "hour") == hour; ++i) {
      const std::string& scope = ts.Cell(i, "scope");
      covered = ts.Num(i, "covered_s");
      if (scope == "site") {
        const double on = ts.Num(i, "gpus_online"), busy = ts.Num(i, "gpus_busy"), idle = ts.Num(i, "gpus_idle"),
                     failed = ts.Num(i, "gpus_failed");
        const double tol = ts.Tol(i, "gpus_online") + ts.Tol(i, "gpus_busy") + ts.Tol(i, "gpus_idle") + ts.Tol(i, "gpus_failed");
        Equal(busy + idle + failed, on, tol, fmt::format("{}: site {} busy + idle + failed vs online", ts.Where(i), ts.Cell(i, "name")));
        AtMost(busy, on, ts.Tol(i, "gpus_busy") + ts.Tol(i, "gpus_online"),
               fmt::format("{}: site {} GPUs busy vs online", ts.Where(i), ts.Cell(i, "name")));
        site_busy += busy;
        site_tol += ts.Tol(i, "gpus_busy");
        ts_energy += ts.Num(i, "power_mw") * covered / 3600;
        ts_energy_tol += ts.Tol(i, "power_mw") * covered / 3600;
        ts_cost += ts.Num(i, "cost_usd");
        ts_cost_tol += ts.Tol(i, "cost_usd");
      } else if (scope == "tenant") {
        const double busy = ts.Num(i, "gpus_busy");
        tenant_busy += busy;
        tenant_tol += ts.Tol(i, "gpus_busy");
        busy_of_tenant[ts.Cell(i, "name")] = busy;
        AtMost(ts.Num(i, "gpus_reserved_idle"), ts.Num(i, "gpus_reserved"), ts.Tol(i, "gpus_reserved") * 2,
               fmt::format("{}: tenant {} reserved idle vs reserved", ts.Where(i), ts.Cell(i, "name")));
        ts_revenue += ts.Num(i, "revenue_usd");
        ts_revenue_tol += ts.Tol(i, "revenue_usd");
      } else if (scope == "service") {
        auto it = service.find(ts.Cell(i, "name"));
        if (it == service.end()) {
          Problem(fmt::format("{}: service {} is not in services.csv", ts.Where(i), ts.Cell(i, "name")));
          continue;
        }
        const double gpus = ts.Num(i, "gpus_busy"), replicas = ts.Num(i, "replicas");
        Equal(gpus, replicas * it->second.first, ts.Tol(i, "gpus_busy") + ts.Tol(i, "replicas") * it->second.first,
              fmt::format("{}: service {} GPUs vs replicas x GPUs per replica", ts.Where(i), it->first));
        auto tb = busy_of_tenant.find(it->second.second.empty() ? "(none)" : it->second.second);
        AtMost(gpus, tb == busy_of_tenant.end() ? 0.0 : tb->second, ts.Tol(i, "gpus_busy") * 2,
               fmt::format("{}: service {} GPUs vs its tenant's busy GPUs in the step", ts.Where(i), it->first));
      }
    }
    Equal(site_busy, tenant_busy, site_tol + tenant_tol,
          fmt::format("{}: Σ sites' busy GPUs vs Σ tenants' in hour {}", ts.Where(first), hour));
    gpu_hours += site_busy * covered / 3600;
    gpu_tol += site_tol * covered / 3600;
    const double start = std::strtod(hour.c_str(), nullptr) * 3600;
    if (start + covered > ws && start < we) {
      window_hours += site_busy * covered / 3600;
      // A step the window cuts through cannot be split from the file.
      window_tol += site_tol * covered / 3600 + (start < ws || start + covered > we ? site_busy * covered / 3600 : 0);
    }
  }
  Equal(gpu_hours, held + service_hours + num("shared_slack_gpu_hours"), gpu_tol + held_tol + service_tol,
        "GPU-hours: Σ time-series sites' busy vs Σ jobs.csv held_gpu_hours + Σ services.csv gpu_hours + summary.json "
        "shared_slack_gpu_hours");
  Equal(window_hours, num("busy_gpu_hours"), window_tol, "GPU-hours in the window: time series vs summary.json busy_gpu_hours");
  Equal(ts_energy, energy, ts_energy_tol + energy_tol, "energy: Σ time-series sites' MW x hours vs Σ sites.csv energy_mwh");
  Equal(ts_revenue, revenue, ts_revenue_tol + revenue_tol, "revenue: Σ time-series tenant rows vs Σ tenants.csv");
  Equal(ts_cost, cost, ts_cost_tol + cost_tol, "cost: Σ time-series site rows vs Σ sites.csv");
}

void Verifier::Run(const std::string& dir) {
  const json run = ReadJson(dir + "/summary.json");
  Read(dir + "/summary.json");
  const bool simulated = run.contains("simulation") && run["simulation"].is_object();
  if (simulated) {
    Sim(dir + "/sim", "sim");
    const json sim = ReadJson(dir + "/sim/summary.json");
    True(run["simulation"]["summary"] == sim, "summary.json simulation.summary differs from sim/summary.json");
    // daily.csv: the daily means of the time series, weighted by covered seconds.
    Table daily = ReadTable(dir + "/sim/daily.csv");
    Table ts = ReadTable(dir + "/sim/timeseries.csv");
    if (daily.ok && ts.ok) {
      Read(dir + "/sim/daily.csv");
      daily.path = "sim/daily.csv";
      std::map<int64_t, std::array<double, 3>> day;  // online, busy, covered
      std::map<std::string, bool> step_seen;
      for (size_t i = 0; i < ts.rows.size(); ++i) {
        if (ts.Cell(i, "scope") != "site") continue;
        const double start = ts.Num(i, "hour") * 3600;
        if (start >= sim.value("window_end", 0.0)) continue;
        auto& d = day[static_cast<int64_t>(start / 86400)];
        const double w = ts.Num(i, "covered_s");
        d[0] += ts.Num(i, "gpus_online") * w;
        d[1] += ts.Num(i, "gpus_busy") * w;
        if (!step_seen[ts.Cell(i, "hour")]) d[2] += w;
        step_seen[ts.Cell(i, "hour")] = true;
      }
      True(daily.rows.size() == day.size(), fmt::format("sim/daily.csv has {} days, the time series {} in the window",
                                                        daily.rows.size(), day.size()));
      for (size_t i = 0; i < daily.rows.size(); ++i) {
        auto it = day.find(static_cast<int64_t>(daily.Num(i, "day")));
        if (it == day.end() || it->second[2] <= 0) {
          Problem(fmt::format("{}: day {} has no time-series rows", daily.Where(i), daily.Cell(i, "day")));
          continue;
        }
        const double tol = 0.01 * 4 + 1e-3;  // time-series rows are rounded to 0.01 per site
        Equal(daily.Num(i, "gpus_online"), it->second[0] / it->second[2], tol * 8, fmt::format("{}: gpus_online vs the time series", daily.Where(i)));
        Equal(daily.Num(i, "gpus_busy"), it->second[1] / it->second[2], tol * 8, fmt::format("{}: gpus_busy vs the time series", daily.Where(i)));
      }
    }
  }
  if (Exists(dir + "/report.html")) {
    Read(dir + "/report.html");
    const ReportCheck c = CheckReport(dir);
    out_->checks += c.cells + c.points;
    for (const std::string& p : c.problems) Problem("report.html: " + p);
    True(c.untraced_charts == 0, fmt::format("report.html: {} charts trace their data to no file", c.untraced_charts));
  }
}

}  // namespace

VerifyResult VerifyOutputs(const std::string& dir) {
  VerifyResult r;
  Verifier v(&r);
  const json top = ReadJson(dir + "/summary.json");
  const std::string schema = top.is_discarded() ? "" : top.value("schema", "");
  if (schema == "rackscale.run/1") {
    v.Run(dir);
  } else if (schema == "rackscale.fleet.summary") {
    v.Sim(dir, dir);
  } else {
    r.problems.push_back(fmt::format("{}: holds no summary.json of `rackscale run` or of a fleet `rackscale sim`", dir));
  }
  return r;
}

}  // namespace rackscale
