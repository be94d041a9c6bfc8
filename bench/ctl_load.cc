// ctl_load: the control plane's load generator (bench/ctl-vs-slurm.sh runs
// it). C concurrent clients, each on its own keep-alive connection, submit
// N jobs between them (POST /v1/jobs, one job per request, each answered
// only once durable), timing every request; then, with --wait, it polls
// GET /v1/queue until nothing is pending or running. Prints one JSON object:
//   submitted, errors, submit_wall_s, submissions_per_s, latency_ms {p50, p99, max},
//   e2e_wall_s (first submission to the queue empty), e2e_jobs_per_s.
//
// Usage: ctl_load --server http://127.0.0.1:8642 --token T [--token T2 ...]
//                 [--jobs 100000] [--clients 8] [--gpus 1] [--duration 0] [--wait]
//                 [--admin-token A]   (for --wait: the queue of every tenant)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string server = "http://127.0.0.1:8642";
  std::vector<std::string> tokens;
  std::string admin;
  int64_t jobs = 100000;
  int clients = 8;
  int gpus = 1;
  int64_t duration = 0;
  bool wait = false;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "ctl_load: %s\nusage: ctl_load --server URL --token T [--token T2 ...] [--jobs N] [--clients C] "
               "[--gpus G] [--duration S] [--wait --admin-token A]\n",
               why);
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value for " + k).c_str());
      return argv[++i];
    };
    if (k == "--server") a.server = val();
    else if (k == "--token") a.tokens.push_back(val());
    else if (k == "--admin-token") a.admin = val();
    else if (k == "--jobs") a.jobs = std::stoll(val());
    else if (k == "--clients") a.clients = std::stoi(val());
    else if (k == "--gpus") a.gpus = std::stoi(val());
    else if (k == "--duration") a.duration = std::stoll(val());
    else if (k == "--wait") a.wait = true;
    else Usage(("unknown flag " + k).c_str());
  }
  if (a.tokens.empty()) Usage("no --token");
  if (a.jobs < 1 || a.clients < 1 || a.gpus < 1) Usage("--jobs, --clients and --gpus must be positive");
  if (a.wait && a.admin.empty()) Usage("--wait needs --admin-token");
  return a;
}

double Quantile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = Parse(argc, argv);
  std::atomic<int64_t> next{0}, errors{0};
  std::vector<std::vector<double>> lat(static_cast<size_t>(a.clients));
  std::string first_error;
  std::mutex err_mu;
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < a.clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client cli(a.server);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(60, 0);
      const std::string auth = "Bearer " + a.tokens[static_cast<size_t>(c) % a.tokens.size()];
      httplib::Headers h = {{"Authorization", auth}};
      auto& mine = lat[static_cast<size_t>(c)];
      for (;;) {
        const int64_t i = next.fetch_add(1);
        if (i >= a.jobs) break;
        const std::string body = fmt::format(
            R"({{"gpus":{},"time_limit_s":3600,"duration_s":{},"command":["true"],"request_id":"load-{}"}})", a.gpus,
            a.duration, i);
        const auto s = Clock::now();
        auto res = cli.Post("/v1/jobs", h, body, "application/json");
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
        if (!res || (res->status != 201 && res->status != 200)) {
          ++errors;
          std::lock_guard<std::mutex> lock(err_mu);
          if (first_error.empty()) {
            first_error = res ? fmt::format("HTTP {}: {}", res->status, res->body) : httplib::to_string(res.error());
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double submit_s = std::chrono::duration<double>(Clock::now() - t0).count();
  double e2e_s = 0;
  if (a.wait) {
    httplib::Client cli(a.server);
    httplib::Headers h = {{"Authorization", "Bearer " + a.admin}};
    for (;;) {
      auto res = cli.Get("/v1/queue", h);
      if (res && res->status == 200) {
        auto q = nlohmann::json::parse(res->body, nullptr, false);
        int64_t open = 0;
        if (!q.is_discarded()) {
          for (const auto& t : q["tenants"]) open += t.value("pending", 0) + t.value("running", 0);
        }
        if (open == 0) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    e2e_s = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  nlohmann::json out = {{"submitted", a.jobs},
                        {"clients", a.clients},
                        {"errors", errors.load()},
                        {"submit_wall_s", submit_s},
                        {"submissions_per_s", static_cast<double>(a.jobs) / submit_s},
                        {"latency_ms", {{"p50", Quantile(all, 0.5)}, {"p99", Quantile(all, 0.99)},
                                        {"max", all.empty() ? 0 : *std::max_element(all.begin(), all.end())}}}};
  if (a.wait) {
    out["e2e_wall_s"] = e2e_s;
    out["e2e_jobs_per_s"] = static_cast<double>(a.jobs) / e2e_s;
  }
  if (!first_error.empty()) out["first_error"] = first_error;
  std::printf("%s\n", out.dump().c_str());
  return errors.load() == 0 ? 0 : 1;
}
