// Admission: what the scheduler core accepts, and the tenants file turned
// into the core's settings. Pure code (no clock, no files), shared by the
// simulator and the control plane, so that a job the simulator rejects is
// the job a server rejects, for the same reason.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "model/ai_job.h"
#include "model/fleet.h"
#include "sched/fleet_scheduler.h"

namespace rackscale {

enum class Verdict { kAccepted, kInvalid, kRejected };

struct AdmissionResult {
  Verdict verdict = Verdict::kAccepted;
  std::string reason;  // empty when accepted
};

// Invalid: malformed whatever the fleet (no runtime, negative GPUs, a CPU
// job without cores, a GPU share outside (0, 1000] milli or on more than
// one GPU). Rejected: well formed, but it could never run on this fleet
// under its tenant's quota (FleetScheduler::CanEverRun).
AdmissionResult Admit(const FleetScheduler& sched, const AiJob& job);
// The invalid test alone.
AdmissionResult CheckJob(const AiJob& job);

// Tenant names to ids: ids in the order names are first seen.
class TenantDirectory {
 public:
  TenantDirectory() = default;
  explicit TenantDirectory(const std::vector<std::string>& names);
  // The id of `name`, adding it if new.
  TenantId Resolve(const std::string& name);
  // -1 if unknown.
  int64_t Find(const std::string& name) const;
  const std::vector<std::string>& names() const { return names_; }
  size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, TenantId> ids_;
};

// The domains of each dedicated entry (ascending), entries in order: of the
// domains of its type (in its site, if it names one) that no earlier entry
// took, spares left out, those in service for its whole window first, then
// those in service at its start, then the rest by delivery date; fleet
// order on ties. An entry the fleet cannot fill gets fewer.
std::vector<std::vector<int32_t>> DedicatedDomains(const Fleet& fleet,
                                                   const std::vector<DedicatedSpec>& dedicated);

// The tenants file as the core's settings: per tenant id (through `dir`,
// which gains the file's names) its weight, quota (cohorts numbered in
// order of first mention) and rank (its name's place among all the
// directory's names, so equal shares go in name order); the dedicated
// clusters resolved onto the fleet (DedicatedDomains), with windows in
// seconds. Fails on an entry the fleet cannot fill, naming its line.
struct ResolvedTenants {
  std::vector<TenantSettings> settings;  // by TenantId
  std::vector<DedicatedCluster> dedicated;
};
Result<ResolvedTenants> ResolveTenants(const Fleet& fleet, const TenantsConfig& cfg, TenantDirectory* dir);
// Ranks by name order of every tenant the directory knows; call again after
// the directory grew.
void RankByName(const TenantDirectory& dir, std::vector<TenantSettings>* settings);

}  // namespace rackscale
