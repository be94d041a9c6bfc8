#include "plan/planner.h"

#include <glpk.h>

#include <algorithm>
#include <functional>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace rackscale {
namespace {

Error Bad(const std::string& field, std::string message) {
  return Error::InvalidInput("plan", 0, field, std::move(message));
}

Status Validate(const PlanInput& in) {
  if (in.months < 1 || in.months > 1200) return Bad("months", "expected 1 to 1200 months");
  if (in.sites.empty()) return Bad("sites", "expected at least one site");
  if (in.hardware.empty()) return Bad("hardware", "expected at least one hardware type");
  if (in.required_gpus.empty()) return Bad("required_gpus", "expected the GPUs required by month");
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
  }
  for (size_t h = 0; h < in.hardware.size(); ++h) {
    const PlanHardware& x = in.hardware[h];
    const std::string f = fmt::format("hardware[{}]", h);
    if (x.gpus_per_domain < 1) return Bad(f + ".gpus_per_domain", "expected >= 1");
    if (!(x.kw_per_domain > 0)) return Bad(f + ".kw_per_domain", "expected > 0");
    if (!(x.usd_per_domain >= 0)) return Bad(f + ".usd_per_domain", "expected >= 0");
    if (x.lead_months < 0) return Bad(f + ".lead_months", "expected >= 0");
  }
  for (int64_t g : in.required_gpus) {
    if (g < 0) return Bad("required_gpus", "expected GPUs >= 0");
  }
  if (!(in.shortfall_usd_per_gpu_month >= 0)) return Bad("shortfall_usd_per_gpu_month", "expected >= 0");
  for (double c : in.capex_limit_usd) {
    if (!(c >= 0)) return Bad("capex_limit_usd", "expected limits >= 0");
  }
  if (!(in.discount_rate > -1 && in.discount_rate < 10)) return Bad("discount_rate", "expected (-1, 10)");
  if (!(in.time_limit_s > 0)) return Bad("time_limit_s", "expected > 0");
  return Status::Ok();
}

// A problem's columns and rows, 1-based as GLPK wants them.
class Lp {
 public:
  Lp() : p_(glp_create_prob()) { glp_set_obj_dir(p_, GLP_MIN); }
  ~Lp() { glp_delete_prob(p_); }
  Lp(const Lp&) = delete;
  Lp& operator=(const Lp&) = delete;

  // upper < 0: no upper bound.
  int AddColumn(double cost, double upper, bool integer) {
    const int j = glp_add_cols(p_, 1);
    glp_set_col_kind(p_, j, integer ? GLP_IV : GLP_CV);
    const int type = upper < 0 ? GLP_LO : upper > 0 ? GLP_DB : GLP_FX;
    glp_set_col_bnds(p_, j, type, 0.0, std::max(0.0, upper));
    glp_set_obj_coef(p_, j, cost);
    return j;
  }
  // sum coef x col  <=  (upper) / >= (lower)
  int AddRow(const std::vector<std::pair<int, double>>& terms, int type, double bound) {
    const int i = glp_add_rows(p_, 1);
    glp_set_row_bnds(p_, i, type, bound, bound);
    std::vector<int> idx(terms.size() + 1);
    std::vector<double> val(terms.size() + 1);
    for (size_t k = 0; k < terms.size(); ++k) {
      idx[k + 1] = terms[k].first;
      val[k + 1] = terms[k].second;
    }
    glp_set_mat_row(p_, i, static_cast<int>(terms.size()), idx.data(), val.data());
    return i;
  }
  glp_prob* get() { return p_; }

 private:
  glp_prob* p_;
};

}  // namespace

Result<PlanResult> SolvePlan(const PlanInput& in) {
  if (Status st = Validate(in); !st) return st.error();
  const int T = in.months;
  const int S = static_cast<int>(in.sites.size());
  const int H = static_cast<int>(in.hardware.size());
  auto required = [&](int t) {
    return in.required_gpus[std::min<size_t>(static_cast<size_t>(t), in.required_gpus.size() - 1)];
  };
  int64_t peak = 0;
  for (int t = 0; t < T; ++t) peak = std::max(peak, required(t));
  const double monthly = std::pow(1.0 + in.discount_rate, 1.0 / 12.0);
  std::vector<double> disc(static_cast<size_t>(T));
  for (int t = 0; t < T; ++t) disc[static_cast<size_t>(t)] = std::pow(monthly, -t);

  Lp lp;
  // Columns: phases started [s][t], domains ordered [h][s][t], shortfall [t].
  std::vector<std::vector<int>> pc(static_cast<size_t>(S), std::vector<int>(static_cast<size_t>(T)));
  std::vector<std::vector<std::vector<int>>> xc(
      static_cast<size_t>(H),
      std::vector<std::vector<int>>(static_cast<size_t>(S), std::vector<int>(static_cast<size_t>(T))));
  std::vector<int> sc(static_cast<size_t>(T));
  for (int s = 0; s < S; ++s) {
    const PlanSite& site = in.sites[static_cast<size_t>(s)];
    for (int t = 0; t < T; ++t) {
      const bool may = t >= site.earliest_month && site.mw_per_phase > 0;
      pc[static_cast<size_t>(s)][static_cast<size_t>(t)] =
          lp.AddColumn(site.mw_per_phase * site.usd_per_mw * disc[static_cast<size_t>(t)],
                       may ? site.max_phases : 0, true);
    }
  }
  for (int h = 0; h < H; ++h) {
    const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
    // More domains in one month than the peak demand needs never pay.
    const double most = std::ceil(static_cast<double>(peak) / hw.gpus_per_domain);
    for (int s = 0; s < S; ++s) {
      for (int t = 0; t < T; ++t) {
        const bool useful = t + hw.lead_months < T;  // otherwise never in service here
        xc[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t)] =
            lp.AddColumn(hw.usd_per_domain * disc[static_cast<size_t>(t)], useful ? most : 0, true);
      }
    }
  }
  for (int t = 0; t < T; ++t) {
    sc[static_cast<size_t>(t)] = lp.AddColumn(in.shortfall_usd_per_gpu_month * disc[static_cast<size_t>(t)],
                                               static_cast<double>(required(t)), false);
  }
  // State columns keep the matrix sparse: I[h][s][t], domains in service,
  // and M[s][t], MW in service, each defined from the month before.
  std::vector<std::vector<std::vector<int>>> ic(
      static_cast<size_t>(H),
      std::vector<std::vector<int>>(static_cast<size_t>(S), std::vector<int>(static_cast<size_t>(T))));
  std::vector<std::vector<int>> mc(static_cast<size_t>(S), std::vector<int>(static_cast<size_t>(T)));
  for (int h = 0; h < H; ++h) {
    for (int s = 0; s < S; ++s) {
      for (int t = 0; t < T; ++t) {
        const int col = lp.AddColumn(0, -1, false);
        ic[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t)] = col;
        std::vector<std::pair<int, double>> terms{{col, 1.0}};
        if (t > 0) terms.push_back({ic[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t - 1)], -1.0});
        const int o = t - in.hardware[static_cast<size_t>(h)].lead_months;
        if (o >= 0) terms.push_back({xc[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(o)], -1.0});
        lp.AddRow(terms, GLP_FX, 0.0);
      }
    }
  }
  for (int s = 0; s < S; ++s) {
    const PlanSite& site = in.sites[static_cast<size_t>(s)];
    for (int t = 0; t < T; ++t) {
      const int col = lp.AddColumn(0, -1, false);
      mc[static_cast<size_t>(s)][static_cast<size_t>(t)] = col;
      std::vector<std::pair<int, double>> terms{{col, 1.0}};
      if (t > 0) terms.push_back({mc[static_cast<size_t>(s)][static_cast<size_t>(t - 1)], -1.0});
      const int o = t - site.lead_months;
      if (o >= 0) terms.push_back({pc[static_cast<size_t>(s)][static_cast<size_t>(o)], -site.mw_per_phase});
      lp.AddRow(terms, GLP_FX, t == 0 ? site.initial_mw : 0.0);
    }
  }
  // Rows.
  std::vector<std::vector<int>> power_row(static_cast<size_t>(S), std::vector<int>(static_cast<size_t>(T)));
  std::vector<int> capex_row;
  for (int s = 0; s < S; ++s) {
    const PlanSite& site = in.sites[static_cast<size_t>(s)];
    for (int t = 0; t < T; ++t) {
      std::vector<std::pair<int, double>> terms;
      for (int h = 0; h < H; ++h) {
        const double mw = in.hardware[static_cast<size_t>(h)].kw_per_domain * site.pue / 1000.0;
        terms.push_back({ic[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t)], mw});
      }
      terms.push_back({mc[static_cast<size_t>(s)][static_cast<size_t>(t)], -1.0});
      power_row[static_cast<size_t>(s)][static_cast<size_t>(t)] = lp.AddRow(terms, GLP_UP, 0.0);
    }
    std::vector<std::pair<int, double>> phases;
    for (int t = 0; t < T; ++t) phases.push_back({pc[static_cast<size_t>(s)][static_cast<size_t>(t)], 1.0});
    lp.AddRow(phases, GLP_UP, site.max_phases);
  }
  for (int t = 0; t < T; ++t) {
    std::vector<std::pair<int, double>> terms;
    for (int h = 0; h < H; ++h) {
      const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
      for (int s = 0; s < S; ++s) {
        terms.push_back({ic[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t)],
                         static_cast<double>(hw.gpus_per_domain)});
      }
    }
    terms.push_back({sc[static_cast<size_t>(t)], 1.0});
    lp.AddRow(terms, GLP_LO, static_cast<double>(required(t)));
  }
  const int years = (T + 11) / 12;
  for (int y = 0; y < years; ++y) {
    if (static_cast<size_t>(y) >= in.capex_limit_usd.size()) break;
    std::vector<std::pair<int, double>> terms;
    for (int t = 12 * y; t < std::min(T, 12 * y + 12); ++t) {
      for (int s = 0; s < S; ++s) {
        const PlanSite& site = in.sites[static_cast<size_t>(s)];
        terms.push_back({pc[static_cast<size_t>(s)][static_cast<size_t>(t)], site.mw_per_phase * site.usd_per_mw});
        for (int h = 0; h < H; ++h) {
          terms.push_back({xc[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t)],
                           in.hardware[static_cast<size_t>(h)].usd_per_domain});
        }
      }
    }
    capex_row.push_back(lp.AddRow(terms, GLP_UP, in.capex_limit_usd[static_cast<size_t>(y)]));
  }

  // An incumbent from the LP relaxation at the root: orders and phases
  // rounded down, then orders dropped (latest first) wherever a site's power
  // would be exceeded; shortfall takes the rest. Always feasible (rounding
  // down only lowers capex and phases), so the search never ends empty.
  struct Heuristic {
    const PlanInput* in;
    int T, S, H;
    std::vector<std::vector<int>>* pc;
    std::vector<std::vector<std::vector<int>>>* xc;
    std::vector<std::vector<std::vector<int>>>* ic;
    std::vector<std::vector<int>>* mc;
    std::vector<int>* sc;
    std::function<int64_t(int)> required;
    bool done = false;
  } heur{&in, T, S, H, &pc, &xc, &ic, &mc, &sc, required};
  auto callback = [](glp_tree* tree, void* info) {
    auto* h = static_cast<Heuristic*>(info);
    if (glp_ios_reason(tree) != GLP_IHEUR || h->done) return;
    h->done = true;
    glp_prob* lpp = glp_ios_get_prob(tree);
    const int n = glp_get_num_cols(lpp);
    std::vector<double> x(static_cast<size_t>(n) + 1, 0.0);
    const PlanInput& in = *h->in;
    const size_t T = static_cast<size_t>(h->T);
    std::vector<std::vector<std::vector<int64_t>>> ord(
        static_cast<size_t>(h->H), std::vector<std::vector<int64_t>>(static_cast<size_t>(h->S), std::vector<int64_t>(T)));
    std::vector<int64_t> gpus(T, 0);
    for (size_t s = 0; s < static_cast<size_t>(h->S); ++s) {
      const PlanSite& site = in.sites[s];
      std::vector<int64_t> ph(T);
      for (size_t t = 0; t < T; ++t) ph[t] = static_cast<int64_t>(std::floor(glp_get_col_prim(lpp, (*h->pc)[s][t]) + 1e-9));
      std::vector<double> mw(T);
      double m = site.initial_mw;
      for (size_t t = 0; t < T; ++t) {
        if (static_cast<int>(t) - site.lead_months >= 0) m += static_cast<double>(ph[t - static_cast<size_t>(site.lead_months)]) * site.mw_per_phase;
        mw[t] = m;
      }
      for (size_t hh = 0; hh < static_cast<size_t>(h->H); ++hh) {
        for (size_t t = 0; t < T; ++t) {
          ord[hh][s][t] = static_cast<int64_t>(std::floor(glp_get_col_prim(lpp, (*h->xc)[hh][s][t]) + 1e-9));
        }
      }
      // Drop orders until each month's domains fit its power.
      for (size_t t = 0; t < T; ++t) {
        while (true) {
          double need = 0;
          for (size_t hh = 0; hh < static_cast<size_t>(h->H); ++hh) {
            const int lead = in.hardware[hh].lead_months;
            for (int tau = 0; tau <= static_cast<int>(t) - lead; ++tau) {
              need += static_cast<double>(ord[hh][s][static_cast<size_t>(tau)]) * in.hardware[hh].kw_per_domain * site.pue / 1000.0;
            }
          }
          if (need <= mw[t] + 1e-9) break;
          int best_h = -1, best_tau = -1;
          for (size_t hh = 0; hh < static_cast<size_t>(h->H); ++hh) {
            for (int tau = static_cast<int>(t) - in.hardware[hh].lead_months; tau >= 0; --tau) {
              if (ord[hh][s][static_cast<size_t>(tau)] > 0) {
                if (tau > best_tau) {
                  best_tau = tau;
                  best_h = static_cast<int>(hh);
                }
                break;
              }
            }
          }
          if (best_h < 0) break;
          --ord[static_cast<size_t>(best_h)][s][static_cast<size_t>(best_tau)];
        }
      }
      for (size_t t = 0; t < T; ++t) {
        x[static_cast<size_t>((*h->pc)[s][t])] = static_cast<double>(ph[t]);
        x[static_cast<size_t>((*h->mc)[s][t])] = mw[t];
      }
      for (size_t hh = 0; hh < static_cast<size_t>(h->H); ++hh) {
        int64_t inst = 0;
        for (size_t t = 0; t < T; ++t) {
          x[static_cast<size_t>((*h->xc)[hh][s][t])] = static_cast<double>(ord[hh][s][t]);
          const int o = static_cast<int>(t) - in.hardware[hh].lead_months;
          if (o >= 0) inst += ord[hh][s][static_cast<size_t>(o)];
          x[static_cast<size_t>((*h->ic)[hh][s][t])] = static_cast<double>(inst);
          gpus[t] += inst * in.hardware[hh].gpus_per_domain;
        }
      }
    }
    for (size_t t = 0; t < T; ++t) {
      x[static_cast<size_t>((*h->sc)[t])] =
          std::max<double>(0.0, static_cast<double>(h->required(static_cast<int>(t)) - gpus[t]));
    }
    glp_ios_heur_sol(tree, x.data());
  };

  glp_iocp parm;
  glp_init_iocp(&parm);
  parm.cb_func = callback;
  parm.cb_info = &heur;
  // No MIP presolve: the heuristic writes values by this problem's column
  // numbers, which presolve would change. The root LP is solved first.
  parm.presolve = GLP_OFF;
  parm.msg_lev = GLP_MSG_OFF;
  parm.tm_lim = static_cast<int>(std::min(in.time_limit_s * 1000, 2e9));
  parm.mip_gap = in.mip_gap;
  // Heuristics for an incumbent early: the feasibility pump, proximity
  // search, and cuts that tighten the weak monthly relaxation.
  parm.fp_heur = GLP_ON;
  parm.gmi_cuts = GLP_ON;
  parm.mir_cuts = GLP_ON;
  glp_smcp lp_parm;
  glp_init_smcp(&lp_parm);
  lp_parm.msg_lev = GLP_MSG_OFF;
  lp_parm.presolve = GLP_ON;
  if (const int lp_rc = glp_simplex(lp.get(), &lp_parm); lp_rc != 0 || glp_get_status(lp.get()) != GLP_OPT) {
    return Error{ErrorKind::kInternal, "plan", 0, {},
                 fmt::format("the LP relaxation did not solve (glp_simplex {}, status {})", lp_rc,
                             glp_get_status(lp.get()))};
  }
  const double lp_bound = glp_get_obj_val(lp.get());
  const int rc = glp_intopt(lp.get(), &parm);
  const int status = glp_mip_status(lp.get());
  if (!(status == GLP_OPT || status == GLP_FEAS)) {
    return Error{ErrorKind::kInternal, "plan", 0, {},
                 fmt::format("the solver found no plan (glp_intopt {}, status {})", rc, status)};
  }

  PlanResult r;
  r.optimal = status == GLP_OPT;
  r.objective_usd = glp_mip_obj_val(lp.get());
  r.gap = r.objective_usd > 0 ? std::max(0.0, (r.objective_usd - lp_bound) / r.objective_usd) : 0.0;
  r.phases_started.assign(static_cast<size_t>(S), std::vector<int64_t>(static_cast<size_t>(T), 0));
  r.domains_ordered.assign(static_cast<size_t>(H),
                           std::vector<std::vector<int64_t>>(static_cast<size_t>(S),
                                                             std::vector<int64_t>(static_cast<size_t>(T), 0)));
  r.mw_in_service.assign(static_cast<size_t>(S), std::vector<double>(static_cast<size_t>(T), 0));
  r.gpus_in_service.assign(static_cast<size_t>(T), 0);
  r.capex_by_month.assign(static_cast<size_t>(T), 0);
  auto value = [&](int col) { return static_cast<int64_t>(std::llround(glp_mip_col_val(lp.get(), col))); };
  for (int s = 0; s < S; ++s) {
    const PlanSite& site = in.sites[static_cast<size_t>(s)];
    for (int t = 0; t < T; ++t) {
      const int64_t p = value(pc[static_cast<size_t>(s)][static_cast<size_t>(t)]);
      r.phases_started[static_cast<size_t>(s)][static_cast<size_t>(t)] = p;
      r.capex_by_month[static_cast<size_t>(t)] += static_cast<double>(p) * site.mw_per_phase * site.usd_per_mw;
    }
    double mw = site.initial_mw;
    for (int t = 0; t < T; ++t) {
      if (t - site.lead_months >= 0) {
        mw += static_cast<double>(r.phases_started[static_cast<size_t>(s)][static_cast<size_t>(t - site.lead_months)]) *
              site.mw_per_phase;
      }
      r.mw_in_service[static_cast<size_t>(s)][static_cast<size_t>(t)] = mw;
    }
  }
  for (int h = 0; h < H; ++h) {
    const PlanHardware& hw = in.hardware[static_cast<size_t>(h)];
    for (int s = 0; s < S; ++s) {
      int64_t installed = 0;
      for (int t = 0; t < T; ++t) {
        const int64_t x = value(xc[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t)]);
        r.domains_ordered[static_cast<size_t>(h)][static_cast<size_t>(s)][static_cast<size_t>(t)] = x;
        r.capex_by_month[static_cast<size_t>(t)] += static_cast<double>(x) * hw.usd_per_domain;
        if (t - hw.lead_months >= 0) {
          installed += r.domains_ordered[static_cast<size_t>(h)][static_cast<size_t>(s)]
                                        [static_cast<size_t>(t - hw.lead_months)];
        }
        r.gpus_in_service[static_cast<size_t>(t)] += installed * hw.gpus_per_domain;
      }
    }
  }
  for (double c : r.capex_by_month) r.capex_usd += c;
  // Shortfalls and what binds then.
  int min_hw_lead = in.hardware[0].lead_months;
  for (const PlanHardware& hw : in.hardware) min_hw_lead = std::min(min_hw_lead, hw.lead_months);
  for (int t = 0; t < T; ++t) {
    const double gap = static_cast<double>(required(t)) - static_cast<double>(r.gpus_in_service[static_cast<size_t>(t)]);
    if (gap <= 0.5) continue;
    PlanShortfall f;
    f.month = t;
    f.gpus = gap;
    bool all_power = true, more_power_in_time = false;
    for (int s = 0; s < S; ++s) {
      const PlanSite& site = in.sites[static_cast<size_t>(s)];
      const int row = power_row[static_cast<size_t>(s)][static_cast<size_t>(t)];
      const double used = glp_mip_row_val(lp.get(), row);  // domains' MW - MW in service
      // The smallest domain that would still fit here.
      double smallest = 1e300;
      for (const PlanHardware& hw : in.hardware) smallest = std::min(smallest, hw.kw_per_domain * site.pue / 1000.0);
      if (-used >= smallest - 1e-9) all_power = false;
      int64_t started = 0;
      for (int64_t p : r.phases_started[static_cast<size_t>(s)]) started += p;
      if (started < site.max_phases && t >= site.earliest_month + site.lead_months) more_power_in_time = true;
    }
    f.power = all_power;
    for (size_t y = 0; y < capex_row.size() && static_cast<int>(12 * y) <= t; ++y) {
      const double limit = in.capex_limit_usd[y];
      const double spent = glp_mip_row_val(lp.get(), capex_row[y]);
      double cheapest = 1e300;
      for (const PlanHardware& hw : in.hardware) cheapest = std::min(cheapest, hw.usd_per_domain);
      if (limit - spent < cheapest - 1e-6) f.cash = true;
    }
    f.lead_time = t < min_hw_lead || (f.power && !more_power_in_time);
    r.shortfalls.push_back(f);
  }
  r.first_full_month = -1;
  for (int t = T - 1; t >= 0; --t) {
    const bool short_here = std::any_of(r.shortfalls.begin(), r.shortfalls.end(),
                                        [&](const PlanShortfall& f) { return f.month == t; });
    if (short_here) break;
    r.first_full_month = t;
  }
  return r;
}

}  // namespace rackscale
