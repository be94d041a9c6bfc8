#include "plan/planner.h"

#include <glpk.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <functional>
#include <tuple>
#include <utility>

#include <fmt/format.h>

namespace rackscale {
namespace {

constexpr double kHoursPerMonth = 8760.0 / 12.0;

Error Bad(const std::string& field, std::string message) {
  return Error::InvalidInput("plan", 0, field, std::move(message));
}

Status CheckHardwareList(const std::vector<int32_t>& list, size_t n, const std::string& field) {
  for (int32_t h : list) {
    if (h < 0 || static_cast<size_t>(h) >= n) return Bad(field, fmt::format("no hardware type {}", h));
  }
  return Status::Ok();
}

Status Validate(const PlanInput& in) {
  if (in.months < 1 || in.months > 1200) return Bad("months", "expected 1 to 1200 months");
  if (in.monthly_months < 0) return Bad("monthly_months", "expected >= 0");
  if (in.quarterly_months < 0) return Bad("quarterly_months", "expected >= 0");
  if (in.sites.empty()) return Bad("sites", "expected at least one site");
  if (in.hardware.empty()) return Bad("hardware", "expected at least one hardware type");
  for (size_t s = 0; s < in.sites.size(); ++s) {
    const PlanSite& x = in.sites[s];
    const std::string f = fmt::format("sites[{}]", s);
    if (!(x.initial_mw >= 0)) return Bad(f + ".initial_mw", "expected >= 0");
    if (!(x.mw_per_phase >= 0)) return Bad(f + ".mw_per_phase", "expected >= 0");
    if (!(x.usd_per_mw >= 0)) return Bad(f + ".usd_per_mw", "expected >= 0");
    if (x.lead_months < 0) return Bad(f + ".lead_months", "expected >= 0");
    if (x.earliest_month < 0) return Bad(f + ".earliest_month", "expected >= 0");
    if (x.max_phases < 0) return Bad(f + ".max_phases", "expected >= 0");
    if (!(x.pue >= 1 && x.pue <= 5)) return Bad(f + ".pue", "expected 1 to 5");
    if (!(x.usd_per_mwh >= 0)) return Bad(f + ".usd_per_mwh", "expected >= 0");
    if (!(x.life_years >= 0)) return Bad(f + ".life_years", "expected >= 0");
  }
  for (size_t h = 0; h < in.hardware.size(); ++h) {
    const PlanHardware& x = in.hardware[h];
    const std::string f = fmt::format("hardware[{}]", h);
    if (x.gpus_per_domain < 1) return Bad(f + ".gpus_per_domain", "expected >= 1");
    if (!(x.kw_per_domain > 0)) return Bad(f + ".kw_per_domain", "expected > 0");
    if (!(x.usd_per_domain >= 0)) return Bad(f + ".usd_per_domain", "expected >= 0");
    if (x.lead_months < 0) return Bad(f + ".lead_months", "expected >= 0");
    if (x.life_months < 0) return Bad(f + ".life_months", "expected >= 0");
    if (x.first_order_month < 0) return Bad(f + ".first_order_month", "expected >= 0");
    if (!(x.average_load >= 0 && x.average_load <= 1)) return Bad(f + ".average_load", "expected 0 to 1");
  }
  if (in.required_gpus.empty() && in.contracts.empty() && in.on_demand.gpus.empty()) {
    return Bad("contracts", "expected contracts, on-demand demand or the GPUs required by month");
  }
  for (int64_t g : in.required_gpus) {
    if (g < 0) return Bad("required_gpus", "expected GPUs >= 0");
  }
  for (size_t c = 0; c < in.contracts.size(); ++c) {
    const PlanContract& x = in.contracts[c];
    const std::string f = fmt::format("contracts[{}]", c);
    for (int64_t g : x.contracted_gpus) {
      if (g < 0) return Bad(f + ".contracted_gpus", "expected GPUs >= 0");
    }
    if (Status st = CheckHardwareList(x.hardware, in.hardware.size(), f + ".hardware"); !st) return st;
    if (!(x.usd_per_gpu_month >= 0)) return Bad(f + ".usd_per_gpu_month", "expected >= 0");
    if (!(x.penalty_usd_per_gpu_month >= 0)) return Bad(f + ".penalty_usd_per_gpu_month", "expected >= 0");
  }
  for (double g : in.on_demand.gpus) {
    if (!(g >= 0)) return Bad("on_demand.gpus", "expected GPUs >= 0");
  }
  if (Status st = CheckHardwareList(in.on_demand.hardware, in.hardware.size(), "on_demand.hardware"); !st) return st;
  if (!(in.on_demand.usd_per_gpu_month >= 0)) return Bad("on_demand.usd_per_gpu_month", "expected >= 0");
  if (!(in.shortfall_usd_per_gpu_month >= 0)) return Bad("shortfall_usd_per_gpu_month", "expected >= 0");
  for (double c : in.capex_limit_usd) {
    if (!(c >= 0)) return Bad("capex_limit_usd", "expected limits >= 0");
  }
  for (size_t i = 0; i < in.capex_limits.size(); ++i) {
    const PlanCapexLimit& l = in.capex_limits[i];
    const std::string f = fmt::format("capex_limits[{}]", i);
    if (!(l.usd >= 0)) return Bad(f + ".usd", "expected >= 0");
    if (l.first_month < 0 || l.last_month < l.first_month) return Bad(f, "expected 0 <= first_month <= last_month");
  }
  if (!(in.discount_rate > -1 && in.discount_rate < 10)) return Bad("discount_rate", "expected (-1, 10)");
  if (!(in.cash.breach_penalty >= 0)) return Bad("cash.breach_penalty", "expected >= 0");
  if (in.payroll.free) {
    if (!in.cash.enabled) return Bad("payroll", "solving for payroll needs the cash model");
    if (in.payroll.max_roles < 0) return Bad("payroll.max_roles", "expected >= 0");
    if (in.payroll.month < 0 || in.payroll.month >= in.months) return Bad("payroll.month", "outside the horizon");
    if (!(in.payroll.saving_usd_per_role_month >= 0)) return Bad("payroll.saving_usd_per_role_month", "expected >= 0");
    if (!(in.payroll.severance_usd_per_role >= 0)) return Bad("payroll.severance_usd_per_role", "expected >= 0");
  }
  // A week at most: a deadline further off would overflow the clock.
  if (!(in.time_limit_s > 0 && in.time_limit_s <= 7 * 86400.0)) return Bad("time_limit_s", "expected (0, 604800] seconds");
  return Status::Ok();
}

// A problem's columns and rows, 1-based as GLPK wants them.
class Lp {
 public:
  Lp() : p_(glp_create_prob()) { glp_set_obj_dir(p_, GLP_MIN); }
  ~Lp() { glp_delete_prob(p_); }
  Lp(const Lp&) = delete;
  Lp& operator=(const Lp&) = delete;

  // upper < 0: no upper bound. lower: 0, or -inf with free.
  int AddColumn(double cost, double upper, bool integer, bool free = false) {
    const int j = glp_add_cols(p_, 1);
    glp_set_col_kind(p_, j, integer ? GLP_IV : GLP_CV);
    if (free) {
      glp_set_col_bnds(p_, j, GLP_FR, 0.0, 0.0);
    } else {
      const int type = upper < 0 ? GLP_LO : upper > 0 ? GLP_DB : GLP_FX;
      glp_set_col_bnds(p_, j, type, 0.0, std::max(0.0, upper));
    }
    glp_set_obj_coef(p_, j, cost);
    return j;
  }
  // sum coef x col  <=  (upper) / >= (lower) / = (fixed)
  // A column named twice (an order that pays and, on a coarse time axis,
  // also draws energy in its month) is one term, at its first place.
  int AddRow(const std::vector<std::pair<int, double>>& terms, int type, double bound) {
    const int i = glp_add_rows(p_, 1);
    glp_set_row_bnds(p_, i, type, bound, bound);
    std::vector<int> idx(1);
    std::vector<double> val(1);
    for (const auto& [col, coef] : terms) {
      const auto at = std::find(idx.begin() + 1, idx.end(), col);
      if (at != idx.end()) {
        val[static_cast<size_t>(at - idx.begin())] += coef;
        continue;
      }
      idx.push_back(col);
      val.push_back(coef);
    }
    glp_set_mat_row(p_, i, static_cast<int>(idx.size()) - 1, idx.data(), val.data());
    return i;
  }
  glp_prob* get() { return p_; }
  // The solution the solver returned (1-based, every column).
  double Val(int col) const { return sol[static_cast<size_t>(col)]; }
  std::vector<double> sol;

 private:
  glp_prob* p_;
};

// The input with the simple forms (required_gpus, yearly capex limits)
// turned into contracts and limits, and per-month tables filled in.
struct Model {
  const PlanInput* in = nullptr;
  int T = 0, S = 0, H = 0, C = 0;
  std::vector<PlanContract> contracts;
  std::vector<std::vector<int64_t>> contracted;      // [c][t]
  std::vector<std::vector<char>> allowed;            // [c][h]
  std::vector<char> od_allowed;                      // [h]
  std::vector<double> demand;                        // [t]
  std::vector<PlanCapexLimit> limits;
  std::vector<double> disc;                          // [t], and disc[T] for the horizon
  std::vector<double> flow;                          // [t] other cash flow
  double peak_gpus = 0;
  // The time axis (PlanInput::monthly_months): period p is the months
  // [pa[p], pa[p + 1]); pm[t] is month t's period; start[t] whether month t
  // begins a period (domains and phases enter service only then).
  int P = 0;
  std::vector<int> pa, pm;
  std::vector<char> start;
  int A(int p) const { return pa[static_cast<size_t>(p)]; }
  int E(int p) const { return pa[static_cast<size_t>(p) + 1]; }
  int Months(int p) const { return E(p) - A(p); }
  bool Start(int t) const { return t >= T || start[static_cast<size_t>(t)] != 0; }
  // Discount factors summed over period p's months.
  double DiscSum(int p) const {
    double sum = 0;
    for (int t = A(p); t < E(p); ++t) sum += disc[static_cast<size_t>(t)];
    return sum;
  }
  // The least price a GPU of type h earns, of all it may serve ([h]).
  std::vector<double> cheapest_use;
  // What a GPU of type h serving at price `own` in period p adds to the
  // cash balance of each of its months: `own` in a one-month period; in a
  // longer one, the least price of all that h may serve (the plan's serving,
  // Derive, month by month and by worth, may share h out otherwise than the
  // program did, but never pays less than that for a GPU it serves).
  double CashPrice(int p, int h, double own) const {
    return Months(p) == 1 ? own : std::min(own, cheapest_use[static_cast<size_t>(h)]);
  }
  // On-demand demand in period p: its mean over the months, each weighted
  // by its discount factor (so that its revenue is the months' own when
  // demand is served in full); the month's own in a one-month period.
  double Demand(int p) const {
    if (Months(p) == 1) return demand[static_cast<size_t>(A(p))];
    double sum = 0;
    for (int t = A(p); t < E(p); ++t) sum += disc[static_cast<size_t>(t)] * demand[static_cast<size_t>(t)];
    return sum / DiscSum(p);
  }
  // On-demand demand in every month of period p (its least month), and
  // what its mean (Demand) adds to that in a longer period.
  double LeastDemand(int p) const { return *std::min_element(demand.begin() + A(p), demand.begin() + E(p)); }
  double DemandAboveLeast(int p) const { return Months(p) > 1 ? std::max(0.0, Demand(p) - LeastDemand(p)) : 0.0; }
  bool has_od = false;  // any on-demand demand at all
};

Model Normalize(const PlanInput& in) {
  Model m;
  m.in = &in;
  m.T = in.months;
  m.S = static_cast<int>(in.sites.size());
  m.H = static_cast<int>(in.hardware.size());
  const size_t T = static_cast<size_t>(m.T);
  m.contracts = in.contracts;
  if (!in.required_gpus.empty()) {
    PlanContract c;
    c.name = "required";
    c.penalty_usd_per_gpu_month = in.shortfall_usd_per_gpu_month;
    for (size_t t = 0; t < T; ++t) {
      c.contracted_gpus.push_back(in.required_gpus[std::min(t, in.required_gpus.size() - 1)]);
    }
    m.contracts.push_back(std::move(c));
  }
  m.C = static_cast<int>(m.contracts.size());
  for (const PlanContract& c : m.contracts) {
    std::vector<int64_t> g(T, 0);
    for (size_t t = 0; t < T && t < c.contracted_gpus.size(); ++t) g[t] = c.contracted_gpus[t];
    m.contracted.push_back(std::move(g));
    std::vector<char> a(static_cast<size_t>(m.H), c.hardware.empty() ? 1 : 0);
    for (int32_t h : c.hardware) a[static_cast<size_t>(h)] = 1;
    m.allowed.push_back(std::move(a));
  }
  m.od_allowed.assign(static_cast<size_t>(m.H), in.on_demand.hardware.empty() ? 1 : 0);
  for (int32_t h : in.on_demand.hardware) m.od_allowed[static_cast<size_t>(h)] = 1;
  m.demand.assign(T, 0);
  for (size_t t = 0; t < T && t < in.on_demand.gpus.size(); ++t) m.demand[t] = in.on_demand.gpus[t];
  m.limits = in.capex_limits;
  for (size_t y = 0; y < in.capex_limit_usd.size(); ++y) {
    m.limits.push_back(PlanCapexLimit{fmt::format("year {}", y), static_cast<int32_t>(12 * y),
                                      static_cast<int32_t>(12 * y + 11), in.capex_limit_usd[y]});
  }
  const double monthly = std::pow(1.0 + in.discount_rate, 1.0 / 12.0);
  m.disc.resize(T + 1);
  for (size_t t = 0; t <= T; ++t) m.disc[t] = std::pow(monthly, -static_cast<double>(t));
  m.flow.assign(T, 0);
  for (size_t t = 0; t < T && t < in.cash.other_flow_usd.size(); ++t) m.flow[t] = in.cash.other_flow_usd[t];
  for (size_t t = 0; t < T; ++t) {
    double need = m.demand[t];
    for (const auto& g : m.contracted) need += static_cast<double>(g[t]);
    m.peak_gpus = std::max(m.peak_gpus, need);
  }
  m.has_od = std::any_of(m.demand.begin(), m.demand.end(), [](double g) { return g > 0; });
  m.cheapest_use.assign(static_cast<size_t>(m.H), 1e300);
  for (int h = 0; h < m.H; ++h) {
    double& v = m.cheapest_use[static_cast<size_t>(h)];
    for (int k = 0; k < m.C; ++k) {
      if (m.allowed[static_cast<size_t>(k)][static_cast<size_t>(h)]) v = std::min(v, m.contracts[static_cast<size_t>(k)].usd_per_gpu_month);
    }
    if (m.has_od && m.od_allowed[static_cast<size_t>(h)]) v = std::min(v, in.on_demand.usd_per_gpu_month);
  }
  // The time axis: months, then quarters, then years, each split where a
  // contract's GPUs change (so that they are the same in all its months).
  m.start.assign(T, 0);
  const int64_t by_month = in.monthly_months;
  const int64_t by_quarter = by_month + static_cast<int64_t>(in.quarterly_months);
  int64_t next = 0;
  for (size_t t = 0; t < T; ++t) {
    const auto i = static_cast<int64_t>(t);
    bool begins = i == next;
    for (const auto& g : m.contracted) begins = begins || (t > 0 && g[t] != g[t - 1]);
    if (!begins) continue;
    m.start[t] = 1;
    next = i + (i < by_month ? 1 : i < by_quarter ? 3 : 12);
    if (i < by_month) {
      next = std::min(next, by_month);
    } else if (i < by_quarter) {
      next = std::min(next, by_quarter);
    }
  }
  m.pm.assign(T, 0);
  for (size_t t = 0; t < T; ++t) {
    if (m.start[t]) m.pa.push_back(static_cast<int>(t));
    m.pm[t] = static_cast<int>(m.pa.size()) - 1;
  }
  m.P = static_cast<int>(m.pa.size());
  m.pa.push_back(m.T);
  return m;
}

// Share of a purchase's book value left at the horizon: in service from
// `from` for `life` months, straight line; 0 without a life.
double BookShare(int from, int life, int T) {
  if (life <= 0) return 0;
  const double left = static_cast<double>(from + life - T);
  return std::clamp(left / life, 0.0, 1.0);
}

enum class Stage { kNpv, kPayroll };

// The program's columns. The decisions (phases P, orders X) are by the month
// they are made in, and so are the cash balance and its breach; the states
// (Y, Z, I, M) and who the GPUs serve (A, O, the shortfall) are by period
// (Model::pa: months, or quarters and years later on).
struct Columns {
  std::vector<int> phases, cum, fleet, orders, installed, mw, assign, assign_more, od, od_more, shortc, cash, breach;
  int roles = 0;
  // Index helpers over the flat vectors: t a month, p a period.
  int T = 0, S = 0, H = 0, NP = 0;
  int P(int s, int t) const { return phases[static_cast<size_t>(s * T + t)]; }
  int Y(int s, int p) const { return cum[static_cast<size_t>(s * NP + p)]; }
  int X(int h, int s, int t) const { return orders[static_cast<size_t>((h * S + s) * T + t)]; }
  int I(int h, int s, int p) const { return installed[static_cast<size_t>((h * S + s) * NP + p)]; }
  int M(int s, int p) const { return mw[static_cast<size_t>(s * NP + p)]; }
  int A(int c, int h, int p) const { return assign[static_cast<size_t>((c * H + h) * NP + p)]; }
  int O(int h, int p) const { return od[static_cast<size_t>(h * NP + p)]; }
  // In a period of more than one month, GPUs serving a contract above what
  // the domains in service all through it can (A), up to their mean over its
  // months (domains retiring within it count for the months they serve):
  // revenue in the objective, not in the cash rows.
  int A2(int c, int h, int p) const { return assign_more[static_cast<size_t>((c * H + h) * NP + p)]; }
  // On-demand GPUs served above a longer period's least month, up to its
  // mean (Model::Demand): revenue in the objective, not in the cash rows.
  int O2(int h, int p) const { return od_more[static_cast<size_t>(h * NP + p)]; }
  int Sh(int c, int p) const { return shortc[static_cast<size_t>(c * NP + p)]; }
};

struct Built {
  Columns col;
  std::vector<std::vector<int>> power_row;  // [s][t]
  std::vector<int> capex_row;               // per limit
  std::vector<int> floor_row;               // [t]
  // Each state column and the equality row that defines it from the month
  // before (Y, Z, I, M, the shortfall, cash): the root LP's starting basis.
  std::vector<std::pair<int, int>> defines;
};

// Monthly energy cost of one domain of h at site s.
double EnergyPerDomainMonth(const PlanHardware& hw, const PlanSite& site) {
  return hw.kw_per_domain * hw.average_load * site.pue / 1000.0 * kHoursPerMonth * site.usd_per_mwh;
}

double MwPerDomain(const PlanHardware& hw, const PlanSite& site) {
  return hw.kw_per_domain * site.pue / 1000.0;
}

// Whether a domain ordered in month tau is in service in month u.
bool InServiceAt(const PlanHardware& hw, int tau, int u) {
  return tau + hw.lead_months <= u && (hw.life_months <= 0 || u < tau + hw.lead_months + hw.life_months);
}

// Domains of one type at one site in service in month u, from its orders by month.
int64_t InService(const PlanHardware& hw, const std::vector<int64_t>& orders, int u) {
  int64_t n = 0;
  for (int tau = 0; tau <= u - hw.lead_months; ++tau) {
    if (InServiceAt(hw, tau, u)) n += orders[static_cast<size_t>(tau)];
  }
  return n;
}

// Facility MW the domains in service at `site` draw in month u; orders_of(h)
// gives the site's orders of type h by month.
template <typename OrdersOf>
double MwUsed(const PlanInput& in, const PlanSite& site, const OrdersOf& orders_of, int u) {
  double used = 0;
  for (size_t h = 0; h < in.hardware.size(); ++h) {
    used += static_cast<double>(InService(in.hardware[h], orders_of(static_cast<int>(h)), u)) * MwPerDomain(in.hardware[h], site);
  }
  return used;
}

void Build(const Model& m, Stage stage, Lp& lp, Built& b) {
  const PlanInput& in = *m.in;
  const int T = m.T, S = m.S, H = m.H, C = m.C, NP = m.P;
  Columns& c = b.col;
  c.T = T;
  c.S = S;
  c.H = H;
  c.NP = NP;
  const bool npv = stage == Stage::kNpv;
  auto d = [&](int t) { return m.disc[static_cast<size_t>(t)]; };
  const double dT = m.disc[static_cast<size_t>(T)];
  // Month t's orders of h come into service on a period's first month
  // (Model::Start), and are the ones a state row counts; the others are
  // fixed at 0 (every month is a period's first when the program is monthly).
  auto order_ok = [&](int h, int t) { return m.Start(t + in.hardware[static_cast<size_t>(h)].lead_months); };
  auto phase_ok = [&](int s, int t) { return m.Start(t + in.sites[static_cast<size_t>(s)].lead_months); };
  // The orders of h that retire (leave service) in months [from, to).
  auto retiring = [&](int h, int from, int to, auto&& each) {
    const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
    if (hw.life_months <= 0) return;
    const int shift = hw.lead_months + hw.life_months;
    for (int tau = std::max(0, from - shift); tau < to - shift; ++tau) {
      if (order_ok(h, tau)) each(tau, tau + shift);
    }
  };
  // Phases and orders pay at order time and leave book value at the horizon.
  c.phases.resize(static_cast<size_t>(S * T));
  for (int s = 0; s < S; ++s) {
    const PlanSite& site = in.sites[static_cast<size_t>(s)];
    const double cost = site.mw_per_phase * site.usd_per_mw;
    const int life = static_cast<int>(std::lround(site.life_years * 12));
    for (int t = 0; t < T; ++t) {
      const bool may = t >= site.earliest_month && site.mw_per_phase > 0 && t + site.lead_months < T && phase_ok(s, t);
      const double obj = cost * (d(t) - dT * BookShare(t + site.lead_months, life, T));
      c.phases[static_cast<size_t>(s * T + t)] = lp.AddColumn(npv ? obj : 0, may ? site.max_phases : 0, false);
    }
  }
  // The integers are the phases started by each period's end, Y[s][p]
  // (cumulative, 0 ... max_phases); the phases started in a month are the
  // P >= 0 of the row Y[p] - Y[p-1] = sum of P over p's months.
  // The same program, but branching on Y[p] <= k or >= k + 1 moves the
  // whole power history of a site at once, where the monthly counts (which
  // the relaxation spreads as small fractions over many months, following
  // the demand's growth) would need a branch per month.
  c.cum.resize(static_cast<size_t>(S * NP));
  for (int s = 0; s < S; ++s) {
    const PlanSite& site = in.sites[static_cast<size_t>(s)];
    for (int p = 0; p < NP; ++p) {
      const int y = lp.AddColumn(0, site.max_phases, true);
      c.cum[static_cast<size_t>(s * NP + p)] = y;
      std::vector<std::pair<int, double>> terms{{y, 1.0}};
      for (int t = m.A(p); t < m.E(p); ++t) {
        if (phase_ok(s, t)) terms.push_back({c.P(s, t), -1.0});
      }
      if (p > 0) terms.push_back({c.Y(s, p - 1), -1.0});
      b.defines.push_back({y, lp.AddRow(terms, GLP_FX, 0.0)});
    }
  }
  // The fleet's phases in service in each period, Z[p] = sum_s (phases of s
  // started by its first month less lead_s) (integer, implied by the Y, so
  // the same program and the same relaxation): a branch Z[p] <= k or >= k +
  // 1 moves every site's power at once, where a branch on one site's Y lets
  // the relaxation take the same fraction of a phase at another site (the
  // default scenario: proved within 0.5% in 20 nodes, where 100 nodes on the
  // Y alone left 1.6-2.0%). Every period with a site whose phases may be in
  // service, even one alone: leaving those out took 72 nodes.
  c.fleet.assign(static_cast<size_t>(NP), 0);
  for (int p = 0; p < NP; ++p) {
    std::vector<std::pair<int, double>> terms;
    double most = 0;
    for (int s = 0; s < S; ++s) {
      const int o = m.A(p) - in.sites[static_cast<size_t>(s)].lead_months;
      if (o < 0 || in.sites[static_cast<size_t>(s)].max_phases == 0) continue;
      const int q = m.pm[static_cast<size_t>(o)];
      if (o == m.E(q) - 1) {
        terms.push_back({c.Y(s, q), -1.0});
      } else {
        if (q > 0) terms.push_back({c.Y(s, q - 1), -1.0});
        for (int t = m.A(q); t <= o; ++t) {
          if (phase_ok(s, t)) terms.push_back({c.P(s, t), -1.0});
        }
      }
      most += in.sites[static_cast<size_t>(s)].max_phases;
    }
    if (terms.empty()) continue;
    const int z = lp.AddColumn(0, most, true);
    c.fleet[static_cast<size_t>(p)] = z;
    terms.push_back({z, 1.0});
    b.defines.push_back({z, lp.AddRow(terms, GLP_FX, 0.0)});
  }
  c.orders.resize(static_cast<size_t>(H * S * T));
  for (int h = 0; h < H; ++h) {
    const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
    // More domains in one month than the peak demand needs never pay.
    const double most = std::ceil(m.peak_gpus / hw.gpus_per_domain);
    for (int s = 0; s < S; ++s) {
      for (int t = 0; t < T; ++t) {
        const bool useful = t >= hw.first_order_month && t + hw.lead_months < T && order_ok(h, t);
        const double obj =
            hw.usd_per_domain * (d(t) - dT * BookShare(t + hw.lead_months, hw.life_months, T));
        c.orders[static_cast<size_t>((h * S + s) * T + t)] = lp.AddColumn(npv ? obj : 0, useful ? most : 0, in.integer_orders);
      }
    }
  }
  // Domains in service for the whole period (energy is paid on them, GPUs
  // serve from them) and MW in service: state columns defined from the
  // period before keep the matrix sparse. A domain that retires within a
  // period (never within a month) is not in I then; its power and its energy
  // in the months it still serves are counted on its order below.
  c.installed.resize(static_cast<size_t>(H * S * NP));
  for (int h = 0; h < H; ++h) {
    const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
    for (int s = 0; s < S; ++s) {
      const double energy = EnergyPerDomainMonth(hw, in.sites[static_cast<size_t>(s)]);
      for (int p = 0; p < NP; ++p) {
        const int col = lp.AddColumn(npv ? energy * m.DiscSum(p) : 0, -1, false);
        c.installed[static_cast<size_t>((h * S + s) * NP + p)] = col;
        std::vector<std::pair<int, double>> terms{{col, 1.0}};
        if (p > 0) terms.push_back({c.I(h, s, p - 1), -1.0});
        const int o = m.A(p) - hw.lead_months;
        if (o >= 0) terms.push_back({c.X(h, s, o), -1.0});
        retiring(h, m.A(p), m.E(p), [&](int tau, int gone) {
          terms.push_back({c.X(h, s, tau), 1.0});
          if (!npv || gone == m.A(p)) return;
          double serves = 0;  // the months [A(p), gone) it still serves
          for (int t = m.A(p); t < gone; ++t) serves += d(t);
          const int x = c.X(h, s, tau);
          glp_set_obj_coef(lp.get(), x, glp_get_obj_coef(lp.get(), x) + energy * serves);
        });
        b.defines.push_back({col, lp.AddRow(terms, GLP_FX, 0.0)});
      }
    }
  }
  c.mw.resize(static_cast<size_t>(S * NP));
  for (int s = 0; s < S; ++s) {
    const PlanSite& site = in.sites[static_cast<size_t>(s)];
    for (int p = 0; p < NP; ++p) {
      const int col = lp.AddColumn(0, -1, false);
      c.mw[static_cast<size_t>(s * NP + p)] = col;
      std::vector<std::pair<int, double>> terms{{col, 1.0}};
      if (p > 0) terms.push_back({c.M(s, p - 1), -1.0});
      const int o = m.A(p) - site.lead_months;
      if (o >= 0) terms.push_back({c.P(s, o), -site.mw_per_phase});
      b.defines.push_back({col, lp.AddRow(terms, GLP_FX, p == 0 ? site.initial_mw : 0.0)});
    }
  }
  // Who the GPUs serve, the same in each month of a period: contracts (on
  // the hardware each allows; a contract's GPUs are the same in all of a
  // period's months, Normalize) and on-demand demand (its discounted mean
  // over the period: the plan serves each month's own, Derive); revenue is
  // earned on both.
  c.assign.assign(static_cast<size_t>(C * H * NP), 0);
  c.assign_more.assign(static_cast<size_t>(C * H * NP), 0);
  c.shortc.resize(static_cast<size_t>(C * NP));
  const double w_short = static_cast<double>(in.payroll.max_roles) + 1;
  for (int k = 0; k < C; ++k) {
    const PlanContract& ct = m.contracts[static_cast<size_t>(k)];
    for (int h = 0; h < H; ++h) {
      if (!m.allowed[static_cast<size_t>(k)][static_cast<size_t>(h)]) continue;
      for (int p = 0; p < NP; ++p) {
        const double cap = static_cast<double>(m.contracted[static_cast<size_t>(k)][static_cast<size_t>(m.A(p))]);
        c.assign[static_cast<size_t>((k * H + h) * NP + p)] =
            lp.AddColumn(npv ? -ct.usd_per_gpu_month * m.DiscSum(p) : 0, cap, false);
        if (m.Months(p) > 1) {
          c.assign_more[static_cast<size_t>((k * H + h) * NP + p)] =
              lp.AddColumn(npv ? -ct.usd_per_gpu_month * m.DiscSum(p) : 0, cap, false);
        }
      }
    }
    for (int p = 0; p < NP; ++p) {
      const double need = static_cast<double>(m.contracted[static_cast<size_t>(k)][static_cast<size_t>(m.A(p))]);
      const int col = lp.AddColumn(npv ? ct.penalty_usd_per_gpu_month * m.DiscSum(p) : w_short * m.Months(p), need, false);
      c.shortc[static_cast<size_t>(k * NP + p)] = col;
      std::vector<std::pair<int, double>> terms{{col, 1.0}};
      for (int h = 0; h < H; ++h) {
        if (m.allowed[static_cast<size_t>(k)][static_cast<size_t>(h)]) terms.push_back({c.A(k, h, p), 1.0});
        if (c.A2(k, h, p) != 0) terms.push_back({c.A2(k, h, p), 1.0});
      }
      b.defines.push_back({col, lp.AddRow(terms, GLP_FX, need)});
    }
  }
  c.od.assign(static_cast<size_t>(H * NP), 0);
  c.od_more.assign(static_cast<size_t>(H * NP), 0);
  const bool has_od = m.has_od;
  // On-demand demand in a period: each of its months at least its least
  // (Model::LeastDemand), on average its mean (Model::Demand). The cash
  // balance counts only the least (so that no month's cash is counted on
  // revenue that month's demand cannot pay), the objective up to the mean;
  // the plan serves each month's own demand (Derive).
  if (has_od) {
    for (int h = 0; h < H; ++h) {
      if (!m.od_allowed[static_cast<size_t>(h)]) continue;
      for (int p = 0; p < NP; ++p) {
        c.od[static_cast<size_t>(h * NP + p)] =
            lp.AddColumn(npv ? -in.on_demand.usd_per_gpu_month * m.DiscSum(p) : 0, m.LeastDemand(p), false);
      }
    }
    for (int p = 0; p < NP; ++p) {
      std::vector<std::pair<int, double>> terms;
      for (int h = 0; h < H; ++h) {
        if (m.od_allowed[static_cast<size_t>(h)]) terms.push_back({c.O(h, p), 1.0});
      }
      lp.AddRow(terms, GLP_UP, m.LeastDemand(p));
    }
    for (int p = 0; p < NP; ++p) {
      const double more = m.DemandAboveLeast(p);
      if (more <= 0) continue;
      std::vector<std::pair<int, double>> terms;
      for (int h = 0; h < H; ++h) {
        if (!m.od_allowed[static_cast<size_t>(h)]) continue;
        const int col = lp.AddColumn(npv ? -in.on_demand.usd_per_gpu_month * m.DiscSum(p) : 0, more, false);
        c.od_more[static_cast<size_t>(h * NP + p)] = col;
        terms.push_back({col, 1.0});
      }
      lp.AddRow(terms, GLP_UP, more);
    }
  }
  // GPUs served within the domains in service: all through the period (A,
  // O: in every one of its months), and on average over its months (A2, O2:
  // the domains retiring within it for the months they serve).
  for (int h = 0; h < H; ++h) {
    const double g = in.hardware[static_cast<size_t>(h)].gpus_per_domain;
    for (int p = 0; p < NP; ++p) {
      std::vector<std::pair<int, double>> terms;
      for (int k = 0; k < C; ++k) {
        if (m.allowed[static_cast<size_t>(k)][static_cast<size_t>(h)]) terms.push_back({c.A(k, h, p), 1.0});
      }
      if (has_od && m.od_allowed[static_cast<size_t>(h)]) terms.push_back({c.O(h, p), 1.0});
      if (terms.empty()) continue;
      const size_t served = terms.size();
      for (int s = 0; s < S; ++s) terms.push_back({c.I(h, s, p), -g});
      lp.AddRow(terms, GLP_UP, 0.0);
      const int months = m.Months(p);
      if (months == 1) continue;
      terms.resize(served);
      for (int k = 0; k < C; ++k) {
        if (c.A2(k, h, p) != 0) terms.push_back({c.A2(k, h, p), 1.0});
      }
      if (c.O2(h, p) != 0) terms.push_back({c.O2(h, p), 1.0});
      for (int s = 0; s < S; ++s) {
        terms.push_back({c.I(h, s, p), -g});
        retiring(h, m.A(p) + 1, m.E(p), [&](int tau, int gone) {
          terms.push_back({c.X(h, s, tau), -g * (gone - m.A(p)) / months});
        });
      }
      lp.AddRow(terms, GLP_UP, 0.0);
    }
  }
  // Power at each site, each period: the domains in service at its first
  // month (none arrive later in it), those retiring within it included.
  b.power_row.assign(static_cast<size_t>(S), std::vector<int>(static_cast<size_t>(NP)));
  for (int s = 0; s < S; ++s) {
    const PlanSite& site = in.sites[static_cast<size_t>(s)];
    for (int p = 0; p < NP; ++p) {
      std::vector<std::pair<int, double>> terms;
      for (int h = 0; h < H; ++h) {
        const double mw = MwPerDomain(in.hardware[static_cast<size_t>(h)], site);
        terms.push_back({c.I(h, s, p), mw});
        retiring(h, m.A(p) + 1, m.E(p), [&](int tau, int) { terms.push_back({c.X(h, s, tau), mw}); });
      }
      terms.push_back({c.M(s, p), -1.0});
      b.power_row[static_cast<size_t>(s)][static_cast<size_t>(p)] = lp.AddRow(terms, GLP_UP, 0.0);
    }
    // At most max_phases: the bound of Y[s][P-1].
  }
  // Capex limits.
  for (const PlanCapexLimit& l : m.limits) {
    std::vector<std::pair<int, double>> terms;
    for (int t = l.first_month; t <= std::min(T - 1, l.last_month); ++t) {
      for (int s = 0; s < S; ++s) {
        const PlanSite& site = in.sites[static_cast<size_t>(s)];
        terms.push_back({c.P(s, t), site.mw_per_phase * site.usd_per_mw});
        for (int h = 0; h < H; ++h) terms.push_back({c.X(h, s, t), in.hardware[static_cast<size_t>(h)].usd_per_domain});
      }
    }
    b.capex_row.push_back(terms.empty() ? 0 : lp.AddRow(terms, GLP_UP, l.usd));
  }
  // Cash: a balance carried month to month, kept above the floor (a breach
  // is allowed, at a steep price, so that the program always solves).
  if (in.cash.enabled) {
    if (in.payroll.free) {
      c.roles = lp.AddColumn(npv ? 0 : 1.0, static_cast<double>(in.payroll.max_roles), true);
    }
    c.cash.resize(static_cast<size_t>(T));
    c.breach.resize(static_cast<size_t>(T));
    b.floor_row.resize(static_cast<size_t>(T));
    for (int t = 0; t < T; ++t) {
      const int p = m.pm[static_cast<size_t>(t)];
      const int col = lp.AddColumn(0, 0, false, /*free=*/true);
      c.cash[static_cast<size_t>(t)] = col;
      // C(t) - C(t-1) + capex + energy - revenue (- roles x saving + roles x severance) = flow
      std::vector<std::pair<int, double>> terms{{col, 1.0}};
      if (t > 0) terms.push_back({c.cash[static_cast<size_t>(t - 1)], -1.0});
      for (int s = 0; s < S; ++s) {
        const PlanSite& site = in.sites[static_cast<size_t>(s)];
        terms.push_back({c.P(s, t), site.mw_per_phase * site.usd_per_mw});
        for (int h = 0; h < H; ++h) {
          const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
          terms.push_back({c.X(h, s, t), hw.usd_per_domain});
          const double e = EnergyPerDomainMonth(hw, site);
          if (e > 0) {
            terms.push_back({c.I(h, s, p), e});
            // Retiring later in the period: still in service this month.
            retiring(h, t + 1, m.E(p), [&](int tau, int) { terms.push_back({c.X(h, s, tau), e}); });
          }
        }
      }
      // Revenue. In a period of more than one month, the plan's serving
      // (Derive: by worth, month by month) may share a type's GPUs out
      // otherwise than the program's A and O did, so each of them counts
      // at the least price of anyone the type serves.
      auto price = [&](int h, double own) { return m.CashPrice(p, h, own); };
      for (int k = 0; k < C; ++k) {
        for (int h = 0; h < H; ++h) {
          if (m.allowed[static_cast<size_t>(k)][static_cast<size_t>(h)] && m.contracts[static_cast<size_t>(k)].usd_per_gpu_month > 0) {
            const double v = price(h, m.contracts[static_cast<size_t>(k)].usd_per_gpu_month);
            if (v > 0) terms.push_back({c.A(k, h, p), -v});
          }
        }
      }
      if (has_od && in.on_demand.usd_per_gpu_month > 0) {
        for (int h = 0; h < H; ++h) {
          const double v = price(h, in.on_demand.usd_per_gpu_month);
          if (m.od_allowed[static_cast<size_t>(h)] && v > 0) terms.push_back({c.O(h, p), -v});
        }
      }
      if (in.payroll.free) {
        double k = 0;
        if (t > in.payroll.month) k -= in.payroll.saving_usd_per_role_month;
        if (t == in.payroll.month) k += in.payroll.severance_usd_per_role;
        if (k != 0) terms.push_back({c.roles, k});
      }
      b.defines.push_back({col, lp.AddRow(terms, GLP_FX, m.flow[static_cast<size_t>(t)] + (t == 0 ? in.cash.starting_usd : 0.0))});
      // Stage 1 (payroll): a breach of the price of the cheapest domain
      // outweighs cutting every role, so breaches go first, then roles.
      double cheapest = 1e300;
      for (const PlanHardware& hw : in.hardware) {
        if (hw.usd_per_domain > 0) cheapest = std::min(cheapest, hw.usd_per_domain);
      }
      if (cheapest > 1e299) cheapest = 1;
      const double penalty = npv ? in.cash.breach_penalty * d(t) : w_short / cheapest;
      const int br = lp.AddColumn(penalty, -1, false);
      c.breach[static_cast<size_t>(t)] = br;
      b.floor_row[static_cast<size_t>(t)] = lp.AddRow({{col, 1.0}, {br, 1.0}}, GLP_LO, in.cash.min_usd);
    }
  }
}

// An incumbent from the LP relaxation at the root: orders and phases
// rounded down, then orders dropped (latest first) wherever a site's power
// would be exceeded; the GPUs in service go to contracts in order, then to
// on-demand demand; the shortfall and the cash balance follow. Offered to
// the solver only if it satisfies every row (checked here, not assumed).
struct Heuristic {
  const Model* m = nullptr;
  const Built* b = nullptr;
  bool done = false;
  int64_t calls = 0;
  int64_t nodes = 0;        // subproblems selected so far
  bool node_limited = false;
  double gap = -1;  // the search's relative gap when last seen
  // The first stage's phases (payroll): a plan the second stage's rows admit.
  const std::vector<std::vector<int64_t>>* start = nullptr;
  // The problem whose relaxation is rounded (its column primals), and where
  // a plan that satisfies every row, bound and integrality goes: GLPK's
  // search (glp_ios_heur_sol), or the best kept as CBC's starting plan.
  glp_prob* lpp = nullptr;
  std::function<bool(const std::vector<double>&)> offer;
};

void OfferRounded(Heuristic* heur, bool phases_up);
void FixPhasesAndSolve(Heuristic* heur, int mode);
// Whether x (1-based, every column) satisfies every row, bound and
// integrality of lpp.
bool Feasible(glp_prob* lpp, const std::vector<double>& x) {
  const int n = glp_get_num_cols(lpp);
  const int rows = glp_get_num_rows(lpp);
  std::vector<int> idx(static_cast<size_t>(n) + 1);
  std::vector<double> val(static_cast<size_t>(n) + 1);
  for (int i = 1; i <= rows; ++i) {
    const int len = glp_get_mat_row(lpp, i, idx.data(), val.data());
    double a = 0, scale = 1;
    for (int k = 1; k <= len; ++k) {
      a += val[static_cast<size_t>(k)] * x[static_cast<size_t>(idx[static_cast<size_t>(k)])];
      scale = std::max(scale, std::fabs(val[static_cast<size_t>(k)] * x[static_cast<size_t>(idx[static_cast<size_t>(k)])]));
    }
    const double tol = 1e-7 * scale + 1e-6;
    const int type = glp_get_row_type(lpp, i);
    if ((type == GLP_LO || type == GLP_DB || type == GLP_FX) && a < glp_get_row_lb(lpp, i) - tol) return false;
    if ((type == GLP_UP || type == GLP_DB || type == GLP_FX) && a > glp_get_row_ub(lpp, i) + tol) return false;
  }
  for (int j = 1; j <= n; ++j) {
    const int type = glp_get_col_type(lpp, j);
    const double v = x[static_cast<size_t>(j)];
    if ((type == GLP_LO || type == GLP_DB || type == GLP_FX) && v < glp_get_col_lb(lpp, j) - 1e-6) return false;
    if ((type == GLP_UP || type == GLP_DB || type == GLP_FX) && v > glp_get_col_ub(lpp, j) + 1e-6) return false;
    if (glp_get_col_kind(lpp, j) == GLP_IV && std::fabs(v - std::round(v)) > 1e-9) return false;
  }
  return true;
}

// Offers x to the search if it satisfies every row, bound and integrality;
// checked here, not assumed.
bool Offer(Heuristic* heur, const std::vector<double>& x) {
  return Feasible(heur->lpp, x) && heur->offer(x);
}

// The strongest incumbent cheaply: the LP relaxation's power phases (and
// roles cut) rounded (mode 0 up, 1 to nearest, 2 down), or the caller's
// hint (mode 3: another plan's phases, e.g. the base plan of a sensitivity
// run), or the first stage's phases (mode 4: with the payroll lever, the
// plan of least shortfall, which the second stage's rows always admit, so
// that it never ends without a plan), each site's phases trimmed, latest
// first, to its maximum, fixed,
// and everything else solved as an LP on a copy of the problem. With continuous orders that LP's
// optimum is a plan the search can accept as it is.
void FixPhasesAndSolve(Heuristic* heur, int mode) {
  const Model& m = *heur->m;
  const Columns& c = heur->b->col;
  const PlanInput& in = *m.in;
  if (in.integer_orders) return;
  glp_prob* lpp = heur->lpp;
  glp_prob* copy = glp_create_prob();
  glp_copy_prob(copy, lpp, GLP_OFF);
  const std::vector<std::vector<int64_t>>* hint = mode == 3 ? &in.hint_phases : mode == 4 ? heur->start : nullptr;
  if ((mode == 3 || mode == 4) && (hint == nullptr || hint->size() != static_cast<size_t>(m.S) ||
                    std::any_of(hint->begin(), hint->end(),
                                [&](const std::vector<int64_t>& v) { return v.size() != static_cast<size_t>(m.T); }))) {
    glp_delete_prob(copy);
    return;
  }
  // The relaxation's phases started by each month (cumulative), rounded up
  // from a threshold: a site's next phase starts in the first month its
  // relaxation has started more than that share of it.
  const double threshold = mode == 0 ? 1e-6 : mode == 1 ? 0.5 : mode == 2 ? 1 - 1e-6 : mode == 5 ? 0.25 : 0.75;
  auto round = [&](double v) { return std::max(0.0, std::ceil(v - threshold)); };
  for (int s = 0; s < m.S; ++s) {
    std::vector<double> p(static_cast<size_t>(m.T));
    double total = 0, lp_cum = 0;
    for (int t = 0; t < m.T; ++t) {
      const int col = c.P(s, t);
      lp_cum += glp_get_col_prim(lpp, col);
      const double want = mode == 3 || mode == 4 ? static_cast<double>((*hint)[static_cast<size_t>(s)][static_cast<size_t>(t)])
                                                 : round(lp_cum) - total;
      p[static_cast<size_t>(t)] = std::min(want, glp_get_col_ub(lpp, col));
      p[static_cast<size_t>(t)] = std::max(p[static_cast<size_t>(t)], glp_get_col_lb(lpp, col));
      total += p[static_cast<size_t>(t)];
    }
    const double most = in.sites[static_cast<size_t>(s)].max_phases;
    for (int t = m.T - 1; t >= 0 && total > most; --t) {
      const double cut = std::min(p[static_cast<size_t>(t)], total - most);
      p[static_cast<size_t>(t)] -= cut;
      total -= cut;
    }
    for (int t = 0; t < m.T; ++t) glp_set_col_bnds(copy, c.P(s, t), GLP_FX, p[static_cast<size_t>(t)], p[static_cast<size_t>(t)]);
  }
  if (c.roles != 0) {
    const double r = glp_get_col_prim(lpp, c.roles);
    const double v = std::min(mode == 0 ? std::ceil(r - 1e-6) : mode == 2 ? std::floor(r + 1e-6) : std::round(r),
                              glp_get_col_ub(lpp, c.roles));
    glp_set_col_bnds(copy, c.roles, GLP_FX, v, v);
  }
  // Warm: the copy keeps the relaxation's basis, which fixing the phases
  // leaves dual feasible.
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.meth = GLP_DUALP;
  int rc = glp_simplex(copy, &parm);
  if (rc != 0) {
    parm.presolve = GLP_ON;
    rc = glp_simplex(copy, &parm);
  }
  if (std::getenv("RACKSCALE_PLAN_DEBUG")) {
    std::fprintf(stderr, "fix-phases mode %d: simplex %d status %d objective %g\n", mode, rc, glp_get_status(copy), glp_get_obj_val(copy));
  }
  if (rc == 0 && glp_get_status(copy) == GLP_OPT) {
    const int n = glp_get_num_cols(copy);
    std::vector<double> x(static_cast<size_t>(n) + 1, 0.0);
    for (int j = 1; j <= n; ++j) {
      x[static_cast<size_t>(j)] = glp_get_col_kind(copy, j) == GLP_IV ? std::round(glp_get_col_prim(copy, j))
                                                                        : glp_get_col_prim(copy, j);
    }
    const bool ok = Offer(heur, x);
    if (std::getenv("RACKSCALE_PLAN_DEBUG")) std::fprintf(stderr, "  offered: %s\n", ok ? "accepted" : "rejected");
  }
  glp_delete_prob(copy);
}


void RoundingHeuristic(glp_tree* tree, void* info) {
  auto* heur = static_cast<Heuristic*>(info);
  if (glp_ios_reason(tree) == GLP_ISELECT || glp_ios_reason(tree) == GLP_IBINGO) {
    heur->gap = glp_ios_mip_gap(tree);
    if (glp_ios_reason(tree) == GLP_ISELECT) {
      ++heur->nodes;
      // A node budget makes a search that does not finish stop at the same
      // place on every machine (the time limit still caps it).
      if (heur->m->in->node_limit > 0 && heur->nodes > heur->m->in->node_limit) {
        heur->node_limited = true;
        heur->nodes = heur->m->in->node_limit;  // the one just selected is not solved
        glp_ios_terminate(tree);
      }
    }
    return;
  }
  if (glp_ios_reason(tree) != GLP_IHEUR) return;
  heur->lpp = glp_ios_get_prob(tree);
  heur->offer = [tree](const std::vector<double>& x) { return glp_ios_heur_sol(tree, x.data()) == 0; };
  // At the root, all of them; then, every 16th node, the phases of that
  // node's relaxation rounded to nearest and fixed (a cheap dive).
  if (heur->done) {
    if (++heur->calls % 16 == 0) FixPhasesAndSolve(heur, 1);
    return;
  }
  heur->done = true;
  // Phases rounded and fixed with the rest re-solved (and, with the payroll
  // lever, the first stage's phases); then the plain roundings (offered
  // only where they satisfy every row, as every offer is).
  const auto h0 = std::chrono::steady_clock::now();
  for (int mode = 0; mode < 7; ++mode) FixPhasesAndSolve(heur, mode);
  if (std::getenv("RACKSCALE_PLAN_DEBUG")) {
    std::fprintf(stderr, "root heuristics %.2f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - h0).count());
  }
  OfferRounded(heur, true);
  OfferRounded(heur, false);
}

void OfferRounded(Heuristic* heur, bool phases_up) {
  glp_prob* lpp = heur->lpp;
  const Model& m = *heur->m;
  const Columns& c = heur->b->col;
  const PlanInput& in = *m.in;
  const int T = m.T, S = m.S, H = m.H, C = m.C, NP = m.P;
  const int n = glp_get_num_cols(lpp);
  std::vector<double> x(static_cast<size_t>(n) + 1, 0.0);
  auto lpv = [&](int col) { return glp_get_col_prim(lpp, col); };
  auto set = [&](int col, double v) { x[static_cast<size_t>(col)] = v; };
  // GPUs in service for the whole of each period ([h][p]); capex and energy by month.
  std::vector<double> gpus(static_cast<size_t>(H * NP), 0.0), mean_gpus(static_cast<size_t>(H * NP), 0.0);
  std::vector<double> capex(static_cast<size_t>(T), 0.0), energy(static_cast<size_t>(T), 0.0);
  std::vector<std::vector<double>> started_by(static_cast<size_t>(S), std::vector<double>(static_cast<size_t>(T)));
  for (int s = 0; s < S; ++s) {
    const PlanSite& site = in.sites[static_cast<size_t>(s)];
    std::vector<double> mw(static_cast<size_t>(T));
    double level = site.initial_mw, lp_cum = 0, started = 0;
    for (int t = 0; t < T; ++t) {
      // Phases started by month t rounded (up or down), within the month's bounds.
      lp_cum += lpv(c.P(s, t));
      const double whole = phases_up ? std::ceil(lp_cum - 1e-6) : std::floor(lp_cum + 1e-6);
      const double p = std::clamp(whole - started, 0.0, std::max(0.0, glp_get_col_ub(lpp, c.P(s, t))));
      started += p;
      started_by[static_cast<size_t>(s)][static_cast<size_t>(t)] = started;
      set(c.P(s, t), p);
      capex[static_cast<size_t>(t)] += p * site.mw_per_phase * site.usd_per_mw;
      if (t - site.lead_months >= 0) level += x[static_cast<size_t>(c.P(s, t - site.lead_months))] * site.mw_per_phase;
      mw[static_cast<size_t>(t)] = level;
      const int q = m.pm[static_cast<size_t>(t)];
      if (t == m.E(q) - 1) set(c.Y(s, q), started);
      if (t == m.A(q)) set(c.M(s, q), level);
    }
    std::vector<std::vector<int64_t>> ord(static_cast<size_t>(H), std::vector<int64_t>(static_cast<size_t>(T)));
    for (int h = 0; h < H; ++h) {
      for (int t = 0; t < T; ++t) ord[static_cast<size_t>(h)][static_cast<size_t>(t)] = static_cast<int64_t>(std::floor(lpv(c.X(h, s, t)) + 1e-9));
    }
    auto orders_of = [&](int h) -> const std::vector<int64_t>& { return ord[static_cast<size_t>(h)]; };
    for (int t = 0; t < T; ++t) {
      while (true) {
        if (MwUsed(in, site, orders_of, t) <= mw[static_cast<size_t>(t)] + 1e-9) break;
        int best_h = -1, best_tau = -1;
        for (int h = 0; h < H; ++h) {
          for (int tau = t; tau >= 0; --tau) {
            if (InServiceAt(in.hardware[static_cast<size_t>(h)], tau, t) && ord[static_cast<size_t>(h)][static_cast<size_t>(tau)] > 0) {
              if (tau > best_tau) {
                best_tau = tau;
                best_h = h;
              }
              break;
            }
          }
        }
        if (best_h < 0) break;
        --ord[static_cast<size_t>(best_h)][static_cast<size_t>(best_tau)];
      }
    }
    for (int h = 0; h < H; ++h) {
      const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
      int64_t inst = 0;
      for (int t = 0; t < T; ++t) {
        const int64_t o = ord[static_cast<size_t>(h)][static_cast<size_t>(t)];
        set(c.X(h, s, t), static_cast<double>(o));
        capex[static_cast<size_t>(t)] += static_cast<double>(o) * hw.usd_per_domain;
        const int arrive = t - hw.lead_months;
        if (arrive >= 0) inst += ord[static_cast<size_t>(h)][static_cast<size_t>(arrive)];
        if (hw.life_months > 0 && arrive - hw.life_months >= 0) inst -= ord[static_cast<size_t>(h)][static_cast<size_t>(arrive - hw.life_months)];
        // In service for the whole period: at its last month (domains arrive
        // only on a period's first).
        const int q = m.pm[static_cast<size_t>(t)];
        if (t == m.E(q) - 1) {
          set(c.I(h, s, q), static_cast<double>(inst));
          gpus[static_cast<size_t>(h * NP + q)] += static_cast<double>(inst * hw.gpus_per_domain);
        }
        mean_gpus[static_cast<size_t>(h * NP + q)] += static_cast<double>(inst * hw.gpus_per_domain) / m.Months(q);
        energy[static_cast<size_t>(t)] += static_cast<double>(inst) * EnergyPerDomainMonth(hw, site);
      }
    }
  }
  std::vector<double> revenue(static_cast<size_t>(T), 0.0);
  for (int q = 0; q < NP; ++q) {
    std::vector<double> left(static_cast<size_t>(H));
    for (int h = 0; h < H; ++h) left[static_cast<size_t>(h)] = gpus[static_cast<size_t>(h * NP + q)];
    // Column col (0: none) takes what it can of `want` from type h's GPUs left.
    auto give = [&](int col, int h, double& want) {
      if (col == 0) return 0.0;
      const double take = std::min(want, left[static_cast<size_t>(h)]);
      set(col, take);
      left[static_cast<size_t>(h)] -= take;
      want -= take;
      return take;
    };
    double earned = 0;  // in each of the period's months
    std::vector<double> need(static_cast<size_t>(C));
    for (int k = 0; k < C; ++k) {
      need[static_cast<size_t>(k)] = static_cast<double>(m.contracted[static_cast<size_t>(k)][static_cast<size_t>(m.A(q))]);
      const double price = m.contracts[static_cast<size_t>(k)].usd_per_gpu_month;
      for (int h = 0; h < H; ++h) {
        const double take = give(c.A(k, h, q), h, need[static_cast<size_t>(k)]);
        if (price > 0) earned += take * m.CashPrice(q, h, price);
      }
    }
    double want = m.LeastDemand(q);  // in every month
    for (int h = 0; h < H; ++h) {
      const double take = give(c.O(h, q), h, want);
      if (in.on_demand.usd_per_gpu_month > 0) earned += take * m.CashPrice(q, h, in.on_demand.usd_per_gpu_month);
    }
    // Up to the mean GPUs and demand over the period: in the objective, not
    // in the cash (Build).
    for (int h = 0; h < H; ++h) {
      const size_t i = static_cast<size_t>(h * NP + q);
      left[static_cast<size_t>(h)] += std::max(0.0, mean_gpus[i] - gpus[i]);
    }
    for (int k = 0; k < C; ++k) {
      for (int h = 0; h < H; ++h) give(c.A2(k, h, q), h, need[static_cast<size_t>(k)]);
      set(c.Sh(k, q), need[static_cast<size_t>(k)]);
    }
    double more = m.DemandAboveLeast(q);
    for (int h = 0; h < H; ++h) give(c.O2(h, q), h, more);
    for (int t = m.A(q); t < m.E(q); ++t) revenue[static_cast<size_t>(t)] = earned;
  }
  if (in.cash.enabled) {
    double roles = 0;
    if (in.payroll.free) {
      roles = std::min<double>(static_cast<double>(in.payroll.max_roles), std::ceil(lpv(c.roles) - 1e-9));
      if (glp_get_col_type(lpp, c.roles) == GLP_FX) roles = glp_get_col_lb(lpp, c.roles);
      set(c.roles, roles);
    }
    double bal = in.cash.starting_usd;
    for (int t = 0; t < T; ++t) {
      bal += m.flow[static_cast<size_t>(t)] + revenue[static_cast<size_t>(t)] - capex[static_cast<size_t>(t)] - energy[static_cast<size_t>(t)];
      if (in.payroll.free) {
        if (t > in.payroll.month) bal += roles * in.payroll.saving_usd_per_role_month;
        if (t == in.payroll.month) bal -= roles * in.payroll.severance_usd_per_role;
      }
      set(c.cash[static_cast<size_t>(t)], bal);
      set(c.breach[static_cast<size_t>(t)], std::max(0.0, in.cash.min_usd - bal));
    }
  }
  for (int q = 0; q < NP; ++q) {
    if (c.fleet[static_cast<size_t>(q)] == 0) continue;
    double z = 0;
    for (int s = 0; s < S; ++s) {
      const int o = m.A(q) - in.sites[static_cast<size_t>(s)].lead_months;
      if (o >= 0 && in.sites[static_cast<size_t>(s)].max_phases > 0) z += started_by[static_cast<size_t>(s)][static_cast<size_t>(o)];
    }
    set(c.fleet[static_cast<size_t>(q)], z);
  }
  Offer(heur, x);
}

struct Solved {
  bool has_plan = false;
  int64_t nodes = 0;
  std::string stopped_by;
  bool proved = false;  // optimal within mip_gap
  double objective = 0, bound = 0;
  double gap = -1;      // the search's final relative gap, if it reported one
  double root_lp_s = 0; // wall seconds of the root LP relaxation
  int64_t root_lp_iterations = 0;
  double root_bound = 0;
};

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The error of a solve the time limit stopped before it had any plan.
Error TimeLimited(const std::string& what, double limit_s) {
  return Error{ErrorKind::kInternal, "plan", 0, "time limit",
               fmt::format("the time limit stopped the solve in {} before it had a plan (time_limit_s {:g}; "
                           "raise --time-limit)", what, limit_s)};
}

// GLPK's branch and cut from the root relaxation lp already holds; the
// rounding heuristics run in its callback.
Result<Solved> SolveGlpk(const Model& m, Lp& lp, const Built& b, std::chrono::steady_clock::time_point deadline,
                         const std::vector<std::vector<int64_t>>* start, Solved r) {
  const PlanInput& in = *m.in;
  Heuristic heur;
  heur.m = &m;
  heur.b = &b;
  heur.start = start;
  glp_iocp parm;
  glp_init_iocp(&parm);
  parm.cb_func = RoundingHeuristic;
  parm.cb_info = &heur;
  // No MIP presolve: the heuristic writes values by this problem's column
  // numbers, which presolve would change. The root LP is solved first.
  parm.presolve = GLP_OFF;
  parm.msg_lev = GLP_MSG_OFF;
  // The time limit covers the whole solve: what is left of it after
  // building and the root LP, less a moment to round and report.
  const double left_ms = std::chrono::duration<double, std::milli>(deadline - std::chrono::steady_clock::now()).count();
  parm.tm_lim = static_cast<int>(std::clamp(left_ms - std::min(1500.0, 0.15 * in.time_limit_s * 1000), 1.0, 2e9));
  parm.mip_gap = in.mip_gap;
  // Heuristics for an incumbent early: the feasibility pump, and cuts that
  // tighten the weak monthly relaxation.
  parm.fp_heur = GLP_ON;
  parm.gmi_cuts = GLP_ON;
  parm.mir_cuts = GLP_ON;
  // No preprocessing of the node problems: with it the default scenario
  // needed 43 nodes to prove 0.5%, without it 20 (and before the fleet
  // columns Z, 100 nodes left 2.02% with it and 1.59% without).
  parm.pp_tech = GLP_PP_NONE;
  // For experiments only (bench/plan_scaling.cc --variants): the search's
  // options as "key=value,...", e.g. "mir=0,cov=1,br=pch,bt=bph".
  if (const char* opts = std::getenv("RACKSCALE_PLAN_IOCP")) {
    std::string all = opts;
    size_t at = 0;
    while (at < all.size()) {
      size_t end = all.find(',', at);
      if (end == std::string::npos) end = all.size();
      const std::string kv = all.substr(at, end - at);
      at = end + 1;
      const size_t eq = kv.find('=');
      if (eq == std::string::npos) continue;
      const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
      const int on = v == "1" ? GLP_ON : GLP_OFF;
      if (k == "gmi") parm.gmi_cuts = on;
      if (k == "mir") parm.mir_cuts = on;
      if (k == "cov") parm.cov_cuts = on;
      if (k == "clq") parm.clq_cuts = on;
      if (k == "fp") parm.fp_heur = on;
      if (k == "ps") parm.ps_heur = on;
      if (k == "br") parm.br_tech = v == "ffv" ? GLP_BR_FFV : v == "lfv" ? GLP_BR_LFV : v == "mfv" ? GLP_BR_MFV : v == "pch" ? GLP_BR_PCH : GLP_BR_DTH;
      if (k == "bt") parm.bt_tech = v == "dfs" ? GLP_BT_DFS : v == "bfs" ? GLP_BT_BFS : v == "bph" ? GLP_BT_BPH : GLP_BT_BLB;
      if (k == "pp") parm.pp_tech = v == "none" ? GLP_PP_NONE : v == "all" ? GLP_PP_ALL : GLP_PP_ROOT;
    }
  }
  const int rc = glp_intopt(lp.get(), &parm);
  const int status = glp_mip_status(lp.get());
  r.proved = rc == GLP_EMIPGAP || (rc == 0 && status == GLP_OPT);
  r.nodes = heur.nodes;
  r.stopped_by = r.proved ? "gap" : heur.node_limited ? "node limit" : rc == GLP_ETMLIM ? "time limit" : "solver";
  if (std::getenv("RACKSCALE_PLAN_DEBUG")) {
    std::fprintf(stderr, "glp_intopt rc %d status %d gap %g, %lld nodes, %.2f s left\n", rc, status, heur.gap,
                 static_cast<long long>(heur.nodes), Seconds(deadline - std::chrono::steady_clock::now()));
  }
  r.gap = status == GLP_OPT ? 0.0 : heur.gap;
  if (!(status == GLP_OPT || status == GLP_FEAS)) {
    if (rc == GLP_ETMLIM) return TimeLimited("the branch and bound", in.time_limit_s);
    return Error{ErrorKind::kInternal, "plan", 0, {},
                 fmt::format("the solver found no plan (glp_intopt {}, status {})", rc, status)};
  }
  if (status == GLP_OPT && !r.proved) r.gap = 0;
  r.has_plan = true;
  r.objective = glp_mip_obj_val(lp.get());
  const int n = glp_get_num_cols(lp.get());
  lp.sol.assign(static_cast<size_t>(n) + 1, 0.0);
  for (int j = 1; j <= n; ++j) lp.sol[static_cast<size_t>(j)] = glp_mip_col_val(lp.get(), j);
  return r;
}

// The root LP's starting basis: every state column (Y, Z, I, M, the
// shortfall, cash) basic in the equality row that defines it, every other
// column at its bound (nothing ordered, no phase started), and the floor's
// breach basic in the months whose cash would then be below it. It is
// triangular (each state row holds its own column and the month before's),
// and primal feasible but for rows added between stages.
void StateBasis(glp_prob* p, const Built& b) {
  glp_std_basis(p);
  for (const auto& [col, row] : b.defines) {
    glp_set_col_stat(p, col, GLP_BS);
    glp_set_row_stat(p, row, GLP_NS);
  }
  if (glp_warm_up(p) != 0) return;
  for (size_t t = 0; t < b.floor_row.size(); ++t) {
    const int row = b.floor_row[t];
    if (glp_get_row_prim(p, row) < glp_get_row_lb(p, row)) {
      glp_set_row_stat(p, row, GLP_NL);
      glp_set_col_stat(p, b.col.breach[t], GLP_BS);
    }
  }
}

Result<Solved> Solve(const Model& m, Lp& lp, const Built& b, std::chrono::steady_clock::time_point deadline,
                     const std::vector<std::vector<int64_t>>* start = nullptr) {
  const PlanInput& in = *m.in;
  glp_smcp lp_parm;
  glp_init_smcp(&lp_parm);
  lp_parm.msg_lev = GLP_MSG_OFF;
  lp_parm.presolve = GLP_ON;
  // For experiments only (bench/plan_scaling.cc): the root LP's options as
  // "key=value,...": meth=primal|dual|dualp, presolve=0|1, price=std|pse,
  // ratio=std|har|flip, crash=none.
  if (const char* opts = std::getenv("RACKSCALE_PLAN_SMCP")) {
    const std::string all = opts;
    auto has = [&](const char* kv) { return all.find(kv) != std::string::npos; };
    if (has("meth=primal")) lp_parm.meth = GLP_PRIMAL;
    if (has("meth=dual")) lp_parm.meth = GLP_DUAL;
    if (has("meth=dualp")) lp_parm.meth = GLP_DUALP;
    if (has("presolve=0")) lp_parm.presolve = GLP_OFF;
    if (has("price=std")) lp_parm.pricing = GLP_PT_STD;
    if (has("ratio=std")) lp_parm.r_test = GLP_RT_STD;
    if (has("ratio=flip")) lp_parm.r_test = GLP_RT_FLIP;
  }
  // The root LP within the time limit too (the whole solve is within it).
  auto left_ms = [&]() {
    const double ms = std::chrono::duration<double, std::milli>(deadline - std::chrono::steady_clock::now()).count();
    return static_cast<int>(std::clamp(ms, 1.0, 2e9));
  };
  const auto root_start = std::chrono::steady_clock::now();
  // Dollars (up to 1e11) beside GPUs and MW: scale rows and columns, or the
  // subproblems' LPs fail numerically.
  glp_scale_prob(lp.get(), GLP_SF_AUTO);
  int lp_rc = -1;
  // From the state basis (StateBasis): the default scenario's root in 1,172
  // iterations where GLPK's presolver and standard basis took 5,668 (0.2-0.3
  // s against 1.2-1.5 s), the same bound, and a search proved within 0.5% in
  // 11 nodes instead of 20 (docs/planner.md, How it grows: 4-10x at every
  // size). RACKSCALE_PLAN_SMCP=crash=none: the old way, for comparison.
  const char* smcp = std::getenv("RACKSCALE_PLAN_SMCP");
  if (!(smcp && std::string(smcp).find("crash=none") != std::string::npos)) {
    StateBasis(lp.get(), b);
    glp_smcp warm = lp_parm;
    warm.presolve = GLP_OFF;
    warm.tm_lim = left_ms();
    lp_rc = glp_simplex(lp.get(), &warm);
    if (std::getenv("RACKSCALE_PLAN_DEBUG")) std::fprintf(stderr, "state basis: simplex %d status %d, %d iterations\n", lp_rc, glp_get_status(lp.get()), glp_get_it_cnt(lp.get()));
    if (lp_rc == GLP_ETMLIM) return TimeLimited("the root LP relaxation", in.time_limit_s);
    if (lp_rc != 0 || glp_get_status(lp.get()) != GLP_OPT) glp_std_basis(lp.get());
  }
  lp_parm.tm_lim = left_ms();
  if (lp_rc != 0 || glp_get_status(lp.get()) != GLP_OPT) lp_rc = glp_simplex(lp.get(), &lp_parm);
  if (lp_rc == GLP_ETMLIM) return TimeLimited("the root LP relaxation", in.time_limit_s);
  if (lp_rc != 0 || glp_get_status(lp.get()) != GLP_OPT) {
    // GLPK's presolver can call a feasible program infeasible by a residue
    // of 1e-5 (a program with shortfall and breach columns always has a
    // plan): the simplex alone, from the standard basis.
    lp_parm.presolve = GLP_OFF;
    glp_std_basis(lp.get());
    lp_parm.tm_lim = left_ms();
    lp_rc = glp_simplex(lp.get(), &lp_parm);
    if (lp_rc == GLP_ETMLIM) return TimeLimited("the root LP relaxation", in.time_limit_s);
  }
  if (lp_rc != 0 || glp_get_status(lp.get()) != GLP_OPT) {
    return Error{ErrorKind::kInternal, "plan", 0, {},
                 fmt::format("the LP relaxation did not solve (glp_simplex {}, status {})", lp_rc,
                             glp_get_status(lp.get()))};
  }
  Solved r;
  r.root_bound = r.bound = glp_get_obj_val(lp.get());
  r.root_lp_s = Seconds(std::chrono::steady_clock::now() - root_start);
  r.root_lp_iterations = glp_get_it_cnt(lp.get());
  if (std::getenv("RACKSCALE_PLAN_DEBUG")) {
    std::fprintf(stderr, "root LP %.6e in %.3f s; phases started by month (cumulative), every 6th month:\n", r.root_bound, r.root_lp_s);
    for (int s = 0; s < m.S; ++s) {
      std::fprintf(stderr, "  site %d:", s);
      for (int t = 0; t < m.T; t += 6) std::fprintf(stderr, " %.3f", glp_get_col_prim(lp.get(), b.col.Y(s, m.pm[static_cast<size_t>(t)])));
      std::fprintf(stderr, "\n");
    }
  }
  if (std::chrono::steady_clock::now() >= deadline) return TimeLimited("the root LP relaxation", in.time_limit_s);
  return SolveGlpk(m, lp, b, deadline, start, r);
}

// Who a plan's GPUs serve, when given rather than derived: [contract][month]
// and [month].
struct Served {
  std::vector<std::vector<double>> contract;
  std::vector<double> on_demand;
};

// Every figure of a plan from its decisions (r.phases_started,
// r.domains_ordered, r.roles_cut, and `served` if given): MW and domains in
// service, the power they draw, GPUs, capex, energy, depreciation, the book
// value left, who the GPUs serve, revenue, the NPV and the cash balance
// month by month.
void Derive(const Model& m, PlanResult& r, const Served* given = nullptr) {
  const PlanInput& in = *m.in;
  const int T = m.T, S = m.S, H = m.H, C = m.C;
  const size_t Tz = static_cast<size_t>(T);
  r.domains_in_service.assign(static_cast<size_t>(H), std::vector<std::vector<int64_t>>(static_cast<size_t>(S), std::vector<int64_t>(Tz, 0)));
  r.mw_in_service.assign(static_cast<size_t>(S), std::vector<double>(Tz, 0));
  r.mw_used.assign(static_cast<size_t>(S), std::vector<double>(Tz, 0));
  r.gpus_in_service.assign(Tz, 0);
  r.capex_by_month.assign(Tz, 0);
  r.revenue_by_month.assign(Tz, 0);
  r.energy_by_month.assign(Tz, 0);
  r.depreciation_by_month.assign(Tz, 0);
  r.residual_usd = r.capex_usd = r.revenue_usd = r.energy_usd = r.npv_usd = 0;
  const double dT = m.disc[Tz];
  for (int s = 0; s < S; ++s) {
    const PlanSite& site = in.sites[static_cast<size_t>(s)];
    const double cost = site.mw_per_phase * site.usd_per_mw;
    const int life = static_cast<int>(std::lround(site.life_years * 12));
    double mw = site.initial_mw;
    for (int t = 0; t < T; ++t) {
      const int64_t n = r.phases_started[static_cast<size_t>(s)][static_cast<size_t>(t)];
      r.capex_by_month[static_cast<size_t>(t)] += static_cast<double>(n) * cost;
      r.residual_usd += static_cast<double>(n) * cost * BookShare(t + site.lead_months, life, T);
      if (life > 0) {
        for (int u = t + site.lead_months; u < std::min(T, t + site.lead_months + life); ++u) {
          r.depreciation_by_month[static_cast<size_t>(u)] += static_cast<double>(n) * cost / life;
        }
      }
      if (t - site.lead_months >= 0) {
        mw += static_cast<double>(r.phases_started[static_cast<size_t>(s)][static_cast<size_t>(t - site.lead_months)]) * site.mw_per_phase;
      }
      r.mw_in_service[static_cast<size_t>(s)][static_cast<size_t>(t)] = mw;
    }
  }
  std::vector<std::vector<double>> gpus_by_type(static_cast<size_t>(H), std::vector<double>(Tz, 0));
  for (int h = 0; h < H; ++h) {
    const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
    for (int s = 0; s < S; ++s) {
      const PlanSite& site = in.sites[static_cast<size_t>(s)];
      int64_t installed = 0;
      const auto& ord = r.domains_ordered[static_cast<size_t>(h)][static_cast<size_t>(s)];
      for (int t = 0; t < T; ++t) {
        const int64_t x = ord[static_cast<size_t>(t)];
        r.capex_by_month[static_cast<size_t>(t)] += static_cast<double>(x) * hw.usd_per_domain;
        r.residual_usd += static_cast<double>(x) * hw.usd_per_domain * BookShare(t + hw.lead_months, hw.life_months, T);
        const int arrive = t - hw.lead_months;
        if (arrive >= 0) installed += ord[static_cast<size_t>(arrive)];
        if (hw.life_months > 0 && arrive - hw.life_months >= 0) installed -= ord[static_cast<size_t>(arrive - hw.life_months)];
        r.domains_in_service[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t)] = installed;
        r.gpus_in_service[static_cast<size_t>(t)] += installed * hw.gpus_per_domain;
        gpus_by_type[static_cast<size_t>(h)][static_cast<size_t>(t)] += static_cast<double>(installed * hw.gpus_per_domain);
        r.mw_used[static_cast<size_t>(s)][static_cast<size_t>(t)] += static_cast<double>(installed) * MwPerDomain(hw, site);
        r.energy_by_month[static_cast<size_t>(t)] += static_cast<double>(installed) * EnergyPerDomainMonth(hw, site);
        if (hw.life_months > 0) {
          r.depreciation_by_month[static_cast<size_t>(t)] += static_cast<double>(installed) * hw.usd_per_domain / hw.life_months;
        }
      }
    }
  }
  r.contract_served.assign(static_cast<size_t>(C), std::vector<double>(Tz, 0));
  r.on_demand_served.assign(Tz, 0);
  // Who the plan's GPUs serve, in the order of what a GPU-month of each is
  // worth to the program: a contract's price plus its shortfall penalty,
  // on-demand demand's price (contracts first on a tie, in file order; so
  // the contracts first whenever their penalty makes up the difference).
  // Each takes first the types that the fewest of those after it may use.
  const int od_q = C;  // the consumer index of on-demand demand
  std::vector<int> consumers;
  for (int q = 0; q <= C; ++q) consumers.push_back(q);
  auto worth = [&](int q) {
    if (q == od_q) return in.on_demand.usd_per_gpu_month;
    const PlanContract& ct = m.contracts[static_cast<size_t>(q)];
    return ct.usd_per_gpu_month + ct.penalty_usd_per_gpu_month;
  };
  std::stable_sort(consumers.begin(), consumers.end(), [&](int a, int b) { return worth(a) > worth(b); });
  auto may_use = [&](int q, int h) {
    return q == od_q ? m.od_allowed[static_cast<size_t>(h)] != 0 : m.allowed[static_cast<size_t>(q)][static_cast<size_t>(h)] != 0;
  };
  std::vector<std::vector<int>> type_order(static_cast<size_t>(C + 1));
  for (size_t i = 0; i < consumers.size(); ++i) {
    const int q = consumers[i];
    std::vector<std::pair<int, int>> types;  // (later consumers that may use it, type)
    for (int h = 0; h < H; ++h) {
      if (!may_use(q, h)) continue;
      int later = 0;
      for (size_t j = i + 1; j < consumers.size(); ++j) later += may_use(consumers[j], h) ? 1 : 0;
      types.push_back({later, h});
    }
    std::stable_sort(types.begin(), types.end());
    for (const auto& [later, h] : types) type_order[static_cast<size_t>(q)].push_back(h);
  }
  std::vector<double> left(static_cast<size_t>(H));
  for (int t = 0; t < T; ++t) {
    const size_t u = static_cast<size_t>(t);
    for (int h = 0; h < H; ++h) left[static_cast<size_t>(h)] = gpus_by_type[static_cast<size_t>(h)][u];
    for (int q : consumers) {
      const double as_given = given == nullptr ? 0.0 : q == od_q ? given->on_demand[u] : given->contract[static_cast<size_t>(q)][u];
      const int period = m.pm[u];
      if (given != nullptr && m.Months(period) == 1) {
        (q == od_q ? r.on_demand_served[u] : r.contract_served[static_cast<size_t>(q)][u]) = as_given;
        continue;
      }
      // Derived; or as given in a longer period, within the month's own GPUs
      // (the program's serving there is a mean over its months).
      double need = given != nullptr ? as_given
                    : q == od_q      ? m.demand[u]
                                     : static_cast<double>(m.contracted[static_cast<size_t>(q)][u]);
      double served = 0;
      for (int h : type_order[static_cast<size_t>(q)]) {
        const double take = std::min(need, left[static_cast<size_t>(h)]);
        left[static_cast<size_t>(h)] -= take;
        need -= take;
        served += take;
      }
      (q == od_q ? r.on_demand_served[u] : r.contract_served[static_cast<size_t>(q)][u]) = served;
    }
    const double od = r.on_demand_served[u];
    for (int k = 0; k < C; ++k) r.revenue_by_month[u] += r.contract_served[static_cast<size_t>(k)][u] * m.contracts[static_cast<size_t>(k)].usd_per_gpu_month;
    r.revenue_by_month[u] += od * in.on_demand.usd_per_gpu_month;
  }
  for (int t = 0; t < T; ++t) {
    const size_t u = static_cast<size_t>(t);
    r.capex_usd += r.capex_by_month[u];
    r.revenue_usd += r.revenue_by_month[u];
    r.energy_usd += r.energy_by_month[u];
    r.npv_usd += m.disc[u] * (r.revenue_by_month[u] - r.capex_by_month[u] - r.energy_by_month[u]);
  }
  r.npv_usd += dT * r.residual_usd;
  r.cash_by_month.clear();
  r.cash_breach_by_month.clear();
  if (in.cash.enabled) {
    double bal = in.cash.starting_usd;
    for (int t = 0; t < T; ++t) {
      const size_t u = static_cast<size_t>(t);
      bal += m.flow[u] + r.revenue_by_month[u] - r.capex_by_month[u] - r.energy_by_month[u];
      if (in.payroll.free) {
        if (t > in.payroll.month) bal += static_cast<double>(r.roles_cut) * in.payroll.saving_usd_per_role_month;
        if (t == in.payroll.month) bal -= static_cast<double>(r.roles_cut) * in.payroll.severance_usd_per_role;
      }
      r.cash_by_month.push_back(bal);
      r.cash_breach_by_month.push_back(std::max(0.0, in.cash.min_usd - bal));
    }
  }
}

// A constraint the rounded plan breaks, the first found: a site's power in
// a month, a capex limit, or the cash floor in a month (below it further
// than the search's own plan was: `allow`).
struct Breach {
  enum Kind { kNone, kPower, kCapex, kCash } kind = kNone;
  int s = 0, t = 0;
  size_t limit = 0;
  double excess = 0;  // MW, $ or $ beyond the constraint
};

double CapexSpent(const Model& m, const PlanResult& r, const PlanCapexLimit& l) {
  double spent = 0;
  for (int t = l.first_month; t <= std::min(m.T - 1, l.last_month); ++t) spent += r.capex_by_month[static_cast<size_t>(t)];
  return spent;
}

// Tighter than CheckPlan's tolerances, so that what passes here passes there.
Breach FirstBreach(const Model& m, const PlanResult& r, const std::vector<double>& allow) {
  const PlanInput& in = *m.in;
  for (int s = 0; s < m.S; ++s) {
    for (int t = 0; t < m.T; ++t) {
      const double over = r.mw_used[static_cast<size_t>(s)][static_cast<size_t>(t)] - r.mw_in_service[static_cast<size_t>(s)][static_cast<size_t>(t)];
      if (over > 1e-7) return Breach{Breach::kPower, s, t, 0, over};
    }
  }
  for (size_t l = 0; l < m.limits.size(); ++l) {
    const double spent = CapexSpent(m, r, m.limits[l]);
    if (spent > m.limits[l].usd * (1 + 1e-10) + 1e-7) return Breach{Breach::kCapex, 0, 0, l, spent - m.limits[l].usd};
  }
  if (in.cash.enabled) {
    for (int t = 0; t < m.T; ++t) {
      const double below = in.cash.min_usd - allow[static_cast<size_t>(t)] - r.cash_by_month[static_cast<size_t>(t)];
      if (below > 0.5) return Breach{Breach::kCash, 0, t, 0, below};
    }
  }
  return Breach{};
}

// Drops one domain to mend a breach: for power, the latest order in service
// at that site in that month; for capex, the latest order within the
// limit's months (one that covers the excess if there is one); for cash, the
// latest order up to that month whose price, less what it can have earned by
// then, comes back to the balance (one not yet in service if there is one).
// Types no contract may use go first, so that contracts keep their GPUs.
// False if there is none to drop.
bool DropOne(const Model& m, PlanResult& r, const Breach& b, const std::vector<char>& contract_type) {
  const PlanInput& in = *m.in;
  // The most a GPU of type h can earn a month: the best price of whoever may use it.
  std::vector<double> best_price(static_cast<size_t>(m.H), 0);
  for (int h = 0; h < m.H; ++h) {
    for (int k = 0; k < m.C; ++k) {
      if (m.allowed[static_cast<size_t>(k)][static_cast<size_t>(h)]) {
        best_price[static_cast<size_t>(h)] = std::max(best_price[static_cast<size_t>(h)], m.contracts[static_cast<size_t>(k)].usd_per_gpu_month);
      }
    }
    if (m.od_allowed[static_cast<size_t>(h)]) best_price[static_cast<size_t>(h)] = std::max(best_price[static_cast<size_t>(h)], in.on_demand.usd_per_gpu_month);
  }
  int best_h = -1, best_s = -1, best_tau = -1;
  std::tuple<int, int, int> best_key{};
  auto consider = [&](int h, int s, int tau, std::tuple<int, int, int> key) {
    if (best_h < 0 || key < best_key) {
      best_h = h;
      best_s = s;
      best_tau = tau;
      best_key = key;
    }
  };
  for (int h = 0; h < m.H; ++h) {
    const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
    const int ct = contract_type[static_cast<size_t>(h)] ? 1 : 0;
    for (int s = 0; s < m.S; ++s) {
      if (b.kind == Breach::kPower && s != b.s) continue;
      const auto& ord = r.domains_ordered[static_cast<size_t>(h)][static_cast<size_t>(s)];
      for (int tau = 0; tau < m.T; ++tau) {
        if (ord[static_cast<size_t>(tau)] <= 0) continue;
        if (b.kind == Breach::kPower) {
          if (InServiceAt(hw, tau, b.t)) consider(h, s, tau, {ct, -tau, h});
        } else if (b.kind == Breach::kCapex) {
          const PlanCapexLimit& l = m.limits[b.limit];
          if (tau >= l.first_month && tau <= l.last_month) consider(h, s, tau, {ct, hw.usd_per_domain < b.excess ? 1 : 0, -tau});
        } else if (b.kind == Breach::kCash && tau <= b.t) {
          const int from = tau + hw.lead_months;
          const int to = hw.life_months > 0 ? std::min(b.t, from + hw.life_months - 1) : b.t;
          const double months = std::max(0, to - from + 1);
          const double energy = EnergyPerDomainMonth(hw, in.sites[static_cast<size_t>(s)]);
          const double gain = hw.usd_per_domain + months * (energy - hw.gpus_per_domain * best_price[static_cast<size_t>(h)]);
          if (gain > 0) consider(h, s, tau, {ct, months > 0 ? 1 : 0, -tau});
        }
      }
    }
  }
  if (best_h < 0) return false;
  --r.domains_ordered[static_cast<size_t>(best_h)][static_cast<size_t>(best_s)][static_cast<size_t>(best_tau)];
  return true;
}

// The last resort of rounding: the program solved again with the search's
// phases (and roles cut) fixed and the orders whole numbers. Where a
// domain's fraction has paid for itself by a month in which cash is tight,
// neither rounding it up (paid for earlier) nor down (less earned) keeps the
// balance where the search's plan had it; this finds the best plan in whole
// domains, and how far below the floor it goes, month by month.
struct WholeOrders {
  std::vector<std::vector<std::vector<int64_t>>> orders;  // [h][s][t]
  Served served;                                          // as that program assigns the GPUs
  std::vector<double> breach;                             // [t]
};

// The program's solution as a plan: its orders (whole numbers when it made
// them integer) and who it serves.
std::vector<std::vector<std::vector<int64_t>>> ProgramOrders(const Model& m, const Built& b, const Lp& p) {
  std::vector<std::vector<std::vector<int64_t>>> orders(
      static_cast<size_t>(m.H), std::vector<std::vector<int64_t>>(static_cast<size_t>(m.S), std::vector<int64_t>(static_cast<size_t>(m.T), 0)));
  for (int h = 0; h < m.H; ++h) {
    for (int s = 0; s < m.S; ++s) {
      for (int t = 0; t < m.T; ++t) {
        orders[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t)] =
            std::max<int64_t>(0, std::llround(p.Val(b.col.X(h, s, t))));
      }
    }
  }
  return orders;
}

Served ProgramServed(const Model& m, const Built& b, const Lp& p) {
  Served out;
  out.contract.assign(static_cast<size_t>(m.C), std::vector<double>(static_cast<size_t>(m.T), 0));
  out.on_demand.assign(static_cast<size_t>(m.T), 0);
  for (int t = 0; t < m.T; ++t) {
    const int q = m.pm[static_cast<size_t>(t)];  // the same in each month of its period
    for (int h = 0; h < m.H; ++h) {
      for (int k = 0; k < m.C; ++k) {
        if (b.col.A(k, h, q) != 0) out.contract[static_cast<size_t>(k)][static_cast<size_t>(t)] += std::max(0.0, p.Val(b.col.A(k, h, q)));
        if (b.col.A2(k, h, q) != 0) out.contract[static_cast<size_t>(k)][static_cast<size_t>(t)] += std::max(0.0, p.Val(b.col.A2(k, h, q)));
      }
      if (b.col.O(h, q) != 0) out.on_demand[static_cast<size_t>(t)] += std::max(0.0, p.Val(b.col.O(h, q)));
      if (b.col.O2(h, q) != 0) out.on_demand[static_cast<size_t>(t)] += std::max(0.0, p.Val(b.col.O2(h, q)));
    }
    // A period's mean demand: no more than the month's own.
    if (m.Months(q) > 1) {
      out.on_demand[static_cast<size_t>(t)] = std::min(out.on_demand[static_cast<size_t>(t)], m.demand[static_cast<size_t>(t)]);
    }
  }
  return out;
}

Result<WholeOrders> SolveWholeOrders(const PlanInput& in, const PlanResult& r,
                                     std::chrono::steady_clock::time_point deadline) {
  PlanInput whole = in;
  whole.integer_orders = true;
  whole.hint_phases.clear();
  const Model m = Normalize(whole);
  Lp lp;
  Built b;
  Build(m, Stage::kNpv, lp, b);
  for (int s = 0; s < m.S; ++s) {
    for (int t = 0; t < m.T; ++t) {
      const double v = static_cast<double>(r.phases_started[static_cast<size_t>(s)][static_cast<size_t>(t)]);
      glp_set_col_bnds(lp.get(), b.col.P(s, t), GLP_FX, v, v);
    }
  }
  if (in.payroll.free) {
    glp_set_col_bnds(lp.get(), b.col.roles, GLP_FX, static_cast<double>(r.roles_cut), static_cast<double>(r.roles_cut));
  }
  auto solved = Solve(m, lp, b, deadline);
  if (!solved) return solved.error();
  WholeOrders w;
  w.orders = ProgramOrders(m, b, lp);
  for (int col : b.col.breach) w.breach.push_back(std::max(0.0, lp.Val(col)));
  // Who it serves, as it chose (with cash below the floor it may prefer the
  // better price to a contract's penalty): its cash is the written plan's.
  w.served = ProgramServed(m, b, lp);
  return w;
}

}  // namespace

std::vector<int32_t> PlanPeriods(const PlanInput& in) {
  if (!Validate(in)) return {};
  const Model m = Normalize(in);
  return std::vector<int32_t>(m.pa.begin(), m.pa.end());
}

Result<PlanResult> SolvePlan(const PlanInput& in) {
  if (Status st = Validate(in); !st) return st.error();
  const auto t0 = std::chrono::steady_clock::now();
  auto deadline = [&](int stage) {
    return t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    std::chrono::duration<double>(in.time_limit_s * stage));
  };
  glp_term_out(GLP_OFF);  // GLPK prints some messages whatever msg_lev says
  const Model m = Normalize(in);
  const int T = m.T, S = m.S, H = m.H, C = m.C;

  // With the payroll lever free: first the least shortfall and breach, then
  // the fewest roles cut that reach it.
  int64_t roles = 0;
  double short_total = -1, breach_total = -1;
  std::vector<std::vector<int64_t>> stage1_phases;
  if (in.payroll.free) {
    Lp lp1;
    Built b1;
    Build(m, Stage::kPayroll, lp1, b1);
    auto s1 = Solve(m, lp1, b1, deadline(1));
    if (!s1) return s1.error();
    roles = std::llround(lp1.Val(b1.col.roles));
    short_total = 0;
    for (int col : b1.col.shortc) short_total += lp1.Val(col);
    breach_total = 0;
    for (int col : b1.col.breach) breach_total += lp1.Val(col);
    stage1_phases.assign(static_cast<size_t>(S), std::vector<int64_t>(static_cast<size_t>(T), 0));
    for (int s = 0; s < S; ++s) {
      for (int t = 0; t < T; ++t) {
        stage1_phases[static_cast<size_t>(s)][static_cast<size_t>(t)] = std::llround(lp1.Val(b1.col.P(s, t)));
      }
    }
  }

  Lp lp;
  Built b;
  Build(m, Stage::kNpv, lp, b);
  const Columns& c = b.col;
  if (in.payroll.free) {
    glp_set_col_bnds(lp.get(), c.roles, GLP_FX, static_cast<double>(roles), static_cast<double>(roles));
    std::vector<std::pair<int, double>> terms;
    for (int col : c.shortc) terms.push_back({col, 1.0});
    if (!terms.empty()) lp.AddRow(terms, GLP_UP, short_total + 0.5);
    // Nor a breach of the cash floor that the cut was sized to avoid.
    std::vector<std::pair<int, double>> breach;
    for (int col : c.breach) breach.push_back({col, 1.0});
    if (!breach.empty()) lp.AddRow(breach, GLP_UP, breach_total + 1.0);
  }
  if (const char* mps = std::getenv("RACKSCALE_PLAN_MPS")) glp_write_mps(lp.get(), GLP_MPS_FILE, nullptr, mps);
  auto solved = Solve(m, lp, b, deadline(in.payroll.free ? 2 : 1), in.payroll.free ? &stage1_phases : nullptr);
  if (!solved) return solved.error();
  double solver_breach = 0;  // the largest breach of the floor in the solver's own plan
  for (int col : b.col.breach) solver_breach = std::max(solver_breach, lp.Val(col));
  if (std::getenv("RACKSCALE_PLAN_DEBUG")) std::fprintf(stderr, "solver breach %g roles %lld\n", solver_breach, static_cast<long long>(roles));

  const auto rounding_start = std::chrono::steady_clock::now();
  PlanResult r;
  r.optimal = solved->proved;
  r.stopped_by = solved->stopped_by;
  r.nodes = solved->nodes;
  r.objective_usd = solved->objective;
  // The search's own gap (to its best bound) when it reported one, else the
  // gap to the root LP relaxation, which is never smaller.
  const double root_gap = std::fabs(r.objective_usd - solved->bound) / std::max(std::fabs(r.objective_usd), 1.0);
  r.gap = solved->gap >= 0 && solved->gap < 1e100 ? std::min(solved->gap, root_gap) : root_gap;
  if (solved->proved) r.gap = std::min(r.gap, in.mip_gap);  // GLPK stopped on the gap tolerance
  r.root_lp_seconds = solved->root_lp_s;
  r.root_lp_iterations = solved->root_lp_iterations;
  r.root_gap = std::fabs(r.objective_usd - solved->root_bound) / std::max(std::fabs(r.objective_usd), 1.0);
  r.roles_cut = roles;
  r.columns = glp_get_num_cols(lp.get());
  r.rows = glp_get_num_rows(lp.get());
  r.integer_columns = glp_get_num_int(lp.get());
  r.nonzeros = glp_get_num_nz(lp.get());
  const Lp& p = lp;
  const size_t Tz = static_cast<size_t>(T);
  r.phases_started.assign(static_cast<size_t>(S), std::vector<int64_t>(Tz, 0));
  for (int s = 0; s < S; ++s) {
    for (int t = 0; t < T; ++t) r.phases_started[static_cast<size_t>(s)][static_cast<size_t>(t)] = std::llround(p.Val(c.P(s, t)));
  }
  r.domains_ordered.assign(static_cast<size_t>(H), std::vector<std::vector<int64_t>>(static_cast<size_t>(S), std::vector<int64_t>(Tz, 0)));
  Derive(m, r);  // MW in service, which the rounding keeps within
  // How far below the floor the search's own plan went: the rounded plan
  // may go no further.
  std::vector<double> allow(Tz, 0);
  if (in.cash.enabled) {
    for (int t = 0; t < T; ++t) allow[static_cast<size_t>(t)] = std::max(0.0, p.Val(c.breach[static_cast<size_t>(t)]));
    r.search_cash_breach_by_month = allow;
  }
  std::vector<char> contract_type(static_cast<size_t>(H), 0);
  for (int k = 0; k < C; ++k) {
    for (int h = 0; h < H; ++h) contract_type[static_cast<size_t>(h)] |= m.allowed[static_cast<size_t>(k)][static_cast<size_t>(h)];
  }
  // Who the GPUs serve where the plan is the program's own in whole domains
  // (integer_orders, or the whole-domain re-solve below): as it chose.
  Served given;
  auto derive = [&]() { Derive(m, r, given.on_demand.empty() ? nullptr : &given); };
  // Below the floor in some month further than the search's plan went.
  auto cash_broken = [&]() {
    for (int t = 0; t < T && in.cash.enabled; ++t) {
      if (in.cash.min_usd - allow[static_cast<size_t>(t)] - r.cash_by_month[static_cast<size_t>(t)] > 0.5) return true;
    }
    return false;
  };
  if (in.integer_orders) {
    r.domains_ordered = ProgramOrders(m, b, lp);
    given = ProgramServed(m, b, lp);
  } else {
    // Orders: whole domains. The cumulative orders of each type and site
    // are rounded: up (so no contract loses a fraction of a domain), up for
    // the contracts' types and down for the others, to nearest, or down:
    // the first of these that keeps the site within its power in every
    // month. Rounding cumulative orders down does not bound the domains in
    // service once some retire (floor(a) - floor(b) can exceed a - b: a
    // replacement ordered in a month whose fraction rounds up, the order it
    // replaces in one whose fraction rounded down), so none may fit: the
    // last is kept and `mend` below drops the domains that overrun (it was
    // written as it was: issue 11). Pass 4, each month's orders rounded
    // down on their own (never more in service than the search's plan,
    // which fits), is the fallback when mending cannot.
    auto round_orders = [&](int first_pass, int last_pass) {
      for (int s = 0; s < S; ++s) {
        // Passes: 0 all up; 1 up for types a contract may use, down for the
        // rest (a contract keeps its last domain, on-demand gives one up);
        // 2 nearest; 3 all down; 4 each month's orders down.
        for (int pass = first_pass; pass <= last_pass; ++pass) {
          for (int h = 0; h < H; ++h) {
            const int mode = pass == 0 ? 0 : pass == 1 ? (contract_type[static_cast<size_t>(h)] ? 0 : 2) : pass == 2 ? 1 : pass == 3 ? 2 : 3;
            double cum = 0;
            int64_t prev = 0;
            for (int t = 0; t < T; ++t) {
              const double x = p.Val(c.X(h, s, t));
              auto& order = r.domains_ordered[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t)];
              if (mode == 3) {
                order = std::max<int64_t>(0, static_cast<int64_t>(std::floor(x + 1e-6)));
                continue;
              }
              cum += x;
              const int64_t whole = mode == 0   ? static_cast<int64_t>(std::ceil(cum - 1e-6))
                                    : mode == 1 ? std::llround(cum)
                                                : static_cast<int64_t>(std::floor(cum + 1e-6));
              order = std::max<int64_t>(0, whole - prev);
              prev = std::max(prev, whole);
            }
          }
          // Power check with these orders.
          auto orders_of = [&](int h) -> const std::vector<int64_t>& {
            return r.domains_ordered[static_cast<size_t>(h)][static_cast<size_t>(s)];
          };
          bool fits = true;
          for (int t = 0; t < T && fits; ++t) {
            fits = MwUsed(in, in.sites[static_cast<size_t>(s)], orders_of, t) <=
                   r.mw_in_service[static_cast<size_t>(s)][static_cast<size_t>(t)] + 1e-7;
          }
          if (fits) break;
        }
      }
    };
    round_orders(0, 3);
    Derive(m, r);
    // Rounding up must not break a capex limit, nor take cash below the
    // floor (further than the search's plan went); if it does, every site
    // takes its orders rounded down. With the payroll lever, a breach of the
    // floor by rounding is first met by cutting the few more roles that keep
    // it (each saves (t - month) x saving - severance by month t).
    bool round_down = false;
    for (size_t l = 0; l < m.limits.size() && !round_down; ++l) {
      round_down = CapexSpent(m, r, m.limits[l]) > m.limits[l].usd * (1 + 1e-10) + 1e-7;
    }
    bool cash = cash_broken();
    if (cash && !round_down && in.payroll.free && solver_breach <= 1.0) {
      int64_t extra = 0;
      for (int t = in.payroll.month + 1; t < T; ++t) {
        const double breach = in.cash.min_usd - allow[static_cast<size_t>(t)] - r.cash_by_month[static_cast<size_t>(t)];
        const double per_role = (t - in.payroll.month) * in.payroll.saving_usd_per_role_month - in.payroll.severance_usd_per_role;
        if (breach > 0 && per_role > 0) extra = std::max(extra, static_cast<int64_t>(std::ceil(breach / per_role)));
      }
      if (extra > 0 && roles + extra <= in.payroll.max_roles) {
        r.roles_cut = roles + extra;
        Derive(m, r);
        cash = cash_broken();
        if (cash) {
          r.roles_cut = roles;
          Derive(m, r);
        }
      }
    }
    if (round_down || cash) {
      round_orders(3, 3);
      Derive(m, r);
    }
    // What rounding still breaks (a site's power where every rounding of a
    // type's orders was over, a capex limit or the floor by a fraction of a
    // domain, revenue lost with the fractions), orders are dropped one
    // domain at a time until nothing is; if that cannot mend it, every
    // month's orders rounded down, mended the same way; and if that cannot
    // either, the program solved again with whole domains.
    auto mend = [&]() {
      for (int64_t dropped = 0;; ++dropped) {
        const Breach br = FirstBreach(m, r, allow);
        if (std::getenv("RACKSCALE_PLAN_DEBUG") && dropped > 0 && br.kind == Breach::kNone) {
          std::fprintf(stderr, "rounding: %lld domains dropped to mend it\n", static_cast<long long>(dropped));
        }
        if (br.kind == Breach::kNone) return true;
        if (!DropOne(m, r, br, contract_type)) return false;
        Derive(m, r);
      }
    };
    bool mended = mend();
    if (!mended) {
      round_orders(4, 4);
      Derive(m, r);
      mended = mend();
    }
    if (!mended) {
      auto whole = SolveWholeOrders(in, r, deadline(in.payroll.free ? 3 : 2));
      if (!whole) return whole.error();
      if (std::getenv("RACKSCALE_PLAN_DEBUG")) std::fprintf(stderr, "rounding: whole orders solved again\n");
      r.domains_ordered = whole->orders;
      for (size_t t = 0; t < whole->breach.size(); ++t) allow[t] = std::max(allow[t], whole->breach[t]);
      r.search_cash_breach_by_month = allow;
      given = std::move(whole->served);
    }
  }
  // Rounding down at a site whose power the solver used to the last
  // fraction can leave a contract a fraction of a domain short. Top up: for
  // each month the contracts' hardware falls short, add the cheapest domain
  // per GPU of a type they may use, ordered its lead time before, at a site
  // with power for it over its whole life and within the capex limits; kept
  // only if the plan still breaks nothing (power, capex, the cash floor).
  if (!in.integer_orders && C > 0 && given.on_demand.empty()) {
    auto in_service = [&](int h, int s, int u) {
      return InService(in.hardware[static_cast<size_t>(h)], r.domains_ordered[static_cast<size_t>(h)][static_cast<size_t>(s)], u);
    };
    auto mw_used = [&](int s, int u) {
      auto orders_of = [&](int h) -> const std::vector<int64_t>& {
        return r.domains_ordered[static_cast<size_t>(h)][static_cast<size_t>(s)];
      };
      return MwUsed(in, in.sites[static_cast<size_t>(s)], orders_of, u);
    };
    auto capex_room = [&](int month) {
      double room = 1e300;
      for (const PlanCapexLimit& l : m.limits) {
        if (month < l.first_month || month > l.last_month) continue;
        double spent = 0;
        for (int u = l.first_month; u <= std::min(T - 1, l.last_month); ++u) {
          for (int s2 = 0; s2 < S; ++s2) {
            const PlanSite& site = in.sites[static_cast<size_t>(s2)];
            spent += static_cast<double>(r.phases_started[static_cast<size_t>(s2)][static_cast<size_t>(u)]) * site.mw_per_phase * site.usd_per_mw;
            for (int h2 = 0; h2 < H; ++h2) {
              spent += static_cast<double>(r.domains_ordered[static_cast<size_t>(h2)][static_cast<size_t>(s2)][static_cast<size_t>(u)]) *
                       in.hardware[static_cast<size_t>(h2)].usd_per_domain;
            }
          }
        }
        room = std::min(room, l.usd - spent);
      }
      return room;
    };
    for (int t = 0; t < T; ++t) {
      // Only where the solver's own plan met the contracts: a shortfall it
      // chose (lead time, power, cash, cost) is the plan's, not rounding's.
      double solver_short = 0;
      for (int k = 0; k < C; ++k) solver_short += p.Val(c.Sh(k, m.pm[static_cast<size_t>(t)]));
      if (solver_short > 0.5) continue;
      for (int guard = 0; guard < 64; ++guard) {
        double need = 0, have = 0;
        for (int k = 0; k < C; ++k) need += static_cast<double>(m.contracted[static_cast<size_t>(k)][static_cast<size_t>(t)]);
        if (need <= 0) break;
        for (int h = 0; h < H; ++h) {
          if (!contract_type[static_cast<size_t>(h)]) continue;
          for (int s2 = 0; s2 < S; ++s2) have += static_cast<double>(in_service(h, s2, t) * in.hardware[static_cast<size_t>(h)].gpus_per_domain);
        }
        if (have >= need) break;
        const auto before = r.domains_ordered;
        int best_h = -1, best_s = -1;
        double best_cost = 1e300;
        for (int h = 0; h < H; ++h) {
          if (!contract_type[static_cast<size_t>(h)]) continue;
          const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
          const int o = t - hw.lead_months;
          if (o < std::max(0, hw.first_order_month)) continue;
          const double cost = hw.usd_per_domain / hw.gpus_per_domain;
          if (cost >= best_cost || capex_room(o) < hw.usd_per_domain) continue;
          for (int s2 = 0; s2 < S; ++s2) {
            const PlanSite& site = in.sites[static_cast<size_t>(s2)];
            const int end = hw.life_months > 0 ? std::min(T, t + hw.life_months) : T;
            bool fits = true;
            for (int u = t; u < end && fits; ++u) {
              fits = mw_used(s2, u) + MwPerDomain(hw, site) <= r.mw_in_service[static_cast<size_t>(s2)][static_cast<size_t>(u)] + 1e-9;
            }
            if (fits) {
              best_h = h;
              best_s = s2;
              best_cost = cost;
              break;
            }
          }
        }
        if (best_h < 0) {
          // No site has the power: make room by giving up on-demand-only
          // domains (the latest ordered first) at the first site where
          // that frees enough, then place the contract's domain there.
          for (int h = 0; h < H && best_h < 0; ++h) {
            if (!contract_type[static_cast<size_t>(h)]) continue;
            const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
            const int o = t - hw.lead_months;
            if (o < std::max(0, hw.first_order_month) || capex_room(o) < hw.usd_per_domain) continue;
            const int end = hw.life_months > 0 ? std::min(T, t + hw.life_months) : T;
            for (int s2 = 0; s2 < S && best_h < 0; ++s2) {
              const PlanSite& site = in.sites[static_cast<size_t>(s2)];
              auto saved = r.domains_ordered;
              bool fits = false;
              for (int tries = 0; tries < 256 && !fits; ++tries) {
                int worst = -1;  // first month over the power
                for (int u = t; u < end && worst < 0; ++u) {
                  if (mw_used(s2, u) + MwPerDomain(hw, site) > r.mw_in_service[static_cast<size_t>(s2)][static_cast<size_t>(u)] + 1e-9) worst = u;
                }
                if (worst < 0) {
                  fits = true;
                  break;
                }
                // Drop the latest on-demand-only order in service at `worst`.
                int drop_h = -1, drop_tau = -1;
                for (int h2 = 0; h2 < H; ++h2) {
                  if (contract_type[static_cast<size_t>(h2)]) continue;
                  const PlanHardware& hw2 = in.hardware[static_cast<size_t>(h2)];
                  for (int tau = worst - hw2.lead_months; tau >= 0; --tau) {
                    if (hw2.life_months > 0 && worst >= tau + hw2.lead_months + hw2.life_months) break;
                    if (r.domains_ordered[static_cast<size_t>(h2)][static_cast<size_t>(s2)][static_cast<size_t>(tau)] > 0) {
                      if (tau > drop_tau) {
                        drop_tau = tau;
                        drop_h = h2;
                      }
                      break;
                    }
                  }
                }
                if (drop_h < 0) break;
                --r.domains_ordered[static_cast<size_t>(drop_h)][static_cast<size_t>(s2)][static_cast<size_t>(drop_tau)];
              }
              if (fits) {
                best_h = h;
                best_s = s2;
              } else {
                r.domains_ordered = saved;
              }
            }
          }
          if (best_h < 0) break;
        }
        ++r.domains_ordered[static_cast<size_t>(best_h)][static_cast<size_t>(best_s)][static_cast<size_t>(t - in.hardware[static_cast<size_t>(best_h)].lead_months)];
        // Kept only if nothing is broken (the cash floor above all: the
        // domain is paid for before it earns).
        Derive(m, r);
        if (FirstBreach(m, r, allow).kind != Breach::kNone) {
          r.domains_ordered = before;
          Derive(m, r);
          break;
        }
      }
    }
  }
  derive();

  // Shortfalls and what binds then.
  for (int k = 0; k < C; ++k) {
    const auto& allowed = m.allowed[static_cast<size_t>(k)];
    int min_ready = 1 << 30;  // first month any allowed hardware can be in service
    double cheapest = 1e300;
    for (int h = 0; h < H; ++h) {
      if (!allowed[static_cast<size_t>(h)]) continue;
      const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
      min_ready = std::min(min_ready, hw.first_order_month + hw.lead_months);
      cheapest = std::min(cheapest, hw.usd_per_domain);
    }
    for (int t = 0; t < T; ++t) {
      const double gap = static_cast<double>(m.contracted[static_cast<size_t>(k)][static_cast<size_t>(t)]) -
                         r.contract_served[static_cast<size_t>(k)][static_cast<size_t>(t)];
      if (gap <= 0.5) continue;
      PlanShortfall f;
      f.contract = k;
      f.month = t;
      f.gpus = std::round(gap);
      bool all_power = true, more_power_in_time = false;
      for (int s = 0; s < S; ++s) {
        const PlanSite& site = in.sites[static_cast<size_t>(s)];
        const double slack = r.mw_in_service[static_cast<size_t>(s)][static_cast<size_t>(t)] -
                             r.mw_used[static_cast<size_t>(s)][static_cast<size_t>(t)];
        double smallest = 1e300;
        for (int h = 0; h < H; ++h) {
          if (allowed[static_cast<size_t>(h)]) smallest = std::min(smallest, MwPerDomain(in.hardware[static_cast<size_t>(h)], site));
        }
        if (slack >= smallest - 1e-9) all_power = false;
        int64_t started = 0;
        for (int64_t n : r.phases_started[static_cast<size_t>(s)]) started += n;
        if (started < site.max_phases && site.mw_per_phase > 0 && t >= site.earliest_month + site.lead_months) {
          more_power_in_time = true;
        }
      }
      f.power = all_power;
      for (size_t l = 0; l < m.limits.size(); ++l) {
        if (m.limits[l].first_month > t || b.capex_row[l] == 0) continue;
        double spent = 0;
        for (int u = m.limits[l].first_month; u <= std::min(T - 1, m.limits[l].last_month); ++u) spent += r.capex_by_month[static_cast<size_t>(u)];
        if (m.limits[l].usd - spent < cheapest - 1e-6) f.cash = true;
      }
      if (in.cash.enabled) {
        for (int u = 0; u <= t; ++u) {
          const double room = r.cash_by_month[static_cast<size_t>(u)] - in.cash.min_usd;
          if (room < cheapest - 1e-6) f.cash = true;
        }
      }
      f.lead_time = t < min_ready || (f.power && !more_power_in_time);
      r.shortfalls.push_back(f);
    }
  }
  // Full delivery: the first month from which every contract has its
  // largest contracted GPUs in service and never again falls short by more
  // than 0.1% (a fraction of a domain) within its term.
  r.first_full_month = C > 0 ? 0 : -1;
  for (int k = 0; k < C && r.first_full_month >= 0; ++k) {
    const auto& want = m.contracted[static_cast<size_t>(k)];
    const int64_t peak = *std::max_element(want.begin(), want.end());
    int64_t full = -1;
    for (int t = T - 1; t >= 0; --t) {
      const double need = static_cast<double>(want[static_cast<size_t>(t)]);
      if (r.contract_served[static_cast<size_t>(k)][static_cast<size_t>(t)] < 0.999 * need - 1e-9) break;
      if (want[static_cast<size_t>(t)] == peak && peak > 0) full = t;
    }
    if (peak == 0) full = 0;
    r.first_full_month = full < 0 ? -1 : std::max<int64_t>(r.first_full_month, full);
  }
  // The plan written is the plan checked: a breach left here is an error,
  // never a result.
  const auto check_start = std::chrono::steady_clock::now();
  Status checked = CheckPlan(in, r);
  if (std::getenv("RACKSCALE_PLAN_DEBUG")) {
    std::fprintf(stderr, "rounding and repair %.3f s, check %.3f s\n",
                 std::chrono::duration<double>(check_start - rounding_start).count(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - check_start).count());
  }
  if (Status st = checked; !st) {
    Error e = st.error();
    e.message = "the rounded plan breaks a constraint that dropping orders did not mend: " + e.message;
    return e;
  }
  return r;
}

// ---------------------------------------------------------------------------
// CheckPlan: every figure recomputed from the input and the plan's decisions,
// written apart from SolvePlan's own bookkeeping (direct sums over each
// month's window rather than running states) so that a slip in one is not
// repeated in the other.

Status CheckPlan(const PlanInput& in, const PlanResult& r, int64_t* checks) {
  if (Status st = Validate(in); !st) return st;
  const Model m = Normalize(in);
  const int T = m.T, S = m.S, H = m.H, C = m.C;
  const size_t Tz = static_cast<size_t>(T);
  auto fail = [](const std::string& invariant, std::string message) -> Status {
    return Error{ErrorKind::kInternal, "plan", 0, "plan check: " + invariant, std::move(message)};
  };
  auto site_name = [&](int s) { return fmt::format("site {} ({})", s, in.sites[static_cast<size_t>(s)].name); };
  auto hw_name = [&](int h) { return fmt::format("hardware {} ({})", h, in.hardware[static_cast<size_t>(h)].name); };
  auto contract_name = [&](int k) { return fmt::format("contract {} ({})", k, m.contracts[static_cast<size_t>(k)].name); };
  int64_t compared = 0;
  // a and b agree to 1e-9 of `scale` (at least of 1).
  auto same = [&compared](double a, double b, double scale) {
    ++compared;
    return std::fabs(a - b) <= 1e-9 * std::max({1.0, std::fabs(a), std::fabs(b), std::fabs(scale)});
  };
  auto sized = [&](const std::vector<double>& v) { return v.size() == Tz; };
  // Shapes.
  if (r.phases_started.size() != static_cast<size_t>(S)) return fail("shape", "phases_started: expected one row per site");
  for (const auto& v : r.phases_started) {
    if (v.size() != Tz) return fail("shape", "phases_started: expected one value per month");
  }
  for (const auto* d : {&r.domains_ordered, &r.domains_in_service}) {
    if (d->size() != static_cast<size_t>(H)) return fail("shape", "domains: expected one table per hardware type");
    for (const auto& by_site : *d) {
      if (by_site.size() != static_cast<size_t>(S)) return fail("shape", "domains: expected one row per site");
      for (const auto& v : by_site) {
        if (v.size() != Tz) return fail("shape", "domains: expected one value per month");
      }
    }
  }
  for (const auto* d : {&r.mw_in_service, &r.mw_used}) {
    if (d->size() != static_cast<size_t>(S)) return fail("shape", "MW: expected one row per site");
    for (const auto& v : *d) {
      if (!sized(v)) return fail("shape", "MW: expected one value per month");
    }
  }
  if (r.contract_served.size() != static_cast<size_t>(C)) return fail("shape", "contract_served: expected one row per contract");
  for (const auto& v : r.contract_served) {
    if (!sized(v)) return fail("shape", "contract_served: expected one value per month");
  }
  if (r.gpus_in_service.size() != Tz || !sized(r.on_demand_served) || !sized(r.capex_by_month) ||
      !sized(r.revenue_by_month) || !sized(r.energy_by_month) || !sized(r.depreciation_by_month)) {
    return fail("shape", "a by-month figure does not have one value per month");
  }
  if (in.cash.enabled && (!sized(r.cash_by_month) || !sized(r.cash_breach_by_month) || !sized(r.search_cash_breach_by_month))) {
    return fail("shape", "cash: expected the balance, its breach and the search's breach by month");
  }
  if (in.payroll.free ? (r.roles_cut < 0 || r.roles_cut > in.payroll.max_roles) : r.roles_cut != 0) {
    return fail("roles_cut", fmt::format("{} roles cut; expected 0{}", r.roles_cut,
                                         in.payroll.free ? fmt::format(" to {}", in.payroll.max_roles) : ""));
  }

  // Decisions within their bounds.
  for (int s = 0; s < S; ++s) {
    const PlanSite& site = in.sites[static_cast<size_t>(s)];
    int64_t total = 0;
    for (int t = 0; t < T; ++t) {
      const int64_t n = r.phases_started[static_cast<size_t>(s)][static_cast<size_t>(t)];
      const bool may = t >= site.earliest_month && site.mw_per_phase > 0 && t + site.lead_months < T;
      ++compared;
      if (n < 0 || (n > 0 && !may)) {
        return fail("phases", fmt::format("{}, month {}: {} phases started; a phase may start from month {} if it "
                                          "arrives by month {} ({} months' lead)", site_name(s), t, n,
                                          site.earliest_month, T - 1, site.lead_months));
      }
      total += n;
    }
    ++compared;
    if (total > site.max_phases) {
      return fail("phases", fmt::format("{}: {} phases started, more than its {}", site_name(s), total, site.max_phases));
    }
  }
  for (int h = 0; h < H; ++h) {
    const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
    for (int s = 0; s < S; ++s) {
      for (int t = 0; t < T; ++t) {
        const int64_t n = r.domains_ordered[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t)];
        const bool useful = t >= hw.first_order_month && t + hw.lead_months < T;
        ++compared;
        if (n < 0 || (n > 0 && !useful)) {
          return fail("orders", fmt::format("{} at {}, month {}: {} domains ordered; orders may be placed from month {} "
                                            "if they arrive by month {} ({} months' lead)", hw_name(h), site_name(s), t,
                                            n, hw.first_order_month, T - 1, hw.lead_months));
        }
      }
    }
  }

  // MW, domains and GPUs in service; power.
  std::vector<std::vector<double>> supply(static_cast<size_t>(H), std::vector<double>(Tz, 0));  // GPUs [h][t]
  std::vector<double> energy(Tz, 0), depreciation(Tz, 0), capex(Tz, 0);
  double residual = 0;
  for (int s = 0; s < S; ++s) {
    const PlanSite& site = in.sites[static_cast<size_t>(s)];
    const double phase_usd = site.mw_per_phase * site.usd_per_mw;
    const int life = static_cast<int>(std::lround(site.life_years * 12));
    for (int tau = 0; tau < T; ++tau) {
      const double n = static_cast<double>(r.phases_started[static_cast<size_t>(s)][static_cast<size_t>(tau)]);
      capex[static_cast<size_t>(tau)] += n * phase_usd;
      residual += n * phase_usd * BookShare(tau + site.lead_months, life, T);
      for (int u = tau + site.lead_months; life > 0 && u < T && u < tau + site.lead_months + life; ++u) {
        depreciation[static_cast<size_t>(u)] += n * phase_usd / life;
      }
    }
    for (int t = 0; t < T; ++t) {
      int64_t phases = 0;
      for (int tau = 0; tau <= t - site.lead_months; ++tau) phases += r.phases_started[static_cast<size_t>(s)][static_cast<size_t>(tau)];
      const double mw = site.initial_mw + site.mw_per_phase * static_cast<double>(phases);
      const double got = r.mw_in_service[static_cast<size_t>(s)][static_cast<size_t>(t)];
      if (!same(got, mw, mw)) {
        return fail("mw_in_service", fmt::format("{}, month {}: {} MW reported, {} MW from {} MW and {} phases of {} MW "
                                                 "in service", site_name(s), t, got, mw, site.initial_mw, phases,
                                                 site.mw_per_phase));
      }
      double used = 0;
      for (int h = 0; h < H; ++h) {
        const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
        const auto& ord = r.domains_ordered[static_cast<size_t>(h)][static_cast<size_t>(s)];
        int64_t d = 0;
        for (int tau = 0; tau < T; ++tau) {
          const int arrive = tau + hw.lead_months;
          if (arrive <= t && (hw.life_months <= 0 || t < arrive + hw.life_months)) d += ord[static_cast<size_t>(tau)];
        }
        const int64_t got_d = r.domains_in_service[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t)];
        ++compared;
        if (got_d != d) {
          return fail("domains_in_service", fmt::format("{} at {}, month {}: {} reported, {} from the orders of months "
                                                        "{} to {} ({} months' lead, life {})", hw_name(h), site_name(s),
                                                        t, got_d, d, hw.life_months > 0 ? t - hw.lead_months - hw.life_months + 1 : 0,
                                                        t - hw.lead_months, hw.lead_months, hw.life_months));
        }
        used += static_cast<double>(d) * hw.kw_per_domain * site.pue / 1000.0;
        supply[static_cast<size_t>(h)][static_cast<size_t>(t)] += static_cast<double>(d * hw.gpus_per_domain);
        energy[static_cast<size_t>(t)] +=
            static_cast<double>(d) * hw.kw_per_domain * hw.average_load * site.pue / 1000.0 * kHoursPerMonth * site.usd_per_mwh;
        if (hw.life_months > 0) depreciation[static_cast<size_t>(t)] += static_cast<double>(d) * hw.usd_per_domain / hw.life_months;
      }
      const double got_used = r.mw_used[static_cast<size_t>(s)][static_cast<size_t>(t)];
      if (!same(got_used, used, used)) {
        return fail("mw_used", fmt::format("{}, month {}: {} MW reported, {} MW drawn by the domains in service",
                                           site_name(s), t, got_used, used));
      }
      ++compared;
      if (used > mw + 1e-6) {
        return fail("power", fmt::format("{}, month {}: the domains in service draw {:.6f} MW, more than the {:.6f} MW "
                                         "in service", site_name(s), t, used, mw));
      }
    }
  }
  for (int h = 0; h < H; ++h) {
    const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
    for (int s = 0; s < S; ++s) {
      for (int tau = 0; tau < T; ++tau) {
        const double n = static_cast<double>(r.domains_ordered[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(tau)]);
        capex[static_cast<size_t>(tau)] += n * hw.usd_per_domain;
        residual += n * hw.usd_per_domain * BookShare(tau + hw.lead_months, hw.life_months, T);
      }
    }
  }
  for (int t = 0; t < T; ++t) {
    int64_t gpus = 0;
    for (int h = 0; h < H; ++h) {
      for (int s = 0; s < S; ++s) {
        gpus += r.domains_in_service[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t)] *
                in.hardware[static_cast<size_t>(h)].gpus_per_domain;
      }
    }
    ++compared;
    if (r.gpus_in_service[static_cast<size_t>(t)] != gpus) {
      return fail("gpus_in_service", fmt::format("month {}: {} reported, {} in the domains in service", t,
                                                 r.gpus_in_service[static_cast<size_t>(t)], gpus));
    }
  }

  // Who is served: each within what it asked for, and all of them within the
  // GPUs of the types they may use (Hall's condition on every subset of
  // consumers, which is exactly when an assignment exists).
  const bool od_any = std::any_of(m.demand.begin(), m.demand.end(), [](double g) { return g > 0; }) ||
                      std::any_of(r.on_demand_served.begin(), r.on_demand_served.end(), [](double g) { return g != 0; });
  const int Q = C + (od_any ? 1 : 0);
  auto allowed = [&](int q, int h) {
    return q < C ? m.allowed[static_cast<size_t>(q)][static_cast<size_t>(h)] != 0 : m.od_allowed[static_cast<size_t>(h)] != 0;
  };
  std::vector<double> revenue(Tz, 0);
  for (int t = 0; t < T; ++t) {
    std::vector<double> served(static_cast<size_t>(Q));
    for (int k = 0; k < C; ++k) {
      const double x = r.contract_served[static_cast<size_t>(k)][static_cast<size_t>(t)];
      const double want = static_cast<double>(m.contracted[static_cast<size_t>(k)][static_cast<size_t>(t)]);
      ++compared;
      if (!(x >= -1e-9) || x > want + 1e-6) {
        return fail("served", fmt::format("{}, month {}: {} GPUs served of {} contracted", contract_name(k), t, x, want));
      }
      served[static_cast<size_t>(k)] = x;
      revenue[static_cast<size_t>(t)] += x * m.contracts[static_cast<size_t>(k)].usd_per_gpu_month;
    }
    const double od = r.on_demand_served[static_cast<size_t>(t)];
    ++compared;
    if (!(od >= -1e-9) || od > m.demand[static_cast<size_t>(t)] + 1e-6) {
      return fail("served", fmt::format("on-demand, month {}: {} GPUs served of {} demanded", t, od, m.demand[static_cast<size_t>(t)]));
    }
    if (od_any) served[static_cast<size_t>(C)] = od;
    revenue[static_cast<size_t>(t)] += od * in.on_demand.usd_per_gpu_month;
    std::vector<uint32_t> subsets;
    if (Q <= 12) {
      for (uint32_t q = 1; q < (1u << Q); ++q) subsets.push_back(q);
    } else {
      for (int q = 0; q < Q; ++q) subsets.push_back(1u << q);
    }
    for (uint32_t set : subsets) {
      double want = 0, have = 0;
      for (int q = 0; q < Q; ++q) {
        if (set & (1u << q)) want += served[static_cast<size_t>(q)];
      }
      if (want <= 1e-9) continue;
      std::string who;
      for (int h = 0; h < H; ++h) {
        bool any = false;
        for (int q = 0; q < Q; ++q) any = any || ((set & (1u << q)) && allowed(q, h));
        if (any) have += supply[static_cast<size_t>(h)][static_cast<size_t>(t)];
      }
      ++compared;
      if (want > have + 1e-6 * std::max(1.0, have)) {
        for (int q = 0; q < Q; ++q) {
          if (set & (1u << q)) who += (who.empty() ? "" : ", ") + (q < C ? contract_name(q) : std::string("on-demand"));
        }
        return fail("served", fmt::format("month {}: {} served {} GPUs, more than the {} GPUs in service of the types "
                                          "they may use", t, who, want, have));
      }
    }
  }
  // Shortfalls: one per contract month short by more than half a GPU.
  size_t next = 0;
  for (int k = 0; k < C; ++k) {
    for (int t = 0; t < T; ++t) {
      const double gap = static_cast<double>(m.contracted[static_cast<size_t>(k)][static_cast<size_t>(t)]) -
                         r.contract_served[static_cast<size_t>(k)][static_cast<size_t>(t)];
      if (gap <= 0.5) continue;
      ++compared;
      if (next >= r.shortfalls.size() || r.shortfalls[next].contract != k || r.shortfalls[next].month != t ||
          r.shortfalls[next].gpus != std::round(gap)) {
        return fail("shortfalls", fmt::format("{}, month {}: short by {} GPUs (contracted {} less served {}), which "
                                              "the shortfalls do not say in their place", contract_name(k), t,
                                              std::round(gap), m.contracted[static_cast<size_t>(k)][static_cast<size_t>(t)],
                                              r.contract_served[static_cast<size_t>(k)][static_cast<size_t>(t)]));
      }
      ++next;
    }
  }
  if (next != r.shortfalls.size()) {
    const PlanShortfall& f = r.shortfalls[next];
    return fail("shortfalls", fmt::format("contract {}, month {}: a shortfall of {} GPUs reported where the contract "
                                          "is served", f.contract, f.month, f.gpus));
  }

  // Money by month and in total.
  auto same_by_month = [&](const char* what, const std::vector<double>& got, const std::vector<double>& want) -> Status {
    for (int t = 0; t < T; ++t) {
      const double a = got[static_cast<size_t>(t)], b = want[static_cast<size_t>(t)];
      if (!same(a, b, b)) return fail(what, fmt::format("month {}: {} reported, {} recomputed", t, a, b));
    }
    return Status::Ok();
  };
  if (Status st = same_by_month("capex_by_month", r.capex_by_month, capex); !st) return st;
  if (Status st = same_by_month("energy_by_month", r.energy_by_month, energy); !st) return st;
  if (Status st = same_by_month("revenue_by_month", r.revenue_by_month, revenue); !st) return st;
  if (Status st = same_by_month("depreciation_by_month", r.depreciation_by_month, depreciation); !st) return st;
  for (size_t l = 0; l < m.limits.size(); ++l) {
    const PlanCapexLimit& lim = m.limits[l];
    double spent = 0;
    for (int t = lim.first_month; t <= std::min(T - 1, lim.last_month); ++t) spent += capex[static_cast<size_t>(t)];
    ++compared;
    if (spent > lim.usd * (1 + 1e-9) + 1e-6) {
      return fail("capex", fmt::format("limit {} ('{}', months {} to {}): ${:.2f} spent, more than its ${:.2f}", l,
                                       lim.label, lim.first_month, lim.last_month, spent, lim.usd));
    }
  }
  const double monthly = std::pow(1.0 + in.discount_rate, 1.0 / 12.0);
  double capex_total = 0, revenue_total = 0, energy_total = 0, npv = 0, npv_scale = 0;
  for (int t = 0; t < T; ++t) {
    const size_t u = static_cast<size_t>(t);
    capex_total += capex[u];
    revenue_total += revenue[u];
    energy_total += energy[u];
    const double d = std::pow(monthly, -static_cast<double>(t));
    npv += d * (revenue[u] - capex[u] - energy[u]);
    npv_scale += d * (revenue[u] + capex[u] + energy[u]);
  }
  npv += std::pow(monthly, -static_cast<double>(T)) * residual;
  npv_scale += residual;
  if (!same(r.capex_usd, capex_total, capex_total)) return fail("capex_usd", fmt::format("{} reported, {} recomputed", r.capex_usd, capex_total));
  if (!same(r.revenue_usd, revenue_total, revenue_total)) return fail("revenue_usd", fmt::format("{} reported, {} recomputed", r.revenue_usd, revenue_total));
  if (!same(r.energy_usd, energy_total, energy_total)) return fail("energy_usd", fmt::format("{} reported, {} recomputed", r.energy_usd, energy_total));
  if (!same(r.residual_usd, residual, residual)) return fail("residual_usd", fmt::format("{} reported, {} recomputed", r.residual_usd, residual));
  if (!same(r.npv_usd, npv, npv_scale)) return fail("npv_usd", fmt::format("{} reported, {} recomputed", r.npv_usd, npv));

  // Cash, month by month, and the floor.
  if (in.cash.enabled) {
    double bal = in.cash.starting_usd, scale = std::fabs(in.cash.starting_usd) + std::fabs(in.cash.min_usd);
    for (int t = 0; t < T; ++t) {
      const size_t u = static_cast<size_t>(t);
      double flow = m.flow[u] + revenue[u] - capex[u] - energy[u];
      scale += std::fabs(m.flow[u]) + revenue[u] + capex[u] + energy[u];
      if (in.payroll.free) {
        const double roles = static_cast<double>(r.roles_cut);
        if (t > in.payroll.month) flow += roles * in.payroll.saving_usd_per_role_month;
        if (t == in.payroll.month) flow -= roles * in.payroll.severance_usd_per_role;
        scale += roles * (in.payroll.saving_usd_per_role_month + in.payroll.severance_usd_per_role);
      }
      bal += flow;
      const double got = r.cash_by_month[u];
      if (!same(got, bal, scale)) {
        return fail("cash_by_month", fmt::format("month {}: ${:.2f} reported, ${:.2f} recomputed", t, got, bal));
      }
      const double breach = std::max(0.0, in.cash.min_usd - bal);
      if (!same(r.cash_breach_by_month[u], breach, scale)) {
        return fail("cash_breach_by_month", fmt::format("month {}: ${:.2f} reported, ${:.2f} recomputed", t,
                                                        r.cash_breach_by_month[u], breach));
      }
      const double allowed_breach = std::max(0.0, r.search_cash_breach_by_month[u]);
      ++compared;
      if (breach > allowed_breach + std::max(1.0, 1e-9 * scale)) {
        return fail("cash", fmt::format("month {}: ${:.2f}, ${:.2f} below the floor of ${:.2f}, where the search's own "
                                        "plan was ${:.2f} below it: a breach made by rounding the orders", t, bal,
                                        breach, in.cash.min_usd, allowed_breach));
      }
    }
  }
  if (checks != nullptr) *checks += compared;
  return Status::Ok();
}

}  // namespace rackscale
