// The clients of `rackscale serve` (ctl/client.h, cli/cmd_client.cc):
// settings resolution, URL checks, exit codes, tables, and the commands
// driven as the binary against an in-process fake server that records what
// it is sent.
#include <gtest/gtest.h>

#include <httplib.h>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/client.h"
#include "cli/commands.h"
#include "ctl/client.h"
#include "ctl/server.h"
#include "test_util.h"

namespace rackscale {
namespace {

using nlohmann::json;

const std::string kAdmin = "rsa_" + std::string(64, 'a');
const std::string kTenant = "rst_" + std::string(64, 'b');
const std::string kOther = "rst_" + std::string(64, 'c');

void Write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// ---------------------------------------------------------------------------
// Settings: flags > environment > config file > default.

TEST(CtlClient, SettingsPrecedenceFlagsThenEnvironmentThenFile) {
  const std::string dir = testing::TempDir();
  const std::string config = dir + "/config.toml";
  Write(config, "server = \"http://file:1\"\ntoken = \"" + kOther + "\"\n");
  ctl::ClientSources s;
  s.server_flag = "http://flag:3";
  s.token_flag = kAdmin;
  s.env_server = "http://env:2";
  s.env_token = kTenant;
  s.env_config = config;
  Result<ctl::ClientSettings> r = ctl::ResolveClientSettings(s);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->server, "http://flag:3");
  EXPECT_EQ(r->server_from, "--server");
  EXPECT_EQ(r->token, kAdmin);
  EXPECT_EQ(r->token_from, "--token");
  // Without flags: the environment.
  s.server_flag.clear();
  s.token_flag.clear();
  r = ctl::ResolveClientSettings(s);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->server, "http://env:2");
  EXPECT_EQ(r->server_from, "RACKSCALE_SERVER");
  EXPECT_EQ(r->token, kTenant);
  EXPECT_EQ(r->token_from, "RACKSCALE_TOKEN");
  // Without either: the file.
  s.env_server.clear();
  s.env_token.clear();
  r = ctl::ResolveClientSettings(s);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->server, "http://file:1");
  EXPECT_EQ(r->server_from, config);
  EXPECT_EQ(r->token, kOther);
  EXPECT_EQ(r->token_from, config);
  // Each setting on its own: a flag for the server, the file for the token.
  s.server_flag = "http://flag:3";
  r = ctl::ResolveClientSettings(s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->server, "http://flag:3");
  EXPECT_EQ(r->token, kOther);
  // --token-file beats the environment.
  Write(dir + "/tok", "\n  " + kAdmin + "\r\n");
  s.token_file_flag = dir + "/tok";
  s.env_token = kTenant;
  r = ctl::ResolveClientSettings(s);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->token, kAdmin);
  EXPECT_EQ(r->token_from, dir + "/tok");
}

TEST(CtlClient, SettingsDefaultsAndTheDefaultConfigFile) {
  const std::string home = testing::TempDir();
  ctl::ClientSources s;
  s.home = home;
  s.env_token = kTenant;
  // No config file at all: the default server.
  Result<ctl::ClientSettings> r = ctl::ResolveClientSettings(s);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->server, "http://127.0.0.1:8642");
  EXPECT_EQ(r->server_from, "default");
  // $HOME/.config/rackscale/config.toml, with token_file relative to it and ~/.
  std::filesystem::create_directories(home + "/.config/rackscale");
  Write(home + "/.config/rackscale/config.toml", "server = \"https://ctl.example/rs/\"\ntoken_file = \"t.token\"\n");
  Write(home + "/.config/rackscale/t.token", kAdmin + "\n");
  s.env_token.clear();
  r = ctl::ResolveClientSettings(s);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->server, "https://ctl.example/rs/");
  EXPECT_EQ(r->token, kAdmin);
  EXPECT_EQ(r->token_from, home + "/.config/rackscale/t.token");
  Write(home + "/.config/rackscale/config.toml", "token_file = \"~/elsewhere.token\"\n");
  Write(home + "/elsewhere.token", kTenant);
  r = ctl::ResolveClientSettings(s);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->token, kTenant);
  EXPECT_EQ(r->server, "http://127.0.0.1:8642");
}

TEST(CtlClient, SettingsErrorsNameTheirSourceAndNeverTheToken) {
  const std::string dir = testing::TempDir();
  ctl::ClientSources s;
  s.home = dir;
  // No token anywhere: the three ways to give one.
  Result<ctl::ClientSettings> r = ctl::ResolveClientSettings(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  for (const char* way : {"--token", "--token-file", "RACKSCALE_TOKEN", dir.c_str(), "config.toml"}) {
    EXPECT_NE(r.error().ToString().find(way), std::string::npos) << way << ": " << r.error().ToString();
  }
  // A malformed token, named by its source, not echoed.
  const std::string bad = "rsa_" + std::string(63, 'a') + "Z";
  s.env_token = bad;
  r = ctl::ResolveClientSettings(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().ToString().find("RACKSCALE_TOKEN"), std::string::npos) << r.error().ToString();
  EXPECT_EQ(r.error().ToString().find(bad), std::string::npos);
  // Both --token and --token-file.
  s.env_token.clear();
  s.token_flag = kAdmin;
  s.token_file_flag = dir + "/t";
  r = ctl::ResolveClientSettings(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().ToString().find("not both"), std::string::npos);
  s.token_file_flag.clear();
  // RACKSCALE_CONFIG must exist.
  s.token_flag.clear();
  s.env_config = dir + "/missing.toml";
  r = ctl::ResolveClientSettings(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kIo);
  EXPECT_NE(r.error().ToString().find("missing.toml"), std::string::npos);
  // Unknown keys, wrong types, bad URLs and token + token_file: file, line, key.
  struct Case {
    std::string text, want;
  };
  for (const Case& c : std::vector<Case>{
           {"server = \"http://h:1\"\ntokn = \"x\"\n", "c.toml:2: field 'tokn': unknown key"},
           {"server = 8642\n", "c.toml:1: field 'server': expected a string"},
           {"\nserver = \"h:8642\"\n", "c.toml:2: field 'server': expected http://HOST[:PORT]"},
           {"token = \"" + kAdmin + "\"\ntoken_file = \"t\"\n", "c.toml:2: field 'token_file': give token or"},
           {"token = \"nope\"\n", "c.toml:1: field 'token': not a rackscale token"},
       }) {
    Write(dir + "/c.toml", c.text);
    s.env_config = dir + "/c.toml";
    r = ctl::ResolveClientSettings(s);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().ToString().find(c.want), std::string::npos) << c.text << "\n" << r.error().ToString();
  }
  // A broken config file is not read when the flags settle everything.
  s.server_flag = "http://h:1";
  s.token_flag = kAdmin;
  r = ctl::ResolveClientSettings(s);
  EXPECT_TRUE(r.ok());
  // A token file that is not a token (a binary file, an empty one).
  s.token_flag.clear();
  Write(dir + "/bin", std::string("\x01\x02\x00\xff", 4));
  s.token_file_flag = dir + "/bin";
  r = ctl::ResolveClientSettings(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().ToString().find(dir + "/bin: token file: not a rackscale token"), std::string::npos)
      << r.error().ToString();
}

TEST(CtlClient, ServerUrls) {
  std::string origin, prefix, why;
  struct Good {
    const char* url;
    const char* origin;
    const char* prefix;
  };
  for (const Good& g :
       std::vector<Good>{{"http://127.0.0.1:8642", "http://127.0.0.1:8642", ""},
                         {"http://ctl", "http://ctl", ""},
                         {"https://ctl.example.com/", "https://ctl.example.com", ""},
                         {"https://ctl.example.com:443/rackscale/", "https://ctl.example.com:443", "/rackscale"},
                         {"http://[::1]:8642", "http://[::1]:8642", ""}}) {
    EXPECT_TRUE(ctl::ParseServerUrl(g.url, &origin, &prefix, &why)) << g.url << ": " << why;
    EXPECT_EQ(origin, g.origin) << g.url;
    EXPECT_EQ(prefix, g.prefix) << g.url;
  }
  for (const char* bad :
       {"", "127.0.0.1:8642", "ftp://h", "http://", "http://:80", "http://h:", "http://h:0", "http://h:99999",
        "http://h:8a", "http://u:p@h", "http://h/x?y=1", "http://h h", "http://[::1", "http://[zz]:1"}) {
    EXPECT_FALSE(ctl::ParseServerUrl(bad, &origin, &prefix, &why)) << bad;
    EXPECT_NE(why.find("expected http://HOST[:PORT]"), std::string::npos) << bad << ": " << why;
  }
}

TEST(CtlClient, ExitCodesFromHttpStatuses) {
  EXPECT_EQ(ExitCodeForStatus(200), kExitOk);
  EXPECT_EQ(ExitCodeForStatus(201), kExitOk);
  EXPECT_EQ(ExitCodeForStatus(400), kExitBadInput);
  EXPECT_EQ(ExitCodeForStatus(413), kExitBadInput);
  EXPECT_EQ(ExitCodeForStatus(401), kExitServer);
  EXPECT_EQ(ExitCodeForStatus(403), kExitServer);
  EXPECT_EQ(ExitCodeForStatus(404), kExitNotFound);
  EXPECT_EQ(ExitCodeForStatus(409), kExitConflict);
  for (int s : {405, 410, 500, 502, 503, 302}) EXPECT_EQ(ExitCodeForStatus(s), kExitFailure) << s;
  EXPECT_EQ(kExitServer, 3);
  EXPECT_EQ(kExitNotFound, 4);
  EXPECT_EQ(kExitConflict, 5);
}

TEST(CtlClient, TablesAndTimes) {
  // Numbers and elapsed times to the right, text to the left; widths in code points (é is one).
  EXPECT_EQ(FormatTable({"ID", "NAME", "TIME"}, {{"7", "train", "1:02:03"}, {"1234", "é-long-name", "0:05"}}),
            "  ID  NAME            TIME\n"
            "   7  train        1:02:03\n"
            "1234  é-long-name     0:05\n");
  // Empty cells do not make a column textual; a short row is padded; no trailing spaces.
  EXPECT_EQ(FormatTable({"A", "B", "C"}, {{"x", "", "1"}, {"yy", "2"}}),
            "A   B  C\n"
            "x      1\n"
            "yy  2\n");
  // No header: key-value listings.
  EXPECT_EQ(FormatTable({}, {{"id", "42"}, {"state", "running"}}), "id     42\nstate  running\n");
  EXPECT_EQ(FormatTable({"ID"}, {}), "ID\n");
  // "-" (none) among numbers stays right; index ranges are text.
  EXPECT_EQ(FormatTable({"N", "GPUS"}, {{"-", "0-3,6"}, {"12", "0-7"}, {"-1.5", "4"}}),
            "   N  GPUS\n   -  0-3,6\n  12  0-7\n-1.5  4\n");
  EXPECT_EQ(FormatElapsed(0), "0:00");
  EXPECT_EQ(FormatElapsed(-5), "0:00");
  EXPECT_EQ(FormatElapsed(245), "4:05");
  EXPECT_EQ(FormatElapsed(3723), "1:02:03");
  EXPECT_EQ(FormatElapsed(2 * 86400 + 3 * 3600 + 4 * 60 + 5), "2-03:04:05");
  EXPECT_EQ(FormatUnixTime(0), "-");
  EXPECT_EQ(FormatUnixTime(1764950000), "2025-12-05T15:53:20Z");
  EXPECT_EQ(FormatIndexRanges({0, 1, 2, 3, 6}), "0-3,6");
  EXPECT_EQ(FormatIndexRanges({5}), "5");
  EXPECT_EQ(FormatIndexRanges({}), "");
  EXPECT_EQ(Cell(json(nullptr)), "");
  EXPECT_EQ(Cell(json("x")), "x");
  EXPECT_EQ(Cell(json(true)), "true");
  EXPECT_EQ(Cell(json::array({1, 2})), "[1,2]");
}

// ---------------------------------------------------------------------------
// The commands against a fake server.

// An HTTP server on an ephemeral port of 127.0.0.1 that records every
// request and answers with `handler`.
class FakeServer {
 public:
  struct Request {
    std::string method, path, query, body, authorization;
    std::multimap<std::string, std::string> params;
  };
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    auto record = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        Request r{req.method, req.path, "", req.body, req.get_header_value("Authorization"), {}};
        for (const auto& [k, v] : req.params) r.params.emplace(k, v);
        requests_.push_back(std::move(r));
      }
      handler_(req, res);
    };
    server_.Get(".*", record);
    server_.Post(".*", record);
    server_.Put(".*", record);
    server_.Delete(".*", record);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  Handler handler_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Request> requests_;
};

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void ReplyError(httplib::Response& res, int status, const std::string& code, const std::string& message,
                const std::string& field) {
  Reply(res, status, {{"error", {{"code", code}, {"message", message}, {"field", field}}}});
}

json Job(int64_t id, const std::string& state) {
  return {{"id", id},
          {"name", fmt::format("job-{}", id)},
          {"tenant", "t0"},
          {"state", state},
          {"gpus", 8},
          {"nodes", 0},
          {"reason", ""},
          {"attempt", state == "pending" ? 0 : 1},
          {"submit_time", 100},
          {"start_time", state == "pending" ? 0 : 200},
          {"end_time", 0},
          {"placement", state == "pending" ? json::array()
                                           : json::array({{{"node", "east-d0000-n00"},
                                                           {"gpus", {0, 1, 2, 3, 4, 5, 6, 7}},
                                                           {"rank", 0},
                                                           {"phase", "running"}}})}};
}

// Runs the binary with a clean environment (no RACKSCALE_*, HOME a scratch
// directory) and `args`; stdout in *out, stderr in *err.
class CtlClientCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir();
    std::filesystem::create_directories(dir_ + "/home");
  }
  int Run(const std::string& args, std::string* out, std::string* err, const std::string& env = "") {
    const std::string cmd = fmt::format(
        "(env -u RACKSCALE_SERVER -u RACKSCALE_TOKEN -u RACKSCALE_CONFIG HOME={}/home {} {} {} >{}/out 2>{}/err)", dir_,
        env, RACKSCALE_BIN, args, dir_, dir_);
    std::string ignored;
    const int rc = testing::RunCommand(cmd, &ignored);
    *out = testing::Slurp(dir_ + "/out");
    *err = testing::Slurp(dir_ + "/err");
    return rc;
  }
  std::string dir_;
};

TEST_F(CtlClientCli, JobSubmitSendsTheFlagsAsTheJsonBody) {
  FakeServer fake([](const httplib::Request&, httplib::Response& res) {
    json j = Job(42, "pending");
    Reply(res, 201, j);
  });
  std::string out, err;
  const std::string conn = fmt::format("--server {} --token {}", fake.url(), kTenant);
  ASSERT_EQ(Run("job submit " + conn +
                    " --gpus 16 --topology domain --gpu-model H100 --priority -5 --preemptible --time-limit "
                    "2-00:00:00 --checkpoint 30m --on-node-lost requeue --env EPOCHS=3 --env 'X=a b=c' "
                    "--duration 90s --name pretrain --request-id r-1 -- python train.py --lr '3e-4'",
                &out, &err),
            0)
      << err;
  EXPECT_EQ(out, "Submitted job 42\n");
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].path, "/v1/jobs");
  EXPECT_EQ(reqs[0].authorization, "Bearer " + kTenant);
  const json want = {{"gpus", 16},
                     {"topology", "domain"},
                     {"gpu_model", "H100"},
                     {"priority", -5},
                     {"preemptible", true},
                     {"time_limit_s", 172800},
                     {"checkpoint_s", 1800},
                     {"on_node_lost", "requeue"},
                     {"env", {{"EPOCHS", "3"}, {"X", "a b=c"}}},
                     {"duration_s", 90},
                     {"name", "pretrain"},
                     {"request_id", "r-1"},
                     {"command", {"python", "train.py", "--lr", "3e-4"}}};
  EXPECT_EQ(json::parse(reqs[0].body), want) << reqs[0].body;

  // --file is the base; flags override its fields and add to its env. --json prints the job.
  const std::string file = dir_ + "/job.json";
  Write(file, R"({"gpus": 8, "time_limit_s": 60, "env": {"A": "1"}, "command": ["sleep", "5"], "cpus": 0})");
  ASSERT_EQ(Run("job submit " + conn + " --file " + file + " --gpus 4 --env B=2 --json", &out, &err), 0) << err;
  EXPECT_EQ(json::parse(out)["id"], 42);
  reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(json::parse(reqs[1].body), json::parse(R"({"gpus": 4, "time_limit_s": 60, "env": {"A": "1", "B": "2"},
                                                       "command": ["sleep", "5"], "cpus": 0})"));
  // A file that is not a JSON object: exit 2, nothing sent.
  Write(file, "[1, 2]");
  EXPECT_EQ(Run("job submit " + conn + " --file " + file, &out, &err), 2);
  EXPECT_NE(err.find(file + ": expected a JSON object"), std::string::npos) << err;
  EXPECT_EQ(fake.requests().size(), 2u);
}

TEST_F(CtlClientCli, ErrorAnswersMapToExitCodesWithTheFieldAndItsFlag) {
  int status = 400;
  FakeServer fake([&status](const httplib::Request&, httplib::Response& res) {
    switch (status) {
      case 400: return ReplyError(res, 400, "invalid_argument", "expected 1 to 1048576", "gpus");
      case 401: return ReplyError(res, 401, "unauthenticated", "a valid bearer token is required", "");
      case 403: return ReplyError(res, 403, "permission_denied", "only an admin", "");
      case 404: return ReplyError(res, 404, "not_found", "no job 9", "");
      case 409: return ReplyError(res, 409, "conflict", "more GPUs than the fleet has", "");
      case 502: res.status = 502; return res.set_content("<html>bad gateway</html>", "text/html");
      default: return ReplyError(res, status, "unavailable", "the store refused a commit", "");
    }
  });
  const std::string submit =
      fmt::format("job submit --server {} --token {} --time-limit 1h --gpus 1", fake.url(), kTenant);
  std::string out, err;
  EXPECT_EQ(Run(submit, &out, &err), 2);
  EXPECT_EQ(err, "rackscale: error: field 'gpus' (--gpus): expected 1 to 1048576 (HTTP 400 invalid_argument)\n");
  EXPECT_EQ(out, "");
  const std::map<int, int> want = {{401, 3}, {403, 3}, {404, 4}, {409, 5}, {503, 1}, {500, 1}, {502, 1}};
  for (const auto& [s, rc] : want) {
    status = s;
    EXPECT_EQ(Run(submit, &out, &err), rc) << s << ": " << err;
    EXPECT_EQ(err.rfind("rackscale: error: ", 0), 0u) << err;
    EXPECT_NE(err.find(fmt::format("HTTP {}", s)), std::string::npos) << err;
  }
  status = 502;
  Run(submit, &out, &err);
  EXPECT_NE(err.find("not in the API's error format: <html>bad gateway</html>"), std::string::npos) << err;
  status = 401;
  Run(submit, &out, &err);
  EXPECT_NE(err.find("check the token"), std::string::npos) << err;
  // A server nobody listens on: exit 3, naming it.
  EXPECT_EQ(Run(fmt::format("job list --server http://127.0.0.1:9 --token {}", kTenant), &out, &err), 3);
  EXPECT_NE(err.find("http://127.0.0.1:9: GET /v1/jobs: cannot connect"), std::string::npos) << err;
  // No token: exit 2 with the three ways.
  EXPECT_EQ(Run(fmt::format("job list --server {}", fake.url()), &out, &err), 2);
  EXPECT_NE(err.find("no token: give --token"), std::string::npos) << err;
}

TEST_F(CtlClientCli, JobListFollowsCursorsWithAll) {
  // Three pages of two jobs: cursor "" -> 1,2 (next 2) -> 3,4 (next 4) -> 5.
  FakeServer fake([](const httplib::Request& req, httplib::Response& res) {
    const int64_t after = req.has_param("cursor") ? std::stoll(req.get_param_value("cursor")) : 0;
    json jobs = json::array();
    for (int64_t id = after + 1; id <= std::min<int64_t>(after + 2, 5); ++id) jobs.push_back(Job(id, "pending"));
    json page = {{"jobs", jobs}};
    if (after + 2 < 5) page["next_cursor"] = std::to_string(after + 2);
    Reply(res, 200, page);
  });
  const std::string conn = fmt::format("--server {} --token {}", fake.url(), kAdmin);
  std::string out, err;
  ASSERT_EQ(Run("job list --all --limit 2 --state pending,running --tenant t0 " + conn, &out, &err), 0) << err;
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 3u);
  const std::vector<std::string> cursors = {"", "2", "4"};
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].path, "/v1/jobs");
    auto p = reqs[i].params;
    EXPECT_EQ(p.count("cursor") ? p.find("cursor")->second : "", cursors[i]);
    EXPECT_EQ(p.find("limit")->second, "2");
    EXPECT_EQ(p.find("state")->second, "pending,running");
    EXPECT_EQ(p.find("tenant")->second, "t0");
  }
  EXPECT_EQ(out,
            "ID  TENANT  NAME   STATE    GPUS  NODES  TIME  REASON\n"
            " 1  t0      job-1  pending     8         0:00\n"
            " 2  t0      job-2  pending     8         0:00\n"
            " 3  t0      job-3  pending     8         0:00\n"
            " 4  t0      job-4  pending     8         0:00\n"
            " 5  t0      job-5  pending     8         0:00\n");
  // --json: one object with every page's jobs.
  ASSERT_EQ(Run("job list --all --limit 2 --json " + conn, &out, &err), 0) << err;
  const json j = json::parse(out);
  ASSERT_EQ(j["jobs"].size(), 5u);
  EXPECT_EQ(j["jobs"][4]["id"], 5);
  EXPECT_FALSE(j.contains("more"));
  // Without --all: the first page, and a note that more follow.
  ASSERT_EQ(Run("job list --limit 2 " + conn, &out, &err), 0) << err;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
  EXPECT_NE(err.find("more jobs follow: --all"), std::string::npos) << err;
  // --fields: the server is asked for them; they are the columns.
  ASSERT_EQ(Run("job list --limit 2 --fields state,submit_time " + conn, &out, &err), 0) << err;
  EXPECT_EQ(fake.requests().back().params.find("fields")->second, "state,submit_time");
  EXPECT_EQ(out.substr(0, out.find('\n')), "ID  STATE    SUBMIT_TIME");
  EXPECT_NE(out.find("1  pending  1970-01-01T00:01:40Z"), std::string::npos) << out;
}

TEST_F(CtlClientCli, JobListStopsWhenTheCursorDoesNotAdvance) {
  FakeServer fake([](const httplib::Request&, httplib::Response& res) {
    Reply(res, 200, {{"jobs", json::array({Job(1, "pending")})}, {"next_cursor", "1"}});
  });
  std::string out, err;
  EXPECT_EQ(Run(fmt::format("job list --all --server {} --token {}", fake.url(), kAdmin), &out, &err), 1);
  EXPECT_NE(err.find("next_cursor '1' did not advance"), std::string::npos) << err;
  EXPECT_EQ(fake.requests().size(), 2u);
}

TEST_F(CtlClientCli, QueueShowsTenantsThenPendingAndRunningJobs) {
  FakeServer fake([](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/v1/queue") {
      return Reply(res, 200,
                   {{"tenants",
                     {{{"tenant", "t0"}, {"pending", 1}, {"running", 1}, {"gpus_pending", 8}, {"gpus_running", 8}},
                      {{"tenant", "t1"}, {"pending", 0}, {"running", 0}, {"gpus_pending", 0}, {"gpus_running", 0}}}}});
    }
    json waiting = Job(2, "pending");
    waiting["reason"] = "quota";
    Reply(res, 200, {{"jobs", {Job(1, "running"), waiting}}});
  });
  std::string out, err;
  ASSERT_EQ(Run(fmt::format("queue --tenant t0 --server {} --token {}", fake.url(), kAdmin), &out, &err), 0) << err;
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].params.find("state")->second, "pending,running");
  EXPECT_EQ(reqs[1].params.find("tenant")->second, "t0");
  // The tenant table (t1 left out), then the jobs; the running job's time is elapsed since its start.
  EXPECT_EQ(out.substr(0, out.find("\n\n") + 2),
            "TENANT  PENDING  RUNNING  GPUS_PENDING  GPUS_RUNNING\n"
            "t0            1        1             8             8\n\n");
  EXPECT_NE(out.find("ID  TENANT  NAME   STATE    GPUS  NODES"), std::string::npos) << out;
  EXPECT_NE(out.find(" 1  t0      job-1  running     8      1  "), std::string::npos) << out;
  EXPECT_NE(out.find(" 2  t0      job-2  pending     8  "), std::string::npos) << out;
  EXPECT_NE(out.find(" 0:00  quota\n"), std::string::npos) << out;
}

TEST_F(CtlClientCli, JobShowCancelEventsAndExport) {
  FakeServer fake([](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/v1/jobs/7") {
      json j = Job(7, "running");
      j["command"] = {"python", "train.py", "--note", "it's"};
      j["time_limit_s"] = 3600;
      return Reply(res, 200, j);
    }
    if (req.path == "/v1/jobs/7/cancel") return Reply(res, 200, Job(7, "cancelled"));
    if (req.path == "/v1/jobs/8/cancel") return ReplyError(res, 409, "conflict", "job 8 already succeeded", "");
    if (req.path == "/v1/jobs/7/events") {
      return Reply(res, 200,
                   {{"events",
                     {{{"seq", 3},
                       {"time", 100},
                       {"type", "job.submitted"},
                       {"job", 7},
                       {"node", ""},
                       {"data", json::object()}}}}});
    }
    if (req.path == "/v1/export") {
      res.set_content("{\"seq\":4}\n{\"seq\":5}\n", "application/x-ndjson");
      return;
    }
    ReplyError(res, 404, "not_found", "no route", "");
  });
  const std::string conn = fmt::format("--server {} --token {}", fake.url(), kAdmin);
  std::string out, err;
  ASSERT_EQ(Run("job show 7 " + conn, &out, &err), 0) << err;
  EXPECT_NE(out.find("id            7\n"), std::string::npos) << out;
  EXPECT_NE(out.find("time_limit_s  3600 (1h)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("command       python train.py --note 'it'\\''s'\n"), std::string::npos) << out;
  EXPECT_NE(out.find("submit_time   1970-01-01T00:01:40Z\n"), std::string::npos) << out;
  EXPECT_NE(out.find("placement:\nRANK  NODE            GPUS  PHASE    LOG\n   0  east-d0000-n00  0-7   running\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(Run("job show 9 " + conn, &out, &err), 4);
  EXPECT_EQ(err, "rackscale: error: no route (HTTP 404 not_found)\n");
  // Cancel: each id; the first failure's exit code; the others still cancelled.
  EXPECT_EQ(Run("job cancel 8 7 " + conn, &out, &err), 5);
  EXPECT_EQ(out, "Cancelled job 7\n");
  EXPECT_NE(err.find("job 8 already succeeded"), std::string::npos) << err;
  ASSERT_EQ(Run("job events 7 " + conn, &out, &err), 0) << err;
  EXPECT_EQ(
      out,
      "SEQ  TIME                  TYPE           NODE  DATA\n  3  1970-01-01T00:01:40Z  job.submitted        {}\n");
  ASSERT_EQ(Run("job export --since 3 " + conn, &out, &err), 0) << err;
  EXPECT_EQ(out, "{\"seq\":4}\n{\"seq\":5}\n");
  EXPECT_EQ(fake.requests().back().params.find("since")->second, "3");
  const std::string file = dir_ + "/events.jsonl";
  ASSERT_EQ(Run("job export -o " + file + " " + conn, &out, &err), 0) << err;
  EXPECT_EQ(testing::Slurp(file), "{\"seq\":4}\n{\"seq\":5}\n");
}

TEST_F(CtlClientCli, JobLogsReadsTheReportedPathOrSaysWhereItIs) {
  const std::string& dir = dir_;
  const std::string log = dir + "/agent-log.out";
  Write(log, "step 1 loss 2.5\n");
  Write(dir + "/agent-log.err", "warning: slow\n");
  std::filesystem::create_directories(dir + "/logs/7");
  Write(dir + "/logs/7/1-0.out", "from the log dir\n");
  Write(dir + "/logs/7/1-0.err", "stderr from the log dir\n");
  std::filesystem::create_directories(dir + "/logs/11");
  Write(dir + "/logs/11/2-1.out", "attempt 2, rank 1\n");
  // Job 5 runs and its agent reported the log; job 7 runs, not reported; job 9 never started; job 11 ended
  // (its placement cleared, as the server does) after two attempts.
  FakeServer fake([&](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/v1/jobs/11/events") {
      json events = json::array();
      for (int attempt : {1, 2}) {
        events.push_back({{"type", "job.started"},
                          {"data",
                           {{"attempt", attempt},
                            {"placement",
                             {{{"node", "east-d0000-n00"}, {"gpus", {0}}, {"rank", 0}},
                              {{"node", fmt::format("east-d0001-n0{}", attempt)}, {"gpus", {0}}, {"rank", 1}}}}}}});
      }
      return Reply(res, 200, {{"events", events}});
    }
    const int64_t id = std::stoll(req.path.substr(9));
    json j = Job(id, id == 9 ? "pending" : id == 11 ? "succeeded" : "running");
    if (id == 5) j["placement"][0]["log"] = log;
    if (id == 11) {
      j["attempt"] = 2;
      j["placement"] = json::array();
    }
    Reply(res, 200, j);
  });
  const std::string conn = fmt::format("--server {} --token {}", fake.url(), kAdmin);
  std::string out, err;
  ASSERT_EQ(Run("job logs 5 " + conn, &out, &err), 0) << err;
  EXPECT_EQ(out, "step 1 loss 2.5\n");
  ASSERT_EQ(Run("job logs 5 --err " + conn, &out, &err), 0) << err;
  EXPECT_EQ(out, "warning: slow\n");
  // Not reported: the agent's layout under --log-dir; without it, where the log is.
  ASSERT_EQ(Run("job logs 7 --log-dir " + dir + "/logs " + conn, &out, &err), 0) << err;
  EXPECT_EQ(out, "from the log dir\n");
  ASSERT_EQ(Run("job logs 7 --err --log-dir " + dir + "/logs " + conn, &out, &err), 0) << err;
  EXPECT_EQ(out, "stderr from the log dir\n");
  EXPECT_EQ(Run("job logs 7 --log-dir " + dir + "/nowhere " + conn, &out, &err), 1);
  EXPECT_NE(err.find("ran on node east-d0000-n00, whose agent has not reported"), std::string::npos) << err;
  EXPECT_NE(err.find(dir + "/nowhere/7/1-0.out is not readable on this host"), std::string::npos) << err;
  EXPECT_NE(err.find("LOG_DIR/7/1-0.out"), std::string::npos) << err;
  EXPECT_EQ(Run("job logs 7 --rank 1 " + conn, &out, &err), 2);
  EXPECT_NE(err.find("--rank 1: job 7 has ranks 0 to 0"), std::string::npos) << err;
  EXPECT_EQ(Run("job logs 9 " + conn, &out, &err), 1);
  EXPECT_NE(err.find("job 9 is pending and has not started: no logs"), std::string::npos) << err;
  // An ended job: its attempts' placements from their job.started events.
  ASSERT_EQ(Run("job logs 11 --rank 1 --log-dir " + dir + "/logs " + conn, &out, &err), 0) << err;
  EXPECT_EQ(out, "attempt 2, rank 1\n");
  EXPECT_EQ(Run("job logs 11 --rank 1 --attempt 1 --log-dir " + dir + "/logs " + conn, &out, &err), 1);
  EXPECT_NE(err.find("job 11 rank 1 ran on node east-d0001-n01"), std::string::npos) << err;
  EXPECT_NE(err.find(dir + "/logs/11/1-1.out is not readable"), std::string::npos) << err;
  EXPECT_EQ(Run("job logs 11 --attempt 3 " + conn, &out, &err), 2);
  EXPECT_NE(err.find("--attempt 3: job 11 has attempts 1 to 2"), std::string::npos) << err;
  // Reported but not readable here.
  std::filesystem::remove(log);
  EXPECT_EQ(Run("job logs 5 " + conn, &out, &err), 1);
  EXPECT_NE(err.find("its log is there at " + log + " (not readable on this host)"), std::string::npos) << err;
}

TEST_F(CtlClientCli, NodeTenantAndTokenCommands) {
  json tenant = {
      {"name", "t0"},    {"weight", 2}, {"nominal_gpus", 200}, {"cohort", "labs"}, {"borrowing_limit_gpus", -1},
      {"gpus_in_use", 8}};
  FakeServer fake([&](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/v1/nodes") {
      return Reply(res, 200,
                   {{"nodes",
                     {{{"name", "east-d0000-n00"},
                       {"state", "up"},
                       {"gpus", 8},
                       {"gpu_model", "H100"},
                       {"gpus_used", 8},
                       {"site", "east"},
                       {"domain_type", "NVL72"},
                       {"agent", "a1"},
                       {"reason", ""}}}}});
    }
    if (req.path == "/v1/nodes/east-d0000-n00/drain")
      return Reply(res, 200, {{"name", "east-d0000-n00"}, {"state", "draining"}});
    if (req.path == "/v1/tenants/t0" && req.method == "GET") return Reply(res, 200, tenant);
    if (req.path == "/v1/tenants/new" && req.method == "GET") return ReplyError(res, 404, "not_found", "no tenant", "");
    if (req.path.rfind("/v1/tenants/", 0) == 0 && req.method == "PUT") {
      json body = json::parse(req.body);
      body["name"] = req.path.substr(12);
      return Reply(res, req.path == "/v1/tenants/t0" ? 200 : 201, body);
    }
    if (req.path == "/v1/tokens" && req.method == "POST") {
      return Reply(res, 201, {{"id", 3}, {"role", "tenant"}, {"token", kTenant}});
    }
    ReplyError(res, 404, "not_found", "no route", "");
  });
  const std::string conn = fmt::format("--server {} --token {}", fake.url(), kAdmin);
  std::string out, err;
  ASSERT_EQ(Run("node list " + conn, &out, &err), 0) << err;
  EXPECT_EQ(out,
            "NAME            STATE  GPUS  USED  MODEL  SITE  DOMAIN  AGENT  REASON\n"
            "east-d0000-n00  up        8     8  H100   east  NVL72   a1\n");
  ASSERT_EQ(Run("node drain east-d0000-n00 --reason 'bad DIMM' " + conn, &out, &err), 0) << err;
  EXPECT_EQ(out, "Node east-d0000-n00 is draining\n");
  EXPECT_EQ(json::parse(fake.requests().back().body), json({{"reason", "bad DIMM"}}));
  // tenant set: the current record, with only the flags given changed.
  ASSERT_EQ(Run("tenant set t0 --weight 3 " + conn, &out, &err), 0) << err;
  EXPECT_EQ(json::parse(fake.requests().back().body),
            json({{"weight", 3.0}, {"nominal_gpus", 200}, {"cohort", "labs"}, {"borrowing_limit_gpus", -1}}));
  EXPECT_EQ(out, "Tenant t0 updated: weight 3.0, nominal GPUs 200, cohort 'labs', borrowing limit -\n");
  ASSERT_EQ(Run("tenant set new --nominal-gpus 64 " + conn, &out, &err), 0) << err;
  EXPECT_EQ(json::parse(fake.requests().back().body),
            json({{"weight", 1}, {"nominal_gpus", 64}, {"cohort", ""}, {"borrowing_limit_gpus", -1}}));
  EXPECT_NE(out.find("Tenant new created"), std::string::npos) << out;
  // token create: the token alone on stdout.
  ASSERT_EQ(Run("token create --role tenant --tenant t0 " + conn, &out, &err), 0) << err;
  EXPECT_EQ(out, kTenant + "\n");
  EXPECT_NE(err.find("Created token 3 (role tenant, tenant t0)"), std::string::npos) << err;
  EXPECT_EQ(json::parse(fake.requests().back().body), json({{"role", "tenant"}, {"tenant", "t0"}}));
  const size_t sent = fake.requests().size();
  EXPECT_EQ(Run("token create --role tenant " + conn, &out, &err), 2);
  EXPECT_NE(err.find("--role tenant needs --tenant"), std::string::npos) << err;
  EXPECT_EQ(Run("token create --role admin --agent a1 " + conn, &out, &err), 2);
  EXPECT_EQ(fake.requests().size(), sent);
}

TEST_F(CtlClientCli, TheEnvironmentAndTheConfigFileReachTheCommands) {
  FakeServer fake([](const httplib::Request&, httplib::Response& res) {
    Reply(res, 200, {{"tenants", json::array()}});
  });
  const std::string& dir = dir_;
  Write(dir + "/c.toml", fmt::format("server = \"{}\"\ntoken_file = \"tok\"\n", fake.url()));
  Write(dir + "/tok", kOther + "\n");
  std::string out, err;
  ASSERT_EQ(Run("tenant list", &out, &err, "RACKSCALE_CONFIG=" + dir + "/c.toml"), 0) << err;
  EXPECT_EQ(fake.requests().back().authorization, "Bearer " + kOther);
  ASSERT_EQ(Run("tenant list", &out, &err, fmt::format("RACKSCALE_CONFIG={}/c.toml RACKSCALE_TOKEN={}", dir, kTenant)),
            0)
      << err;
  EXPECT_EQ(fake.requests().back().authorization, "Bearer " + kTenant);
  ASSERT_EQ(Run("tenant list --token " + kAdmin, &out, &err,
                fmt::format("RACKSCALE_CONFIG={}/c.toml RACKSCALE_TOKEN={}", dir, kTenant)),
            0)
      << err;
  EXPECT_EQ(fake.requests().back().authorization, "Bearer " + kAdmin);
  // RACKSCALE_SERVER over the file's server: nobody listens there.
  EXPECT_EQ(Run("tenant list", &out, &err,
                fmt::format("RACKSCALE_CONFIG={}/c.toml RACKSCALE_SERVER=http://127.0.0.1:9", dir)),
            3);
  EXPECT_NE(err.find("http://127.0.0.1:9"), std::string::npos) << err;
}

TEST_F(CtlClientCli, EveryClientCommandHasHelpWithAnExample) {
  for (const char* cmd : {"job submit", "job list", "job show", "job cancel", "job events", "job logs", "job export",
                          "queue", "node list", "node drain", "node resume", "tenant list", "tenant show", "tenant set",
                          "tenant delete", "token create", "token list", "token revoke"}) {
    std::string out, err;
    EXPECT_EQ(Run(std::string(cmd) + " --help", &out, &err), 0) << cmd;
    EXPECT_NE(out.find("Example: rackscale " + std::string(cmd)), std::string::npos) << cmd << ":\n" << out;
    EXPECT_NE(out.find("--server"), std::string::npos) << cmd;
  }
}

}  // namespace
}  // namespace rackscale

namespace rackscale {
namespace {

// The real server in-process (ctl::Server on an ephemeral port, a fresh
// SQLite store), driven through the binary.
TEST_F(CtlClientCli, EndToEndWithTheRealServer) {
  ctl::ServerOptions o;
  o.fleet_path = std::string(RACKSCALE_SOURCE_DIR) + "/examples/small.toml";
  o.tenants_path = std::string(RACKSCALE_SOURCE_DIR) + "/examples/tenants-small.toml";
  o.db_url = dir_ + "/ctl.db";
  o.listen = "127.0.0.1:0";
  o.admin_token_file = dir_ + "/admin.token";
  o.http_threads = 8;
  o.quiet = true;
  Result<std::unique_ptr<ctl::Server>> server = ctl::Server::Create(o);
  ASSERT_TRUE(server.ok()) << server.error().ToString();
  std::mutex mu;
  std::condition_variable cv;
  int port = 0;
  std::thread serving([&] {
    Status st = (*server)->Run([&](int p) {
      std::lock_guard<std::mutex> lock(mu);
      port = p;
      cv.notify_all();
    });
    EXPECT_TRUE(st.ok()) << st.error().ToString();
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return port != 0; }));
  }
  struct Stopper {
    ctl::Server* s;
    std::thread* t;
    ~Stopper() {
      s->Stop();
      t->join();
    }
  } stopper{server->get(), &serving};
  const std::string url = fmt::format("http://127.0.0.1:{}", port);
  const std::string admin = fmt::format("--server {} --token-file {}/admin.token", url, dir_);
  std::string out, err;

  // A tenant token through the API with the bootstrap admin token.
  ASSERT_EQ(Run("token create --role tenant --tenant t0 " + admin, &out, &err), 0) << err;
  const std::string token = out.substr(0, out.find('\n'));
  ASSERT_EQ(token.size(), 68u) << out;
  Write(dir_ + "/home/t0.token", token + "\n");
  // The tenant's settings from its config file.
  std::filesystem::create_directories(dir_ + "/home/.config/rackscale");
  Write(dir_ + "/home/.config/rackscale/config.toml",
        fmt::format("server = \"{}\"\ntoken_file = \"~/t0.token\"\n", url));

  // Submit, list, show, queue, cancel.
  ASSERT_EQ(
      Run("job submit --gpus 8 --time-limit 1h --name e2e --request-id e2e-1 --env EPOCHS=3 -- sleep 1", &out, &err), 0)
      << err;
  EXPECT_EQ(out, "Submitted job 1\n");
  ASSERT_EQ(Run("job submit --gpus 8 --time-limit 1h --name e2e --request-id e2e-1 -- sleep 1", &out, &err), 0) << err;
  EXPECT_EQ(out, "Job 1 was already submitted with request id 'e2e-1'\n");
  ASSERT_EQ(Run("job list", &out, &err), 0) << err;
  EXPECT_EQ(out.substr(0, out.find('\n')), "ID  TENANT  NAME  STATE    GPUS  NODES  TIME  REASON");
  EXPECT_NE(out.find(" 1  t0      e2e   pending     8"), std::string::npos) << out;
  ASSERT_EQ(Run("job show 1 --json", &out, &err), 0) << err;
  const json job = json::parse(out);
  EXPECT_EQ(job["tenant"], "t0");
  EXPECT_EQ(job["state"], "pending");
  EXPECT_EQ(job["time_limit_s"], 3600);
  EXPECT_EQ(job["env"], json({{"EPOCHS", "3"}}));
  EXPECT_EQ(job["command"], json({"sleep", "1"}));
  ASSERT_EQ(Run("queue --json", &out, &err), 0) << err;
  const json queue = json::parse(out);
  ASSERT_EQ(queue["tenants"].size(), 1u) << out;  // a tenant sees its own line
  EXPECT_EQ(queue["tenants"][0]["pending"], 1);
  EXPECT_EQ(queue["jobs"].size(), 1u);
  ASSERT_EQ(Run("job cancel 1", &out, &err), 0) << err;
  EXPECT_EQ(out, "Cancelled job 1\n");
  EXPECT_EQ(Run("job cancel 1", &out, &err), 5);
  EXPECT_NE(err.find("(HTTP 409 conflict)"), std::string::npos) << err;
  ASSERT_EQ(Run("job list --state cancelled --fields state,reason", &out, &err), 0) << err;
  EXPECT_NE(out.find(" 1  cancelled"), std::string::npos) << out;

  // The server's errors: its field and the flag; not found; a role that may not.
  EXPECT_EQ(Run("job submit --gpus 0 --time-limit 1h -- true", &out, &err), 2);
  EXPECT_NE(err.find("field 'gpus' (--gpus): "), std::string::npos) << err;
  EXPECT_NE(err.find("(HTTP 400 invalid_argument)"), std::string::npos) << err;
  EXPECT_EQ(Run("job submit --gpus 8 -- true", &out, &err), 2);
  EXPECT_NE(err.find("field 'time_limit_s' (--time-limit): "), std::string::npos) << err;
  EXPECT_EQ(Run("job show 99", &out, &err), 4);
  EXPECT_EQ(Run("token list", &out, &err), 3);
  EXPECT_NE(err.find("(HTTP 403 permission_denied)"), std::string::npos) << err;
  EXPECT_EQ(Run("job list --token rst_" + std::string(64, '0'), &out, &err), 3);
  EXPECT_NE(err.find("(HTTP 401 unauthenticated)"), std::string::npos) << err;

  // Admin: nodes, tenants, tokens, export.
  ASSERT_EQ(Run("node list " + admin, &out, &err), 0) << err;
  EXPECT_NE(out.find("east-d0000-n00  unknown"), std::string::npos) << out;
  EXPECT_EQ(Run("node drain east-d0000-n00 " + admin, &out, &err), 5);  // not up: no agent registered it
  ASSERT_EQ(Run("tenant set t9 --weight 2 --nominal-gpus 16 " + admin, &out, &err), 0) << err;
  EXPECT_EQ(out, "Tenant t9 created: weight 2.0, nominal GPUs 16, cohort '', borrowing limit -\n");
  ASSERT_EQ(Run("tenant set t9 --cohort labs " + admin, &out, &err), 0) << err;
  EXPECT_EQ(out, "Tenant t9 updated: weight 2.0, nominal GPUs 16, cohort 'labs', borrowing limit -\n");
  ASSERT_EQ(Run("tenant delete t9 " + admin, &out, &err), 0) << err;
  EXPECT_EQ(Run("tenant show t9 " + admin, &out, &err), 4);
  ASSERT_EQ(Run("token list " + admin, &out, &err), 0) << err;
  EXPECT_NE(out.find(" 2  tenant  t0"), std::string::npos) << out;
  ASSERT_EQ(Run("job export " + admin, &out, &err), 0) << err;
  std::vector<std::string> types;
  std::istringstream lines(out);
  for (std::string l; std::getline(lines, l);) types.push_back(json::parse(l)["type"]);
  EXPECT_NE(std::find(types.begin(), types.end(), "job.submitted"), types.end()) << out;
  EXPECT_NE(std::find(types.begin(), types.end(), "job.cancelled"), types.end()) << out;

  // A real agent on one node runs a job; its output is read back with job logs.
  ASSERT_EQ(Run("token create --role agent --agent a1 " + admin, &out, &err), 0) << err;
  Write(dir_ + "/agent.token", out);
  std::string pid_text;
  ASSERT_EQ(testing::RunCommand(fmt::format("{} agent --server {} --token-file {}/agent.token --node east-d0000-n00 "
                                            "--gpus 4 --gpu-model GB200 --state-dir {}/agent-state --log-dir "
                                            "{}/agent-logs --heartbeat 0.2 >{}/agent.out 2>&1 </dev/null & echo $!",
                                            RACKSCALE_BIN, url, dir_, dir_, dir_, dir_),
                                &pid_text),
            0);
  struct Killer {
    pid_t pid;
    ~Killer() { ::kill(pid, SIGTERM); }
  } killer{static_cast<pid_t>(std::stol(pid_text))};
  ASSERT_EQ(Run("job submit --gpus 4 --time-limit 1h --name hello -- sh -c 'echo hello; echo oops >&2'", &out, &err), 0)
      << err;
  ASSERT_EQ(out, "Submitted job 2\n");
  json ran;
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(Run("job show 2 --json", &out, &err), 0) << err;
    ran = json::parse(out);
    if (ran["state"] != "pending" && ran["state"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(ran["state"], "succeeded") << ran.dump() << "\n" << testing::Slurp(dir_ + "/agent.out");
  EXPECT_EQ(ran["exit_code"], 0);
  ASSERT_EQ(Run("job logs 2 --log-dir " + dir_ + "/agent-logs", &out, &err), 0) << err;
  EXPECT_EQ(out, "hello\n");
  ASSERT_EQ(Run("job logs 2 --err --log-dir " + dir_ + "/agent-logs", &out, &err), 0) << err;
  EXPECT_EQ(out, "oops\n");
  // The path the agent reported comes first; with that file gone, the
  // client says where the log is.
  ASSERT_EQ(Run("job logs 2 --log-dir " + dir_ + "/elsewhere", &out, &err), 0) << err;
  EXPECT_EQ(out, "hello\n");
  std::filesystem::remove(dir_ + "/agent-logs/2/1-0.out");
  EXPECT_EQ(Run("job logs 2 --log-dir " + dir_ + "/elsewhere", &out, &err), 1);
  EXPECT_NE(err.find("job 2 rank 0 ran on node east-d0000-n00"), std::string::npos) << err;
  // The node is up now: drain and resume it.
  ASSERT_EQ(Run("node drain east-d0000-n00 --reason maintenance " + admin, &out, &err), 0) << err;
  EXPECT_NE(out.find("Node east-d0000-n00 is drain"), std::string::npos) << out;
  ASSERT_EQ(Run("node list --json " + admin, &out, &err), 0) << err;
  const json listed = json::parse(out);  // named: a range-for over a temporary's member reads freed memory
  int seen = 0;
  for (const json& n : listed["nodes"]) {
    if (n["name"] == "east-d0000-n00") {
      EXPECT_EQ(n["reason"], "maintenance");
      ++seen;
    }
  }
  EXPECT_EQ(seen, 1);
  ASSERT_EQ(Run("node resume east-d0000-n00 " + admin, &out, &err), 0) << err;
  EXPECT_EQ(out, "Node east-d0000-n00 is up\n");

  ASSERT_EQ(Run("token revoke 2 " + admin, &out, &err), 0) << err;
  EXPECT_EQ(Run("job list", &out, &err), 3);  // the tenant's token is gone
}

}  // namespace
}  // namespace rackscale
