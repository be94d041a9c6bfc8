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
};
Decoded<JobSubmit> DecodeJobSubmit(std::string_view body);
// The submission as a JSON object (every field; DecodeJobSubmit reads it back equal).
std::string EncodeJobSubmit(const JobSubmit& s);

// PUT /v1/tenants/{name}.
struct TenantPut {
  double weight = 1;             // > 0, <= 1e6
  int64_t nominal_gpus = -1;     // -1 or 0..2^40
  std::string cohort;            // empty: none
  int64_t borrowing_limit_gpus = -1;
};
Decoded<TenantPut> DecodeTenantPut(std::string_view body);

// POST /v1/dedicated and PUT /v1/dedicated/{id} (window only: domain_type
// etc. must be absent).
struct DedicatedPost {
  std::string tenant, domain_type, site;
  int64_t domains = 0;  // >= 1
  int64_t start = 0, end = 0;  // Unix s, start < end
  bool lend = true;
};
Decoded<DedicatedPost> DecodeDedicatedPost(std::string_view body);
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
  int32_t gpus = 0;
  std::string gpu_model;  // empty for CPU nodes
  std::string addr;       // host or IP the gang's rank 0 is reached at
};
struct AgentRegister {
  std::vector<NodeInventory> nodes;  // 1..kMaxBatch
};
Decoded<AgentRegister> DecodeAgentRegister(std::string_view body);

struct TaskRef {
  int64_t job = 0;
  int32_t attempt = 0;
  int32_t rank = 0;
  bool operator<(const TaskRef& o) const {
    return job != o.job ? job < o.job : attempt != o.attempt ? attempt < o.attempt : rank < o.rank;
  }
  bool operator==(const TaskRef& o) const { return job == o.job && attempt == o.attempt && rank == o.rank; }
};
struct AgentHeartbeat {
  std::vector<std::string> nodes;  // 0..kMaxBatch
  std::vector<TaskRef> running;    // 0..kMaxBatch
};
Decoded<AgentHeartbeat> DecodeAgentHeartbeat(std::string_view body);

struct TaskReport {
  TaskRef task;
  std::string state;   // running | exited
  int32_t exit_code = 0;
  int32_t signal = 0;
  std::string log;     // path of its log on the node
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
};
std::string EncodeTask(const Task& t);  // one JSON object
Decoded<Task> DecodeTask(std::string_view json);

// Query parameters: "a,b,c" lists of names, bounded integers.
Decoded<int64_t> DecodeIntParam(std::string_view name, std::string_view text, int64_t lo, int64_t hi);
Decoded<std::vector<std::string>> DecodeListParam(std::string_view name, std::string_view text,
                                                  size_t max_items);

}  // namespace rackscale::ctl
