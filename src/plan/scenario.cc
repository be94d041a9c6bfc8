#include "plan/scenario.h"

#include <algorithm>
#include <cmath>

#include "base/file.h"
#include "base/text.h"
#include "model/toml_reader.h"

namespace rackscale {

using internal::IndexOf;
using internal::ParseToml;
using internal::TableReader;

namespace {

constexpr double kHoursPerMonth = 8760.0 / 12.0;

// "YYYY-MM" -> year * 12 + month - 1.
bool ParseYearMonth(const std::string& s, int32_t* out) {
  if (s.size() != 7 || s[4] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  const int32_t y = std::stoi(s.substr(0, 4));
  const int32_t m = std::stoi(s.substr(5, 2));
  if (m < 1 || m > 12 || y < 1900 || y > 2200) return false;
  *out = y * 12 + m - 1;
  return true;
}

class ScenarioParser {
 public:
  ScenarioParser(const toml::table& root, const std::string& source) : root_(root), source_(source) {}

  Result<Scenario> Parse() {
    TableReader top(root_, "", source_);
    Scenario s;
    s.source = source_;
    if (Status st = ParseHeader(top, s); !st) return st.error();
    if (Status st = internal::ParseFleetCatalog(root_, top, source_, s.catalog); !st) return st.error();
    if (Status st = ParseWorkforce(top, s); !st) return st.error();
    if (Status st = ParseFinance(top, s); !st) return st.error();
    if (Status st = ParseSites(top, s); !st) return st.error();
    if (Status st = ParseHardware(top, s); !st) return st.error();
    if (Status st = ParseContracts(top, s); !st) return st.error();
    if (Status st = ParseOnDemand(top, s); !st) return st.error();
    if (Status st = ParseSimulate(top, s); !st) return st.error();
    if (Status st = ParseUncertainty(top, s); !st) return st.error();
    if (Status st = top.CheckUnknown(); !st) return st.error();
    if (s.contracts.empty() && !(s.on_demand.gpus > 0)) {
      return top.Bad("contracts", nullptr, "nothing to plan for: give [[contracts]] or [on_demand] gpus > 0");
    }
    return s;
  }

 private:
  const toml::table* Table(TableReader& parent, const toml::table& t, std::string_view key, bool required,
                           Error* err) {
    parent.Mark(key);
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      if (required) *err = parent.Bad(key, nullptr, "missing; expected a table");
      return nullptr;
    }
    if (!n->is_table()) {
      *err = parent.Bad(key, n, "expected a table");
      return nullptr;
    }
    return n->as_table();
  }
  const toml::array* Array(TableReader& parent, const toml::table& t, std::string_view key, bool required,
                           Error* err) {
    parent.Mark(key);
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      if (required) *err = parent.Bad(key, nullptr, "missing; expected an array of tables [[...]]");
      return nullptr;
    }
    if (!n->is_array()) {
      *err = parent.Bad(key, n, "expected an array of tables [[...]]");
      return nullptr;
    }
    return n->as_array();
  }
  // A calendar month "YYYY-MM" as a scenario month.
  Result<int32_t> Month(TableReader& r, const toml::table& t, std::string_view key, bool required, int32_t def,
                        const Scenario& s) {
    auto v = r.String(key, required);
    if (!v) return v.error();
    if (v->empty()) return def;
    int32_t ym = 0;
    if (!ParseYearMonth(*v, &ym)) return r.Bad(key, t.get(key), fmt::format("expected a month \"YYYY-MM\", got \"{}\"", *v));
    return ym - (s.start_year * 12 + s.start_month - 1);
  }
  // A list of hardware names.
  Status HardwareList(TableReader& r, const toml::table& t, std::string_view key, const Scenario& s,
                      std::vector<int32_t>* out) {
    r.Mark(key);
    const toml::node* n = t.get(key);
    if (n == nullptr) return Status::Ok();
    const toml::array* a = n->as_array();
    if (a == nullptr) return r.Bad(key, n, "expected an array of hardware names");
    for (const toml::node& e : *a) {
      auto name = e.value_exact<std::string>();
      if (!name) return r.Bad(key, &e, "expected a hardware name (a string)");
      const int32_t h = IndexOf(s.hardware, *name);
      if (h < 0) return r.Bad(key, &e, fmt::format("unknown hardware '{}'; define [hardware.{}]", *name, *name));
      out->push_back(h);
    }
    return Status::Ok();
  }

  Status ParseHeader(TableReader& top, Scenario& s) {
    Error err;
    const toml::table* t = Table(top, root_, "scenario", true, &err);
    if (t == nullptr) return err;
    TableReader r(*t, "scenario", source_);
    RS_TRY(name, r.String("name", true));
    RS_TRY(desc, r.String("description", false));
    RS_TRY(start, r.String("start", true));
    int32_t ym = 0;
    if (!ParseYearMonth(start, &ym)) return r.Bad("start", t->get("start"), fmt::format("expected a month \"YYYY-MM\", got \"{}\"", start));
    s.start_year = ym / 12;
    s.start_month = ym % 12 + 1;
    RS_TRY(months, r.Int("months", true, 0, 1, 600));
    RS_TRY(limit, r.Duration("time_limit_s", false, 10, 0.1, 86400, DurationUnit::kSeconds));
    RS_TRY(gap, r.Number("mip_gap", false, 0.002, 0, 1));
    RS_TRY(nodes, r.Int("node_limit", false, 0, 0, int64_t{1} << 40));
    RS_TRY(by_month, r.Int("monthly_months", false, INT32_MAX, 0, 1200));
    RS_TRY(by_quarter, r.Int("quarterly_months", false, INT32_MAX, 0, 1200));
    if (Status st = r.CheckUnknown(); !st) return st;
    s.monthly_months = static_cast<int32_t>(by_month);
    s.quarterly_months = static_cast<int32_t>(by_quarter);
    s.name = name;
    s.description = desc;
    s.months = static_cast<int32_t>(months);
    s.time_limit_s = limit;
    s.mip_gap = gap;
    s.node_limit = nodes;
    return Status::Ok();
  }

  Status ParseWorkforce(TableReader& top, Scenario& s) {
    Error err;
    const toml::table* t = Table(top, root_, "workforce", false, &err);
    if (t == nullptr) return err.message.empty() ? Status::Ok() : Status(err);
    TableReader r(*t, "workforce", source_);
    const toml::array* groups = Array(r, *t, "groups", true, &err);
    if (groups == nullptr) return err;
    for (size_t i = 0; i < groups->size(); ++i) {
      const std::string path = fmt::format("workforce.groups[{}]", i);
      const toml::table* g = (*groups)[i].as_table();
      if (g == nullptr) return Error::InvalidInput(source_, r.Line(&(*groups)[i]), path, "expected a table");
      TableReader gr(*g, path, source_);
      WorkforceGroup x;
      RS_TRY(name, gr.String("name", true));
      RS_TRY(head, gr.Int("headcount", true, 0, 0, 100'000'000));
      RS_TRY(cost, gr.Number("usd_per_person_year", true, 0, 0, 1e8));
      if (Status st = gr.CheckUnknown(); !st) return st;
      if (IndexOf(s.groups, name) >= 0) return gr.Bad("name", g->get("name"), fmt::format("group '{}' defined twice", name));
      x.name = name;
      x.headcount = head;
      x.usd_per_person_year = cost;
      s.groups.push_back(x);
    }
    const toml::array* waves = Array(r, *t, "layoffs", false, &err);
    if (waves == nullptr && !err.message.empty()) return err;
    std::vector<int64_t> left;
    for (const WorkforceGroup& g : s.groups) left.push_back(g.headcount);
    for (size_t i = 0; waves != nullptr && i < waves->size(); ++i) {
      const std::string path = fmt::format("workforce.layoffs[{}]", i);
      const toml::table* w = (*waves)[i].as_table();
      if (w == nullptr) return Error::InvalidInput(source_, r.Line(&(*waves)[i]), path, "expected a table");
      TableReader wr(*w, path, source_);
      LayoffWave x;
      RS_TRY(group, wr.String("group", true));
      RS_TRY(month, Month(wr, *w, "date", true, 0, s));
      RS_TRY(count, wr.Int("count", true, 0, 0, 100'000'000));
      RS_TRY(sev, wr.Number("severance_usd_per_person", false, 0, 0, 1e8));
      if (Status st = wr.CheckUnknown(); !st) return st;
      x.group = IndexOf(s.groups, group);
      if (x.group < 0) return wr.Bad("group", w->get("group"), fmt::format("unknown workforce group '{}'", group));
      if (month < 0 || month >= s.months) return wr.Bad("date", w->get("date"), "outside the scenario's months");
      if (count > left[static_cast<size_t>(x.group)]) {
        return wr.Bad("count", w->get("count"),
                      fmt::format("cuts {} roles but group '{}' has {} left", count, group, left[static_cast<size_t>(x.group)]));
      }
      left[static_cast<size_t>(x.group)] -= count;
      x.month = month;
      x.count = count;
      x.severance_usd_per_person = sev;
      s.layoffs.push_back(x);
    }
    if (Status st = r.CheckUnknown(); !st) return st;
    return Status::Ok();
  }

  Status ParseFinance(TableReader& top, Scenario& s) {
    Error err;
    const toml::table* t = Table(top, root_, "finance", true, &err);
    if (t == nullptr) return err;
    TableReader r(*t, "finance", source_);
    FinanceSpec& f = s.finance;
    RS_TRY(cash, r.Number("starting_cash_usd", true, 0, -1e15, 1e15));
    RS_TRY(ocf, r.Number("operating_cash_flow_usd_per_year", false, 0, -1e15, 1e15));
    RS_TRY(ocfg, r.Number("operating_cash_flow_growth", false, 0, -0.9, 10));
    RS_TRY(oc, r.Number("other_capex_usd_per_year", false, 0, 0, 1e15));
    RS_TRY(ocg, r.Number("other_capex_growth", false, 0, -0.9, 10));
    RS_TRY(floor, r.Number("min_cash_usd", false, 0, -1e15, 1e15));
    RS_TRY(rate, r.Number("discount_rate", false, 0.08, 0, 1));
    RS_TRY(pen, r.Number("cash_breach_penalty", false, 1.0, 0, 1e6));
    f.starting_cash_usd = cash;
    f.operating_cash_flow_usd_per_year = ocf;
    f.operating_cash_flow_growth = ocfg;
    f.other_capex_usd_per_year = oc;
    f.other_capex_growth = ocg;
    f.min_cash_usd = floor;
    f.discount_rate = rate;
    f.cash_breach_penalty = pen;
    const toml::table* limits = Table(r, *t, "capex_limit_usd", false, &err);
    if (limits == nullptr && !err.message.empty()) return err;
    if (limits != nullptr) {
      TableReader lr(*limits, "finance.capex_limit_usd", source_);
      for (const auto& [k, v] : *limits) {
        const std::string key(k.str());
        int32_t year = 0;
        if (key.size() != 4 || !std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          return lr.Bad(key, &v, "expected a calendar year as the key, e.g. \"2026\" = 150e9");
        }
        year = std::stoi(key);
        RS_TRY(usd, lr.Number(key, true, 0, 0, 1e15));
        f.capex_limits.push_back({year, usd});
      }
    }
    if (Status st = r.CheckUnknown(); !st) return st;
    return Status::Ok();
  }

  Status ParseSites(TableReader& top, Scenario& s) {
    Error err;
    const toml::array* sites = Array(top, root_, "sites", true, &err);
    if (sites == nullptr) return err;
    if (sites->empty()) return top.Bad("sites", root_.get("sites"), "expected one or more [[sites]]");
    for (size_t i = 0; i < sites->size(); ++i) {
      const std::string path = fmt::format("sites[{}]", i);
      const toml::table* t = (*sites)[i].as_table();
      if (t == nullptr) return Error::InvalidInput(source_, top.Line(&(*sites)[i]), path, "expected a table");
      TableReader r(*t, path, source_);
      PowerSite x;
      RS_TRY(name, r.String("name", true));
      RS_TRY(init, r.Number("initial_mw", false, 0, 0, 1e6));
      RS_TRY(phase, r.Number("mw_per_phase", false, 0, 0, 1e6));
      RS_TRY(usd, r.Number("usd_per_mw", false, 0, 0, 1e10));
      RS_TRY(lead, r.Int("lead_months", false, 0, 0, 240));
      RS_TRY(earliest, Month(r, *t, "earliest", false, 0, s));
      RS_TRY(maxp, r.Int("max_phases", false, 0, 0, 10000));
      RS_TRY(pue, r.Number("pue", false, 1.2, 1.0, 5.0));
      RS_TRY(price, r.Number("usd_per_mwh", false, 0, 0, 1e5));
      RS_TRY(life, r.Number("life_years", false, 20, 0, 100));
      if (Status st = r.CheckUnknown(); !st) return st;
      if (IndexOf(s.sites, name) >= 0) return r.Bad("name", t->get("name"), fmt::format("site '{}' defined twice", name));
      if (maxp > 0 && !(phase > 0)) return r.Bad("mw_per_phase", t->get("mw_per_phase"), "max_phases > 0 needs mw_per_phase > 0");
      x.name = name;
      x.initial_mw = init;
      x.mw_per_phase = phase;
      x.usd_per_mw = usd;
      x.lead_months = static_cast<int32_t>(lead);
      x.earliest_month = std::max(0, earliest);
      x.max_phases = static_cast<int32_t>(maxp);
      x.pue = pue;
      x.usd_per_mwh = price;
      x.life_years = life;
      s.sites.push_back(x);
    }
    return Status::Ok();
  }

  Status ParseHardware(TableReader& top, Scenario& s) {
    Error err;
    const toml::table* t = Table(top, root_, "hardware", true, &err);
    if (t == nullptr) return err;
    if (t->empty()) return top.Bad("hardware", root_.get("hardware"), "expected one or more [hardware.NAME]");
    for (const auto& [k, v] : *t) {
      const std::string path = fmt::format("hardware.{}", k.str());
      const toml::table* h = v.as_table();
      if (h == nullptr) return Error::InvalidInput(source_, top.Line(&v), path, "expected a table");
      TableReader r(*h, path, source_);
      HardwareOption x;
      x.name = std::string(k.str());
      RS_TRY(domain, r.String("domain", true));
      RS_TRY(usd, r.Number("usd_per_domain", true, 0, 0, 1e10));
      RS_TRY(lead, r.Int("lead_months", false, 0, 0, 240));
      RS_TRY(avail, Month(r, *h, "available", false, 0, s));
      RS_TRY(load, r.Number("average_load", false, 0.8, 0, 1));
      x.domain_type = IndexOf(s.catalog.domain_types, domain);
      if (x.domain_type < 0) {
        return r.Bad("domain", h->get("domain"), fmt::format("unknown domain type '{}'; define [domains.{}]", domain, domain));
      }
      const DomainType& dt = s.catalog.domain_types[static_cast<size_t>(x.domain_type)];
      const NodeType& nt = s.catalog.node_types[static_cast<size_t>(dt.node_type)];
      if (dt.gpus < 1) return r.Bad("domain", h->get("domain"), "a planned domain needs GPUs");
      const AcceleratorType& acc = s.catalog.accelerators[static_cast<size_t>(nt.accelerator)];
      const double kw = dt.nodes * (nt.busy_watts + nt.gpus * acc.busy_watts) / 1000.0;
      RS_TRY(life, r.Number("life_years", false, acc.life_years, 0.1, 100));
      RS_TRY(kw_set, r.Number("kw_per_domain", false, kw, 1e-3, 1e6));
      if (Status st = r.CheckUnknown(); !st) return st;
      if (!(kw_set > 0)) return r.Bad("kw_per_domain", h->get("kw_per_domain"), "the domain draws no power; give its nodes' and accelerators' busy_watts");
      x.gpus_per_domain = dt.gpus;
      x.kw_per_domain = kw_set;
      x.usd_per_domain = usd;
      x.lead_months = static_cast<int32_t>(lead);
      x.first_order_month = std::max(0, avail);
      x.life_years = life;
      x.average_load = load;
      s.hardware.push_back(x);
    }
    return Status::Ok();
  }

  Status ParseContracts(TableReader& top, Scenario& s) {
    Error err;
    const toml::array* list = Array(top, root_, "contracts", false, &err);
    if (list == nullptr) return err.message.empty() ? Status::Ok() : Status(err);
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string path = fmt::format("contracts[{}]", i);
      const toml::table* t = (*list)[i].as_table();
      if (t == nullptr) return Error::InvalidInput(source_, top.Line(&(*list)[i]), path, "expected a table");
      TableReader r(*t, path, source_);
      ContractSpec c;
      RS_TRY(name, r.String("name", true));
      RS_TRY(tenant, r.String("tenant", false));
      RS_TRY(start, Month(r, *t, "start", true, 0, s));
      RS_TRY(term, r.Int("term_months", true, 0, 1, 1200));
      RS_TRY(total, r.Number("total_usd", false, 0, 0, 1e15));
      RS_TRY(price, r.Number("usd_per_gpu_hour", false, 0, 0, 1e4));
      RS_TRY(pen, r.Number("penalty_usd_per_gpu_hour", false, 0, 0, 1e4));
      if (t->get("total_usd") != nullptr && t->get("usd_per_gpu_hour") != nullptr) {
        return r.Bad("usd_per_gpu_hour", t->get("usd_per_gpu_hour"), "give total_usd or usd_per_gpu_hour, not both");
      }
      if (t->get("total_usd") == nullptr && t->get("usd_per_gpu_hour") == nullptr) {
        return r.Bad("total_usd", nullptr, "missing; give total_usd or usd_per_gpu_hour");
      }
      if (Status st = HardwareList(r, *t, "hardware", s, &c.hardware); !st) return st;
      const toml::array* dl = Array(r, *t, "deliveries", true, &err);
      if (dl == nullptr) return err;
      if (dl->empty()) return r.Bad("deliveries", t->get("deliveries"), "expected one or more [[contracts.deliveries]]");
      for (size_t j = 0; j < dl->size(); ++j) {
        const std::string dpath = fmt::format("{}.deliveries[{}]", path, j);
        const toml::table* d = (*dl)[j].as_table();
        if (d == nullptr) return Error::InvalidInput(source_, r.Line(&(*dl)[j]), dpath, "expected a table");
        TableReader dr(*d, dpath, source_);
        RS_TRY(by, Month(dr, *d, "by", true, 0, s));
        RS_TRY(gpus, dr.Int("gpus", true, 0, 0, 100'000'000));
        if (Status st = dr.CheckUnknown(); !st) return st;
        if (!c.deliveries.empty() && by <= c.deliveries.back().month) {
          return dr.Bad("by", d->get("by"), "deliveries must be in date order");
        }
        if (by < start || by >= start + term) return dr.Bad("by", d->get("by"), "outside the contract's term");
        c.deliveries.push_back({by, gpus});
      }
      if (Status st = r.CheckUnknown(); !st) return st;
      for (const ContractSpec& o : s.contracts) {
        if (o.name == name) return r.Bad("name", t->get("name"), fmt::format("contract '{}' defined twice", name));
      }
      c.name = name;
      c.tenant = tenant.empty() ? name : tenant;
      c.start_month = start;
      c.term_months = static_cast<int32_t>(term);
      c.total_usd = total;
      c.penalty_usd_per_gpu_hour = pen;
      if (t->get("total_usd") != nullptr) {
        // The total buys every contracted GPU-hour of the term.
        double gpu_hours = 0;
        for (int32_t m = start; m < start + term; ++m) gpu_hours += static_cast<double>(c.ContractedAt(m)) * kHoursPerMonth;
        if (!(gpu_hours > 0)) return r.Bad("deliveries", t->get("deliveries"), "no GPUs contracted in the term");
        c.usd_per_gpu_hour = total / gpu_hours;
      } else {
        c.usd_per_gpu_hour = price;
      }
      s.contracts.push_back(c);
    }
    return Status::Ok();
  }

  Status ParseOnDemand(TableReader& top, Scenario& s) {
    Error err;
    const toml::table* t = Table(top, root_, "on_demand", false, &err);
    if (t == nullptr) return err.message.empty() ? Status::Ok() : Status(err);
    TableReader r(*t, "on_demand", source_);
    RS_TRY(gpus, r.Number("gpus", true, 0, 0, 1e9));
    RS_TRY(growth, r.Number("growth_per_year", false, 0, -0.9, 100));
    RS_TRY(price, r.Number("usd_per_gpu_hour", true, 0, 0, 1e4));
    RS_TRY(billed, r.Number("billed_share", false, 0.7, 0, 1));
    if (Status st = HardwareList(r, *t, "hardware", s, &s.on_demand.hardware); !st) return st;
    if (Status st = r.CheckUnknown(); !st) return st;
    s.on_demand.gpus = gpus;
    s.on_demand.growth_per_year = growth;
    s.on_demand.usd_per_gpu_hour = price;
    s.on_demand.billed_share = billed;
    return Status::Ok();
  }

  Status ParseSimulate(TableReader& top, Scenario& s) {
    Error err;
    const toml::table* t = Table(top, root_, "simulate", false, &err);
    if (t == nullptr) return err.message.empty() ? Status::Ok() : Status(err);
    TableReader r(*t, "simulate", source_);
    SimulateSpec& x = s.simulate;
    RS_TRY(start, Month(r, *t, "start", false, 0, s));
    RS_TRY(months, r.Int("months", false, 1, 1, 120));
    RS_TRY(scale, r.Number("scale", false, 0.01, 1e-6, 1));
    RS_TRY(seed, r.Int("seed", false, 1, 0, int64_t{1} << 62));
    RS_TRY(policy, r.String("policy", false));
    RS_TRY(power, r.String("power", false));
    RS_TRY(ckpt, r.String("checkpoint", false));
    RS_TRY(load, r.Number("contract_load", false, 0.85, 0, 2));
    RS_TRY(od, r.Int("on_demand_tenants", false, 8, 1, 1000));
    RS_TRY(gang, r.Int("max_gang_gpus", false, 1'000'000, 1, 1'000'000));
    RS_TRY(inf, r.Number("inference_share", false, 0.3, 0, 1));
    RS_TRY(jobs, r.Int("max_jobs", false, 200000, 1, 10'000'000));
    r.Mark("failures");
    if (const toml::node* n = t->get("failures")) {
      auto b = n->value_exact<bool>();
      if (!b) return r.Bad("failures", n, "expected true or false");
      x.failures = *b;
    }
    if (Status st = r.CheckUnknown(); !st) return st;
    if (start < 0 || start + months > s.months) {
      return r.Bad("start", t->get("start"), "the simulated months must lie inside the scenario's months");
    }
    if (!power.empty()) {
      if (power != "none" && power != "admit" && power != "throttle") {
        return r.Bad("power", t->get("power"), "expected none, admit or throttle");
      }
      x.power = power;
    }
    if (!policy.empty()) {
      if (policy != "fifo" && policy != "easy" && policy != "fairshare" && policy != "priority") {
        return r.Bad("policy", t->get("policy"), "expected fifo, easy, fairshare or priority");
      }
      x.policy = policy;
    }
    if (!ckpt.empty()) {
      if (ckpt != "auto" && ckpt != "none") {
        auto m = ParseDouble(ckpt);
        if (!m || !(*m > 0 && *m < 1e6)) return r.Bad("checkpoint", t->get("checkpoint"), "expected auto, none or minutes > 0");
      }
      x.checkpoint = ckpt;
    }
    x.start_month = start;
    x.months = static_cast<int32_t>(months);
    x.scale = scale;
    x.seed = static_cast<uint64_t>(seed);
    x.contract_load = load;
    x.on_demand_tenants = static_cast<double>(od);
    x.max_gang_gpus = static_cast<int32_t>(gang);
    x.inference_share = inf;
    x.max_jobs = jobs;
    return Status::Ok();
  }

  // [uncertainty]: "KEY" = { dist = "...", parameters }, KEY a --vary key.
  Status ParseUncertainty(TableReader& top, Scenario& s) {
    Error err;
    const toml::table* t = Table(top, root_, "uncertainty", false, &err);
    if (t == nullptr) return err.message.empty() ? Status::Ok() : Status(err);
    TableReader r(*t, "uncertainty", source_);
    if (t->empty()) return top.Bad("uncertainty", root_.get("uncertainty"), "expected one or more \"KEY\" = { dist = ... }");
    for (const auto& [k, v] : *t) {
      const std::string key(k.str());
      r.Mark(key);
      const std::string path = fmt::format("uncertainty[\"{}\"]", key);
      const toml::table* d = v.as_table();
      if (d == nullptr) return Error::InvalidInput(source_, r.Line(&v), path, "expected a table { dist = \"triangular\", low = ..., mode = ..., high = ... }");
      if (key.find('.') == std::string::npos) {
        return Error::InvalidInput(source_, r.Line(&v), path,
                                   "expected a quoted --vary key, e.g. \"hardware.*.usd_per_domain_scale\" = { ... } (an unquoted "
                                   "dotted key makes nested tables)");
      }
      TableReader dr(*d, path, source_);
      UncertainInput u;
      u.key = key;
      u.line = r.Line(&v);
      Distribution& x = u.dist;
      RS_TRY(dist, dr.String("dist", true));
      const KeyBounds b = BoundsOfKey(key);
      constexpr double kBig = 1e300;  // rejects inf (and nan) with a message naming the field
      if (dist == "uniform" || dist == "triangular") {
        x.kind = dist == "uniform" ? Distribution::Kind::kUniform : Distribution::Kind::kTriangular;
        RS_TRY(low, dr.Number("low", true, 0, -kBig, kBig));
        RS_TRY(high, dr.Number("high", true, 0, -kBig, kBig));
        x.low = low;
        x.high = high;
        if (dist == "triangular") {
          RS_TRY(mode, dr.Number("mode", true, 0, -kBig, kBig));
          x.mode = mode;
        }
      } else if (dist == "normal" || dist == "lognormal") {
        const bool normal = dist == "normal";
        x.kind = normal ? Distribution::Kind::kNormal : Distribution::Kind::kLogNormal;
        if (normal) {
          RS_TRY(mean, dr.Number("mean", true, 0, -kBig, kBig));
          RS_TRY(sd, dr.Number("sd", true, 0, -kBig, kBig));
          if (!(sd > 0)) return dr.Bad("sd", d->get("sd"), fmt::format("expected sd > 0, got {:g}", sd));
          x.mean = mean;
          x.sd = sd;
        } else {
          RS_TRY(median, dr.Number("median", true, 0, -kBig, kBig));
          RS_TRY(sigma, dr.Number("sigma", true, 0, -kBig, kBig));
          if (!(median > 0)) return dr.Bad("median", d->get("median"), fmt::format("expected median > 0, got {:g}", median));
          if (!(sigma > 0)) return dr.Bad("sigma", d->get("sigma"), fmt::format("expected sigma > 0, got {:g}", sigma));
          x.median = median;
          x.sigma = sigma;
        }
        // Truncated to the key's bounds unless narrower bounds are given.
        RS_TRY(low, dr.Number("low", false, normal ? b.lo : std::max(0.0, b.lo), -kBig, kBig));
        RS_TRY(high, dr.Number("high", false, b.hi, -kBig, kBig));
        x.low = low;
        x.high = high;
      } else if (dist == "discrete") {
        x.kind = Distribution::Kind::kDiscrete;
        for (const char* field : {"values", "weights"}) {
          dr.Mark(field);
          const toml::node* n = d->get(field);
          if (n == nullptr) {
            if (std::string(field) == "weights") break;
            return dr.Bad(field, nullptr, "missing; expected an array of numbers");
          }
          const toml::array* a = n->as_array();
          if (a == nullptr) return dr.Bad(field, n, "expected an array of numbers");
          std::vector<double>& out = std::string(field) == "values" ? x.values : x.weights;
          for (size_t i = 0; i < a->size(); ++i) {
            const toml::node& e = (*a)[i];
            std::optional<double> val;
            if (auto iv = e.value_exact<int64_t>()) val = static_cast<double>(*iv);
            if (auto dv = e.value_exact<double>(); !val && dv) val = *dv;
            if (!val || !std::isfinite(*val)) return dr.Bad(fmt::format("{}[{}]", field, i), &e, "expected a finite number");
            out.push_back(*val);
          }
        }
        if (x.weights.empty()) x.weights.assign(x.values.size(), 1.0);
      } else {
        return dr.Bad("dist", d->get("dist"),
                      fmt::format("unknown distribution '{}'; expected uniform, triangular, normal, lognormal or discrete", dist));
      }
      if (Status st = dr.CheckUnknown(); !st) return st;
      if (std::string why = CheckDistribution(x, b); !why.empty()) return Error::InvalidInput(source_, u.line, path, why);
      // The key must be one SetScenarioValue turns, at every value drawn.
      auto base = GetScenarioValue(s, key);
      if (!base) return Error::InvalidInput(source_, u.line, path, base.error().message + " (keys: docs/scenario.md, --vary)");
      std::vector<double> probe = x.kind == Distribution::Kind::kDiscrete ? x.values : std::vector<double>{x.low, x.high};
      for (double value : probe) {
        Scenario copy = s;
        if (Status st = SetScenarioValue(copy, key, value); !st) {
          return Error::InvalidInput(source_, u.line, path, st.error().message);
        }
      }
      s.uncertainty.push_back(std::move(u));
    }
    return r.CheckUnknown();
  }

  const toml::table& root_;
  const std::string& source_;
};

// Yearly growth compounded monthly: the factor in month t.
double Growth(double per_year, int32_t t) { return std::pow(1.0 + per_year, t / 12.0); }

}  // namespace

int64_t ContractSpec::ContractedAt(int32_t t) const {
  if (t < start_month || t >= start_month + term_months) return 0;
  int64_t g = 0;
  for (const Delivery& d : deliveries) {
    if (d.month <= t) g = d.gpus;
  }
  return g;
}

std::string Scenario::MonthName(int32_t t) const {
  const int32_t ym = start_year * 12 + start_month - 1 + t;
  return fmt::format("{:04}-{:02}", ym / 12, ym % 12 + 1);
}

Result<Scenario> ParseScenario(std::string_view text, const std::string& source) {
  auto parsed = ParseToml(text, source);
  if (!parsed) return parsed.error();
  ScenarioParser p(*parsed, source);
  return p.Parse();
}

Result<Scenario> ReadScenario(const std::string& path) {
  auto text = ReadFileMaybeGz(path, "TOML");
  if (!text) return text.error();
  return ParseScenario(*text, path);
}

std::vector<double> PayrollByMonth(const Scenario& s) {
  std::vector<double> out(static_cast<size_t>(s.months), 0);
  for (int32_t t = 0; t < s.months; ++t) {
    for (size_t g = 0; g < s.groups.size(); ++g) {
      int64_t head = s.groups[g].headcount;
      for (const LayoffWave& w : s.layoffs) {
        if (static_cast<size_t>(w.group) == g && w.month < t) head -= w.count;
      }
      out[static_cast<size_t>(t)] += static_cast<double>(head) * s.groups[g].usd_per_person_year / 12.0;
    }
  }
  return out;
}

std::vector<double> SeveranceByMonth(const Scenario& s) {
  std::vector<double> out(static_cast<size_t>(s.months), 0);
  for (const LayoffWave& w : s.layoffs) {
    out[static_cast<size_t>(w.month)] += static_cast<double>(w.count) * w.severance_usd_per_person;
  }
  return out;
}

std::vector<double> OtherCashFlowByMonth(const Scenario& s) {
  const std::vector<double> payroll = PayrollByMonth(s);
  const std::vector<double> severance = SeveranceByMonth(s);
  double start_payroll = 0;
  for (const WorkforceGroup& g : s.groups) start_payroll += static_cast<double>(g.headcount) * g.usd_per_person_year / 12.0;
  std::vector<double> out(static_cast<size_t>(s.months), 0);
  for (int32_t t = 0; t < s.months; ++t) {
    const size_t u = static_cast<size_t>(t);
    out[u] = s.finance.operating_cash_flow_usd_per_year / 12.0 * Growth(s.finance.operating_cash_flow_growth, t) +
             (start_payroll - payroll[u]) - severance[u] -
             s.finance.other_capex_usd_per_year / 12.0 * Growth(s.finance.other_capex_growth, t);
  }
  return out;
}

PlanInput ToPlanInput(const Scenario& s, const PlanOptions& o) {
  PlanInput in;
  in.months = s.months;
  in.sites = s.sites;
  for (const HardwareOption& h : s.hardware) {
    PlanHardware x;
    x.name = h.name;
    x.gpus_per_domain = h.gpus_per_domain;
    x.kw_per_domain = h.kw_per_domain;
    x.usd_per_domain = h.usd_per_domain;
    x.lead_months = h.lead_months;
    x.life_months = static_cast<int32_t>(std::lround(h.life_years * 12));
    x.first_order_month = h.first_order_month;
    x.average_load = h.average_load;
    in.hardware.push_back(x);
  }
  for (const ContractSpec& c : s.contracts) {
    PlanContract x;
    x.name = c.name;
    x.hardware = c.hardware;
    x.usd_per_gpu_month = c.usd_per_gpu_hour * kHoursPerMonth;
    x.penalty_usd_per_gpu_month = c.penalty_usd_per_gpu_hour * kHoursPerMonth;
    for (int32_t t = 0; t < s.months; ++t) x.contracted_gpus.push_back(c.ContractedAt(t));
    in.contracts.push_back(std::move(x));
  }
  if (s.on_demand.gpus > 0) {
    for (int32_t t = 0; t < s.months; ++t) in.on_demand.gpus.push_back(s.on_demand.gpus * Growth(s.on_demand.growth_per_year, t));
    in.on_demand.hardware = s.on_demand.hardware;
    in.on_demand.usd_per_gpu_month = s.on_demand.usd_per_gpu_hour * kHoursPerMonth * s.on_demand.billed_share;
  }
  // Capex limits are on total capex by calendar year: this plan's share is
  // the limit less the other capex of those months.
  const std::vector<double> flow = OtherCashFlowByMonth(s);
  for (const FinanceSpec::Limit& l : s.finance.capex_limits) {
    const int32_t first = std::max(0, l.year * 12 - (s.start_year * 12 + s.start_month - 1));
    const int32_t last = std::min(s.months - 1, l.year * 12 + 11 - (s.start_year * 12 + s.start_month - 1));
    if (last < first) continue;
    double other = 0;
    for (int32_t t = first; t <= last; ++t) {
      other += s.finance.other_capex_usd_per_year / 12.0 * Growth(s.finance.other_capex_growth, t);
    }
    in.capex_limits.push_back(PlanCapexLimit{std::to_string(l.year), first, last, std::max(0.0, l.usd - other)});
  }
  in.discount_rate = s.finance.discount_rate;
  in.cash.enabled = true;
  in.cash.starting_usd = s.finance.starting_cash_usd;
  in.cash.min_usd = s.finance.min_cash_usd;
  in.cash.breach_penalty = s.finance.cash_breach_penalty;
  in.cash.other_flow_usd = flow;
  if (o.solve_for_payroll && !s.groups.empty()) {
    // The lever replaces the scenario's waves: one cut, in the month of the
    // first wave (or month 0), from its group.
    Scenario without = s;
    without.layoffs.clear();
    in.cash.other_flow_usd = OtherCashFlowByMonth(without);
    const int32_t g = s.layoffs.empty() ? 0 : s.layoffs.front().group;
    in.payroll.free = true;
    in.payroll.month = s.layoffs.empty() ? 0 : s.layoffs.front().month;
    in.payroll.max_roles = s.groups[static_cast<size_t>(g)].headcount;
    in.payroll.saving_usd_per_role_month = s.groups[static_cast<size_t>(g)].usd_per_person_year / 12.0;
    in.payroll.severance_usd_per_role = s.layoffs.empty() ? 0 : s.layoffs.front().severance_usd_per_person;
  }
  in.time_limit_s = o.time_limit_s > 0 ? o.time_limit_s : s.time_limit_s;
  in.mip_gap = s.mip_gap;
  in.node_limit = s.node_limit;
  in.monthly_months = s.monthly_months;
  in.quarterly_months = s.quarterly_months;
  return in;
}

namespace {

double* FindValue(Scenario& s, const std::string& key, std::string* why) {
  auto dot = key.find('.');
  const std::string head = key.substr(0, dot);
  const std::string rest = dot == std::string::npos ? "" : key.substr(dot + 1);
  auto split = [](const std::string& k) {
    auto d = k.rfind('.');
    return d == std::string::npos ? std::pair<std::string, std::string>{"", k}
                                  : std::pair<std::string, std::string>{k.substr(0, d), k.substr(d + 1)};
  };
  if (head == "finance") {
    FinanceSpec& f = s.finance;
    if (rest == "starting_cash_usd") return &f.starting_cash_usd;
    if (rest == "operating_cash_flow_usd_per_year") return &f.operating_cash_flow_usd_per_year;
    if (rest == "operating_cash_flow_growth") return &f.operating_cash_flow_growth;
    if (rest == "other_capex_usd_per_year") return &f.other_capex_usd_per_year;
    if (rest == "min_cash_usd") return &f.min_cash_usd;
    if (rest == "discount_rate") return &f.discount_rate;
  } else if (head == "on_demand") {
    if (rest == "gpus") return &s.on_demand.gpus;
    if (rest == "growth_per_year") return &s.on_demand.growth_per_year;
    if (rest == "usd_per_gpu_hour") return &s.on_demand.usd_per_gpu_hour;
    if (rest == "billed_share") return &s.on_demand.billed_share;
  } else if (head == "hardware") {
    auto [name, field] = split(rest);
    for (HardwareOption& h : s.hardware) {
      if (h.name != name) continue;
      if (field == "usd_per_domain") return &h.usd_per_domain;
      if (field == "life_years") return &h.life_years;
      if (field == "average_load") return &h.average_load;
      if (field == "kw_per_domain") return &h.kw_per_domain;
    }
  } else if (head == "sites") {
    auto [name, field] = split(rest);
    for (PowerSite& p : s.sites) {
      if (p.name != name) continue;
      if (field == "initial_mw") return &p.initial_mw;
      if (field == "mw_per_phase") return &p.mw_per_phase;
      if (field == "usd_per_mw") return &p.usd_per_mw;
      if (field == "usd_per_mwh") return &p.usd_per_mwh;
      if (field == "pue") return &p.pue;
    }
  } else if (head == "contracts") {
    auto [name, field] = split(rest);
    for (ContractSpec& c : s.contracts) {
      if (c.name != name) continue;
      if (field == "usd_per_gpu_hour") return &c.usd_per_gpu_hour;
      if (field == "penalty_usd_per_gpu_hour") return &c.penalty_usd_per_gpu_hour;
    }
  }
  *why = "not a numeric scenario value that can be set";
  return nullptr;
}

}  // namespace

// Integer and scaled knobs first, then plain doubles.
Status SetScenarioValue(Scenario& s, const std::string& key, double value) {
  auto bad = [&](std::string m) { return Error::InvalidInput("--vary", 0, key, std::move(m)); };
  auto dot = key.find('.');
  const std::string head = key.substr(0, dot);
  const std::string rest = dot == std::string::npos ? "" : key.substr(dot + 1);
  const auto last = key.rfind('.');
  const std::string field = key.substr(last + 1);
  const std::string mid = last > dot && dot != std::string::npos ? key.substr(dot + 1, last - dot - 1) : "";
  // Each knob's range: a value outside it is an error, never clamped.
  auto range = [&](double lo, double hi) -> Status {
    if (std::isfinite(value) && value >= lo && value <= hi) return Status::Ok();
    return bad(fmt::format("expected a value in [{}, {}], got {}", lo, hi, value));
  };
  const bool months = field == "lead_months" || field == "max_phases";
  const bool scale = field == "gpus_scale" || field == "usd_per_domain_scale" || key == "layoffs.scale";
  Status in_range = months                                                    ? range(0, 1200)
                    : field == "lead_slip_months"                             ? range(-240, 240)
                    : scale                                                   ? range(0, 100)
                    : field == "operating_cash_flow_usd_per_year"             ? range(-1e15, 1e15)
                    : field == "discount_rate" || field.find("growth") != std::string::npos ? range(-0.99, 10)
                    : field == "pue"                                          ? range(1, 5)
                    : field == "average_load" || field == "billed_share"      ? range(0, 1)
                    : field == "life_years"                                   ? range(0.1, 100)
                                                                              : range(0, 1e15);
  if (!in_range) return in_range;
  if (head == "hardware" && field == "lead_months") {
    for (HardwareOption& h : s.hardware) {
      if (h.name == mid || mid == "*") h.lead_months = static_cast<int32_t>(std::lround(value));
    }
    return Status::Ok();
  }
  if (head == "sites" && (field == "lead_months" || field == "max_phases")) {
    bool any = false;
    for (PowerSite& p : s.sites) {
      if (p.name != mid && mid != "*") continue;
      any = true;
      const int32_t v = static_cast<int32_t>(std::lround(value));
      (field == "lead_months" ? p.lead_months : p.max_phases) = v;
    }
    if (!any) return bad(fmt::format("no site '{}' (use * for every site)", mid));
    return Status::Ok();
  }
  if ((head == "hardware" || head == "sites") && field == "lead_slip_months") {
    // Added to the lead time (whole months; the lead time stays in [0, 240]).
    const int32_t d = static_cast<int32_t>(std::lround(value));
    bool any = false;
    auto slip = [&](const std::string& name, int32_t& lead) {
      if (name != mid && mid != "*") return;
      any = true;
      lead = std::clamp(lead + d, 0, 240);
    };
    if (head == "hardware") {
      for (HardwareOption& h : s.hardware) slip(h.name, h.lead_months);
    } else {
      for (PowerSite& p : s.sites) slip(p.name, p.lead_months);
    }
    if (!any) return bad(fmt::format("no {} '{}' (use * for every one)", head == "hardware" ? "hardware" : "site", mid));
    return Status::Ok();
  }
  if (head == "hardware" && mid == "*" && field == "usd_per_domain_scale") {
    for (HardwareOption& h : s.hardware) h.usd_per_domain *= value;
    return Status::Ok();
  }
  if (head == "layoffs" && rest == "scale") {
    for (LayoffWave& w : s.layoffs) w.count = static_cast<int64_t>(std::llround(static_cast<double>(w.count) * value));
    return Status::Ok();
  }
  if (head == "contracts" && field == "gpus_scale") {
    bool any = false;
    for (ContractSpec& c : s.contracts) {
      if (c.name != mid && mid != "*") continue;
      any = true;
      const double price = c.usd_per_gpu_hour;
      for (auto& d : c.deliveries) d.gpus = static_cast<int64_t>(std::llround(static_cast<double>(d.gpus) * value));
      c.usd_per_gpu_hour = price;  // the price per GPU-hour stays; the value scales
      c.total_usd *= value;
    }
    if (!any) return bad(fmt::format("no contract '{}' (use * for every contract)", mid));
    return Status::Ok();
  }
  std::string why;
  double* p = FindValue(s, key, &why);
  if (p == nullptr) return bad(why);
  *p = value;
  return Status::Ok();
}

Result<double> GetScenarioValue(const Scenario& s, const std::string& key) {
  auto last = key.rfind('.');
  const std::string field = key.substr(last + 1);
  if (field == "gpus_scale" || field == "usd_per_domain_scale" || key == "layoffs.scale") return 1.0;
  if (field == "lead_slip_months") return 0.0;
  const auto dot = key.find('.');
  const std::string head = key.substr(0, dot);
  const std::string mid = last > dot && dot != std::string::npos ? key.substr(dot + 1, last - dot - 1) : "";
  if (head == "hardware" && field == "lead_months") {
    for (const HardwareOption& h : s.hardware) {
      if (h.name == mid || mid == "*") return static_cast<double>(h.lead_months);
    }
  }
  if (head == "sites" && (field == "lead_months" || field == "max_phases")) {
    for (const PowerSite& p : s.sites) {
      if (p.name == mid || mid == "*") return static_cast<double>(field == "lead_months" ? p.lead_months : p.max_phases);
    }
  }
  Scenario copy = s;
  std::string why;
  double* p = FindValue(copy, key, &why);
  if (p == nullptr) return Error::InvalidInput("--vary", 0, key, why);
  return *p;
}

}  // namespace rackscale
