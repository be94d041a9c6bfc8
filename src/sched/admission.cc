#include "sched/admission.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace rackscale {

AdmissionResult CheckJob(const AiJob& j) {
  auto invalid = [](std::string why) { return AdmissionResult{Verdict::kInvalid, std::move(why)}; };
  if (j.runtime <= 0) return invalid("runtime must be positive");
  if (j.gpus < 0) return invalid("gpus must not be negative");
  if (j.gpus == 0 && j.cpu_milli <= 0) return invalid("a CPU-only job needs cpu_milli > 0");
  if (j.gpu_milli < 1 || j.gpu_milli > 1000) return invalid("gpu_milli must be in [1, 1000]");
  if (j.gpu_milli < 1000 && j.gpus != 1) return invalid("a GPU share is of one GPU");
  return {};
}

AdmissionResult Admit(const FleetScheduler& sched, const AiJob& job) {
  AdmissionResult r = CheckJob(job);
  if (r.verdict != Verdict::kAccepted) return r;
  if (!sched.CanEverRun(job)) {
    return {Verdict::kRejected, "no part of the fleet could ever hold it (size, GPU model, scope or quota)"};
  }
  return r;
}

TenantDirectory::TenantDirectory(const std::vector<std::string>& names) {
  for (const std::string& n : names) Resolve(n);
}

TenantId TenantDirectory::Resolve(const std::string& name) {
  auto [it, added] = ids_.emplace(name, static_cast<TenantId>(names_.size()));
  if (added) names_.push_back(name);
  return it->second;
}

int64_t TenantDirectory::Find(const std::string& name) const {
  auto it = ids_.find(name);
  return it == ids_.end() ? -1 : static_cast<int64_t>(it->second);
}

std::vector<std::vector<int32_t>> DedicatedDomains(const Fleet& fleet,
                                                   const std::vector<DedicatedSpec>& dedicated) {
  std::vector<std::vector<int32_t>> out(dedicated.size());
  std::vector<bool> taken(fleet.domains.size(), false);
  struct Candidate {
    int rank;       // 0: in service all its window; 1: at its start; 2: later
    Seconds online;
    int32_t domain;
    bool operator<(const Candidate& o) const {
      return rank != o.rank ? rank < o.rank : online != o.online ? online < o.online : domain < o.domain;
    }
  };
  std::vector<Candidate> candidates;
  for (size_t k = 0; k < dedicated.size(); ++k) {
    const DedicatedSpec& d = dedicated[k];
    const Seconds start = static_cast<Seconds>(std::llround(d.start_day * 86400));
    const Seconds end = static_cast<Seconds>(std::llround(d.end_day * 86400));
    candidates.clear();
    for (size_t i = 0; i < fleet.domains.size(); ++i) {
      const Domain& dom = fleet.domains[i];
      if (taken[i] || dom.spare) continue;  // spares stand in for failed nodes of all
      if (fleet.domain_types[static_cast<size_t>(dom.type)].name != d.domain_type) continue;
      if (!d.site.empty() &&
          fleet.sites[static_cast<size_t>(fleet.site_of_domain(static_cast<int32_t>(i)))].name != d.site) {
        continue;
      }
      const bool at_start = dom.InServiceAt(start);
      const bool whole = at_start && (dom.retire < 0 || dom.retire >= end);
      candidates.push_back({whole ? 0 : at_start ? 1 : 2, dom.online, static_cast<int32_t>(i)});
    }
    const size_t want = static_cast<size_t>(std::max<int64_t>(0, d.domains));
    const size_t n = std::min(want, candidates.size());
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n), candidates.end());
    for (size_t c = 0; c < n; ++c) {
      taken[static_cast<size_t>(candidates[c].domain)] = true;
      out[k].push_back(candidates[c].domain);
    }
    std::sort(out[k].begin(), out[k].end());
  }
  return out;
}

void RankByName(const TenantDirectory& dir, std::vector<TenantSettings>* settings) {
  const std::vector<std::string>& names = dir.names();
  std::vector<TenantId> ids(names.size());
  std::iota(ids.begin(), ids.end(), 0u);
  std::stable_sort(ids.begin(), ids.end(), [&](TenantId a, TenantId b) { return names[a] < names[b]; });
  if (settings->size() < names.size()) settings->resize(names.size());
  for (size_t r = 0; r < ids.size(); ++r) (*settings)[ids[r]].rank = static_cast<int32_t>(r);
}

Result<ResolvedTenants> ResolveTenants(const Fleet& fleet, const TenantsConfig& cfg, TenantDirectory* dir) {
  ResolvedTenants out;
  std::unordered_map<std::string, int32_t> cohorts;
  for (const TenantSpec& t : cfg.tenants) {
    const TenantId id = dir->Resolve(t.name);
    if (out.settings.size() <= id) out.settings.resize(id + 1);
    TenantSettings& s = out.settings[id];
    s.weight = t.weight;
    s.quota.nominal_gpus = t.nominal_gpus;
    s.quota.borrowing_limit = t.borrowing_limit;
    if (!t.cohort.empty()) {
      s.quota.cohort = cohorts.emplace(t.cohort, static_cast<int32_t>(cohorts.size())).first->second;
    }
  }
  std::vector<std::vector<int32_t>> domains = DedicatedDomains(fleet, cfg.dedicated);
  for (size_t k = 0; k < cfg.dedicated.size(); ++k) {
    const DedicatedSpec& d = cfg.dedicated[k];
    DedicatedCluster c;
    c.tenant = dir->Resolve(d.tenant);
    c.start = static_cast<Seconds>(std::llround(d.start_day * 86400));
    c.end = static_cast<Seconds>(std::llround(d.end_day * 86400));
    c.lend = d.lend;
    c.domains = std::move(domains[k]);
    if (static_cast<int64_t>(c.domains.size()) < d.domains) {
      return Error::InvalidInput("", d.line, "domains",
                                 fmt::format("tenant '{}' asks for {} dedicated {} domains{}; the fleet has {} more",
                                             d.tenant, d.domains, d.domain_type, d.site.empty() ? "" : " in " + d.site,
                                             c.domains.size()));
    }
    out.dedicated.push_back(std::move(c));
  }
  if (out.settings.size() < dir->size()) out.settings.resize(dir->size());
  return out;
}

}  // namespace rackscale
