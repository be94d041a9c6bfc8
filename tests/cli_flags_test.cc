// Every flag of every subcommand, fed every class of bad value (issue 12):
// exit code 2, a message naming the flag (or the file at fault), and no
// output written. The flags are not listed here: the test walks the CLI11
// app that the binary runs (BuildApp) and picks the bad values by each
// option's class (cli/flags.h). A flag with no class needs an entry in
// kFreeForm, so a new flag cannot go untested.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "cli/commands.h"
#include "cli/flags.h"
#include "test_util.h"

namespace rackscale {
namespace {

std::string Bin() { return RACKSCALE_BIN; }
std::string Src(const std::string& rel) { return std::string(RACKSCALE_SOURCE_DIR) + "/" + rel; }

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// The bad values of each class. "@binary", "@file" and "@dir" stand for a
// binary file, an existing regular file and an existing directory.
const std::map<std::string, std::vector<std::string>>& BadValues() {
  static const std::map<std::string, std::vector<std::string>> kBad = {
      {kFlagNumber, {"abc", "nan", "inf", "-inf", "1e999", "1e300", "-1e300", "0x10", ""}},
      {kFlagInt, {"abc", "1.5", "1e3", "nan", "-99999999999999999999", "99999999999999999999", "0x10", ""}},
      {kFlagSeed, {"-1", "abc", "1.5", "1e3", "18446744073709551616", ""}},
      {kFlagDuration, {"abc", "-5h", "nan", "inf", "1e300", "5x", "1-25:00:00", "10:61", "2d3h", "h", ""}},
      {kFlagInFile, {"@binary", ""}},
      {kFlagOutDir, {"@file", ""}},
      {kFlagOutFile, {"@dir", ""}},
      {kFlagChoice, {"bogus", "", "\x01"}},
      {kFlagUrl, {"ftp://host", "http://", "localhost:8642", "http://h:0", "http://h:65536", "http://u@h", ""}},
      {kFlagToken, {"abc", "rsa_", "rsx_" + std::string(64, '0'), "rsa_" + std::string(64, 'g'), ""}},
  };
  return kBad;
}

// Options that take free text (choices, lists, specs): their bad values.
const std::map<std::string, std::vector<std::string>>& FreeForm() {
  static const std::map<std::string, std::vector<std::string>> kFreeForm = {
      {"sim --cluster", {"flat:x", "flat:0", "flat:-3"}},
      {"sim --format", {"swf"}},  // a fleet reads csv or philly
      {"sim --checkpoint", {"often", "-5", "nan", "0", "1e300", ""}},
      {"pack --policy", {"bogus", "fgd,bogus", ""}},
      {"pack --seed", {"-1", "5-1", "1-20000", "a,b", ""}},
      {"ettr --interval", {"soon", "0", "-1", "nan", "1e300", ""}},
      {"inference --rate", {"abc", "-1000", "1e305", "0:1,x", "nan", ""}},
      {"run --vary", {"nokey=1:2", "layoffs.scale=-1:2", "discount_rate=nan:1", "x", ""}},
      {"plan --draws", {"3", "5:3", "a:b", "-1:2", ""}},  // with --monte-carlo: the base adds none, so any misuse
      {"plan-merge dirs", {}},  // directories to read (tests/monte_carlo_test.cc)
      {"verify dir", {}},  // a directory to read: a missing one is an I/O error (exit 1)
      {"serve --db", {"", "postgres://h/db", "/nonexistent-dir/ctl.db", "@dir"}},
      {"serve --listen", {"", "8642", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536", "127.0.0.1:-1"}},
      {"serve --admin-token-file", {"/nonexistent-dir/token", "@dir"}},
      {"serve --port-file", {"/nonexistent-dir/port", "@dir"}},
      // The clients (tests/ctl_client_test.cc): free text is the server's to check (a 400 exits 2).
      {"job submit --gpu-model", {}},
      {"job submit --env", {"NOEQUALS", "1X=2", "=v", "A-B=1", ""}},
      {"job submit --name", {}},
      {"job submit --tenant", {}},
      {"job submit --request-id", {}},
      {"job submit command", {}},
      {"job list --state", {"bogus", "pending,", ",running", "Pending", ""}},
      {"job list --tenant", {}},
      {"job list --fields", {"a b", "id,", "ID", ""}},
      {"job show id", {"abc", "0", "1.5", "99999999999999999999", ""}},
      {"job cancel ids", {"abc", "0", "1.5", ""}},
      {"job events id", {"abc", "0", ""}},
      {"job logs id", {"abc", "0", ""}},
      {"job logs --log-dir", {}},
      {"queue --tenant", {}},
      {"node drain name", {""}},
      {"node drain --reason", {}},
      {"node resume name", {""}},
      {"tenant show name", {""}},
      {"tenant set name", {""}},
      {"tenant set --cohort", {}},
      {"tenant delete name", {""}},
      {"token create --tenant", {}},
      {"token create --agent", {}},
      {"token revoke id", {"abc", "0", ""}},
      {"agent --server", {"", "ctl:8080", "ftp://ctl", "http://ctl:0", "http://ctl/a?b"}},
      {"agent --token", {"", "rsg_123", "not a token"}},
      {"agent --node", {"", "_n0", "a b", "n/0"}},
      {"agent --gpu-model", {"", "H 100"}},
      {"agent --addr", {"", "a b", "[::1]"}},
  };
  return kFreeForm;
}

// The clients' base invocations name a server that nobody listens on.
constexpr const char* kNoServer = "http://127.0.0.1:9";

// The live control plane's commands: a server, or its clients, which need one
// (their own tests: tests/ctl_control_test.cc, tests/ctl_client_test.cc).
bool IsLive(const std::string& name) {
  for (const char* c : {"serve", "job ", "queue", "node ", "tenant ", "token "}) {
    if (name.rfind(c, 0) == 0) return true;
  }
  return false;
}

struct Command {
  std::string name;                 // "gen ai"
  std::vector<std::string> args;    // a valid invocation; "@out" is the output
  std::map<std::string, std::string> positional;  // positional name -> its value in args
};

class CliFlags : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir();
    binary_ = dir_ + "/random.bin";
    std::string bytes;
    for (int i = 0; i < 4096; ++i) bytes.push_back(static_cast<char>((i * 7919 + 13) % 256));
    Write(binary_, bytes);
    file_ = dir_ + "/plain.txt";
    Write(file_, "not a directory\n");
    Write(dir_ + "/nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\nn1,32000,65536,2,V100M32\n");
    Write(dir_ + "/pods.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np1,1000,1024,1,500\n");
    Write(dir_ + "/trace.csv", "id,submit,runtime,size\n1,0,10,2\n");
  }

  std::vector<Command> Commands() const {
    const std::string fleet = Src("examples/llama3-16k.toml");
    return {
        {"sim", {"--cluster", fleet, "--trace", Src("examples/llama3-16k.csv"), "--out", "@out"}, {}},
        {"gen flat", {"-o", "@out"}, {}},
        {"gen ai", {"-o", "@out"}, {}},
        {"pack", {"--nodes", dir_ + "/nodes.csv", "--pods", dir_ + "/pods.csv", "--out", "@out"}, {}},
        {"cluster", {fleet}, {{"file", fleet}}},
        {"ettr", {}, {}},
        {"inference",
         {"--rate", "100", "--tokens-per-request", "100", "--tokens-per-replica", "1000", "--out", "@out"},
         {}},
        {"plan", {Src("scenarios/small.toml"), "--out", "@out"}, {{"scenario", Src("scenarios/small.toml")}}},
        {"run", {Src("scenarios/small.toml"), "--out", "@out", "--no-sim"}, {{"scenario", Src("scenarios/small.toml")}}},
        {"verify", {dir_}, {{"dir", dir_}}},
        {"plan-merge", {"--out", "@out", dir_}, {{"dirs", dir_}}},
        // The clients: a server nobody listens on; every bad value is refused before any request.
        {"job submit", {"--server", kNoServer, "--time-limit", "1h"}, {}},
        {"job list", {"--server", kNoServer}, {}},
        {"job show", {"--server", kNoServer, "1"}, {{"id", "1"}}},
        {"job cancel", {"--server", kNoServer, "1"}, {{"ids", "1"}}},
        {"job events", {"--server", kNoServer, "1"}, {{"id", "1"}}},
        {"job logs", {"--server", kNoServer, "1"}, {{"id", "1"}}},
        {"job export", {"--server", kNoServer}, {}},
        {"queue", {"--server", kNoServer}, {}},
        {"node list", {"--server", kNoServer}, {}},
        {"node drain", {"--server", kNoServer, "n0"}, {{"name", "n0"}}},
        {"node resume", {"--server", kNoServer, "n0"}, {{"name", "n0"}}},
        {"tenant list", {"--server", kNoServer}, {}},
        {"tenant show", {"--server", kNoServer, "t0"}, {{"name", "t0"}}},
        {"tenant set", {"--server", kNoServer, "t0"}, {{"name", "t0"}}},
        {"tenant delete", {"--server", kNoServer, "t0"}, {{"name", "t0"}}},
        {"token create", {"--server", kNoServer, "--role", "admin"}, {}},
        {"token list", {"--server", kNoServer}, {}},
        {"token revoke", {"--server", kNoServer, "1"}, {{"id", "1"}}},
        // Runs until stopped: every case must fail before it reaches the (absent) server.
        // Serves until stopped: likewise, every case must fail before it listens.
        {"serve",
         {"--fleet", Src("examples/small.toml"), "--db", dir_ + "/serve.db", "--listen", "127.0.0.1:0",
          "--admin-token-file", dir_ + "/serve.token"},
         {}},
        {"agent",
         {"--server", "http://127.0.0.1:9", "--token", "rsg_" + std::string(64, 'a'), "--node", "east-d0000-n00",
          "--gpus", "8", "--gpu-model", "H100", "--state-dir", "@out", "--log-dir", dir_ + "/agent-logs"},
         {}},
    };
  }

  std::string Resolve(const std::string& v) const {
    if (v == "@binary") return binary_;
    if (v == "@file") return file_;
    if (v == "@dir") return dir_;
    return v;
  }

  std::string dir_, binary_, file_;
};

// The CLI11 app of `name` ("gen ai") inside `root`.
const CLI::App* Find(const CLI::App& root, const std::string& name) {
  const CLI::App* app = &root;
  size_t pos = 0;
  while (pos < name.size()) {
    size_t sp = name.find(' ', pos);
    const std::string part = name.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
    app = const_cast<CLI::App*>(app)->get_subcommand(part);
    pos = sp == std::string::npos ? name.size() : sp + 1;
  }
  return app;
}

TEST_F(CliFlags, EveryFlagRejectsEveryClassOfBadValueBeforeWriting) {
  CLI::App root{"rackscale"};
  CommandFn run;
  BuildApp(root, &run);
  std::set<std::string> seen_commands;
  int cases = 0, case_no = 0;
  for (const Command& cmd : Commands()) {
    const CLI::App* app = Find(root, cmd.name);
    ASSERT_NE(app, nullptr) << cmd.name;
    seen_commands.insert(cmd.name);
    for (const CLI::Option* opt : app->get_options()) {
      const std::string name = opt->get_name();
      if (opt->get_type_name().empty()) continue;  // a switch (--json, -q): no value
      if (name == "--help" || name.empty()) continue;
      const std::string key = cmd.name + " " + name;
      std::vector<std::string> bad;
      auto cls = BadValues().find(opt->get_type_name());
      if (cls != BadValues().end()) {
        bad = cls->second;
      } else {
        auto ff = FreeForm().find(key);
        ASSERT_NE(ff, FreeForm().end()) << key << " (type " << opt->get_type_name()
                                        << ") has no class (cli/flags.h) and no bad values in kFreeForm";
        bad = ff->second;
      }
      const bool positional = opt->get_lnames().empty() && opt->get_snames().empty();
      for (const std::string& raw : bad) {
        const std::string value = Resolve(raw);
        const std::string out = dir_ + "/out-" + std::to_string(++case_no);
        // The valid invocation, with this flag's value replaced (or added).
        std::vector<std::string> args;
        bool placed = false;
        for (size_t i = 0; i < cmd.args.size(); ++i) {
          const std::string& a = cmd.args[i];
          if (positional && cmd.positional.count(name) && a == cmd.positional.at(name) && !placed) {
            args.push_back(value);
            placed = true;
          } else if (!positional && opt->check_name(a) && i + 1 < cmd.args.size()) {
            ++i;  // dropped: given again below
          } else {
            args.push_back(a == "@out" ? out : a);
          }
        }
        if (!positional) {
          args.push_back(name);
          args.push_back(value);
        } else if (!placed) {
          args.push_back(value);
        }
        std::string line = Bin() + " " + cmd.name;
        for (const std::string& a : args) line += " " + ShellQuote(a);
        std::string text;
        const int rc = testing::RunCommand(line + " 2>&1 </dev/null", &text);
        ++cases;
        EXPECT_EQ(rc, 2) << line << "\n" << text;
        // The flag, or for a file the path at fault.
        const bool names_it = text.find(name) != std::string::npos ||
                              (!raw.empty() && raw[0] == '@' && text.find(value) != std::string::npos);
        EXPECT_TRUE(names_it) << line << "\nshould name " << name << ":\n" << text;
        EXPECT_NE(text.find("rackscale: error: "), std::string::npos) << line << "\n" << text;
        EXPECT_FALSE(Exists(out)) << line << " wrote " << out;
        // No staging directory left behind either.
        for (const auto& e : std::filesystem::directory_iterator(dir_)) {
          EXPECT_EQ(e.path().filename().string().find("rackscale-staging"), std::string::npos) << line;
        }
      }
    }
  }
  // Every subcommand with options was exercised; a group (gen, job, ...) through its own subcommands.
  for (const CLI::App* sub : root.get_subcommands([](CLI::App*) { return true; })) {
    const auto children = const_cast<CLI::App*>(sub)->get_subcommands([](CLI::App*) { return true; });
    if (children.empty()) {
      EXPECT_TRUE(seen_commands.count(sub->get_name())) << sub->get_name() << " has no entry in Commands()";
    }
    for (const CLI::App* child : children) {
      const std::string name = sub->get_name() + " " + child->get_name();
      EXPECT_TRUE(seen_commands.count(name)) << name << " has no entry in Commands()";
    }
  }
  EXPECT_GT(cases, 300);
  RecordProperty("cases", cases);
}

// The valid invocations above really are valid: otherwise every case would
// fail for the wrong reason.
TEST_F(CliFlags, TheBaseInvocationsSucceed) {
  int n = 0;
  for (const Command& cmd : Commands()) {
    if (cmd.name == "verify" || cmd.name == "plan-merge") continue;  // need earlier outputs (their own tests)
    if (IsLive(cmd.name)) continue;  // a server, or its clients
    if (cmd.name == "agent") continue;  // runs until stopped (tests/ctl_agent_test.cc)
    const std::string out = dir_ + "/ok-" + std::to_string(++n);
    std::string line = Bin() + " " + cmd.name;
    for (const std::string& a : cmd.args) line += " " + ShellQuote(a == "@out" ? out : a);
    std::string text;
    EXPECT_EQ(testing::RunCommand(line + " >/dev/null 2>&1 </dev/null", &text), 0) << line << "\n" << text;
    if (std::find(cmd.args.begin(), cmd.args.end(), "@out") != cmd.args.end()) EXPECT_TRUE(Exists(out)) << line;
  }
}

TEST(Durations, OneGrammar) {
  auto d = [](const char* s, DurationUnit u = DurationUnit::kHours) { return ParseDuration(s, u); };
  EXPECT_EQ(d("90s"), 90);
  EXPECT_EQ(d("45m"), 2700);
  EXPECT_EQ(d("36h"), 129600);
  EXPECT_EQ(d("2d"), 172800);
  EXPECT_EQ(d("1.5h"), 5400);
  EXPECT_EQ(d("1-02:03:04"), 86400 + 2 * 3600 + 3 * 60 + 4);
  EXPECT_EQ(d("2-12"), 2 * 86400 + 12 * 3600);
  EXPECT_EQ(d("2-12:30"), 2 * 86400 + 12 * 3600 + 30 * 60);
  EXPECT_EQ(d("10:00:00"), 36000);
  EXPECT_EQ(d("90:30"), 90 * 60 + 30);  // MM:SS, minutes unbounded as in Slurm
  EXPECT_EQ(d("12"), 12 * 3600);        // bare: the flag's unit
  EXPECT_EQ(d("12", DurationUnit::kMinutes), 720);
  EXPECT_EQ(d("0"), 0);
  EXPECT_EQ(d("1e2s"), 100);
  for (const char* bad : {"", "-5h", "nan", "inf", "5x", "h", "1-24:00:00", "1-02:60", "10:61", "1:2:3:4", "2d3h",
                          "+5", " 5", "1e400", "0x10", "1--2"}) {
    EXPECT_FALSE(d(bad).has_value()) << bad;
  }
  EXPECT_EQ(FormatDuration(129600), "36h");
  EXPECT_EQ(FormatDuration(90), "90s");
  EXPECT_EQ(FormatDuration(120), "2m");
  EXPECT_EQ(FormatDuration(45), "45s");
  EXPECT_EQ(FormatDuration(0), "0");
}

// A flag given a duration in any spelling behaves the same.
TEST_F(CliFlags, DurationSpellingsAgree) {
  std::string a, b, c;
  const std::string base = Bin() + " ettr --gpus 1024 --runs 10 --json --work-days ";
  ASSERT_EQ(testing::RunCommand(base + "2", &a), 0) << a;
  ASSERT_EQ(testing::RunCommand(base + "48h", &b), 0) << b;
  ASSERT_EQ(testing::RunCommand(base + "2-00:00:00", &c), 0) << c;
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
}

}  // namespace
}  // namespace rackscale

namespace rackscale {
namespace {

// Time spans: a submit time of +-2^50, a 1,000-year job and a runtime of 2^50
// need the time series to be refused with the estimate (they aborted, took
// 6 GB or hung); without a time series they run.
TEST_F(CliFlags, TimeSpansAreBoundedWithTheEstimate) {
  const std::string fleet = Src("examples/llama3-16k.toml");
  const char* traces[] = {"1,0,100,8\n2,1125899906842624,100,8\n", "1,-1125899906842624,100,8\n2,0,100,8\n",
                          "1,0,31536000000,8\n", "1,0,1125899906842624,8\n"};
  int k = 0;
  for (const char* rows : traces) {
    const std::string trace = dir_ + "/span-" + std::to_string(++k) + ".csv";
    Write(trace, std::string("id,submit,runtime,gpus\n") + rows);
    const std::string cmd = Bin() + " sim -q --cluster " + fleet + " --trace " + trace + " --out " + dir_ + "/span-out";
    std::string text;
    EXPECT_EQ(testing::RunCommand(cmd + " 2>&1", &text), 2) << rows << text;
    EXPECT_NE(text.find("--step"), std::string::npos) << text;
    EXPECT_NE(text.find("the time series would need"), std::string::npos) << text;
    EXPECT_FALSE(Exists(dir_ + "/span-out"));
    EXPECT_EQ(testing::RunCommand(cmd + " --step 0 2>&1", &text), 0) << rows << text;
    std::filesystem::remove_all(dir_ + "/span-out");
  }
}

// Files that are not what they claim: refused by the reader, with the path,
// before any parsing or work.
TEST_F(CliFlags, UntrustedFilesAreRefusedBeforeParsing) {
  const std::string fleet = Src("examples/llama3-16k.toml");
  std::string text;
  // Binary bytes as a trace, a fleet and a scenario.
  EXPECT_EQ(testing::RunCommand(Bin() + " sim --cluster " + fleet + " --trace " + binary_ + " --out " + dir_ +
                                    "/b1 2>&1",
                                &text),
            2);
  EXPECT_NE(text.find(binary_ + ": not a trace file: binary data"), std::string::npos) << text;
  EXPECT_EQ(testing::RunCommand(Bin() + " cluster " + binary_ + " 2>&1", &text), 2);
  EXPECT_NE(text.find("not a CSV file"), std::string::npos) << text;  // not .toml: read as an openb node list
  const std::string bin_toml = dir_ + "/random.toml";
  std::filesystem::copy_file(binary_, bin_toml);
  EXPECT_EQ(testing::RunCommand(Bin() + " cluster " + bin_toml + " 2>&1", &text), 2);
  EXPECT_NE(text.find(bin_toml + ": not a TOML file: binary data"), std::string::npos) << text;
  EXPECT_EQ(testing::RunCommand(Bin() + " plan " + binary_ + " 2>&1", &text), 2);
  EXPECT_NE(text.find("not a TOML file"), std::string::npos) << text;
  // /dev/zero never ends: refused after the first 64 KiB.
  EXPECT_EQ(testing::RunCommand(Bin() + " sim --cluster flat:4 --trace /dev/zero --out " + dir_ + "/z 2>&1", &text), 2);
  EXPECT_NE(text.find("/dev/zero: not a trace file: binary data"), std::string::npos) << text;
  // A gzip bomb (zeros): refused while inflating, not after.
  const std::string bomb = dir_ + "/bomb.csv.gz";
  ASSERT_EQ(testing::RunCommand("head -c 300000000 /dev/zero | gzip -1 > " + bomb, &text), 0);
  EXPECT_EQ(testing::RunCommand(Bin() + " sim --cluster flat:4 --trace " + bomb + " --out " + dir_ + "/z 2>&1", &text), 2);
  EXPECT_NE(text.find("binary data"), std::string::npos) << text;
  // A bomb of text: refused past 200x its size.
  const std::string bomb2 = dir_ + "/bomb2.csv.gz";
  ASSERT_EQ(testing::RunCommand("(echo id,submit,runtime,size; yes 1,0,10,2 | head -c 400000000) | gzip -1 > " + bomb2, &text), 0);
  EXPECT_EQ(testing::RunCommand(Bin() + " sim --cluster flat:4 --trace " + bomb2 + " --out " + dir_ + "/z 2>&1", &text), 2);
  EXPECT_NE(text.find("decompression bomb"), std::string::npos) << text;
  // TOML nested past 64 levels: refused with the line before toml++ recurses.
  std::string deep = "[t";
  for (int i = 0; i < 200000; ++i) deep += ".t";
  deep += "]\n";
  Write(dir_ + "/deep.toml", deep);
  EXPECT_EQ(testing::RunCommand(Bin() + " cluster " + dir_ + "/deep.toml 2>&1", &text), 2);
  EXPECT_NE(text.find("deep.toml:1: dotted keys nested deeper than 64 levels"), std::string::npos) << text;
  Write(dir_ + "/deep2.toml", "a = " + std::string(100000, '[') + "\n");
  EXPECT_EQ(testing::RunCommand(Bin() + " plan " + dir_ + "/deep2.toml 2>&1", &text), 2);
  EXPECT_NE(text.find("deep2.toml:1: arrays or tables nested deeper than 64 levels"), std::string::npos) << text;
  EXPECT_FALSE(Exists(dir_ + "/z"));
}

// Floats where TOML integers belong and huge floats in number fields are
// range-checked before any conversion (1e308 through toml++'s value<int64_t>
// was undefined behaviour, found by fuzz/fuzz_fleet_sim.cc).
TEST_F(CliFlags, TomlNumbersAreRangeCheckedBeforeConversion) {
  const std::string fleet = testing::Slurp(Src("examples/small.toml"));
  std::string text;
  struct Case {
    std::string from, to, want;
  };
  for (const Case& c : std::vector<Case>{
           {"power_cap_mw = 2.0", "power_cap_mw = 1e308", "field 'sites[0].power_cap_mw': expected a number in"},
           {"power_cap_mw = 2.0", "power_cap_mw = nan", "power_cap_mw"},
           {"count = 4", "count = 1e19", "field 'sites[0].pools[0].count'"},
           {"count = 4", "count = 4.0", "field 'sites[0].pools[0].count'"},
           {"busy_watts = 1200", "busy_watts = -inf", "busy_watts"},
       }) {
    std::string bad = fleet;
    const size_t at = bad.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    bad.replace(at, c.from.size(), c.to);
    const std::string path = dir_ + "/num.toml";
    Write(path, bad);
    EXPECT_EQ(testing::RunCommand(Bin() + " cluster " + path + " 2>&1", &text), 2) << c.to << "\n" << text;
    EXPECT_NE(text.find(c.want), std::string::npos) << c.to << "\n" << text;
  }
}

// Duration fields of the TOML files take the same grammar as the flags; a
// bare number keeps the field's unit.
TEST_F(CliFlags, TomlDurationFieldsTakeTheOneGrammar) {
  const std::string tenants = testing::Slurp(Src("examples/tenants-small.toml"));
  const std::string fleet = Src("examples/small.toml");
  const std::string trace = dir_ + "/ai.csv";
  Write(trace, "id,submit,runtime,gpus,tenant,topology\n1,0,3600,8,t0,any\n2,100,7200,72,t1,domain\n");
  std::string outputs[3];
  int k = 0;
  for (const std::string& spelling : {"start_day = 1", "start_day = \"24h\"", "start_day = \"1-00:00:00\""}) {
    std::string t = tenants;
    t.replace(t.find("start_day = 1"), std::string("start_day = 1").size(), spelling);
    const std::string path = dir_ + "/tenants-" + std::to_string(k) + ".toml";
    Write(path, t);
    const std::string out = dir_ + "/dur-" + std::to_string(k);
    std::string text;
    ASSERT_EQ(testing::RunCommand(Bin() + " sim -q --no-timing --cluster " + fleet + " --tenants " + path +
                                      " --trace " + trace + " --out " + out + " 2>&1",
                                  &text),
              0)
        << spelling << "\n" << text;
    outputs[k++] = testing::Slurp(out + "/tenants.csv") + testing::Slurp(out + "/jobs.csv");
  }
  EXPECT_EQ(outputs[0], outputs[1]);
  EXPECT_EQ(outputs[0], outputs[2]);
  std::string t = tenants;
  t.replace(t.find("start_day = 1"), std::string("start_day = 1").size(), "start_day = \"soon\"");
  Write(dir_ + "/bad-tenants.toml", t);
  std::string text;
  EXPECT_EQ(testing::RunCommand(Bin() + " sim -q --cluster " + fleet + " --tenants " + dir_ + "/bad-tenants.toml --trace " +
                                    trace + " --out " + dir_ + "/dur-bad 2>&1",
                                &text),
            2);
  EXPECT_NE(text.find("bad-tenants.toml:13: field 'tenants[0].dedicated[0].start_day': expected a number of days or a "
                      "duration"),
            std::string::npos)
      << text;
  // The scenario's solver limit likewise.
  std::string scenario = testing::Slurp(Src("scenarios/small.toml"));
  scenario.replace(scenario.find("time_limit_s = 10"), std::string("time_limit_s = 10").size(), "time_limit_s = \"10s\"");
  Write(dir_ + "/s.toml", scenario);
  EXPECT_EQ(testing::RunCommand(Bin() + " plan -q " + dir_ + "/s.toml 2>&1", &text), 0) << text;
}

// -o and --out never replace a device, a symlink or a directory.
TEST_F(CliFlags, OutputsNeverReplaceDevicesLinksOrDirectories) {
  std::string text;
  // A device is written in place (as root, replacing /dev/null would break the system).
  EXPECT_EQ(testing::RunCommand(Bin() + " gen flat --jobs 10 -o /dev/null 2>&1", &text), 0) << text;
  struct stat st;
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  // A symlink is written through: the link stays, its target gets the data.
  const std::string target = dir_ + "/target.csv", link = dir_ + "/link.csv";
  Write(target, "old\n");
  std::filesystem::create_symlink(target, link);
  EXPECT_EQ(testing::RunCommand(Bin() + " gen flat --jobs 10 -o " + link + " 2>&1", &text), 0) << text;
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_NE(testing::Slurp(target).find("id,submit"), std::string::npos);
  // A directory as -o, a file as --out: refused while parsing.
  EXPECT_EQ(testing::RunCommand(Bin() + " gen flat -o " + dir_ + " 2>&1", &text), 2);
  EXPECT_NE(text.find("is a directory"), std::string::npos) << text;
  EXPECT_EQ(testing::RunCommand(Bin() + " plan " + Src("scenarios/small.toml") + " --out " + target + " 2>&1", &text), 2);
  EXPECT_NE(text.find("exists and is not a directory"), std::string::npos) << text;
  // An output file that is a directory or a link inside --out: nothing is moved.
  const std::string out = dir_ + "/plan-out";
  std::filesystem::create_directories(out + "/plan.csv");
  EXPECT_EQ(testing::RunCommand(Bin() + " plan -q " + Src("scenarios/small.toml") + " --out " + out + " 2>&1", &text), 1);
  EXPECT_NE(text.find("plan.csv: exists and is not a regular file: not replaced"), std::string::npos) << text;
  EXPECT_FALSE(Exists(out + "/plan.json"));
  EXPECT_TRUE(std::filesystem::is_directory(out + "/plan.csv"));
  // A failed run leaves the previous run's files as they were.
  std::filesystem::remove_all(out);
  ASSERT_EQ(testing::RunCommand(Bin() + " plan -q " + Src("scenarios/small.toml") + " --out " + out + " 2>&1", &text), 0);
  const std::string before = testing::Slurp(out + "/plan.json");
  Write(dir_ + "/bad.toml", "[scenario]\nname = 3\n");
  EXPECT_EQ(testing::RunCommand(Bin() + " plan -q " + dir_ + "/bad.toml --out " + out + " 2>&1", &text), 2);
  EXPECT_EQ(testing::Slurp(out + "/plan.json"), before);
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    EXPECT_EQ(e.path().filename().string().find("staging"), std::string::npos);
  }
}

}  // namespace
}  // namespace rackscale
