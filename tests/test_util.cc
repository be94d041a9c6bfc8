#include "test_util.h"

#include <sstream>
#include <fstream>
#include <openssl/evp.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace rackscale::testing {

std::string TracePath(const std::string& relative) {
  const char* env = std::getenv("RACKSCALE_TRACES");
  std::string dir = env != nullptr && *env != '\0'
                        ? std::string(env)
                        : std::string(RACKSCALE_SOURCE_DIR) + "/../shared/traces";
  std::string path = dir + "/" + relative;
  return std::filesystem::exists(path) ? path : std::string();
}

bool TracesRequired() {
  const char* env = std::getenv("RACKSCALE_REQUIRE_TRACES");
  return env != nullptr && *env != '\0' && std::string(env) != "0";
}

Workload MakeWorkload(const std::vector<J>& jobs) {
  Workload w;
  w.tenants.emplace_back();
  w.format = TraceFormat::kCsv;
  int64_t line = 2;
  for (const J& j : jobs) {
    Job x;
    x.id = j.id;
    x.submit = j.submit;
    x.runtime = j.runtime;
    x.size = j.size;
    x.requested = j.requested;
    x.line = line++;
    w.jobs.push_back(x);
  }
  return w;
}

std::map<JobId, Seconds> Starts(const Workload& w, SlotCount slots, QueuePolicy policy) {
  FlatSimOptions o;
  o.slots = slots;
  o.policy = policy;
  FlatSimResult r = SimulateFlat(w, o).value();
  std::map<JobId, Seconds> out;
  for (size_t i = 0; i < w.jobs.size(); ++i) {
    const JobOutcome& x = r.outcomes[i];
    out[w.jobs[i].id] = x.status == JobStatus::kDone       ? x.start
                        : x.status == JobStatus::kRejected ? -1
                                                           : -2;
  }
  return out;
}

std::vector<Seconds> ReferenceStarts(const Workload& w, SlotCount slots, QueuePolicy policy) {
  struct Q {
    size_t idx;
    Seconds submit, runtime, wall;
    SlotCount size;
    JobId id;
  };
  struct Run {
    Seconds end, est_end;
    JobId id;
    SlotCount size;
  };
  std::vector<Seconds> start(w.jobs.size(), 0);
  std::vector<Q> pending;
  for (size_t i = 0; i < w.jobs.size(); ++i) {
    const Job& j = w.jobs[i];
    if (j.size <= 0 || j.runtime <= 0) {
      start[i] = -2;
    } else if (j.size > slots) {
      start[i] = -1;
    } else {
      Seconds wall = j.requested > 0 ? j.requested : j.runtime;
      wall = std::max(wall, j.runtime);
      pending.push_back(Q{i, j.submit, j.runtime, wall, j.size, j.id});
    }
  }
  std::sort(pending.begin(), pending.end(), [](const Q& a, const Q& b) {
    return a.submit != b.submit ? a.submit < b.submit : a.id < b.id;
  });
  std::vector<Q> queue;
  std::vector<Run> running;
  SlotCount free = slots;
  size_t next = 0;
  auto launch = [&](const Q& q, Seconds t) {
    start[q.idx] = t;
    free -= q.size;
    running.push_back(Run{t + q.runtime, t + q.wall, q.id, q.size});
  };
  while (next < pending.size() || !running.empty()) {
    // The next event time: the earliest submit or end.
    Seconds t = std::numeric_limits<Seconds>::max();
    if (next < pending.size()) t = pending[next].submit;
    for (const Run& r : running) t = std::min(t, r.end);
    // 1. Every job ending at t frees its slots.
    for (size_t k = 0; k < running.size();) {
      if (running[k].end == t) {
        free += running[k].size;
        running.erase(running.begin() + static_cast<long>(k));
      } else {
        ++k;
      }
    }
    // 2. Every job submitted at t joins the queue in (submit, id) order.
    while (next < pending.size() && pending[next].submit == t) queue.push_back(pending[next++]);
    // 3. One pass. FIFO part:
    while (!queue.empty() && queue.front().size <= free) {
      launch(queue.front(), t);
      queue.erase(queue.begin());
    }
    if (policy != QueuePolicy::kEasy || queue.empty()) continue;
    // EASY part: shadow time from running jobs in (estimated end, id) order.
    std::vector<Run> by_end = running;
    std::sort(by_end.begin(), by_end.end(), [](const Run& a, const Run& b) {
      return a.est_end != b.est_end ? a.est_end < b.est_end : a.id < b.id;
    });
    const Q head = queue.front();
    SlotCount avail = free;
    Seconds shadow = -1;
    for (const Run& r : by_end) {
      avail += r.size;
      if (avail >= head.size) {
        shadow = r.est_end;
        break;
      }
    }
    SlotCount extra = free - head.size;
    for (const Run& r : by_end) {
      if (r.est_end <= shadow) extra += r.size;
    }
    for (size_t k = 1; k < queue.size();) {
      const Q& q = queue[k];
      bool go = false;
      if (q.size <= free) {
        if (t + q.wall <= shadow) {
          go = true;
        } else if (q.size <= extra) {
          go = true;
          extra -= q.size;
        }
      }
      if (go) {
        launch(q, t);
        queue.erase(queue.begin() + static_cast<long>(k));
      } else {
        ++k;
      }
    }
  }
  return start;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

int RunCommand(const std::string& cmd, std::string* output) {
  std::string full = cmd + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  output->clear();
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {

// Removes the test's scratch directories when the test binary exits, unless
// RACKSCALE_KEEP_TEST_DIRS is set (to look at a failing test's files).
struct TempDirs {
  std::vector<std::string> dirs;
  ~TempDirs() {
    if (std::getenv("RACKSCALE_KEEP_TEST_DIRS") != nullptr) return;
    std::error_code ec;
    for (const std::string& d : dirs) std::filesystem::remove_all(d, ec);
  }
};
TempDirs& Scratch() {
  static TempDirs dirs;
  return dirs;
}

}  // namespace

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

FleetService RateCurveService(const std::string& tenant, int32_t gpus_per_replica, int32_t min_replicas,
                              int32_t max_replicas, const std::string& rate) {
  FleetService fs;
  fs.spec.name = "chat";
  fs.spec.tenant = tenant;
  fs.spec.gpus_per_replica = gpus_per_replica;
  fs.spec.tokens_per_s_per_replica = 5000;
  fs.spec.tokens_per_request = 1000;
  fs.spec.min_replicas = min_replicas;
  fs.spec.max_replicas = max_replicas;
  auto points = ParseRatePoints(rate, "test");
  if (!points) {
    ADD_FAILURE() << points.error().ToString();
    return fs;
  }
  auto curve = RateCurveDemand(*points, DemandOptions{});
  if (!curve) {
    ADD_FAILURE() << curve.error().ToString();
    return fs;
  }
  fs.demand = *curve;
  return fs;
}

std::string TempDir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string dir = fmt::format("{}/rackscale-test-{}-{}.{}",
                                std::filesystem::temp_directory_path().string(), getpid(),
                                info->test_suite_name(), info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Scratch().dirs.push_back(dir);
  return dir;
}

}  // namespace rackscale::testing
