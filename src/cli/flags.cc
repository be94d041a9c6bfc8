#include "cli/flags.h"

#include <sys/stat.h>

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "ctl/client.h"
#include "ctl/tokens.h"

namespace rackscale {
namespace {

// "1e+06" -> "1e6", "0.5" stays: short, exact enough for a help text.
std::string Num(double v) {
  if (v == std::numeric_limits<double>::max()) return "inf";
  if (std::fabs(v) >= 1e6 && v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{:.0f}", v);
  return fmt::format("{}", v);
}

std::string RangeText(double lo, double hi, const std::string& unit) {
  return fmt::format("[{}, {}]{}", Num(lo), Num(hi), unit.empty() ? "" : " " + unit);
}

bool IsDigits(const std::string& s) {
  return !s.empty() && s.size() <= 20 && s.find_first_not_of("0123456789") == std::string::npos;
}

// Integer text -> value, or "" error text; `lo`/`hi` bound it.
std::string CheckInt(const std::string& s, int64_t lo, int64_t hi) {
  const bool neg = !s.empty() && s[0] == '-';
  const std::string digits = neg ? s.substr(1) : s;
  auto bad = [&] { return fmt::format("expected a whole number in [{}, {}], got {}", lo, hi, Quote(s)); };
  if (!IsDigits(digits)) return bad();
  auto v = ParseInt(s);
  if (!v || *v < lo || *v > hi) return bad();
  return "";
}

}  // namespace

CLI::Option* AddNumber(CLI::App* app, const std::string& name, double* v, const std::string& help, double lo,
                       double hi, const std::string& unit) {
  const std::string range = RangeText(lo, hi, unit);
  CLI::Option* o = app->add_option(name, *v, help + " " + range);
  o->check(CLI::Validator(
      [lo, hi, range](std::string& s) -> std::string {
        auto d = ParseDouble(s);
        if (!d || *d < lo || *d > hi) return fmt::format("expected a number in {}, got {}", range, Quote(s));
        return "";
      },
      ""));
  o->type_name(kFlagNumber);
  o->default_str(Num(*v));
  return o;
}

namespace {

template <typename T>
CLI::Option* AddIntOf(CLI::App* app, const std::string& name, T* v, const std::string& help, T lo, T hi) {
  CLI::Option* o = app->add_option(name, *v, fmt::format("{} [{}, {}]", help, lo, hi));
  o->check(CLI::Validator([lo, hi](std::string& s) { return CheckInt(s, lo, hi); }, ""));
  o->type_name(kFlagInt);
  o->default_str(std::to_string(*v));
  return o;
}

}  // namespace

CLI::Option* AddInt(CLI::App* app, const std::string& name, int64_t* v, const std::string& help, int64_t lo,
                    int64_t hi) {
  return AddIntOf(app, name, v, help, lo, hi);
}

CLI::Option* AddInt(CLI::App* app, const std::string& name, int32_t* v, const std::string& help, int32_t lo,
                    int32_t hi) {
  return AddIntOf(app, name, v, help, lo, hi);
}

CLI::Option* AddSeed(CLI::App* app, const std::string& name, uint64_t* v, const std::string& help) {
  CLI::Option* o = app->add_option(name, *v, help + " [0, 2^64 - 1]");
  o->check(CLI::Validator(
      [](std::string& s) -> std::string {
        // 2^64 - 1 = 18446744073709551615 (20 digits).
        const bool fits = IsDigits(s) && (s.size() < 20 || s <= "18446744073709551615");
        return fits ? "" : fmt::format("expected a whole number in [0, 2^64 - 1], got {}", Quote(s));
      },
      ""));
  o->type_name(kFlagSeed);
  o->default_str(std::to_string(*v));
  return o;
}

std::string FormatDuration(double seconds) {
  if (seconds == 0) return "0";
  // The largest unit that gives a whole number, else seconds.
  for (auto [unit, suffix] : {std::pair{86400.0, "d"}, {3600.0, "h"}, {60.0, "m"}}) {
    const double n = seconds / unit;
    if (n >= 1 && n == std::round(n) && n < 1e15) return fmt::format("{:.0f}{}", n, suffix);
  }
  return fmt::format("{:.6g}s", seconds);
}

CLI::Option* AddDuration(CLI::App* app, const std::string& name, double* seconds, const std::string& help,
                         DurationUnit bare, double lo_s, double hi_s) {
  const std::string range = fmt::format("[{}, {}]", lo_s == 0 ? "0" : FormatDuration(lo_s), FormatDuration(hi_s));
  CLI::Option* o = app->add_option(
      name, *seconds,
      fmt::format("{} {}; a duration: 90s, 45m, 36h, 2d or D-HH:MM:SS, a bare number in {}", help, range,
                  bare == DurationUnit::kSeconds   ? "seconds"
                  : bare == DurationUnit::kMinutes ? "minutes"
                  : bare == DurationUnit::kHours   ? "hours"
                                                   : "days"));
  // Rewrites the text into seconds before CLI11 converts it.
  o->transform(CLI::Validator(
      [bare, lo_s, hi_s, range](std::string& s) -> std::string {
        auto d = ParseDuration(s, bare);
        if (!d || *d < lo_s || *d > hi_s) {
          return fmt::format("expected a duration in {} (90s, 45m, 36h, 2d, D-HH:MM:SS or a number of {}), got {}",
                             range,
                             bare == DurationUnit::kSeconds   ? "seconds"
                             : bare == DurationUnit::kMinutes ? "minutes"
                             : bare == DurationUnit::kHours   ? "hours"
                                                              : "days",
                             Quote(s));
        }
        s = fmt::format("{}", *d);
        return "";
      },
      ""));
  o->type_name(kFlagDuration);
  o->default_str(FormatDuration(*seconds));
  return o;
}

CLI::Option* AddChoice(CLI::App* app, const std::string& name, std::string* v, const std::string& help,
                       std::vector<std::string> choices) {
  std::string list;
  for (const std::string& c : choices) list += (list.empty() ? "" : ", ") + c;
  CLI::Option* o = app->add_option(name, *v, help);
  o->check(CLI::Validator(
      [choices, list](std::string& s) -> std::string {
        for (const std::string& c : choices) {
          if (s == c) return "";
        }
        return fmt::format("expected one of {}, got {}", list, Quote(s));
      },
      ""));
  o->type_name(kFlagChoice);
  if (!v->empty()) o->default_str(*v);
  return o;
}

CLI::Option* AddInFile(CLI::App* app, const std::string& name, std::string* v, const std::string& help) {
  CLI::Option* o = app->add_option(name, *v, help);
  o->check(CLI::Validator(
      [](std::string& s) -> std::string { return s.empty() ? std::string("expected a file name, got ''") : ""; }, ""));
  o->type_name(kFlagInFile);
  return o;
}

CLI::Option* AddOutDir(CLI::App* app, const std::string& name, std::string* v, const std::string& help) {
  CLI::Option* o = app->add_option(name, *v, help);
  o->check(CLI::Validator(
      [](std::string& s) -> std::string {
        if (s.empty()) return "expected a directory name, got ''";
        struct stat st;
        if (::stat(s.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
          return fmt::format("{} exists and is not a directory", Quote(s));
        }
        return "";
      },
      ""));
  o->type_name(kFlagOutDir);
  return o;
}

CLI::Option* AddOutFile(CLI::App* app, const std::string& name, std::string* v, const std::string& help) {
  CLI::Option* o = app->add_option(name, *v, help);
  o->check(CLI::Validator(
      [](std::string& s) -> std::string {
        if (s.empty()) return "expected a file name, got ''";
        struct stat st;
        if (::stat(s.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return fmt::format("{} is a directory", Quote(s));
        return "";
      },
      ""));
  o->type_name(kFlagOutFile);
  return o;
}

CLI::Option* AddServerUrl(CLI::App* app, const std::string& name, std::string* v, const std::string& help) {
  CLI::Option* o = app->add_option(name, *v, help);
  o->check(CLI::Validator(
      [](std::string& s) -> std::string {
        std::string origin, prefix, why;
        return ctl::ParseServerUrl(s, &origin, &prefix, &why) ? "" : why;
      },
      ""));
  o->type_name(kFlagUrl);
  return o;
}

CLI::Option* AddToken(CLI::App* app, const std::string& name, std::string* v, const std::string& help) {
  CLI::Option* o = app->add_option(name, *v, help);
  o->check(CLI::Validator(
      [](std::string& s) -> std::string {
        return ctl::WellFormedToken(s) ? "" : "not a rackscale token (rsa_, rst_ or rsg_ followed by 64 hex digits)";
      },
      ""));
  o->type_name(kFlagToken);
  return o;
}

std::string FlagsNotApplying(const CLI::App& app, std::initializer_list<const char*> flags, const std::string& why) {
  for (const char* f : flags) {
    if (app.count(f) > 0) return fmt::format("{} does not apply {}", f, why);
  }
  return "";
}

}  // namespace rackscale
