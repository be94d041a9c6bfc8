// libFuzzer target for the command line: the input, split at newlines, is
// an argv for `rackscale`. Every subcommand's flags are parsed and checked
// (cli/flags.h validators, the duration grammar, choices, cross-flag rules);
// the command itself is not run. Any argv is accepted or rejected with a
// CLI11 error that has a message; nothing crashes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/commands.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args;
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '\n') {
      args.push_back(cur);
      cur.clear();
    } else if (c != '\0') {
      cur.push_back(c);
    }
  }
  args.push_back(cur);
  if (args.size() > 64) return 0;
  // Paths could name anything on this machine: keep them relative and
  // harmless (the validators only stat them; nothing is written).
  std::vector<char*> argv;
  static char name[] = "rackscale";
  argv.push_back(name);
  for (std::string& a : args) argv.push_back(a.data());
  CLI::App app{"rackscale"};
  rackscale::CommandFn run;
  rackscale::BuildApp(app, &run);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Success&) {
  } catch (const CLI::ParseError& e) {
    if (std::string(e.what()).empty() && e.get_exit_code() != 0) __builtin_trap();
  }
  return 0;
}
