// rackscale: plan, simulate and operate rack-scale AI fleets.
#include <cstdio>

#include <fmt/format.h>

#include "base/status.h"
#include "cli/commands.h"

namespace rackscale {

int ReportError(const Error& e) {
  std::fprintf(stderr, "rackscale: error: %s\n", e.ToString().c_str());
  return e.kind == ErrorKind::kInvalidInput ? kExitBadInput : kExitFailure;
}

int PrintJsonDocument(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    return ReportError(Error::Io("stdout", "write failed"));
  }
  return kExitOk;
}

}  // namespace rackscale

int main(int argc, char** argv) {
  using namespace rackscale;
  CLI::App app{"rackscale: plan, simulate and operate rack-scale AI fleets.\n"
               "Docs: docs/README.md. Exit codes: 0 ok, 1 I/O or internal failure, "
               "2 malformed input or bad arguments."};
  app.set_version_flag("--version", "rackscale 0.1.0");
  app.require_subcommand(1);
  CommandFn run;
  RegisterSim(app, &run);
  RegisterGen(app, &run);
  RegisterPack(app, &run);
  RegisterCluster(app, &run);
  RegisterEttr(app, &run);
  RegisterInference(app, &run);
  RegisterPlan(app, &run);
  RegisterRun(app, &run);
  RegisterVerify(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitBadInput;
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
