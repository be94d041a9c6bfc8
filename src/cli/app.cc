// The rackscale command line as a library: BuildApp and RunCli (cli/commands.h).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/status.h"
#include "cli/commands.h"

namespace rackscale {

int ReportError(const Error& e) {
  std::fprintf(stderr, "rackscale: error: %s\n", e.ToString().c_str());
  return e.kind == ErrorKind::kInvalidInput ? kExitBadInput : kExitFailure;
}

// Levenshtein distance, for "did you mean".
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

int PrintJsonDocument(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    return ReportError(Error::Io("stdout", "write failed"));
  }
  return kExitOk;
}

const char* const kAppDescription =
    "rackscale: plan, simulate and operate rack-scale AI fleets.\n"
    "Docs: docs/README.md. Exit codes: 0 ok, 1 I/O or internal failure, "
    "2 malformed input or bad arguments, 3 the server refused the token (agent; for the clients of rackscale serve, "
    "job, queue, node, tenant and token, also: it cannot be reached), 4 not found and 5 conflict (the clients).";

void BuildApp(CLI::App& app, CommandFn* run) {
  app.set_version_flag("--version", "rackscale 0.1.0");
  app.require_subcommand(1);
  RegisterSim(app, run);
  RegisterGen(app, run);
  RegisterPack(app, run);
  RegisterCluster(app, run);
  RegisterEttr(app, run);
  RegisterInference(app, run);
  RegisterPlan(app, run);
  RegisterRun(app, run);
  RegisterPlanMerge(app, run);
  RegisterVerify(app, run);
  RegisterServe(app, run);
  RegisterAgent(app, run);
  RegisterClients(app, run);
}

int RunCli(int argc, char** argv) {
  CLI::App app{kAppDescription};
  CommandFn run;
  BuildApp(app, &run);
  // An unknown command names itself and the closest one.
  if (argc >= 2 && argv[1][0] != '-') {
    const std::string given = argv[1];
    std::string best;
    size_t best_d = SIZE_MAX;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      known = known || sub->get_name() == given;
      const size_t d = EditDistance(given, sub->get_name());
      if (d < best_d) {
        best_d = d;
        best = sub->get_name();
      }
    }
    if (!known) {
      std::fprintf(stderr, "rackscale: error: unknown command '%s'%s (`rackscale --help` lists the commands)\n", given.c_str(),
                   best_d <= 2 ? fmt::format("; did you mean '{}'?", best).c_str() : "");
      return kExitBadInput;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e) == 0 ? kExitOk : kExitBadInput;
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e) == 0 ? kExitOk : kExitBadInput;
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e) == 0 ? kExitOk : kExitBadInput;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "rackscale: error: %s\nRun with --help for more information.\n", e.what());
    return kExitBadInput;
  }
  int rc = run ? run() : kExitBadInput;
  // Output that could not be written (a full disk, a closed pipe) is a
  // failure, whatever the command did.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "rackscale: error: stdout: write failed\n");
    if (rc == kExitOk) rc = kExitFailure;
  }
  return rc;
}

}  // namespace rackscale
