// `rackscale agent`: the node agent of the control plane (ctl/agent.h,
// docs/operate.md "The agent").
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <thread>

#include "base/file.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "ctl/agent.h"
#include "ctl/tokens.h"

namespace rackscale {
namespace {

struct AgentArgs {
  std::string server, token, token_file, node, gpu_model, addr;
  int32_t gpus = 0;
  std::string state_dir = "/var/lib/rackscale/agent", log_dir = "/var/log/rackscale/tasks";
  double heartbeat_s = 5;
  int32_t emulate = 0, node_offset = 0;
  // Set by the parse callback.
  bool token_given = false, token_file_given = false, gpus_given = false, gpu_model_given = false, node_given = false,
       addr_given = false;
  std::string not_applying;
};

Error Bad(const std::string& flag, const std::string& message) { return Error::InvalidInput(flag, 0, "", message); }

// The API's names ([A-Za-z0-9][A-Za-z0-9._-]{0,127}) and addresses
// ([A-Za-z0-9._:-]{1,255} here: an agent has one).
bool Word(const std::string& s, const char* allowed, size_t max_bytes) {
  if (s.empty() || s.size() > max_bytes) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && !std::strchr(allowed, c)) return false;
  }
  return true;
}
bool Name(const std::string& s) {
  return Word(s, "._-", ctl::kMaxNameBytes) && std::isalnum(static_cast<unsigned char>(s[0]));
}

// The first executable `name` in $PATH, or "".
std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string d; std::getline(dirs, d, ':');) {
    const std::string p = (d.empty() ? "." : d) + "/" + name;
    struct stat st;
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

// The node's GPUs from `nvidia-smi -q -x`, when --gpus is not given.
Status DetectGpus(int32_t* gpus, std::string* model) {
  const std::string smi = FindInPath("nvidia-smi");
  if (smi.empty()) {
    std::fprintf(stderr, "rackscale agent: no --gpus and no nvidia-smi in PATH: the node has no GPUs\n");
    *gpus = 0;
    model->clear();
    return Status::Ok();
  }
  FILE* p = ::popen((smi + " -q -x 2>/dev/null").c_str(), "r");
  if (!p) return Error::Io(smi, "cannot run");
  std::string xml;
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0 && xml.size() < (size_t{64} << 20);) xml.append(buf, n);
  const int rc = ::pclose(p);
  if (rc != 0 || !ctl::ParseNvidiaSmiXml(xml, gpus, model)) {
    return Error::Io(smi + " -q -x", "no GPU found in its output; give --gpus and --gpu-model");
  }
  return Status::Ok();
}

int RunAgent(AgentArgs a) {
  if (!a.not_applying.empty()) return ReportError(Bad("agent", a.not_applying));
  std::string origin, prefix, why;
  if (a.server.empty()) return ReportError(Bad("--server", "required (or RACKSCALE_SERVER)"));
  if (!ctl::SplitServerUrl(a.server, &origin, &prefix, &why)) return ReportError(Bad("--server", why));
  if (a.token_given && a.token_file_given) return ReportError(Bad("--token", "give --token or --token-file, not both"));
  std::string token_source = "--token";
  if (a.token_file_given) {
    Result<std::string> text = ReadFileMaybeGz(a.token_file, "token");
    if (!text.ok()) return ReportError(text.error());
    const std::string& t = *text;  // the token, without surrounding white space and line ends
    const size_t b = t.find_first_not_of(" \t\r\n"), e = t.find_last_not_of(" \t\r\n");
    a.token = b == std::string::npos ? "" : t.substr(b, e - b + 1);
    token_source = a.token_file;
  } else if (!a.token_given) {
    const char* env = std::getenv("RACKSCALE_TOKEN");
    a.token = env ? env : "";
    token_source = "RACKSCALE_TOKEN";
    if (a.token.empty()) return ReportError(Bad("--token", "required (or --token-file, or RACKSCALE_TOKEN)"));
  }
  if (!ctl::WellFormedToken(a.token)) {
    return ReportError(Bad(token_source, "expected a token: rsg_ (agent) and 64 hex digits"));
  }
  if (a.emulate == 0) {
    if (!a.node_given) return ReportError(Bad("--node", "required (or --emulate N)"));
    if (!Name(a.node)) return ReportError(Bad("--node", fmt::format("expected a node name, got {}", Quote(a.node))));
  }
  if (a.gpu_model_given && !Name(a.gpu_model)) {
    return ReportError(
        Bad("--gpu-model", fmt::format("expected an accelerator name such as H100, got {}", Quote(a.gpu_model))));
  }
  if (a.gpu_model_given && !a.gpus_given) return ReportError(Bad("--gpu-model", "needs --gpus"));
  if (a.gpus_given && a.gpus > 0 && !a.gpu_model_given) return ReportError(Bad("--gpus", "needs --gpu-model"));
  if (!a.addr_given && a.addr.empty()) return ReportError(Bad("--addr", "the host name is unknown; give --addr"));
  if (!Word(a.addr, "._:-", ctl::kMaxAddrBytes))
    return ReportError(Bad("--addr", fmt::format("expected a host name or address, got {}", Quote(a.addr))));

  ctl::AgentOptions o;
  o.server = a.server;
  o.token = a.token;
  o.emulate = a.emulate;
  o.node_offset = a.node_offset;
  o.addr = a.addr;
  o.state_dir = a.state_dir;
  o.log_dir = a.log_dir;
  o.heartbeat_s = a.heartbeat_s;
  if (a.emulate == 0) {
    o.node = ctl::NodeInventory{a.node, a.gpus, a.gpu_model, a.addr};
    if (!a.gpus_given) {
      if (Status s = DetectGpus(&o.node.gpus, &o.node.gpu_model); !s.ok()) return ReportError(s.error());
    }
  }

  // SIGTERM and SIGINT stop the agent (its tasks keep running): every
  // thread blocks them, one waits for them.
  sigset_t stop_signals, old;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &old);
  ctl::Agent agent(o);
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!done) {
      const int sig = sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig > 0) {
        std::fprintf(stderr, "rackscale agent: %s: stopping (tasks keep running)\n", strsignal(sig));
        agent.Stop();
      }
    }
  });
  std::string message;
  const ctl::AgentEnd end = agent.Run(&message);
  done = true;
  waiter.join();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  switch (end) {
    case ctl::AgentEnd::kStopped:
      return kExitOk;
    case ctl::AgentEnd::kBadInput:
      return ReportError(Bad("agent", message));
    case ctl::AgentEnd::kFailure:
      return ReportError(Error::Io("agent", message));
    case ctl::AgentEnd::kAuthRefused:
      std::fprintf(stderr, "rackscale: error: agent: %s\n", message.c_str());
      return kExitServer;
  }
  return kExitFailure;
}

}  // namespace

void RegisterAgent(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<AgentArgs>();
  CLI::App* sub = app.add_subcommand(
      "agent",
      "Run the node agent of a control plane (rackscale serve): register this node (or, with --emulate, N "
      "virtual nodes of the fleet), run the tasks the server places on it as process groups with their GPUs "
      "in CUDA_VISIBLE_DEVICES, report how they end, heartbeat. SIGTERM or SIGINT stops the agent and leaves "
      "its tasks running; the next agent over the same --state-dir adopts them. Exit codes: 0 stopped by a "
      "signal, 1 the state or log directory cannot be used, 2 bad flags or a registration the server refuses, "
      "3 the server refuses the token. An unreachable server is retried, never fatal.\n"
      "Example: rackscale agent --server http://ctl:8080 --token-file /etc/rackscale/agent.token "
      "--node east-d0002-n00");
  sub->add_option("--server", args->server, "The server's URL, http://HOST:PORT (or $RACKSCALE_SERVER)")
      ->envname("RACKSCALE_SERVER");
  sub->add_option("--token", args->token,
                  "The agent token, rsg_... (or $RACKSCALE_TOKEN; --token-file keeps it "
                  "out of the process list)");
  AddInFile(sub, "--token-file", &args->token_file, "File holding the agent token");
  sub->add_option("--node", args->node, "This node's name in the fleet (SITE-dDDDD-nNN)");
  AddInt(sub, "--gpus", &args->gpus, "GPUs of this node (default: counted by nvidia-smi -q -x; none without it)", 0,
         1 << 16)
      ->default_str("");
  sub->add_option("--gpu-model", args->gpu_model,
                  "Their accelerator, as the fleet names it (default: from nvidia-smi)");
  sub->add_option("--addr", args->addr, "Host or address the gang's rank 0 is reached at (default: the host name)");
  AddOutDir(sub, "--state-dir", &args->state_dir, "Where the agent keeps tasks.json and journal.jsonl")
      ->default_str(args->state_dir);
  AddOutDir(sub, "--log-dir", &args->log_dir, "Where tasks' stdout and stderr go: DIR/JOB/ATTEMPT-RANK.out, .err")
      ->default_str(args->log_dir);
  AddDuration(sub, "--heartbeat", &args->heartbeat_s, "Time between heartbeats", DurationUnit::kSeconds, 0.1, 3600)
      ->default_str("5");
  AddInt(sub, "--emulate", &args->emulate,
         "Emulate N nodes of the server's node list instead of one real node: tasks run for their duration_s "
         "and spawn nothing",
         1, 100000)
      ->default_str("");
  AddInt(sub, "--node-offset", &args->node_offset, "With --emulate: the index of the first node to claim", 0, 10000000);
  sub->callback([args, sub, run] {
    AgentArgs& a = *args;
    a.token_given = sub->count("--token") > 0;
    a.token_file_given = sub->count("--token-file") > 0;
    a.gpus_given = sub->count("--gpus") > 0;
    a.gpu_model_given = sub->count("--gpu-model") > 0;
    a.node_given = sub->count("--node") > 0;
    a.addr_given = sub->count("--addr") > 0;
    a.not_applying = a.emulate > 0 ? FlagsNotApplying(*sub, {"--node", "--gpus", "--gpu-model"},
                                                      "with --emulate (the nodes come from the server's list)")
                                   : FlagsNotApplying(*sub, {"--node-offset"}, "without --emulate");
    if (!a.addr_given) {
      char host[256] = {};
      if (::gethostname(host, sizeof host - 1) == 0) a.addr = host;
    }
    *run = [args] { return RunAgent(*args); };
  });
}

}  // namespace rackscale
