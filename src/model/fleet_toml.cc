// The TOML fleet and tenants readers (docs/cluster.md).
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "base/file.h"
#include "model/fleet.h"
#include "model/toml_reader.h"

namespace rackscale {

using internal::CheckAscii;
using internal::IndexOf;
using internal::ParseToml;
using internal::TableReader;

namespace internal {

Status ParseFleetCatalog(const toml::table& root, TableReader& top, const std::string& source,
                         Fleet& f) {
  // [accelerators.NAME]
  top.Mark("accelerators");
  if (const toml::node* n = root.get("accelerators")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return top.Bad("accelerators", n, "expected a table of accelerator types");
    for (const auto& [name, v] : *t) {
      const toml::table* a = v.as_table();
      std::string path = fmt::format("accelerators.{}", name.str());
      if (a == nullptr) return Error::InvalidInput(source, top.Line(&v), path, "expected a table");
      TableReader r(*a, path, source);
      AcceleratorType x;
      x.name = std::string(name.str());
      RS_TRY(mem, r.Number("memory_gb", false, 0, 0, 1e6));
      RS_TRY(busy, r.Number("busy_watts", true, 0, 0, 1e6));
      RS_TRY(idle, r.Number("idle_watts", false, 0, 0, 1e6));
      RS_TRY(price, r.Number("price_usd", false, 0, 0, 1e9));
      RS_TRY(fail, r.Number("failures_per_year", false, 0, 0, 1e3));
      RS_TRY(speed, r.Number("speed", false, 1, 1e-6, 1e6));
      RS_TRY(life, r.Number("life_years", false, 5, 0.1, 100));
      if (idle > busy) return r.Bad("idle_watts", a->get("idle_watts"), "exceeds busy_watts");
      if (Status s = r.CheckUnknown(); !s) return s.error();
      x.memory_gb = mem;
      x.busy_watts = busy;
      x.idle_watts = idle;
      x.price_usd = price;
      x.failures_per_year = fail;
      x.speed = speed;
      x.life_years = life;
      if (!f.models.Intern(x.name)) {
        return Error::InvalidInput(source, top.Line(&v), path, "too many accelerator types");
      }
      f.accelerators.push_back(x);
    }
  }

  // [nodes.NAME]
  top.Mark("nodes");
  const toml::node* nodes_node = root.get("nodes");
  if (nodes_node == nullptr || !nodes_node->is_table()) {
    return top.Bad("nodes", nodes_node, "missing; expected a table of node types [nodes.NAME]");
  }
  for (const auto& [name, v] : *nodes_node->as_table()) {
    const toml::table* a = v.as_table();
    std::string path = fmt::format("nodes.{}", name.str());
    if (a == nullptr) return Error::InvalidInput(source, top.Line(&v), path, "expected a table");
    TableReader r(*a, path, source);
    NodeType x;
    x.name = std::string(name.str());
    RS_TRY(cpu, r.Int("cpu_milli", true, 0, 0, int64_t{1} << 40));
    RS_TRY(mem, r.Int("memory_mib", true, 0, 0, int64_t{1} << 40));
    RS_TRY(gpus, r.Int("gpus", false, 0, 0, 1024));
    RS_TRY(accel, r.String("accelerator", gpus > 0));
    RS_TRY(busy, r.Number("busy_watts", false, 0, 0, 1e7));
    RS_TRY(idle, r.Number("idle_watts", false, 0, 0, 1e7));
    if (gpus > 0) {
      x.accelerator = IndexOf(f.accelerators, accel);
      if (x.accelerator < 0) {
        return r.Bad("accelerator", a->get("accelerator"),
                     fmt::format("unknown accelerator type '{}'; define [accelerators.{}]", accel,
                                 accel));
      }
    } else if (!accel.empty()) {
      return r.Bad("accelerator", a->get("accelerator"), "a node without GPUs has no accelerator");
    }
    if (Status s = r.CheckUnknown(); !s) return s.error();
    x.cpu_milli = cpu;
    x.memory_mib = mem;
    x.gpus = static_cast<int32_t>(gpus);
    x.busy_watts = busy;
    x.idle_watts = idle;
    f.node_types.push_back(x);
  }

  // [domains.NAME]
  top.Mark("domains");
  if (const toml::node* n = root.get("domains")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return top.Bad("domains", n, "expected a table of domain types");
    for (const auto& [name, v] : *t) {
      const toml::table* a = v.as_table();
      std::string path = fmt::format("domains.{}", name.str());
      if (a == nullptr) return Error::InvalidInput(source, top.Line(&v), path, "expected a table");
      TableReader r(*a, path, source);
      RS_TRY(node, r.String("node", true));
      RS_TRY(count, r.Int("nodes", true, 0, 1, 4096));
      if (Status s = r.CheckUnknown(); !s) return s.error();
      DomainType d;
      d.name = std::string(name.str());
      d.node_type = IndexOf(f.node_types, node);
      if (d.node_type < 0) {
        return r.Bad("node", a->get("node"), fmt::format("unknown node type '{}'", node));
      }
      d.nodes = static_cast<int32_t>(count);
      d.gpus = d.nodes * f.node_types[d.node_type].gpus;
      f.domain_types.push_back(d);
    }
  }

  return Status::Ok();
}

}  // namespace internal

Result<FleetSpec> ParseFleetSpec(std::string_view text, const std::string& source) {
  auto parsed = ParseToml(text, source);
  if (!parsed) return parsed.error();
  const toml::table& root = *parsed;
  TableReader top(root, "", source);
  FleetSpec spec;
  if (Status s = internal::ParseFleetCatalog(root, top, source, spec.catalog); !s) return s.error();
  int64_t total_nodes = 0;
  // NaN and infinities fail the range check too.
  RS_TRY(slowdown, top.Number("cross_site_slowdown", false, kDefaultCrossSiteSlowdown, 1.0, 100.0));
  spec.cross_site_slowdown = slowdown;

  // [[sites]] with [[sites.pools]]
  top.Mark("sites");
  const toml::node* sites_node = root.get("sites");
  const toml::array* sites = sites_node != nullptr ? sites_node->as_array() : nullptr;
  if (sites == nullptr || sites->empty()) {
    return top.Bad("sites", sites_node, "missing; expected one or more [[sites]]");
  }
  for (size_t si = 0; si < sites->size(); ++si) {
    const toml::node& sv = (*sites)[si];
    std::string path = fmt::format("sites[{}]", si);
    const toml::table* st = sv.as_table();
    if (st == nullptr) return Error::InvalidInput(source, top.Line(&sv), path, "expected a table");
    TableReader r(*st, path, source);
    SiteSpec site;
    site.line = r.Line(nullptr);
    RS_TRY(name, r.String("name", true));
    RS_TRY(cap, r.Number("power_cap_mw", false, 0, 0, 1e6));
    RS_TRY(pue, r.Number("pue", false, 1.0, 1.0, 5.0));
    RS_TRY(price, r.Number("usd_per_mwh", false, 0, 0, 1e5));
    for (const SiteSpec& other : spec.sites) {
      if (other.name == name) return r.Bad("name", st->get("name"), fmt::format("site '{}' defined twice", name));
    }
    site.name = name;
    site.power_cap_mw = cap;
    site.pue = pue;
    site.usd_per_mwh = price;
    r.Mark("pools");
    const toml::node* pn = st->get("pools");
    const toml::array* pools = pn != nullptr ? pn->as_array() : nullptr;
    if (pools == nullptr || pools->empty()) {
      return r.Bad("pools", pn, "missing; expected one or more [[sites.pools]]");
    }
    for (size_t pi = 0; pi < pools->size(); ++pi) {
      const toml::node& pv = (*pools)[pi];
      std::string ppath = fmt::format("{}.pools[{}]", path, pi);
      const toml::table* pt = pv.as_table();
      if (pt == nullptr) return Error::InvalidInput(source, top.Line(&pv), ppath, "expected a table");
      TableReader pr(*pt, ppath, source);
      PoolSpec pool;
      pool.line = pr.Line(nullptr);
      RS_TRY(domain, pr.String("domain", false));
      RS_TRY(node, pr.String("node", false));
      RS_TRY(count, pr.Int("count", true, 0, 1, 10'000'000));
      RS_TRY(per_block, pr.Int("per_block", false, count, 1, 10'000'000));
      RS_TRY(online_day, pr.Duration("online_day", false, 0, 0, 1e6, DurationUnit::kDays));
      RS_TRY(retire_day, pr.Duration("retire_day", false, 0, 0, 1e7, DurationUnit::kDays));
      RS_TRY(spares, pr.Int("spares", false, 0, 0, 10'000'000));
      if (Status s = pr.CheckUnknown(); !s) return s.error();
      if (spares >= count) return pr.Bad("spares", pt->get("spares"), "must be fewer than count");
      const bool retires = pt->get("retire_day") != nullptr;
      if (retires && retire_day <= online_day) {
        return pr.Bad("retire_day", pt->get("retire_day"), "must be after online_day");
      }
      if (domain.empty() == node.empty()) {
        return pr.Bad("domain", pt->get("domain"),
                      "a pool names exactly one of 'domain' (a domain type) or 'node' (a node "
                      "type, each node its own domain)");
      }
      if (!domain.empty() && IndexOf(spec.catalog.domain_types, domain) < 0) {
        return pr.Bad("domain", pt->get("domain"), fmt::format("unknown domain type '{}'", domain));
      }
      if (!node.empty() && IndexOf(spec.catalog.node_types, node) < 0) {
        return pr.Bad("node", pt->get("node"), fmt::format("unknown node type '{}'", node));
      }
      // The fleet's size is bounded before anything is built.
      const int64_t per_domain =
          domain.empty() ? 1 : spec.catalog.domain_types[static_cast<size_t>(IndexOf(spec.catalog.domain_types, domain))].nodes;
      total_nodes += count * per_domain;
      if (total_nodes > 100'000'000) return pr.Bad("count", pt->get("count"), "more than 10^8 nodes in the fleet");
      pool.domain = domain;
      pool.node = node;
      pool.count = count;
      pool.per_block = per_block;
      pool.online_day = online_day;
      pool.retire_day = retires ? retire_day : -1;
      pool.spares = spares;
      site.pools.push_back(std::move(pool));
    }
    if (Status s = r.CheckUnknown(); !s) return s.error();
    spec.sites.push_back(std::move(site));
  }
  if (Status s = top.CheckUnknown(); !s) return s.error();
  return spec;
}

Result<Fleet> BuildFleet(const FleetSpec& spec, const std::string& source) {
  Fleet f = spec.catalog;
  f.cross_site_slowdown = spec.cross_site_slowdown;
  f.sites.clear();
  f.blocks.clear();
  f.domains.clear();
  f.nodes.clear();
  if (spec.sites.empty()) return Error::InvalidInput(source, 0, "sites", "expected one or more sites");
  for (size_t si = 0; si < spec.sites.size(); ++si) {
    const SiteSpec& ss = spec.sites[si];
    Site site;
    site.name = ss.name;
    site.power_cap_mw = ss.power_cap_mw;
    site.pue = ss.pue;
    site.usd_per_mwh = ss.usd_per_mwh;
    site.first_block = static_cast<int32_t>(f.blocks.size());
    const int32_t site_id = static_cast<int32_t>(f.sites.size());
    for (size_t pi = 0; pi < ss.pools.size(); ++pi) {
      const PoolSpec& p = ss.pools[pi];
      auto bad = [&](const char* key, std::string msg) {
        return Error::InvalidInput(source, p.line, fmt::format("sites[{}].pools[{}].{}", si, pi, key), std::move(msg));
      };
      if (p.count < 1) return bad("count", "expected at least 1 domain");
      if (p.spares < 0 || p.spares >= p.count) return bad("spares", "must be fewer than count");
      int32_t dtype;
      if (!p.domain.empty()) {
        dtype = IndexOf(f.domain_types, p.domain);
        if (dtype < 0) return bad("domain", fmt::format("unknown domain type '{}'", p.domain));
      } else {
        const int32_t nt = IndexOf(f.node_types, p.node);
        if (nt < 0) return bad("node", fmt::format("unknown node type '{}'", p.node));
        // A node pool: domains of one node, of an implicit domain type.
        const std::string implicit = "node:" + p.node;
        dtype = IndexOf(f.domain_types, implicit);
        if (dtype < 0) {
          dtype = static_cast<int32_t>(f.domain_types.size());
          f.domain_types.push_back(DomainType{implicit, nt, 1, f.node_types[static_cast<size_t>(nt)].gpus});
        }
      }
      const DomainType& dt = f.domain_types[static_cast<size_t>(dtype)];
      if (static_cast<int64_t>(f.nodes.size()) + p.count * dt.nodes > 100'000'000) {
        return bad("count", "more than 10^8 nodes in the fleet");
      }
      const int64_t per_block = p.per_block > 0 ? p.per_block : p.count;
      const Seconds online = static_cast<Seconds>(std::llround(p.online_day * 86400));
      const Seconds retire = p.retire_day >= 0 ? static_cast<Seconds>(std::llround(p.retire_day * 86400)) : -1;
      for (int64_t made = 0; made < p.count;) {
        Block b;
        b.site = site_id;
        b.first_domain = static_cast<int32_t>(f.domains.size());
        const int64_t in_block = std::min<int64_t>(per_block, p.count - made);
        for (int64_t k = 0; k < in_block; ++k) {
          Domain d;
          d.block = static_cast<int32_t>(f.blocks.size());
          d.type = dtype;
          d.first_node = static_cast<int32_t>(f.nodes.size());
          d.num_nodes = dt.nodes;
          d.gpus = dt.gpus;
          d.online = online;
          d.spare = made + k >= p.count - p.spares;
          d.retire = retire;
          const int32_t did = static_cast<int32_t>(f.domains.size());
          for (int32_t j = 0; j < dt.nodes; ++j) f.nodes.push_back(FleetNode{did, dt.node_type});
          f.domains.push_back(d);
        }
        b.num_domains = static_cast<int32_t>(in_block);
        f.blocks.push_back(b);
        made += in_block;
      }
    }
    site.num_blocks = static_cast<int32_t>(f.blocks.size()) - site.first_block;
    f.sites.push_back(site);
  }
  return f;
}

Result<Fleet> ParseFleetToml(std::string_view text, const std::string& source) {
  auto spec = ParseFleetSpec(text, source);
  if (!spec) return spec.error();
  return BuildFleet(*spec, source);
}

std::string TomlString(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (u < 0x20 || u == 0x7f) {
      o += fmt::format("\\u{:04X}", u);
    } else {
      o += c;
    }
  }
  return o + "\"";
}

std::string TomlNumber(double v) {
  // fmt's shortest representation reads back to the same double; TOML wants
  // a digit before and after a decimal point, which it always writes.
  return fmt::format("{}", v);
}

std::string FormatCatalogToml(const Fleet& f) {
  std::string o;
  for (const AcceleratorType& a : f.accelerators) {
    o += fmt::format("[accelerators.{}]\nmemory_gb = {}\nbusy_watts = {}\nidle_watts = {}\nprice_usd = {}\n"
                     "failures_per_year = {}\nspeed = {}\nlife_years = {}\n\n",
                     TomlString(a.name), TomlNumber(a.memory_gb), TomlNumber(a.busy_watts), TomlNumber(a.idle_watts),
                     TomlNumber(a.price_usd), TomlNumber(a.failures_per_year), TomlNumber(a.speed),
                     TomlNumber(a.life_years));
  }
  for (const NodeType& n : f.node_types) {
    o += fmt::format("[nodes.{}]\ncpu_milli = {}\nmemory_mib = {}\ngpus = {}\n", TomlString(n.name), n.cpu_milli,
                     n.memory_mib, n.gpus);
    if (n.accelerator >= 0) {
      o += fmt::format("accelerator = {}\n", TomlString(f.accelerators[static_cast<size_t>(n.accelerator)].name));
    }
    o += fmt::format("busy_watts = {}\nidle_watts = {}\n\n", TomlNumber(n.busy_watts), TomlNumber(n.idle_watts));
  }
  for (const DomainType& d : f.domain_types) {
    if (d.name.rfind("node:", 0) == 0) continue;  // a node pool's implicit type
    o += fmt::format("[domains.{}]\nnode = {}\nnodes = {}\n\n", TomlString(d.name),
                     TomlString(f.node_types[static_cast<size_t>(d.node_type)].name), d.nodes);
  }
  return o;
}

namespace {

std::string CommentLines(std::string_view text, std::string_view indent) {
  std::string o;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    o += fmt::format("{}# {}\n", indent, text.substr(start, nl - start));
    start = nl + 1;
  }
  return o;
}

}  // namespace

std::string FormatFleetToml(const FleetSpec& spec) {
  std::string o = CommentLines(spec.comment, "");
  if (!o.empty()) o += "\n";
  o += fmt::format("cross_site_slowdown = {}\n\n", TomlNumber(spec.cross_site_slowdown));
  o += FormatCatalogToml(spec.catalog);
  for (const SiteSpec& s : spec.sites) {
    o += fmt::format("[[sites]]\nname = {}\npower_cap_mw = {}\npue = {}\nusd_per_mwh = {}\n\n", TomlString(s.name),
                     TomlNumber(s.power_cap_mw), TomlNumber(s.pue), TomlNumber(s.usd_per_mwh));
    for (const PoolSpec& p : s.pools) {
      o += CommentLines(p.comment, "  ");
      o += "  [[sites.pools]]\n";
      o += p.domain.empty() ? fmt::format("  node = {}\n", TomlString(p.node))
                            : fmt::format("  domain = {}\n", TomlString(p.domain));
      o += fmt::format("  count = {}\n", p.count);
      if (p.per_block > 0) o += fmt::format("  per_block = {}\n", p.per_block);
      if (p.online_day != 0) o += fmt::format("  online_day = {}\n", TomlNumber(p.online_day));
      if (p.retire_day >= 0) o += fmt::format("  retire_day = {}\n", TomlNumber(p.retire_day));
      if (p.spares > 0) o += fmt::format("  spares = {}\n", p.spares);
      o += "\n";
    }
  }
  return o;
}

std::string FormatTenantsToml(const TenantsConfig& cfg, std::string_view comment) {
  std::string o = CommentLines(comment, "");
  if (!o.empty()) o += "\n";
  for (const TenantSpec& t : cfg.tenants) {
    o += fmt::format("[[tenants]]\nname = {}\nweight = {}\n", TomlString(t.name), TomlNumber(t.weight));
    if (t.nominal_gpus >= 0) o += fmt::format("nominal_gpus = {}\n", t.nominal_gpus);
    if (!t.cohort.empty()) o += fmt::format("cohort = {}\n", TomlString(t.cohort));
    if (t.borrowing_limit >= 0) o += fmt::format("borrowing_limit_gpus = {}\n", t.borrowing_limit);
    if (t.reserved_usd_per_gpu_hour != 0) o += fmt::format("reserved_usd_per_gpu_hour = {}\n", TomlNumber(t.reserved_usd_per_gpu_hour));
    if (t.on_demand_usd_per_gpu_hour != 0) o += fmt::format("on_demand_usd_per_gpu_hour = {}\n", TomlNumber(t.on_demand_usd_per_gpu_hour));
    if (t.spot_usd_per_gpu_hour != 0) o += fmt::format("spot_usd_per_gpu_hour = {}\n", TomlNumber(t.spot_usd_per_gpu_hour));
    o += "\n";
    for (const DedicatedSpec& d : cfg.dedicated) {
      if (d.tenant != t.name) continue;
      o += fmt::format("  [[tenants.dedicated]]\n  domain_type = {}\n", TomlString(d.domain_type));
      if (!d.site.empty()) o += fmt::format("  site = {}\n", TomlString(d.site));
      o += fmt::format("  domains = {}\n  start_day = {}\n  end_day = {}\n  lend = {}\n\n", d.domains,
                       TomlNumber(d.start_day), TomlNumber(d.end_day), d.lend ? "true" : "false");
    }
  }
  for (const ServiceDef& d : cfg.services) {
    o += fmt::format("[[services]]\nname = {}\ntenant = {}\n", TomlString(d.name), TomlString(d.tenant));
    if (!d.trace.empty()) {
      o += fmt::format("trace = {}\nformat = {}\n", TomlString(d.trace), TomlString(d.format));
    } else {
      o += fmt::format("rate = {}\n", TomlString(d.rate));
    }
    o += fmt::format(
        "scale = {}\npeak_hour = {}\ntrough_hour = {}\ntrough_ratio = {}\ngpus_per_replica = {}\n"
        "tokens_per_s_per_replica = {}\ntokens_per_request = {}\nbatch_slots = {}\nslo_ms = {}\n"
        "min_replicas = {}\nmax_replicas = {}\ntarget_utilization = {}\nscale_down_cooldown_s = {}\n"
        "startup_s = {}\ncount = {}\nstagger_hours = {}\n\n",
        TomlNumber(d.scale), TomlNumber(d.peak_hour), TomlNumber(d.trough_hour), TomlNumber(d.trough_ratio),
        d.gpus_per_replica, TomlNumber(d.tokens_per_s_per_replica), TomlNumber(d.tokens_per_request), d.batch_slots,
        TomlNumber(d.slo_ms), d.min_replicas, d.max_replicas, TomlNumber(d.target_utilization),
        TomlNumber(d.scale_down_cooldown_s), TomlNumber(d.startup_s), d.count, TomlNumber(d.stagger_hours));
  }
  return o;
}

Result<TenantsConfig> ParseTenantsToml(std::string_view text, const std::string& source) {
  auto parsed = ParseToml(text, source);
  if (!parsed) return parsed.error();
  const toml::table& root = *parsed;
  TableReader top(root, "", source);
  TenantsConfig cfg;
  top.Mark("tenants");
  const toml::node* tn = root.get("tenants");
  const toml::array* tenants = tn != nullptr ? tn->as_array() : nullptr;
  if (tenants == nullptr) return top.Bad("tenants", tn, "missing; expected [[tenants]]");
  std::unordered_set<std::string> names;  // a linear search per tenant was quadratic
  for (size_t i = 0; i < tenants->size(); ++i) {
    const toml::node& v = (*tenants)[i];
    std::string path = fmt::format("tenants[{}]", i);
    const toml::table* t = v.as_table();
    if (t == nullptr) return Error::InvalidInput(source, top.Line(&v), path, "expected a table");
    TableReader r(*t, path, source);
    RS_TRY(name, r.String("name", true));
    RS_TRY(weight, r.Number("weight", false, 1.0, 1e-6, 1e6));
    RS_TRY(nominal, r.Int("nominal_gpus", false, -1, 0, int64_t{1} << 40));
    RS_TRY(cohort, r.String("cohort", false));
    RS_TRY(limit, r.Int("borrowing_limit_gpus", false, -1, 0, int64_t{1} << 40));
    RS_TRY(reserved, r.Number("reserved_usd_per_gpu_hour", false, 0, 0, 1e4));
    RS_TRY(on_demand, r.Number("on_demand_usd_per_gpu_hour", false, 0, 0, 1e4));
    RS_TRY(spot, r.Number("spot_usd_per_gpu_hour", false, 0, 0, 1e4));
    if (!cohort.empty() && nominal < 0) {
      return r.Bad("cohort", t->get("cohort"), "a tenant in a cohort needs nominal_gpus");
    }
    if (!names.insert(name).second) {
      return r.Bad("name", t->get("name"), fmt::format("tenant '{}' defined twice", name));
    }
    cfg.tenants.push_back(TenantSpec{name, weight, nominal, cohort, limit, reserved, on_demand, spot});
    r.Mark("dedicated");
    if (const toml::node* dn = t->get("dedicated")) {
      const toml::array* ded = dn->as_array();
      if (ded == nullptr) return r.Bad("dedicated", dn, "expected [[tenants.dedicated]]");
      for (size_t k = 0; k < ded->size(); ++k) {
        const toml::node& dv = (*ded)[k];
        std::string dpath = fmt::format("{}.dedicated[{}]", path, k);
        const toml::table* dt = dv.as_table();
        if (dt == nullptr) return Error::InvalidInput(source, top.Line(&dv), dpath, "expected a table");
        TableReader dr(*dt, dpath, source);
        DedicatedSpec d;
        d.tenant = name;
        d.line = dr.Line(nullptr);
        RS_TRY(type, dr.String("domain_type", true));
        RS_TRY(site, dr.String("site", false));
        RS_TRY(count, dr.Int("domains", true, 0, 1, 100'000'000));
        RS_TRY(start, dr.Duration("start_day", false, 0, -1e6, 1e6, DurationUnit::kDays));
        RS_TRY(end, dr.Duration("end_day", false, 1e6, -1e6, 1e7, DurationUnit::kDays));
        dr.Mark("lend");
        bool lend = true;
        if (const toml::node* ln = dt->get("lend")) {
          auto b = ln->value_exact<bool>();
          if (!b) return dr.Bad("lend", ln, "expected true or false");
          lend = *b;
        }
        if (end <= start) return dr.Bad("end_day", dt->get("end_day"), "must be after start_day");
        if (Status s = dr.CheckUnknown(); !s) return s.error();
        d.domain_type = type;
        d.site = site;
        d.domains = count;
        d.start_day = start;
        d.end_day = end;
        d.lend = lend;
        cfg.dedicated.push_back(d);
      }
    }
    if (Status s = r.CheckUnknown(); !s) return s.error();
  }
  top.Mark("services");
  if (const toml::node* sn = root.get("services")) {
    const toml::array* services = sn->as_array();
    if (services == nullptr) return top.Bad("services", sn, "expected [[services]]");
    for (size_t i = 0; i < services->size(); ++i) {
      const toml::node& v = (*services)[i];
      std::string path = fmt::format("services[{}]", i);
      const toml::table* t = v.as_table();
      if (t == nullptr) return Error::InvalidInput(source, top.Line(&v), path, "expected a table");
      TableReader r(*t, path, source);
      ServiceDef d;
      d.line = r.Line(nullptr);
      RS_TRY(name, r.String("name", true));
      RS_TRY(tenant, r.String("tenant", true));
      RS_TRY(trace, r.String("trace", false));
      RS_TRY(format, r.String("format", false));
      RS_TRY(rate, r.String("rate", false));
      RS_TRY(scale, r.Number("scale", false, 1, 1e-9, 1e9));
      RS_TRY(peak, r.Number("peak_hour", false, 14, 0, 24));
      RS_TRY(trough, r.Number("trough_hour", false, 4, 0, 24));
      RS_TRY(ratio, r.Number("trough_ratio", false, 0.35, 0, 1));
      RS_TRY(k, r.Int("gpus_per_replica", true, 0, 1, 1 << 20));
      RS_TRY(mu, r.Number("tokens_per_s_per_replica", true, 0, 1e-9, 1e12));
      RS_TRY(m, r.Number("tokens_per_request", false, 0, 0, 1e9));
      RS_TRY(slots, r.Int("batch_slots", false, 64, 1, 1 << 16));
      RS_TRY(slo, r.Number("slo_ms", false, 1000, 1e-3, 1e9));
      RS_TRY(mn, r.Int("min_replicas", false, 1, 0, 1 << 20));
      RS_TRY(mx, r.Int("max_replicas", true, 0, 1, 1 << 20));
      RS_TRY(target, r.Number("target_utilization", false, 0.7, 0.01, 1));
      RS_TRY(down, r.Duration("scale_down_cooldown_s", false, 300, 0, 1e9, DurationUnit::kSeconds));
      RS_TRY(startup, r.Duration("startup_s", false, 0, 0, 1e9, DurationUnit::kSeconds));
      RS_TRY(count, r.Int("count", false, 1, 1, 100000));
      RS_TRY(stagger, r.Duration("stagger_hours", false, 0, 0, 24, DurationUnit::kHours));
      if (Status s = r.CheckUnknown(); !s) return s.error();
      if (peak >= 24) return r.Bad("peak_hour", t->get("peak_hour"), fmt::format("expected an hour in [0, 24), got {}", peak));
      if (trough >= 24) return r.Bad("trough_hour", t->get("trough_hour"), fmt::format("expected an hour in [0, 24), got {}", trough));
      if (trace.empty() == rate.empty()) {
        return r.Bad("trace", t->get("trace"), "a service names exactly one of 'trace' or 'rate'");
      }
      if (mn > mx) return r.Bad("min_replicas", t->get("min_replicas"), "exceeds max_replicas");
      d.name = name;
      d.tenant = tenant;
      d.trace = trace;
      if (!format.empty()) d.format = format;
      d.rate = rate;
      d.scale = scale;
      d.peak_hour = peak;
      d.trough_hour = trough;
      d.trough_ratio = ratio;
      d.gpus_per_replica = static_cast<int32_t>(k);
      d.tokens_per_s_per_replica = mu;
      d.tokens_per_request = m;
      d.batch_slots = static_cast<int32_t>(slots);
      d.slo_ms = slo;
      d.min_replicas = static_cast<int32_t>(mn);
      d.max_replicas = static_cast<int32_t>(mx);
      d.target_utilization = target;
      d.scale_down_cooldown_s = down;
      d.startup_s = startup;
      d.count = static_cast<int32_t>(count);
      d.stagger_hours = stagger;
      cfg.services.push_back(d);
    }
  }
  if (Status s = top.CheckUnknown(); !s) return s.error();
  return cfg;
}

Result<TenantsConfig> ReadTenantsToml(const std::string& path) {
  auto data = ReadFileMaybeGz(path, "TOML");
  if (!data) return data.error();
  return ParseTenantsToml(*data, path);
}

Result<Fleet> ReadFleetToml(const std::string& path) {
  auto data = ReadFileMaybeGz(path, "TOML");
  if (!data) return data.error();
  return ParseFleetToml(*data, path);
}

}  // namespace rackscale
