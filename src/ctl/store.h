// Store: where the control plane's state lives, behind one interface so
// that SQLite (embedded, the default) and PostgreSQL (HA) are two
// implementations of the same contract.
//
// The contract. The server's state is a set of rows (jobs, nodes, tenants,
// tokens, dedicated clusters, meta) and an append-only event log. Every
// change the server makes is one Batch: events appended plus rows put or
// erased. Commit writes a batch in one transaction and returns only once it
// is durable (SQLite: WAL with synchronous=FULL, so the WAL is fsynced at
// commit). A batch is all or nothing: a failed Commit (disk full, I/O
// error) leaves the store exactly as it was, and the store stays usable
// for later commits once the cause is gone. Event sequence numbers are the
// caller's (dense, increasing); Commit refuses a batch whose first event
// does not follow the last committed one (a second writer, a bug).
//
// Group commit is the caller's: the server's single writer thread gathers
// what arrived while the previous commit ran into one batch.
//
// Not thread-safe: one writer. EventsSince may be called from the writer's
// thread only too (the server answers old-cursor watches through it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace rackscale::ctl {

enum class Table : uint8_t { kJob, kNode, kTenant, kToken, kDedicated, kMeta };
const char* TableName(Table t);

struct StoredEvent {
  int64_t seq = 0;
  int64_t time = 0;   // Unix seconds
  std::string type;   // "job.submitted", ...
  int64_t job = 0;    // 0: none
  std::string tenant;  // empty: none
  std::string node;    // empty: none
  std::string data;    // a JSON object's text ("{}" when empty)
};

// One row put (inserted or replaced) or erased. `key`: the row's key as
// text (a job's id in decimal, a node's name, ...). `body`: the row as a
// JSON object's text. Jobs carry their tenant, state and request id as
// columns too (indexed), so an operator's sqlite3 query can filter them.
struct RowChange {
  Table table = Table::kMeta;
  std::string key;
  std::string body;   // empty with erase
  bool erase = false;
  // kJob only:
  std::string tenant, state, request_id;
};

struct Batch {
  std::vector<StoredEvent> events;  // ascending seq
  std::vector<RowChange> rows;      // applied in order (a later change of a row wins)
  bool empty() const { return events.empty() && rows.empty(); }
};

struct StoredRow {
  std::string key, body;
};

// Everything the server needs to rebuild its state after a restart.
struct Snapshot {
  std::vector<StoredRow> jobs, nodes, tenants, tokens, dedicated, meta;  // each in key order (jobs by numeric id)
  int64_t last_seq = 0;  // 0: no events yet
};

class Store {
 public:
  virtual ~Store() = default;
  // One transaction, durable when it returns OK. On error nothing of the
  // batch is stored; the message says why (e.g. "database or disk is full").
  virtual Status Commit(const Batch& batch) = 0;
  virtual Result<Snapshot> Load() = 0;
  // Events with seq > `after`, ascending, at most `limit`; with job != 0
  // only that job's events.
  virtual Result<std::vector<StoredEvent>> EventsSince(int64_t after, size_t limit, int64_t job = 0) = 0;
  virtual int64_t last_seq() const = 0;
  // The schema version the store is at (after migrations).
  virtual int schema_version() const = 0;
  // "sqlite:PATH" and so on, for messages.
  virtual std::string url() const = 0;
};

// Opens (creating if needed, migrating to the current schema) the store a
// URL names: "sqlite:PATH", "sqlite://PATH" (sqlite:///abs/path is
// /abs/path) or a bare PATH. Any other "scheme:" prefix is refused naming
// the scheme only (the rest of a URL may hold a password); a file whose
// name has a colon is ./NAME. The database's folder must exist. Fails
// naming the URL and the cause (a missing folder, not a database, a newer
// schema than this binary knows). TableName(t): t's SQL table ("jobs").
Result<std::unique_ptr<Store>> OpenStore(const std::string& url);

}  // namespace rackscale::ctl
