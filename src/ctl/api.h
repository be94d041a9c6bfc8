// The control plane's wire types and their JSON codec (docs/api.md).
//
// Decoding is strict and total: any byte string either decodes to a value
// that satisfies every documented bound or fails with an ApiError naming
// the field as a JSON path ("env.PATH", "command[2]", "reports[3].rank").
// Unknown fields, wrong types, non-integers where integers are expected,
// out-of-range numbers, duplicate keys are errors. Nothing here allocates
// more than a small multiple of the input (bodies are at most
// kMaxBodyBytes; the server refuses larger ones before decoding).
// Pure code: no clock, no I/O. fuzz/fuzz_api.cc drives every decoder.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace rackscale::ctl {

inline constexpr size_t kMaxBodyBytes = 1 << 20;  // 1 MiB
inline constexpr int64_t kMaxTimeLimitS = 10LL * 365 * 86400;
inline constexpr int32_t kMaxPriority = 1000000;
inline constexpr size_t kMaxArgs = 256, kMaxArgBytes = 4096;
inline constexpr size_t kMaxEnv = 256, kMaxEnvValueBytes = 4096;
inline constexpr size_t kMaxNameBytes = 128;
inline constexpr size_t kMaxBatch = 10000;  // entries in one agent register/heartbeat/report
inline constexpr int32_t kMaxGpus = 1 << 20;      // GPUs (or CPU cores) of one job
inline constexpr int32_t kMaxNodes = 1 << 16;     // JobSubmit::nodes
inline constexpr int32_t kMaxNodeGpus = 1024;     // GPUs of one node (indices 0..1023)
inline constexpr int64_t kMaxJobId = (1LL << 53) - 1;  // exact in every JSON reader
inline constexpr int64_t kMaxGpuQuota = 1LL << 40;     // TenantPut nominal / borrowing limit
inline constexpr int64_t kMaxUnixTime = 253402300799;  // 9999-12-31T23:59:59Z
inline constexpr int32_t kMaxGraceS = 3600;
inline constexpr size_t kMaxReasonBytes = 1024;
inline constexpr size_t kMaxAddrBytes = 255;
inline constexpr size_t kMaxJsonDepth = 32;  // nesting of arrays and objects, refused while parsing

// Strings. A name (tenant, cohort, agent, node, gpu_model, domain_type,
// site, list-parameter items) matches [A-Za-z0-9][A-Za-z0-9._-]{0,127}. An
// env name matches [A-Za-z_][A-Za-z0-9_]* and has at most kMaxNameBytes.
// Free text (job name, drain reason) is valid UTF-8 without control
// characters. Command entries, env values and log paths hold any UTF-8
// but NUL. An addr (a host name or an IP address) matches [A-Za-z0-9._:-]*
// and has at most kMaxAddrBytes; it may be empty.

// An HTTP error as the API answers it: status, code, message, field.
struct ApiError {
  int status = 400;
  std::string code = "invalid_argument";
  std::string message;
  std::string field;  // JSON path; empty if none
  std::string ToJson() const;  // {"error": {...}}
  static ApiError Invalid(std::string field, std::string message) {
    return ApiError{400, "invalid_argument", std::move(message), std::move(field)};
  }
};

template <typename T>
struct Decoded {
  std::optional<T> value;
  ApiError error;  // when !value
  bool ok() const { return value.has_value(); }
};

enum class OnNodeLost : uint8_t { kDefault, kRequeue, kFail };

// POST /v1/jobs.
struct JobSubmit {
  std::string name;
  std::string tenant;          // admin only; empty: the token's tenant
  int32_t gpus = 0;            // 1..1048576, or 0 with cpus > 0
  int32_t cpus = 0;            // CPU job cores (milli = cpus x 1000)
  int32_t nodes = 0;           // 0: unspecified; else 1..65536
  std::string topology = "any";  // any | block | domain | node | multi-site
  std::string gpu_model;       // empty: any
  int32_t priority = 0;        // |p| <= kMaxPriority
  bool preemptible = false;
  int64_t time_limit_s = 0;    // required, 1..kMaxTimeLimitS
  int64_t checkpoint_s = 0;    // 0: none; else 1..kMaxTimeLimitS
  OnNodeLost on_node_lost = OnNodeLost::kDefault;
  std::vector<std::string> command;          // 0..kMaxArgs (emulated jobs may have none)
  std::map<std::string, std::string> env;    // names [A-Za-z_][A-Za-z0-9_]*
  int64_t duration_s = 0;      // 0..kMaxTimeLimitS: an emulated agent's run time
  std::string request_id;      // <= kMaxNameBytes; printable ASCII
  bool operator==(const JobSubmit&) const = default;
};
// Optional strings may be sent as "" (the same as absent). cpus: 0..kMaxGpus,
// > 0 only with gpus 0. nodes > 0: gpus is a positive multiple of nodes.
Decoded<JobSubmit> DecodeJobSubmit(std::string_view body);
// The request as one JSON object (the server stores it with the job):
// DecodeJobSubmit(EncodeJobSubmit(s)) == s for every s DecodeJobSubmit gives.
std::string EncodeJobSubmit(const JobSubmit& s);

// PUT /v1/tenants/{name}.
struct TenantPut {
  double weight = 1;             // > 0, <= 1e6
  int64_t nominal_gpus = -1;     // -1 or 0..2^40
  std::string cohort;            // empty: none
  int64_t borrowing_limit_gpus = -1;  // -1 or 0..2^40
  bool operator==(const TenantPut&) const = default;
};
Decoded<TenantPut> DecodeTenantPut(std::string_view body);
std::string EncodeTenantPut(const TenantPut& t);  // DecodeTenantPut's inverse, as EncodeJobSubmit

// POST /v1/dedicated and PUT /v1/dedicated/{id} (window only: domain_type
// etc. must be absent).
struct DedicatedPost {
  std::string tenant, domain_type, site;  // site optional (empty: any site)
  int64_t domains = 0;  // 1..kMaxGpus
  int64_t start = 0, end = 0;  // Unix s, 0 <= start < end <= kMaxUnixTime
  bool lend = true;
  bool operator==(const DedicatedPost&) const = default;
};
Decoded<DedicatedPost> DecodeDedicatedPost(std::string_view body);
std::string EncodeDedicatedPost(const DedicatedPost& d);  // DecodeDedicatedPost's inverse, as EncodeJobSubmit
struct WindowPut {
  int64_t start = 0, end = 0;
};
Decoded<WindowPut> DecodeWindowPut(std::string_view body);

// POST /v1/tokens.
struct TokenPost {
  std::string role;    // admin | tenant | agent
  std::string tenant;  // role tenant
  std::string agent;   // role agent
};
Decoded<TokenPost> DecodeTokenPost(std::string_view body);

// POST /v1/nodes/{name}/drain.
struct DrainPost {
  std::string reason;  // <= 1024
};
Decoded<DrainPost> DecodeDrainPost(std::string_view body);  // empty body allowed

// Agents.
struct NodeInventory {
  std::string name;
  int32_t gpus = 0;       // 0..kMaxNodeGpus
  std::string gpu_model;  // empty for CPU nodes (required empty when gpus is 0)
  std::string addr;       // host or IP the gang's rank 0 is reached at
};
struct AgentRegister {
  std::vector<NodeInventory> nodes;  // 1..kMaxBatch, distinct names
};
Decoded<AgentRegister> DecodeAgentRegister(std::string_view body);

struct TaskRef {
  int64_t job = 0;      // 1..kMaxJobId
  int32_t attempt = 0;  // >= 1
  int32_t rank = 0;     // 0..kMaxGpus-1
  bool operator<(const TaskRef& o) const {
    return job != o.job ? job < o.job : attempt != o.attempt ? attempt < o.attempt : rank < o.rank;
  }
  bool operator==(const TaskRef& o) const { return job == o.job && attempt == o.attempt && rank == o.rank; }
};
struct AgentHeartbeat {
  std::vector<std::string> nodes;  // 0..kMaxBatch, distinct (absent: none)
  std::vector<TaskRef> running;    // 0..kMaxBatch, distinct (absent: none)
};
Decoded<AgentHeartbeat> DecodeAgentHeartbeat(std::string_view body);

struct TaskReport {
  TaskRef task;
  std::string state;   // running | exited
  int32_t exit_code = 0;  // 0..255, or -1: ended with its status unknown (a task adopted after a restart); 0 while running
  int32_t signal = 0;     // 0..64; 0 while running
  std::string log;     // path of its log on the node, <= kMaxArgBytes
};
struct AgentReport {
  std::vector<TaskReport> reports;  // 1..kMaxBatch
};
Decoded<AgentReport> DecodeAgentReport(std::string_view body);

// What the server sends an agent (encoded by the server, decoded by the
// agent: DecodeTask is as strict as the other decoders).
struct Task {
  TaskRef ref;
  std::string node;
  std::vector<int32_t> gpus;  // GPU indices on the node
  int32_t world_size = 0;     // GPUs of the whole gang
  int32_t nnodes = 1;
  std::string master_addr;
  int32_t master_port = 29500;
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  int64_t duration_s = 0;
  int32_t grace_s = 10;
  std::string tenant;
  bool operator==(const Task&) const = default;
};
// Bounds: gpus distinct indices < kMaxNodeGpus; world_size 0..kMaxGpus;
// nnodes 1..kMaxGpus with rank < nnodes; master_port 1..65535; grace_s
// 0..kMaxGraceS; duration_s 0..kMaxTimeLimitS; node and tenant are names.
// Every field is required (EncodeTask writes them all), and
// DecodeTask(EncodeTask(t)) == t for every t DecodeTask gives.
std::string EncodeTask(const Task& t);  // one JSON object
Decoded<Task> DecodeTask(std::string_view json);

// Query parameters: "a,b,c" lists of names, bounded integers. An integer
// is decimal digits, with a leading '-' only when lo < 0 (never '+'); a
// list is 1..max_items names separated by ','. The error's field is `name`.
Decoded<int64_t> DecodeIntParam(std::string_view name, std::string_view text, int64_t lo, int64_t hi);
Decoded<std::vector<std::string>> DecodeListParam(std::string_view name, std::string_view text,
                                                  size_t max_items);

}  // namespace rackscale::ctl
