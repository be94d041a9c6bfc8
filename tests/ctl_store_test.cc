// The SQLite Store: round trips, the event log's queries, refused batches,
// reopening and migrations, files it must refuse, a writer killed at random
// moments and a disk that fills up.
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "ctl/store.h"
#include "test_util.h"

namespace rackscale::ctl {
namespace {

#define ASSERT_OK(expr)                                   \
  do {                                                    \
    const auto& r_ = (expr);                              \
    ASSERT_TRUE(r_.ok()) << r_.error().ToString();        \
  } while (0)

std::unique_ptr<Store> MustOpen(const std::string& url) {
  Result<std::unique_ptr<Store>> s = OpenStore(url);
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

// The rows a query returns through a connection of its own: columns joined
// by '|', rows by '\n'; "ERROR: ..." if it fails.
std::string Query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  char* err = nullptr;
  if (rc == SQLITE_OK) {
    rc = sqlite3_exec(
        db, sql.c_str(),
        [](void* p, int n, char** values, char**) {
          auto* o = static_cast<std::string*>(p);
          if (!o->empty()) *o += '\n';
          for (int i = 0; i < n; ++i) *o += (i > 0 ? "|" : "") + std::string(values[i] ? values[i] : "NULL");
          return 0;
        },
        &out, &err);
  }
  if (rc != SQLITE_OK) out = "ERROR: " + std::string(err ? err : sqlite3_errmsg(db));
  sqlite3_free(err);
  sqlite3_close(db);
  return out;
}

StoredEvent Event(int64_t seq, int64_t job, std::string type, std::string data = "{}") {
  return StoredEvent{seq, 1764950000 + seq, std::move(type), job, job != 0 ? "t" + std::to_string(job % 2) : "",
                     seq % 4 == 0 ? "node-" + std::to_string(seq) : "", std::move(data)};
}

RowChange Put(Table t, std::string key, std::string body) {
  return RowChange{t, std::move(key), std::move(body), false, "", "", ""};
}
RowChange PutJob(std::string id, std::string tenant, std::string state, std::string request_id, std::string body) {
  return RowChange{Table::kJob, std::move(id), std::move(body), false, std::move(tenant), std::move(state),
                   std::move(request_id)};
}
RowChange Erase(Table t, std::string key) { return RowChange{t, std::move(key), "", true, "", "", ""}; }

using Rows = std::vector<std::pair<std::string, std::string>>;
Rows Pairs(const std::vector<StoredRow>& rows) {
  Rows out;
  for (const StoredRow& r : rows) out.emplace_back(r.key, r.body);
  return out;
}

std::string Str(const StoredEvent& e) {
  return fmt::format("{} {} {} {} {} {} {}", e.seq, e.time, e.type, e.job, e.tenant, e.node, e.data);
}
std::vector<std::string> Strs(const std::vector<StoredEvent>& events) {
  std::vector<std::string> out;
  for (const StoredEvent& e : events) out.push_back(Str(e));
  return out;
}
std::vector<int64_t> Seqs(const std::vector<StoredEvent>& events) {
  std::vector<int64_t> out;
  for (const StoredEvent& e : events) out.push_back(e.seq);
  return out;
}

// The batches of the crash and disk-full tests, chained so that a database
// can be checked for whole batches: events first..last, each naming `last`
// in its data (padded with `pad` bytes); a job row per event (id = seq, a
// request id of its own); node "n<last>" put and the previous batch's node
// erased; meta "last" = last.
Batch Chained(int64_t first, int n, size_t pad) {
  Batch b;
  int64_t last = first + n - 1;
  for (int64_t s = first; s <= last; ++s) {
    std::string data = fmt::format("{{\"last\":{},\"pad\":\"{}\"}}", last, std::string(pad, 'p'));
    b.events.push_back(Event(s, s, "job.submitted", std::move(data)));
    b.rows.push_back(
        PutJob(std::to_string(s), "t", "queued", "r" + std::to_string(s), fmt::format("{{\"seq\":{}}}", s)));
  }
  b.rows.push_back(Put(Table::kNode, "n" + std::to_string(last), "{}"));
  if (first > 1) b.rows.push_back(Erase(Table::kNode, "n" + std::to_string(first - 1)));
  b.rows.push_back(Put(Table::kMeta, "last", std::to_string(last)));
  return b;
}

// Opens the database at `path` anew (creating it if a writer was killed
// before it did) and checks that it holds whole Chained batches only:
// integrity_check ok, events 1..N dense, none naming a batch end beyond N,
// jobs 1..N, the one node "n<N>", meta last = N. Returns the first
// inconsistency ("" if none) and N in *last.
std::string WholeBatches(const std::string& path, int64_t* last) {
  Result<std::unique_ptr<Store>> store = OpenStore(path);
  if (!store.ok()) return "reopen: " + store.error().ToString();
  std::string integrity = Query(path, "PRAGMA integrity_check");
  if (integrity != "ok") return "integrity_check: " + integrity;
  Result<Snapshot> snap = (*store)->Load();
  if (!snap.ok()) return "load: " + snap.error().ToString();
  Result<std::vector<StoredEvent>> events = (*store)->EventsSince(0, SIZE_MAX);
  if (!events.ok()) return "events: " + events.error().ToString();
  int64_t n = snap->last_seq;
  if ((*store)->last_seq() != n) return fmt::format("last_seq() {} != Load's {}", (*store)->last_seq(), n);
  if (static_cast<int64_t>(events->size()) != n) return fmt::format("{} events up to seq {}", events->size(), n);
  if (static_cast<int64_t>(snap->jobs.size()) != n) return fmt::format("{} jobs for {} events", snap->jobs.size(), n);
  for (int64_t i = 0; i < n; ++i) {
    const StoredEvent& e = (*events)[i];
    if (e.seq != i + 1) return fmt::format("event {} where {} belongs", e.seq, i + 1);
    int64_t batch_last = 0;
    if (std::sscanf(e.data.c_str(), "{\"last\":%ld", &batch_last) != 1 || batch_last < e.seq || batch_last > n) {
      return fmt::format("event {} of a batch ending at {}, but the last event is {}", e.seq, batch_last, n);
    }
    if (snap->jobs[i].key != std::to_string(i + 1) || snap->jobs[i].body != fmt::format("{{\"seq\":{}}}", i + 1)) {
      return fmt::format("job row {} is '{}' '{}'", i + 1, snap->jobs[i].key, snap->jobs[i].body);
    }
  }
  Rows want_nodes, want_meta;
  if (n > 0) {
    want_nodes = {{"n" + std::to_string(n), "{}"}};
    want_meta = {{"last", std::to_string(n)}};
  }
  if (Pairs(snap->nodes) != want_nodes) return fmt::format("{} node rows, not node n{}", snap->nodes.size(), n);
  if (Pairs(snap->meta) != want_meta) return fmt::format("meta is not last = {}", n);
  *last = n;
  return "";
}

TEST(CtlStore, OpenStoreAcceptsSqliteUrlsAndBarePaths) {
  std::string dir = testing::TempDir();  // absolute
  for (const auto& [url, path] : std::vector<std::pair<std::string, std::string>>{
           {"sqlite:" + dir + "/a.db", dir + "/a.db"},
           {"sqlite://" + dir + "/b.db", dir + "/b.db"},  // sqlite:///abs/b.db
           {dir + "/c.db", dir + "/c.db"},
           {"SQLite:" + dir + "/d:e.db", dir + "/d:e.db"},
       }) {
    std::unique_ptr<Store> s = MustOpen(url);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->url(), "sqlite:" + path);
    EXPECT_EQ(s->schema_version(), 1);
    EXPECT_EQ(s->last_seq(), 0);
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << url;
  }
  // Relative paths are relative to the working folder.
  char cwd[PATH_MAX];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(chdir(dir.c_str()), 0);
  std::unique_ptr<Store> rel = MustOpen("sqlite:rel.db");
  std::unique_ptr<Store> rel2 = MustOpen("sqlite://rel2.db");
  ASSERT_EQ(chdir(cwd), 0);
  ASSERT_NE(rel, nullptr);
  ASSERT_NE(rel2, nullptr);
  EXPECT_EQ(rel->url(), "sqlite:rel.db");
  EXPECT_EQ(rel2->url(), "sqlite:rel2.db");
  EXPECT_EQ(Query(dir + "/rel2.db", "PRAGMA user_version"), "1");
  // A colon in a relative name: ./ keeps it from reading as a scheme.
  ASSERT_EQ(chdir(dir.c_str()), 0);
  std::unique_ptr<Store> colon = MustOpen("./f:g.db");
  ASSERT_EQ(chdir(cwd), 0);
  ASSERT_NE(colon, nullptr);
  EXPECT_EQ(colon->url(), "sqlite:./f:g.db");
}

TEST(CtlStore, OpenStoreRefusesOtherSchemesAndMissingFolders) {
  Result<std::unique_ptr<Store>> pg = OpenStore("postgres://rs:secret@db.example:5432/rackscale");
  ASSERT_FALSE(pg.ok());
  EXPECT_EQ(pg.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(pg.error().ToString().find("unsupported store URL scheme 'postgres'"), std::string::npos)
      << pg.error().ToString();
  EXPECT_EQ(pg.error().ToString().find("secret"), std::string::npos) << "a URL's password must not reach a log";
  Result<std::unique_ptr<Store>> typo = OpenStore("sqlit:s.db");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().ToString().find("unsupported store URL scheme 'sqlit'"), std::string::npos);

  EXPECT_FALSE(OpenStore("sqlite:").ok());
  EXPECT_FALSE(OpenStore("").ok());

  std::string dir = testing::TempDir();
  Result<std::unique_ptr<Store>> missing = OpenStore("sqlite:" + dir + "/missing/s.db");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kIo);
  EXPECT_EQ(missing.error().ToString(),
            fmt::format("sqlite:{0}/missing/s.db: folder '{0}/missing' does not exist", dir));
}

TEST(CtlStore, RoundTripOfEveryTableWithReplaceAndErase) {
  std::string dir = testing::TempDir();
  std::unique_ptr<Store> s = MustOpen("sqlite:" + dir + "/s.db");
  ASSERT_NE(s, nullptr);
  const std::string odd_body = "{\"name\":\"\\\"quoted\\\" ü\",\"nul\":\"a\\u0000b\"}";
  Batch b1;
  b1.events = {Event(1, 100, "job.submitted"), Event(2, 2, "job.submitted")};
  b1.rows = {
      PutJob("100", "t0", "queued", "req-a", "{\"id\":100}"),
      PutJob("2", "t0", "queued", "", "{\"id\":2}"),
      PutJob("10", "t1", "running", "", "{\"id\":10}"),
      Put(Table::kNode, "n1", "{\"gpus\":8}"),
      Put(Table::kNode, "n0", odd_body),
      Put(Table::kTenant, "t0", "{\"quota\":64}"),
      Put(Table::kTenant, "t1", "{}"),
      Put(Table::kToken, "tok-1", "{\"role\":\"admin\"}"),
      Put(Table::kToken, "tok-2", "{\"role\":\"agent\"}"),
      Put(Table::kDedicated, "d1", "{\"nodes\":[\"n1\"]}"),
      Put(Table::kMeta, "next_job_id", "101"),
  };
  ASSERT_OK(s->Commit(b1));
  EXPECT_EQ(s->last_seq(), 2);

  Batch b2;  // no events: rows only
  b2.rows = {
      PutJob("2", "t0", "running", "", "{\"id\":2,\"state\":\"running\"}"),  // replace
      Erase(Table::kJob, "10"),
      Erase(Table::kNode, "n1"),
      Erase(Table::kNode, "never-there"),
      Put(Table::kTenant, "t9", "{}"),  // put and erased in one batch: the later change wins
      Erase(Table::kTenant, "t9"),
      Put(Table::kToken, "tok-2", "{\"role\":\"tenant\"}"),
      Erase(Table::kToken, "tok-1"),
      Erase(Table::kDedicated, "d1"),
      Put(Table::kDedicated, "d2", "{}"),
      Put(Table::kMeta, "next_job_id", "102"),
      Put(Table::kMeta, "cluster", "prod"),
  };
  ASSERT_OK(s->Commit(b2));
  EXPECT_EQ(s->last_seq(), 2);

  Result<Snapshot> snap = s->Load();
  ASSERT_OK(snap);
  EXPECT_EQ(Pairs(snap->jobs), (Rows{{"2", "{\"id\":2,\"state\":\"running\"}"}, {"100", "{\"id\":100}"}}));
  EXPECT_EQ(Pairs(snap->nodes), (Rows{{"n0", odd_body}}));
  EXPECT_EQ(Pairs(snap->tenants), (Rows{{"t0", "{\"quota\":64}"}, {"t1", "{}"}}));
  EXPECT_EQ(Pairs(snap->tokens), (Rows{{"tok-2", "{\"role\":\"tenant\"}"}}));
  EXPECT_EQ(Pairs(snap->dedicated), (Rows{{"d2", "{}"}}));
  EXPECT_EQ(Pairs(snap->meta), (Rows{{"cluster", "prod"}, {"next_job_id", "102"}}));
  EXPECT_EQ(snap->last_seq, 2);
  // The jobs' columns, as an operator's query sees them.
  EXPECT_EQ(Query(dir + "/s.db", "SELECT id, tenant, state, request_id FROM jobs ORDER BY id"),
            "2|t0|running|\n100|t0|queued|req-a");
  EXPECT_EQ(Query(dir + "/s.db", "PRAGMA integrity_check"), "ok");
  EXPECT_STREQ(TableName(Table::kJob), "jobs");
  EXPECT_STREQ(TableName(Table::kDedicated), "dedicated");
  EXPECT_STREQ(TableName(Table::kMeta), "meta");
}

TEST(CtlStore, EventsSinceHonoursAfterLimitAndJob) {
  std::string dir = testing::TempDir();
  std::unique_ptr<Store> s = MustOpen("sqlite:" + dir + "/s.db");
  ASSERT_NE(s, nullptr);
  Batch b;
  for (int64_t seq = 1; seq <= 10; ++seq) {
    b.events.push_back(Event(seq, seq % 3, "job.event", fmt::format("{{\"n\":{}}}", seq)));
  }
  ASSERT_OK(s->Commit(b));
  Result<std::vector<StoredEvent>> all = s->EventsSince(0, 100);
  ASSERT_OK(all);
  EXPECT_EQ(Strs(*all), Strs(b.events));  // every field back
  EXPECT_EQ(Seqs(*s->EventsSince(4, 3)), (std::vector<int64_t>{5, 6, 7}));
  EXPECT_EQ(Seqs(*s->EventsSince(9, 100)), (std::vector<int64_t>{10}));
  EXPECT_TRUE(s->EventsSince(10, 100)->empty());
  EXPECT_TRUE(s->EventsSince(0, 0)->empty());
  EXPECT_EQ(s->EventsSince(0, SIZE_MAX)->size(), 10u);
  EXPECT_EQ(Seqs(*s->EventsSince(0, 100, 1)), (std::vector<int64_t>{1, 4, 7, 10}));
  EXPECT_EQ(Seqs(*s->EventsSince(0, 100, 2)), (std::vector<int64_t>{2, 5, 8}));
  EXPECT_EQ(Seqs(*s->EventsSince(4, 1, 2)), (std::vector<int64_t>{5}));
  EXPECT_TRUE(s->EventsSince(0, 100, 7)->empty());
  EXPECT_EQ(Strs(*s->EventsSince(3, 1, 1)), (std::vector<std::string>{Str(b.events[3])}));
}

TEST(CtlStore, CommitRefusesASeqGapAndWritesNothing) {
  std::string dir = testing::TempDir();
  std::unique_ptr<Store> s = MustOpen("sqlite:" + dir + "/s.db");
  ASSERT_NE(s, nullptr);
  Batch starts_at_2;
  starts_at_2.events = {Event(2, 0, "x")};
  EXPECT_FALSE(s->Commit(starts_at_2).ok()) << "a fresh store's first event is 1";

  Batch first;
  first.events = {Event(1, 0, "x"), Event(2, 0, "x"), Event(3, 0, "x")};
  ASSERT_OK(s->Commit(first));
  for (const std::vector<int64_t>& seqs : std::vector<std::vector<int64_t>>{{5}, {3}, {4, 6}, {4, 4}, {4, 5, 7}}) {
    Batch bad;
    for (int64_t seq : seqs) bad.events.push_back(Event(seq, 0, "x"));
    bad.rows = {Put(Table::kMeta, "k", "v"), PutJob("7", "t", "queued", "", "{}")};
    Status st = s->Commit(bad);
    ASSERT_FALSE(st.ok()) << fmt::format("{}", fmt::join(seqs, ","));
    EXPECT_EQ(st.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(st.error().field, "seq");
    EXPECT_EQ(s->last_seq(), 3);
  }
  for (const char* key : {"x", "007", "+7", "", "99999999999999999999"}) {
    Batch bad_key;
    bad_key.events = {Event(4, 0, "x")};
    bad_key.rows = {PutJob(key, "t", "queued", "", "{}")};
    Status st = s->Commit(bad_key);
    ASSERT_FALSE(st.ok()) << key;
    EXPECT_EQ(st.error().field, "key");
  }
  Result<Snapshot> snap = s->Load();
  ASSERT_OK(snap);
  EXPECT_TRUE(snap->meta.empty());
  EXPECT_TRUE(snap->jobs.empty());
  EXPECT_EQ(snap->last_seq, 3);
  EXPECT_EQ(Seqs(*s->EventsSince(0, 100)), (std::vector<int64_t>{1, 2, 3}));

  Batch next;
  next.events = {Event(4, 0, "x"), Event(5, 0, "x")};
  ASSERT_OK(s->Commit(next));
  EXPECT_EQ(s->last_seq(), 5);
}

TEST(CtlStore, AFailedCommitRollsBackAndTheStoreStaysUsable) {
  std::string dir = testing::TempDir();
  std::unique_ptr<Store> s = MustOpen("sqlite:" + dir + "/s.db");
  ASSERT_NE(s, nullptr);
  Batch first;
  first.events = {Event(1, 1, "job.submitted")};
  first.rows = {PutJob("1", "t0", "queued", "r1", "{}")};
  ASSERT_OK(s->Commit(first));

  // The second job reuses t0's request id: the unique index fails the
  // batch after its events and a node were written.
  Batch clash;
  clash.events = {Event(2, 2, "job.submitted"), Event(3, 0, "node.registered")};
  clash.rows = {Put(Table::kNode, "n1", "{}"), PutJob("2", "t0", "queued", "r1", "{}")};
  Status st = s->Commit(clash);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kIo);
  EXPECT_EQ(st.error().ToString(), fmt::format("sqlite:{}/s.db: put jobs '2': UNIQUE constraint failed: "
                                               "jobs.tenant, jobs.request_id",
                                               dir));
  EXPECT_EQ(s->last_seq(), 1);
  Result<Snapshot> snap = s->Load();
  ASSERT_OK(snap);
  EXPECT_TRUE(snap->nodes.empty());
  EXPECT_EQ(Pairs(snap->jobs), (Rows{{"1", "{}"}}));
  EXPECT_EQ(snap->last_seq, 1);

  clash.rows[1].request_id = "r2";
  ASSERT_OK(s->Commit(clash));
  EXPECT_EQ(s->last_seq(), 3);
  EXPECT_EQ(s->Load()->nodes.size(), 1u);
  // Another tenant may use the same request id; jobs without one never clash.
  Batch other;
  other.rows = {PutJob("3", "t1", "queued", "r1", "{}"), PutJob("4", "t0", "queued", "", "{}"),
                PutJob("5", "t0", "queued", "", "{}")};
  ASSERT_OK(s->Commit(other));
}

TEST(CtlStore, AnEmptyBatchIsANoOp) {
  std::string dir = testing::TempDir();
  std::unique_ptr<Store> s = MustOpen("sqlite:" + dir + "/s.db");
  ASSERT_NE(s, nullptr);
  ASSERT_OK(s->Commit(Batch{}));
  EXPECT_EQ(s->last_seq(), 0);
  EXPECT_EQ(Query(dir + "/s.db", "SELECT count(*) FROM events"), "0");
}

TEST(CtlStore, ReopenKeepsEverythingAndTheSchemaVersion) {
  std::string dir = testing::TempDir();
  std::string path = dir + "/s.db";
  int64_t before = std::time(nullptr);
  Snapshot saved;
  {
    std::unique_ptr<Store> s = MustOpen("sqlite:" + path);
    ASSERT_NE(s, nullptr);
    ASSERT_OK(s->Commit(Chained(1, 5, 10)));
    ASSERT_OK(s->Commit(Chained(6, 3, 10)));
    Result<Snapshot> snap = s->Load();
    ASSERT_OK(snap);
    saved = *snap;
  }
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<Store> s = MustOpen(path);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->schema_version(), 1);
    EXPECT_EQ(s->last_seq(), 8 + round * 2);
    if (round == 0) {
      Result<Snapshot> snap = s->Load();
      ASSERT_OK(snap);
      EXPECT_EQ(Pairs(snap->jobs), Pairs(saved.jobs));
      EXPECT_EQ(Pairs(snap->nodes), Pairs(saved.nodes));
      EXPECT_EQ(Pairs(snap->meta), Pairs(saved.meta));
      EXPECT_EQ(snap->last_seq, 8);
      EXPECT_EQ(s->EventsSince(0, 100)->size(), 8u);
    }
    ASSERT_OK(s->Commit(Chained(s->last_seq() + 1, 2, 10)));
  }
  int64_t n = 0;
  EXPECT_EQ(WholeBatches(path, &n), "");
  EXPECT_EQ(n, 12);
  // Migrated once, recorded with its time; WAL stays on in the file.
  EXPECT_EQ(Query(path, "PRAGMA user_version"), "1");
  EXPECT_EQ(Query(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(Query(path, "SELECT count(*), min(version) FROM migrations"), "1|1");
  int64_t applied = std::stoll(Query(path, "SELECT applied_at FROM migrations"));
  EXPECT_GE(applied, before);
  EXPECT_LE(applied, std::time(nullptr));
  // The partial job index serves EventsSince's per-job query (its WHERE,
  // with the parameters it binds).
  EXPECT_NE(Query(path, "EXPLAIN QUERY PLAN SELECT seq, time, type, job, tenant, node, data FROM events "
                        "WHERE job = ?3 AND job != 0 AND seq > ?1 ORDER BY seq LIMIT ?2")
                .find("USING INDEX events_job (job=? AND seq>?)"),
            std::string::npos);
}

TEST(CtlStore, ANewerOrUnknownSchemaIsRefusedAndTheFileLeftAlone) {
  std::string dir = testing::TempDir();
  std::string path = dir + "/s.db";
  ASSERT_NE(MustOpen(path), nullptr);
  ASSERT_EQ(Query(path, "PRAGMA user_version = 2"), "");
  std::string bytes = testing::Slurp(path);
  Result<std::unique_ptr<Store>> s = OpenStore("sqlite:" + path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().ToString(), fmt::format("sqlite:{}: schema version 2 is newer than this binary knows (1); "
                                              "run a newer rackscale",
                                              path));
  EXPECT_EQ(testing::Slurp(path), bytes);
  ASSERT_EQ(Query(path, "PRAGMA user_version = -1"), "");
  s = OpenStore(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().ToString(), fmt::format("sqlite:{}: schema version -1 is not one rackscale writes", path));
}

TEST(CtlStore, AFileThatIsNotADatabaseIsRefused) {
  std::string dir = testing::TempDir();
  for (size_t size : {size_t{10}, size_t{8192}}) {
    std::string path = dir + "/garbage-" + std::to_string(size);
    std::string text;
    while (text.size() < size) text += "this is not a database\n";
    text.resize(size);
    std::ofstream(path, std::ios::binary) << text;
    Result<std::unique_ptr<Store>> s = OpenStore("sqlite:" + path);
    ASSERT_FALSE(s.ok()) << size;
    EXPECT_EQ(s.error().kind, ErrorKind::kIo);
    EXPECT_EQ(s.error().ToString(), fmt::format("sqlite:{}: read the schema version: file is not a database", path));
    EXPECT_EQ(testing::Slurp(path), text);
  }
}

// The writer of the crash test: opens the store, writes its last seq to
// `fd`, then appends Chained batches of 1 to 64 events until it is killed,
// writing each committed batch's last seq to `fd`.
[[noreturn]] void CrashWriter(const std::string& path, int fd, unsigned seed) {
  alarm(30);  // an orphan does not outlive the test
  Result<std::unique_ptr<Store>> store = OpenStore(path);
  if (!store.ok()) _exit(3);
  std::mt19937 rng(seed);
  for (;;) {
    int64_t last = (*store)->last_seq();
    if (write(fd, &last, sizeof last) != sizeof last) _exit(4);
    int n = 1 + static_cast<int>(rng() % 64);
    if (!(*store)->Commit(Chained(last + 1, n, rng() % 200)).ok()) _exit(5);
  }
}

TEST(CtlStoreCrash, AWriterKilledAtRandomMomentsLeavesWholeBatches) {
  std::string path = testing::TempDir() + "/crash.db";
  std::mt19937 rng(20251206);
  int64_t committed = 0;
  for (int round = 0; round < 20; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      CrashWriter(path, fds[1], static_cast<unsigned>(round));
    }
    close(fds[1]);
    // Most kills land among the commits (a commit takes a few ms on a
    // disk); every fourth may land in the open too (WAL recovery, the
    // first migration).
    int64_t v;
    if (round % 4 != 0 && read(fds[0], &v, sizeof v) != sizeof v) ADD_FAILURE() << "the writer did not open";
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 30000));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the writer exited with status " << status;
    int64_t reported = committed;
    while (read(fds[0], &v, sizeof v) == sizeof v) reported = v;
    close(fds[0]);

    int64_t n = -1;
    ASSERT_EQ(WholeBatches(path, &n), "") << "round " << round;
    EXPECT_GE(n, reported) << "a commit the writer saw succeed is missing";
    EXPECT_LE(n, reported + 64) << "more than the one batch in flight appeared";
    committed = n;
  }
  EXPECT_GT(committed, 0) << "the writer never committed";
}

// A tmpfs of 600 KiB of its own, so that a disk fills quickly without
// touching anyone else's. Needs root and mount(2); skips otherwise.
class CtlStoreDiskFull : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
    dir_ = testing::TempDir() + "/tmpfs";
    ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0) << std::strerror(errno);
    if (mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=600k") != 0) {
      GTEST_SKIP() << "mount -t tmpfs failed: " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_ && umount(dir_.c_str()) != 0) {
      ADD_FAILURE() << "umount " << dir_ << ": " << std::strerror(errno);
      umount2(dir_.c_str(), MNT_DETACH);
    }
  }

  // Fills the tmpfs with the file `path` up to `leave` free bytes.
  void Fill(const std::string& path, size_t leave) {
    struct statvfs fs;
    ASSERT_EQ(statvfs(dir_.c_str(), &fs), 0);
    size_t free = static_cast<size_t>(fs.f_bavail) * fs.f_frsize;
    ASSERT_GT(free, leave);
    std::ofstream out(path, std::ios::binary);
    out << std::string(free - leave, 'f');
    out.close();
    ASSERT_TRUE(out.good()) << "write " << path;
  }

  // Commits Chained batches until one fails; returns that batch and error.
  void CommitUntilFull(Store* s, Batch* failed_batch, Status* failed) {
    for (int i = 0; i < 10000; ++i) {
      *failed_batch = Chained(s->last_seq() + 1, 8, 400);
      *failed = s->Commit(*failed_batch);
      if (!failed->ok()) return;
    }
    FAIL() << "the disk never filled";
  }

  std::string dir_;
  bool mounted_ = false;
};

TEST_F(CtlStoreDiskFull, AFullDiskFailsCommitsCleanlyAndFreeingSpaceRecovers) {
  std::string db = dir_ + "/s.db";
  std::unique_ptr<Store> s = MustOpen("sqlite:" + db);
  ASSERT_NE(s, nullptr);
  ASSERT_NO_FATAL_FAILURE(Fill(dir_ + "/filler", 160 << 10));
  Batch failed_batch;
  Status failed;
  ASSERT_NO_FATAL_FAILURE(CommitUntilFull(s.get(), &failed_batch, &failed));
  EXPECT_EQ(failed.error().kind, ErrorKind::kIo);
  EXPECT_NE(failed.error().ToString().find("sqlite:" + db + ": "), std::string::npos) << failed.error().ToString();
  EXPECT_NE(failed.error().message.find("database or disk is full"), std::string::npos) << failed.error().ToString();
  int64_t committed = s->last_seq();
  ASSERT_GT(committed, 0);
  ASSERT_EQ(committed + 1, failed_batch.events.front().seq);

  // Still full: failing again changes nothing; another connection sees
  // exactly the committed batches.
  EXPECT_FALSE(s->Commit(failed_batch).ok());
  EXPECT_EQ(s->last_seq(), committed);
  int64_t n = -1;
  EXPECT_EQ(WholeBatches(db, &n), "");
  EXPECT_EQ(n, committed);

  // Space freed: the same store commits again, the batch that failed first.
  ASSERT_EQ(unlink((dir_ + "/filler").c_str()), 0);
  ASSERT_OK(s->Commit(failed_batch));
  ASSERT_OK(s->Commit(Chained(s->last_seq() + 1, 8, 400)));

  // Full again, and the store closed while full (its checkpoint may fail
  // halfway): reopening gives exactly the committed batches.
  ASSERT_NO_FATAL_FAILURE(Fill(dir_ + "/filler2", 64 << 10));
  ASSERT_NO_FATAL_FAILURE(CommitUntilFull(s.get(), &failed_batch, &failed));
  EXPECT_NE(failed.error().message.find("full"), std::string::npos) << failed.error().ToString();
  committed = s->last_seq();
  s.reset();
  EXPECT_EQ(WholeBatches(db, &n), "");
  EXPECT_EQ(n, committed);

  ASSERT_EQ(unlink((dir_ + "/filler2").c_str()), 0);
  s = MustOpen(db);
  ASSERT_NE(s, nullptr);
  ASSERT_OK(s->Commit(failed_batch));
  committed = s->last_seq();
  s.reset();
  EXPECT_EQ(WholeBatches(db, &n), "");
  EXPECT_EQ(n, committed);
}

}  // namespace
}  // namespace rackscale::ctl
