// libFuzzer target for the control plane's API codec (src/ctl/api.h). The
// first byte picks a decoder; the rest is the body (or a query parameter's
// text). Every decode either fails with a 400 invalid_argument whose
// message is non-empty and whose ToJson() is valid JSON, or gives a value
// within every bound api.h documents. Values of the types the server stores
// or sends (JobSubmit, TenantPut, DedicatedPost, Task) re-encode and decode
// to themselves, and the re-encoding is a fixed point.
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctl/api.h"

namespace {

using namespace rackscale::ctl;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

template <typename T>
bool Failed(const Decoded<T>& d) {
  if (d.ok()) return false;
  Check(d.error.status == 400 && d.error.code == "invalid_argument" && !d.error.message.empty());
  Check(!nlohmann::json::parse(d.error.ToJson(), nullptr, false).is_discarded());
  return true;
}

bool IsName(const std::string& s) {
  if (s.empty() || s.size() > kMaxNameBytes || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}
bool IsOptName(const std::string& s) { return s.empty() || IsName(s); }
bool NoNul(const std::string& s) { return s.find('\0') == std::string::npos; }

void CheckArgsEnv(const std::vector<std::string>& command, const std::map<std::string, std::string>& env) {
  Check(command.size() <= kMaxArgs && env.size() <= kMaxEnv);
  for (const auto& a : command) Check(a.size() <= kMaxArgBytes && NoNul(a));
  for (const auto& [k, v] : env) {
    Check(!k.empty() && k.size() <= kMaxNameBytes && !std::isdigit(static_cast<unsigned char>(k[0])));
    for (char c : k) Check(std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    Check(v.size() <= kMaxEnvValueBytes && NoNul(v));
  }
}

void CheckRef(const TaskRef& r) {
  Check(r.job >= 1 && r.job <= kMaxJobId && r.attempt >= 1 && r.rank >= 0 && r.rank < kMaxGpus);
}

// Encode, decode, compare; the second encoding equals the first.
template <typename T, typename Enc, typename Dec>
void RoundTrip(const T& v, Enc encode, Dec decode) {
  std::string once = encode(v);
  auto back = decode(once);
  Check(back.ok() && *back.value == v && encode(*back.value) == once);
}

void JobSubmitCase(std::string_view body) {
  auto d = DecodeJobSubmit(body);
  if (Failed(d)) return;
  const JobSubmit& s = *d.value;
  Check(s.name.size() <= kMaxNameBytes && IsOptName(s.tenant) && IsOptName(s.gpu_model));
  Check(s.gpus >= 0 && s.gpus <= kMaxGpus && s.cpus >= 0 && s.cpus <= kMaxGpus && (s.gpus > 0) != (s.cpus > 0));
  Check(s.nodes >= 0 && s.nodes <= kMaxNodes && (s.nodes == 0 || (s.gpus > 0 && s.gpus % s.nodes == 0)));
  Check(std::set<std::string>{"any", "block", "domain", "node", "multi-site"}.count(s.topology) == 1);
  Check(std::abs(s.priority) <= kMaxPriority);
  Check(s.time_limit_s >= 1 && s.time_limit_s <= kMaxTimeLimitS);
  Check(s.checkpoint_s >= 0 && s.checkpoint_s <= kMaxTimeLimitS);
  Check(s.duration_s >= 0 && s.duration_s <= kMaxTimeLimitS);
  Check(s.request_id.size() <= kMaxNameBytes);
  for (char c : s.request_id) Check(c >= 0x20 && c <= 0x7e);
  CheckArgsEnv(s.command, s.env);
  RoundTrip(s, EncodeJobSubmit, DecodeJobSubmit);
}

void TenantPutCase(std::string_view body) {
  auto d = DecodeTenantPut(body);
  if (Failed(d)) return;
  const TenantPut& t = *d.value;
  Check(std::isfinite(t.weight) && t.weight > 0 && t.weight <= 1e6 && IsOptName(t.cohort));
  Check(t.nominal_gpus >= -1 && t.nominal_gpus <= kMaxGpuQuota);
  Check(t.borrowing_limit_gpus >= -1 && t.borrowing_limit_gpus <= kMaxGpuQuota);
  RoundTrip(t, EncodeTenantPut, DecodeTenantPut);
}

void DedicatedCase(std::string_view body) {
  auto d = DecodeDedicatedPost(body);
  if (Failed(d)) return;
  const DedicatedPost& p = *d.value;
  Check(IsName(p.tenant) && IsName(p.domain_type) && IsOptName(p.site) && p.domains >= 1 && p.domains <= kMaxGpus);
  Check(p.start >= 0 && p.start < p.end && p.end <= kMaxUnixTime);
  RoundTrip(p, EncodeDedicatedPost, DecodeDedicatedPost);
}

void WindowCase(std::string_view body) {
  auto d = DecodeWindowPut(body);
  if (Failed(d)) return;
  Check(d.value->start >= 0 && d.value->start < d.value->end && d.value->end <= kMaxUnixTime);
}

void TokenCase(std::string_view body) {
  auto d = DecodeTokenPost(body);
  if (Failed(d)) return;
  const TokenPost& t = *d.value;
  Check(t.role == "admin" || t.role == "tenant" || t.role == "agent");
  Check((t.role == "tenant") == !t.tenant.empty() && (t.role == "agent") == !t.agent.empty());
  Check(IsOptName(t.tenant) && IsOptName(t.agent));
}

void DrainCase(std::string_view body) {
  auto d = DecodeDrainPost(body);
  if (Failed(d)) return;
  Check(d.value->reason.size() <= kMaxReasonBytes);
  for (char c : d.value->reason) Check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
}

void RegisterCase(std::string_view body) {
  auto d = DecodeAgentRegister(body);
  if (Failed(d)) return;
  Check(!d.value->nodes.empty() && d.value->nodes.size() <= kMaxBatch);
  std::set<std::string> names;
  for (const NodeInventory& n : d.value->nodes) {
    Check(IsName(n.name) && names.insert(n.name).second && n.gpus >= 0 && n.gpus <= kMaxNodeGpus);
    Check(IsOptName(n.gpu_model) && (n.gpus > 0 || n.gpu_model.empty()) && n.addr.size() <= kMaxAddrBytes);
  }
}

void HeartbeatCase(std::string_view body) {
  auto d = DecodeAgentHeartbeat(body);
  if (Failed(d)) return;
  Check(d.value->nodes.size() <= kMaxBatch && d.value->running.size() <= kMaxBatch);
  std::set<std::string> names(d.value->nodes.begin(), d.value->nodes.end());
  Check(names.size() == d.value->nodes.size());
  for (const auto& n : d.value->nodes) Check(IsName(n));
  std::set<TaskRef> refs(d.value->running.begin(), d.value->running.end());
  Check(refs.size() == d.value->running.size());
  for (const auto& r : d.value->running) CheckRef(r);
}

void ReportCase(std::string_view body) {
  auto d = DecodeAgentReport(body);
  if (Failed(d)) return;
  Check(!d.value->reports.empty() && d.value->reports.size() <= kMaxBatch);
  for (const TaskReport& r : d.value->reports) {
    CheckRef(r.task);
    Check(r.state == "exited" || (r.state == "running" && r.exit_code == 0 && r.signal == 0));
    Check(r.exit_code >= -1 && r.exit_code <= 255 && r.signal >= 0 && r.signal <= 64);
    Check(r.log.size() <= kMaxArgBytes && NoNul(r.log));
  }
}

void TaskCase(std::string_view body) {
  auto d = DecodeTask(body);
  if (Failed(d)) return;
  const Task& t = *d.value;
  CheckRef(t.ref);
  Check(IsName(t.node) && IsName(t.tenant) && t.gpus.size() <= static_cast<size_t>(kMaxNodeGpus));
  std::set<int32_t> gpus(t.gpus.begin(), t.gpus.end());
  Check(gpus.size() == t.gpus.size());
  for (int32_t g : t.gpus) Check(g >= 0 && g < kMaxNodeGpus);
  Check(t.world_size >= 0 && t.world_size <= kMaxGpus && t.nnodes >= 1 && t.nnodes <= kMaxGpus);
  Check(t.ref.rank < t.nnodes && t.master_port >= 1 && t.master_port <= 65535);
  Check(t.grace_s >= 0 && t.grace_s <= kMaxGraceS && t.duration_s >= 0 && t.duration_s <= kMaxTimeLimitS);
  Check(t.master_addr.size() <= kMaxAddrBytes);
  CheckArgsEnv(t.command, t.env);
  RoundTrip(t, EncodeTask, DecodeTask);
}

void IntParamCase(std::string_view text, uint8_t pick) {
  // Bounds from the pick: signed or not, narrow or the whole int64 range.
  int64_t lo = (pick & 1) ? -1000 : 0, hi = (pick & 2) ? 1000 : INT64_MAX;
  if (pick & 4) lo = INT64_MIN;
  auto d = DecodeIntParam("p", text, lo, hi);
  if (Failed(d)) return;
  Check(*d.value >= lo && *d.value <= hi && !text.empty() && text[0] != '+');
  Check(std::to_string(*d.value).size() <= text.size());
}

void ListParamCase(std::string_view text, uint8_t pick) {
  size_t max = 1 + pick % 8;
  auto d = DecodeListParam("p", text, max);
  if (Failed(d)) return;
  Check(!d.value->empty() && d.value->size() <= max);
  std::string joined;
  for (const auto& item : *d.value) {
    Check(IsName(item));
    joined += (joined.empty() ? "" : ",") + item;
  }
  Check(joined == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > kMaxBodyBytes) return 0;
  uint8_t pick = data[0];
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (pick % 12) {
    case 0: JobSubmitCase(body); break;
    case 1: TenantPutCase(body); break;
    case 2: DedicatedCase(body); break;
    case 3: WindowCase(body); break;
    case 4: TokenCase(body); break;
    case 5: DrainCase(body); break;
    case 6: RegisterCase(body); break;
    case 7: HeartbeatCase(body); break;
    case 8: ReportCase(body); break;
    case 9: TaskCase(body); break;
    case 10: IntParamCase(body, pick / 12); break;
    default: ListParamCase(body, pick / 12); break;
  }
  return 0;
}
