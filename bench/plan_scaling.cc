// How the planner's program grows (issue 11, item 2): the default scenario
// (scenarios/reallocation-2025.toml: 96 months, 6 sites, 4 hardware types)
// scaled in memory, in months (24 ... 144 at 6 sites) and in sites (1 ... 24
// at 96 months), each case planned as `rackscale plan` does under a fixed
// node limit, printing its columns and rows, the root LP relaxation's time,
// the root gap (the root LP bound against the best plan found), the final
// proved gap and the total time; then the fitted growth exponents of the
// root LP's time, its simplex iterations and the matrix's nonzeros (least
// squares of the log on log months, log sites), for each variant.
//
// Scaling:
//   months  the scenario's `months` changed before it becomes the program,
//           so every series (on-demand growth, cash flows, capex limits by
//           calendar year, the contract's term) is the scenario's own;
//           years past its capex table have no limit, as in the file.
//   sites   the 6 sites repeated in order (virginia, indiana, ..., then
//           virginia-2, ...) and everything they serve scaled by sites / 6:
//           the contract's GPUs (rounded), on-demand demand, starting cash,
//           the floor, the other cash flow and the capex limits. One site is
//           a sixth of the company at virginia. Each round of copies pays 2%
//           more for energy and construction than the one before, so that
//           no two sites are exactly alike.
//
// Usage: rackscale_plan_scaling [--reps N] [--node-limit K] [--time-limit S]
//        [--only months|sites|default] [--scenario FILE] [--variants 'A;B']
// A variant "axis:M,Q" plans on a coarser time axis: by month for M months,
// by quarter for Q, then by year (PlanInput::monthly_months).
// PLAN_SCALING_MPS_DIR=DIR writes each case's program to DIR/m<months>s<sites>.mps.
// Times are medians of N runs (interleaved: each rep runs every case once);
// gaps are the same on every run that the node limit (not the time) stops.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "plan/planner.h"
#include "plan/scenario.h"

namespace rackscale {
namespace {

struct Case {
  std::string axis;  // "months", "sites" or "default"
  int months = 96, sites = 6;
};

PlanInput Scaled(const Scenario& base, const Case& c, int64_t node_limit, double time_limit_s) {
  Scenario s = base;
  s.months = c.months;
  PlanInput in = ToPlanInput(s, PlanOptions{});
  in.node_limit = node_limit;
  in.time_limit_s = time_limit_s;
  if (c.sites == static_cast<int>(in.sites.size())) return in;
  const std::vector<PlanSite> orig = in.sites;
  const double f = static_cast<double>(c.sites) / static_cast<double>(orig.size());
  in.sites.clear();
  for (int k = 0; k < c.sites; ++k) {
    PlanSite x = orig[static_cast<size_t>(k) % orig.size()];
    const size_t round = static_cast<size_t>(k) / orig.size();
    if (round > 0) {
      // A copy 2% dearer in energy and construction per round, so that the
      // copies are not exactly symmetric (a search would branch between
      // identical sites for nothing).
      x.name += "-" + std::to_string(round + 1);
      x.usd_per_mwh *= 1 + 0.02 * static_cast<double>(round);
      x.usd_per_mw *= 1 + 0.02 * static_cast<double>(round);
    }
    in.sites.push_back(x);
  }
  for (PlanContract& k : in.contracts) {
    for (int64_t& g : k.contracted_gpus) g = std::llround(static_cast<double>(g) * f);
  }
  for (double& g : in.on_demand.gpus) g *= f;
  in.cash.starting_usd *= f;
  in.cash.min_usd *= f;
  for (double& x : in.cash.other_flow_usd) x *= f;
  for (PlanCapexLimit& l : in.capex_limits) l.usd *= f;
  for (double& l : in.capex_limit_usd) l *= f;
  return in;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Least-squares slope of log y on log x.
double Exponent(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = x.size();
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += std::log(x[i]) / static_cast<double>(n);
    my += std::log(y[i]) / static_cast<double>(n);
  }
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (std::log(x[i]) - mx) * (std::log(y[i]) - my);
    sxx += (std::log(x[i]) - mx) * (std::log(x[i]) - mx);
  }
  return sxx > 0 ? sxy / sxx : 0;
}

struct Row {
  Case c;
  std::string variant;  // RACKSCALE_PLAN_IOCP for this row ("" : unset)
  PlanResult last;
  std::string error;
  std::vector<double> root_s, total_s;
};

int Main(int argc, char** argv) {
  int reps = 3;
  int64_t node_limit = 100;
  double time_limit_s = 60;
  std::string only;
  std::vector<std::string> variants{""};
  std::string file = std::string(RACKSCALE_SOURCE_DIR) + "/scenarios/reallocation-2025.toml";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--reps" && v) {
      reps = std::max(1, std::atoi(v));
    } else if (a == "--node-limit" && v) {
      node_limit = std::atoll(v);
    } else if (a == "--time-limit" && v) {
      time_limit_s = std::atof(v);
    } else if (a == "--only" && v) {
      only = v;
    } else if (a == "--variants" && v) {
      // Options side by side, ';'-separated: RACKSCALE_PLAN_IOCP values (the
      // search's), "lp:" and RACKSCALE_PLAN_SMCP values (the root LP's),
      // "axis:M,Q" (monthly_months M, quarterly_months Q), "-": the defaults.
      variants.clear();
      std::string all = v;
      size_t at = 0;
      while (at <= all.size()) {
        size_t end = all.find(';', at);
        if (end == std::string::npos) end = all.size();
        const std::string one = all.substr(at, end - at);
        variants.push_back(one == "-" ? "" : one);
        at = end + 1;
      }
    } else if (a == "--scenario" && v) {
      file = v;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--reps N] [--node-limit K] [--time-limit S] [--only months|sites|default] "
                   "[--scenario FILE] [--variants 'OPTS;OPTS;...']\n",
                   argv[0]);
      return 2;
    }
    ++i;
  }
  auto sc = ReadScenario(file);
  if (!sc.ok()) {
    std::fprintf(stderr, "%s\n", sc.error().ToString().c_str());
    return 1;
  }
  std::vector<Case> cases;
  if (only.empty() || only == "default") cases.push_back(Case{"default", 96, 6});
  if (only.empty() || only == "months") {
    for (int t : {24, 48, 72, 96, 120, 144}) cases.push_back(Case{"months", t, 6});
  }
  if (only.empty() || only == "sites") {
    for (int s : {1, 3, 6, 12, 24}) cases.push_back(Case{"sites", 96, s});
  }
  std::vector<Row> rows;
  for (const std::string& v : variants) {
    for (const Case& c : cases) rows.push_back(Row{c, v, {}, {}, {}, {}});
  }
  for (int r = 0; r < reps; ++r) {
    for (Row& row : rows) {
      if (!row.error.empty()) continue;
      PlanInput in = Scaled(*sc, row.c, node_limit, time_limit_s);
      // "axis:M,Q": the program by month for M months, by quarter for Q, then by year.
      if (row.variant.rfind("axis:", 0) == 0) {
        in.monthly_months = std::atoi(row.variant.c_str() + 5);
        const char* q = std::strchr(row.variant.c_str(), ',');
        if (q != nullptr) in.quarterly_months = std::atoi(q + 1);
      }
      // A variant: RACKSCALE_PLAN_IOCP's value, or "lp:" and RACKSCALE_PLAN_SMCP's.
      unsetenv("RACKSCALE_PLAN_IOCP");
      unsetenv("RACKSCALE_PLAN_SMCP");
      if (row.variant.rfind("axis:", 0) == 0) {
      } else if (row.variant.rfind("lp:", 0) == 0) {
        setenv("RACKSCALE_PLAN_SMCP", row.variant.c_str() + 3, 1);
      } else if (!row.variant.empty()) {
        setenv("RACKSCALE_PLAN_IOCP", row.variant.c_str(), 1);
      }
      if (const char* dir = std::getenv("PLAN_SCALING_MPS_DIR")) {
        const std::string f = std::string(dir) + "/m" + std::to_string(row.c.months) + "s" + std::to_string(row.c.sites) + ".mps";
        setenv("RACKSCALE_PLAN_MPS", f.c_str(), 1);
      }
      const auto t0 = std::chrono::steady_clock::now();
      auto res = SolvePlan(in);
      const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!res.ok()) {
        row.error = res.error().ToString();
        continue;
      }
      row.root_s.push_back(res->root_lp_seconds);
      row.total_s.push_back(total);
      row.last = std::move(*res);
    }
  }
  std::printf("plan scaling: %s, node limit %lld, time limit %g s, medians of %d runs\n", file.c_str(),
              static_cast<long long>(node_limit), time_limit_s, reps);
  std::printf("%-8s %6s %5s %8s %8s %8s %6s %7s %9s %8s %9s %9s %6s %-10s %9s %9s\n", "axis", "months", "sites",
              "columns", "rows", "nonzeros", "int", "root it", "root s", "us/it", "root gap", "gap", "nodes",
              "stopped", "total s", "NPV $B");
  // Growth exponents, by variant: least squares of log(root LP time),
  // log(root iterations) and log(nonzeros) on log(months) and log(sites).
  struct Fit {
    std::vector<double> x, time, its, nz;
  };
  auto print_fits = [](const Fit& m, const Fit& s) {
    if (m.x.size() >= 2) {
      std::printf("months (6 sites): root LP time ~ months^%.2f, iterations ~ months^%.2f, nonzeros ~ months^%.2f\n",
                  Exponent(m.x, m.time), Exponent(m.x, m.its), Exponent(m.x, m.nz));
    }
    if (s.x.size() >= 2) {
      std::printf("sites (96 months): root LP time ~ sites^%.2f, iterations ~ sites^%.2f, nonzeros ~ sites^%.2f\n",
                  Exponent(s.x, s.time), Exponent(s.x, s.its), Exponent(s.x, s.nz));
    }
  };
  Fit fm, fs;
  std::string shown = "";
  for (const Row& row : rows) {
    if (variants.size() > 1 && (&row == &rows.front() || row.variant != shown)) {
      if (&row != &rows.front()) print_fits(fm, fs);
      fm = fs = Fit{};
      std::printf("-- options: %s\n", row.variant.empty() ? "(default)" : row.variant.c_str());
      shown = row.variant;
    }
    if (!row.error.empty()) {
      std::printf("%-8s %6d %5d  error: %s\n", row.c.axis.c_str(), row.c.months, row.c.sites, row.error.c_str());
      continue;
    }
    const PlanResult& p = row.last;
    const double root = Median(row.root_s);
    const double its = static_cast<double>(std::max<int64_t>(1, p.root_lp_iterations));
    std::printf("%-8s %6d %5d %8lld %8lld %8lld %6lld %7lld %9.3f %8.0f %8.2f%% %8.2f%% %6lld %-10s %9.2f %9.2f\n",
                row.c.axis.c_str(), row.c.months, row.c.sites, static_cast<long long>(p.columns),
                static_cast<long long>(p.rows), static_cast<long long>(p.nonzeros),
                static_cast<long long>(p.integer_columns), static_cast<long long>(p.root_lp_iterations), root,
                1e6 * root / its, 100 * p.root_gap, 100 * p.gap, static_cast<long long>(p.nodes), p.stopped_by.c_str(),
                Median(row.total_s), p.npv_usd / 1e9);
    Fit* f = row.c.axis == "months" ? &fm : row.c.axis == "sites" ? &fs : nullptr;
    if (f) {
      f->x.push_back(row.c.axis == "months" ? row.c.months : row.c.sites);
      f->time.push_back(root);
      f->its.push_back(its);
      f->nz.push_back(static_cast<double>(p.nonzeros));
    }
  }
  print_fits(fm, fs);
  return 0;
}

}  // namespace
}  // namespace rackscale

int main(int argc, char** argv) { return rackscale::Main(argc, argv); }
