// Typed command-line flags: every value is checked while the command line is
// parsed, before a command reads a file or writes anything.
//
// Each helper adds a CLI11 option whose validator rejects, with a message
// naming the flag, anything outside the flag's class and range: text where a
// number belongs, nan, inf, out-of-range values, fractions where a count
// belongs, negative seeds. The range is appended to the option's help text,
// so `--help` documents it. The option's type name records its class
// (NUMBER, INT, SEED, DURATION, CHOICE, FILE, DIR, OUTFILE, URL, TOKEN); tests/cli_flags_test.cc
// walks every subcommand's options by class and feeds each class its bad
// values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/text.h"

namespace rackscale {

// Class names, as CLI::Option::get_type_name() returns them.
inline constexpr const char* kFlagNumber = "NUMBER";
inline constexpr const char* kFlagInt = "INT";
inline constexpr const char* kFlagSeed = "SEED";
inline constexpr const char* kFlagDuration = "DURATION";
inline constexpr const char* kFlagInFile = "FILE";
inline constexpr const char* kFlagOutDir = "DIR";
inline constexpr const char* kFlagOutFile = "OUTFILE";
inline constexpr const char* kFlagChoice = "CHOICE";
inline constexpr const char* kFlagUrl = "URL";
inline constexpr const char* kFlagToken = "TOKEN";

// A finite number in [lo, hi]. `unit` (e.g. "hours") goes into the help text.
CLI::Option* AddNumber(CLI::App* app, const std::string& name, double* v, const std::string& help, double lo,
                       double hi, const std::string& unit = "");

// A whole number in [lo, hi], written as decimal digits ("2.5", "1e3" and
// "0x10" are rejected).
CLI::Option* AddInt(CLI::App* app, const std::string& name, int64_t* v, const std::string& help, int64_t lo,
                    int64_t hi);
CLI::Option* AddInt(CLI::App* app, const std::string& name, int32_t* v, const std::string& help, int32_t lo,
                    int32_t hi);

// A random seed: decimal digits, 0 to 2^64 - 1.
CLI::Option* AddSeed(CLI::App* app, const std::string& name, uint64_t* v, const std::string& help);

// A duration in rackscale's one grammar (ParseDuration): 90s, 45m, 36h, 2d,
// D-HH:MM:SS, or a bare number in `bare` units. Stored in seconds; the range
// is in seconds too. The default shown by --help is *v in the bare unit.
CLI::Option* AddDuration(CLI::App* app, const std::string& name, double* seconds, const std::string& help,
                         DurationUnit bare, double lo_s, double hi_s);

// One of `choices` (exactly; "" is not a choice unless listed).
CLI::Option* AddChoice(CLI::App* app, const std::string& name, std::string* v, const std::string& help,
                       std::vector<std::string> choices);

// Paths. An input file must be named (not empty); whether it exists and what
// it holds are checked by its reader, which names it. An output directory or
// file must be named and must not be an existing non-directory (for DIR) or
// directory (for OUTFILE).
CLI::Option* AddInFile(CLI::App* app, const std::string& name, std::string* v, const std::string& help);
CLI::Option* AddOutDir(CLI::App* app, const std::string& name, std::string* v, const std::string& help);
CLI::Option* AddOutFile(CLI::App* app, const std::string& name, std::string* v, const std::string& help);

// A server URL (ctl::ParseServerUrl): http://HOST[:PORT][/PREFIX] or https://...
CLI::Option* AddServerUrl(CLI::App* app, const std::string& name, std::string* v, const std::string& help);

// A bearer token of the control plane (ctl::WellFormedToken). The value is
// never echoed in an error.
CLI::Option* AddToken(CLI::App* app, const std::string& name, std::string* v, const std::string& help);

// "36h" for 129600 seconds: the shortest exact form with the largest unit.
std::string FormatDuration(double seconds);

// Rejects `app`'s flags in `flags` that were given, with "FLAG does not apply
// WHY" naming the first one. Returns "" when none was given.
std::string FlagsNotApplying(const CLI::App& app, std::initializer_list<const char*> flags, const std::string& why);

}  // namespace rackscale
