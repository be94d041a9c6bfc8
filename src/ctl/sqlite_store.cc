// The SQLite Store (the contract is in store.h).
//
// One database file in WAL mode with synchronous=FULL: a commit appends its
// pages to the WAL and fsyncs it before returning, and a process killed at
// any moment leaves each transaction wholly there or wholly absent. The
// schema is a list of migrations: PRAGMA user_version is the version a file
// is at, and the `migrations` table records when each one was applied.
// Commit's statements are prepared once, when the store opens.
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <ctime>
#include <limits>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "ctl/store.h"

namespace rackscale::ctl {
namespace {

// The schema, one entry per version: kMigrations[i] takes a database from
// version i to version i + 1, in the same transaction that records it. An
// entry that has shipped never changes; a new schema is one more entry.
constexpr const char* kMigrations[] = {
    // 1: the event log and the rows. Jobs carry their tenant, state and
    // request id as columns for operators' queries; a request id is unique
    // per tenant (the server's idempotency key).
    R"sql(
CREATE TABLE events(seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, type TEXT NOT NULL,
                    job INTEGER NOT NULL DEFAULT 0, tenant TEXT NOT NULL DEFAULT '',
                    node TEXT NOT NULL DEFAULT '', data TEXT NOT NULL);
CREATE INDEX events_job ON events(job, seq) WHERE job != 0;
CREATE TABLE jobs(id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, state TEXT NOT NULL,
                  request_id TEXT NOT NULL DEFAULT '', body TEXT NOT NULL);
CREATE INDEX jobs_tenant_state ON jobs(tenant, state);
CREATE UNIQUE INDEX jobs_tenant_request_id ON jobs(tenant, request_id) WHERE request_id != '';
CREATE TABLE nodes(name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE tenants(name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE tokens(id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE dedicated(id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

// How long a statement waits for another connection's lock (an operator's
// sqlite3 shell, a checkpoint) before failing with "database is locked".
constexpr int kBusyTimeoutMs = 5000;

// Each Table's SQL table, key column and body column, in enum order.
struct TableSql {
  const char* name;
  const char* key;
  const char* body;
};
constexpr TableSql kTables[] = {
    {"jobs", "id", "body"},     {"nodes", "name", "body"},    {"tenants", "name", "body"},
    {"tokens", "id", "body"},   {"dedicated", "id", "body"},  {"meta", "key", "value"},
};
constexpr size_t kTableCount = std::size(kTables);

bool ValidTable(Table t) { return static_cast<size_t>(t) < kTableCount; }

// A job's key is its id in canonical decimal ("42", not "042" or "+42"), so
// that Load gives back the key that was put.
bool ParseJobKey(const std::string& key, int64_t* id) {
  const char* end = key.data() + key.size();
  auto [p, ec] = std::from_chars(key.data(), end, *id);
  return ec == std::errc() && p == end && std::to_string(*id) == key;
}

struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

struct DbClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

// Resets a statement when a read loop ends, however it ends, so that no
// read transaction stays open (it would hold back checkpoints).
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* s) : s_(s) {}
  ~ResetOnExit() { sqlite3_reset(s_); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  sqlite3_stmt* s_;
};

// Binds text without copying: the string must outlive the statement's step.
bool BindText(sqlite3_stmt* s, int i, const std::string& v) {
  return sqlite3_bind_text64(s, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8) == SQLITE_OK;
}
bool BindInt(sqlite3_stmt* s, int i, int64_t v) { return sqlite3_bind_int64(s, i, v) == SQLITE_OK; }

std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s, i));
}

// Steps a statement that yields no rows to completion and resets it. On
// failure sqlite3_reset returns the step's error again and leaves its
// message in sqlite3_errmsg for the caller to report.
bool StepDone(sqlite3_stmt* s) {
  if (sqlite3_step(s) == SQLITE_DONE) return sqlite3_reset(s) == SQLITE_OK;
  sqlite3_reset(s);
  return false;
}

class SqliteStore final : public Store {
 public:
  // Opens or creates the database at `path` and migrates it.
  static Result<std::unique_ptr<Store>> Open(const std::string& path);

  Status Commit(const Batch& batch) override;
  Result<Snapshot> Load() override;
  Result<std::vector<StoredEvent>> EventsSince(int64_t after, size_t limit, int64_t job) override;
  int64_t last_seq() const override { return last_seq_; }
  int schema_version() const override { return version_; }
  std::string url() const override { return url_; }

 private:
  explicit SqliteStore(std::string url) : url_(std::move(url)) {}

  // An I/O error naming the URL, `what` was being done and sqlite3_errmsg.
  Error Fail(std::string_view what) const;
  Status Exec(const char* sql, std::string_view what);
  Result<int64_t> QueryInt(const char* sql, std::string_view what);
  Result<std::string> QueryText(const char* sql, std::string_view what);
  // `flags`: SQLITE_PREPARE_PERSISTENT for the statements kept open.
  bool Prepare(const std::string& sql, Stmt* out, unsigned flags = 0);
  // Rolls back the open transaction, if SQLite has not already done so;
  // a failure to roll back is added to `failure`'s message.
  Error Rollback(Error failure);
  // OK if this binary knows schema `version` (0: a new file).
  Status KnownVersion(int64_t version) const;

  Status Init(const std::string& path);
  Status Migrate(int version);
  Status PrepareAll();
  Status Validate(const Batch& batch) const;
  // Writes the batch; runs inside Commit's transaction.
  Status Apply(const Batch& batch);

  // Declared first so that it is destroyed last, after every statement.
  std::unique_ptr<sqlite3, DbClose> db_;
  std::string url_;
  int version_ = 0;
  int64_t last_seq_ = 0;
  Stmt begin_, commit_, insert_event_, events_since_, events_since_job_;
  std::array<Stmt, kTableCount> put_, erase_, select_;
};

Error SqliteStore::Fail(std::string_view what) const {
  return Error::Io(url_, fmt::format("{}: {}", what, sqlite3_errmsg(db_.get())));
}

Status SqliteStore::Exec(const char* sql, std::string_view what) {
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Fail(what);
  return Status::Ok();
}

Result<int64_t> SqliteStore::QueryInt(const char* sql, std::string_view what) {
  Stmt s;
  if (!Prepare(sql, &s) || sqlite3_step(s.get()) != SQLITE_ROW) return Fail(what);
  return sqlite3_column_int64(s.get(), 0);
}

Result<std::string> SqliteStore::QueryText(const char* sql, std::string_view what) {
  Stmt s;
  if (!Prepare(sql, &s) || sqlite3_step(s.get()) != SQLITE_ROW) return Fail(what);
  return ColumnText(s.get(), 0);
}

bool SqliteStore::Prepare(const std::string& sql, Stmt* out, unsigned flags) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size() + 1), flags, &s, nullptr);
  out->reset(s);
  return rc == SQLITE_OK;
}

Error SqliteStore::Rollback(Error failure) {
  // SQLite rolls a transaction back by itself after some errors (a full
  // disk, an I/O error); then there is nothing left to roll back.
  if (sqlite3_get_autocommit(db_.get()) == 0 &&
      sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr) != SQLITE_OK) {
    failure.message += fmt::format("; rollback: {}", sqlite3_errmsg(db_.get()));
  }
  return failure;
}

Status SqliteStore::KnownVersion(int64_t version) const {
  if (version > kSchemaVersion) {
    return Error::Io(url_, fmt::format("schema version {} is newer than this binary knows ({}); run a newer rackscale",
                                       version, kSchemaVersion));
  }
  if (version < 0) return Error::Io(url_, fmt::format("schema version {} is not one rackscale writes", version));
  return Status::Ok();
}

Result<std::unique_ptr<Store>> SqliteStore::Open(const std::string& path) {
  std::unique_ptr<SqliteStore> store(new SqliteStore("sqlite:" + path));
  if (Status st = store->Init(path); !st.ok()) return st.error();
  return std::unique_ptr<Store>(std::move(store));
}

Status SqliteStore::Init(const std::string& path) {
  // SQLite's own message for a missing folder is "unable to open database file".
  size_t slash = path.rfind('/');
  std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  struct stat st;
  if (::stat(folder.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error::Io(url_, fmt::format("folder '{}' does not exist", folder));
  }

  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  db_.reset(db);  // a handle comes back even on failure (unless out of memory) and must be closed
  if (rc != SQLITE_OK) return Fail("open");
  if (sqlite3_extended_result_codes(db, 1) != SQLITE_OK) return Fail("enable extended result codes");
  if (sqlite3_busy_timeout(db, kBusyTimeoutMs) != SQLITE_OK) return Fail("set busy timeout");

  // The first read of the file: a file that is not a database fails here
  // ("file is not a database"), and a newer schema is refused before
  // anything is written.
  Result<int64_t> version = QueryInt("PRAGMA user_version", "read the schema version");
  if (!version.ok()) return version.error();
  if (Status s = KnownVersion(*version); !s.ok()) return s;
  Result<std::string> mode = QueryText("PRAGMA journal_mode=WAL", "enable WAL");
  if (!mode.ok()) return mode.error();
  if (*mode != "wal") return Error::Io(url_, fmt::format("enable WAL: the journal mode stayed '{}'", *mode));
  if (Status s = Exec("PRAGMA synchronous=FULL", "set synchronous=FULL"); !s.ok()) return s;

  if (Status s = Migrate(static_cast<int>(*version)); !s.ok()) return s;
  if (Status s = PrepareAll(); !s.ok()) return s;
  Result<int64_t> last = QueryInt("SELECT coalesce(max(seq), 0) FROM events", "read the last event");
  if (!last.ok()) return last.error();
  last_seq_ = *last;
  return Status::Ok();
}

Status SqliteStore::Migrate(int version) {
  if (version == kSchemaVersion) {
    version_ = version;
    return Status::Ok();
  }
  if (Status s = Exec("BEGIN IMMEDIATE", "begin the migration"); !s.ok()) return s;
  auto migrate = [&]() -> Status {
    // Another process may have migrated the file since `version` was read.
    Result<int64_t> now_at = QueryInt("PRAGMA user_version", "read the schema version");
    if (!now_at.ok()) return now_at.error();
    if (Status known = KnownVersion(*now_at); !known.ok()) return known;
    Status s = Exec("CREATE TABLE IF NOT EXISTS migrations(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
                    "create the migrations table");
    for (int v = static_cast<int>(*now_at) + 1; s.ok() && v <= kSchemaVersion; ++v) {
      std::string what = fmt::format("migrate to schema version {}", v);
      s = Exec(kMigrations[v - 1], what);
      if (s.ok()) {
        s = Exec(fmt::format("INSERT INTO migrations(version, applied_at) VALUES({}, {}); PRAGMA user_version = {}", v,
                             static_cast<int64_t>(std::time(nullptr)), v)
                     .c_str(),
                 what);
      }
    }
    if (s.ok()) s = Exec("COMMIT", "commit the migration");
    return s;
  };
  if (Status s = migrate(); !s.ok()) return Rollback(s.error());
  version_ = kSchemaVersion;
  return Status::Ok();
}

Status SqliteStore::PrepareAll() {
  struct Entry {
    Stmt* stmt;
    std::string sql;
  };
  std::vector<Entry> entries = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&insert_event_,
       "INSERT INTO events(seq, time, type, job, tenant, node, data) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
      {&events_since_,
       "SELECT seq, time, type, job, tenant, node, data FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"},
      // "job != 0" restates the partial index's condition, which is what lets
      // the planner use events_job here.
      {&events_since_job_,
       "SELECT seq, time, type, job, tenant, node, data FROM events WHERE job = ?3 AND job != 0 AND seq > ?1 "
       "ORDER BY seq LIMIT ?2"},
      // A put updates in place rather than INSERT OR REPLACE: REPLACE would
      // silently delete another job holding the same (tenant, request_id);
      // this fails the commit instead.
      {&put_[static_cast<size_t>(Table::kJob)],
       "INSERT INTO jobs(id, tenant, state, request_id, body) VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO UPDATE SET "
       "tenant = excluded.tenant, state = excluded.state, request_id = excluded.request_id, body = excluded.body"},
  };
  for (size_t t = 0; t < kTableCount; ++t) {
    const TableSql& ts = kTables[t];
    if (t != static_cast<size_t>(Table::kJob)) {
      entries.push_back({&put_[t], fmt::format("INSERT INTO {0}({1}, {2}) VALUES(?1, ?2) ON CONFLICT({1}) DO UPDATE "
                                               "SET {2} = excluded.{2}",
                                               ts.name, ts.key, ts.body)});
    }
    entries.push_back({&erase_[t], fmt::format("DELETE FROM {} WHERE {} = ?1", ts.name, ts.key)});
    entries.push_back({&select_[t], fmt::format("SELECT {1}, {2} FROM {0} ORDER BY {1}", ts.name, ts.key, ts.body)});
  }
  for (Entry& e : entries) {
    if (!Prepare(e.sql, e.stmt, SQLITE_PREPARE_PERSISTENT)) return Fail(fmt::format("prepare '{}'", e.sql));
  }
  return Status::Ok();
}

Status SqliteStore::Validate(const Batch& batch) const {
  int64_t expect = last_seq_ + 1;
  for (const StoredEvent& e : batch.events) {
    if (e.seq != expect) {
      return Error::InvalidInput(url_, 0, "seq",
                                 fmt::format("event {} does not follow the last committed event {} (expected {}): "
                                             "a second writer or a bug; nothing was written",
                                             e.seq, expect - 1, expect));
    }
    ++expect;
  }
  for (const RowChange& r : batch.rows) {
    if (!ValidTable(r.table)) {
      return Error::InvalidInput(url_, 0, "table",
                                 fmt::format("unknown table {}; nothing was written", static_cast<int>(r.table)));
    }
    int64_t id;
    if (r.table == Table::kJob && !ParseJobKey(r.key, &id)) {
      return Error::InvalidInput(url_, 0, "key",
                                 fmt::format("job key '{}' is not a decimal id; nothing was written", r.key));
    }
  }
  return Status::Ok();
}

Status SqliteStore::Apply(const Batch& batch) {
  sqlite3_stmt* ins = insert_event_.get();
  for (const StoredEvent& e : batch.events) {
    bool ok = BindInt(ins, 1, e.seq) && BindInt(ins, 2, e.time) && BindText(ins, 3, e.type) &&
              BindInt(ins, 4, e.job) && BindText(ins, 5, e.tenant) && BindText(ins, 6, e.node) &&
              BindText(ins, 7, e.data) && StepDone(ins);
    if (!ok) return Fail(fmt::format("insert event {}", e.seq));
  }
  for (const RowChange& r : batch.rows) {
    size_t t = static_cast<size_t>(r.table);
    sqlite3_stmt* s = r.erase ? erase_[t].get() : put_[t].get();
    bool ok;
    if (r.table == Table::kJob) {
      int64_t id = 0;
      ParseJobKey(r.key, &id);  // checked by Validate
      ok = BindInt(s, 1, id) && (r.erase || (BindText(s, 2, r.tenant) && BindText(s, 3, r.state) &&
                                             BindText(s, 4, r.request_id) && BindText(s, 5, r.body)));
    } else {
      ok = BindText(s, 1, r.key) && (r.erase || BindText(s, 2, r.body));
    }
    if (!ok || !StepDone(s)) return Fail(fmt::format("{} {} '{}'", r.erase ? "erase" : "put", kTables[t].name, r.key));
  }
  return Status::Ok();
}

Status SqliteStore::Commit(const Batch& batch) {
  if (batch.empty()) return Status::Ok();
  if (Status s = Validate(batch); !s.ok()) return s;
  if (!StepDone(begin_.get())) return Rollback(Fail("begin"));
  if (Status s = Apply(batch); !s.ok()) return Rollback(s.error());
  if (!StepDone(commit_.get())) return Rollback(Fail("commit"));
  if (!batch.events.empty()) last_seq_ = batch.events.back().seq;
  return Status::Ok();
}

Result<Snapshot> SqliteStore::Load() {
  // One read transaction, so that the tables and last_seq agree even if
  // another connection writes meanwhile.
  if (Status s = Exec("BEGIN", "begin reading"); !s.ok()) return s.error();
  auto load = [&]() -> Result<Snapshot> {
    Snapshot snap;
    std::vector<StoredRow>* outs[kTableCount] = {&snap.jobs,   &snap.nodes,     &snap.tenants,
                                                 &snap.tokens, &snap.dedicated, &snap.meta};
    for (size_t t = 0; t < kTableCount; ++t) {
      sqlite3_stmt* s = select_[t].get();
      ResetOnExit reset(s);
      int rc;
      while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        std::string key = t == static_cast<size_t>(Table::kJob) ? std::to_string(sqlite3_column_int64(s, 0))
                                                                 : ColumnText(s, 0);
        outs[t]->push_back({std::move(key), ColumnText(s, 1)});
      }
      if (rc != SQLITE_DONE) return Fail(fmt::format("read {}", kTables[t].name));
    }
    Result<int64_t> last = QueryInt("SELECT coalesce(max(seq), 0) FROM events", "read the last event");
    if (!last.ok()) return last.error();
    snap.last_seq = *last;
    if (Status s = Exec("COMMIT", "end reading"); !s.ok()) return s.error();
    return snap;
  };
  Result<Snapshot> snap = load();
  if (!snap.ok()) return Rollback(snap.error());
  return snap;
}

Result<std::vector<StoredEvent>> SqliteStore::EventsSince(int64_t after, size_t limit, int64_t job) {
  sqlite3_stmt* s = job != 0 ? events_since_job_.get() : events_since_.get();
  ResetOnExit reset(s);
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  bool ok = BindInt(s, 1, after) && BindInt(s, 2, static_cast<int64_t>(std::min<uint64_t>(limit, kMax))) &&
            (job == 0 || BindInt(s, 3, job));
  if (!ok) return Fail("bind the events query");
  std::vector<StoredEvent> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    out.push_back({sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), ColumnText(s, 2), sqlite3_column_int64(s, 3),
                   ColumnText(s, 4), ColumnText(s, 5), ColumnText(s, 6)});
  }
  if (rc != SQLITE_DONE) return Fail(fmt::format("read events after {}", after));
  return out;
}

// The database path a URL names, or why it names none.
Result<std::string> SqlitePath(const std::string& url) {
  // A scheme is letters, digits, '+', '-' and '.' after a letter, then ':'.
  size_t n = 0;
  while (n < url.size() && (std::isalpha(static_cast<unsigned char>(url[n])) ||
                            (n > 0 && (std::isdigit(static_cast<unsigned char>(url[n])) || url[n] == '+' ||
                                       url[n] == '-' || url[n] == '.')))) {
    ++n;
  }
  std::string path = url;
  if (n > 0 && n < url.size() && url[n] == ':') {
    std::string scheme = url.substr(0, n);
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "sqlite") {
      // Only the scheme is named: the rest of such a URL may hold a password.
      return Error::InvalidInput("store URL", 0, "",
                                 fmt::format("unsupported store URL scheme '{}' (supported: sqlite:PATH; a file "
                                             "whose name has a colon: ./NAME)",
                                             scheme));
    }
    std::string_view rest = std::string_view(url).substr(n + 1);
    path = rest.substr(0, 2) == "//" ? rest.substr(2) : rest;
  }
  if (path.empty()) return Error::InvalidInput("store URL", 0, "", fmt::format("'{}' names no database file", url));
  return path;
}

}  // namespace

const char* TableName(Table t) { return ValidTable(t) ? kTables[static_cast<size_t>(t)].name : "unknown"; }

Result<std::unique_ptr<Store>> OpenStore(const std::string& url) {
  Result<std::string> path = SqlitePath(url);
  if (!path.ok()) return path.error();
  return SqliteStore::Open(*path);
}

}  // namespace rackscale::ctl
