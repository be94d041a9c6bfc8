// Internal to the TOML readers (fleet, tenants, scenario): a checked reader
// of one TOML table whose errors name the file, the line and the key path,
// and the fleet catalog ([accelerators.*], [nodes.*], [domains.*]) that the
// fleet file and the planner's scenario file share. toml++ is used
// header-only with exceptions off; every user includes it through here.
#pragma once

#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <fmt/format.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/text.h"
#include "model/fleet.h"

namespace rackscale::internal {

// Reads keys of one TOML table, remembering which were seen so that unknown
// (misspelt) keys are reported.
class TableReader {
 public:
  TableReader(const toml::table& t, std::string path, const std::string& source)
      : t_(t), path_(std::move(path)), source_(source) {}

  int64_t Line(const toml::node* n) const {
    return n != nullptr ? static_cast<int64_t>(n->source().begin.line)
                        : static_cast<int64_t>(t_.source().begin.line);
  }
  std::string Key(std::string_view k) const {
    return path_.empty() ? std::string(k) : fmt::format("{}.{}", path_, k);
  }
  Error Bad(std::string_view key, const toml::node* n, std::string msg) const {
    return Error::InvalidInput(source_, Line(n), Key(key), std::move(msg));
  }

  // A number in [lo, hi]; `def` if absent and not required.
  Result<double> Number(std::string_view key, bool required, double def, double lo, double hi) {
    seen_.insert(std::string(key));
    const toml::node* n = t_.get(key);
    if (n == nullptr) {
      if (required) return Bad(key, nullptr, "missing; expected a number");
      return def;
    }
    // By the node's own type: toml++'s value<int64_t>() on a float casts it,
    // which is undefined for 1e308 (found by fuzz/fuzz_fleet_sim.cc).
    std::optional<double> v;
    if (n->is_integer()) {
      v = static_cast<double>(*n->value_exact<int64_t>());
    } else if (n->is_floating_point()) {
      v = *n->value_exact<double>();
    }
    if (!v || n->is_boolean() || n->is_string()) return Bad(key, n, "expected a number");
    if (!(*v >= lo && *v <= hi)) {
      return Bad(key, n, fmt::format("expected a number in [{}, {}], got {}", lo, hi, *v));
    }
    return *v;
  }
  // A duration field: a number in the field's own `unit` (as its name says:
  // start_day, startup_s), or a string in the one duration grammar
  // ("36h", "2-12:00:00"; docs/cli.md#values-ranges-durations-and-files).
  // Returns the value in `unit`, range-checked in that unit.
  Result<double> Duration(std::string_view key, bool required, double def, double lo, double hi, DurationUnit unit) {
    const toml::node* n = t_.get(key);
    if (n == nullptr || !n->is_string()) return Number(key, required, def, lo, hi);
    seen_.insert(std::string(key));
    const std::string text = *n->value_exact<std::string>();
    auto seconds = ParseDuration(text, unit);
    if (!seconds) {
      return Bad(key, n, fmt::format("expected a number of {} or a duration (90s, 45m, 36h, 2d, D-HH:MM:SS), got {}",
                                     unit == DurationUnit::kSeconds   ? "seconds"
                                     : unit == DurationUnit::kMinutes ? "minutes"
                                     : unit == DurationUnit::kHours   ? "hours"
                                                                      : "days",
                                     Quote(text)));
    }
    const double v = *seconds / DurationUnitSeconds(unit);
    if (!(v >= lo && v <= hi)) {
      return Bad(key, n, fmt::format("expected [{}, {}] {}, got {}", lo, hi, DurationUnitSuffix(unit), Quote(text)));
    }
    return v;
  }
  Result<int64_t> Int(std::string_view key, bool required, int64_t def, int64_t lo, int64_t hi) {
    seen_.insert(std::string(key));
    const toml::node* n = t_.get(key);
    if (n == nullptr) {
      if (required) return Bad(key, nullptr, "missing; expected an integer");
      return def;
    }
    auto v = n->value_exact<int64_t>();
    if (!v) return Bad(key, n, "expected an integer");
    if (*v < lo || *v > hi) {
      return Bad(key, n, fmt::format("expected an integer in [{}, {}], got {}", lo, hi, *v));
    }
    return *v;
  }
  Result<std::string> String(std::string_view key, bool required) {
    seen_.insert(std::string(key));
    const toml::node* n = t_.get(key);
    if (n == nullptr) {
      if (required) return Bad(key, nullptr, "missing; expected a string");
      return std::string();
    }
    auto v = n->value_exact<std::string>();
    if (!v) return Bad(key, n, "expected a string");
    return *v;
  }
  bool Has(std::string_view key) const { return t_.get(key) != nullptr; }
  void Mark(std::string_view key) { seen_.insert(std::string(key)); }

  // Any key not read is a typo or an unsupported setting.
  Status CheckUnknown() const {
    for (const auto& [k, v] : t_) {
      if (seen_.count(std::string(k.str())) == 0) {
        return Bad(k.str(), &v, "unknown key");
      }
    }
    return Status::Ok();
  }

 private:
  const toml::table& t_;
  std::string path_;
  const std::string& source_;
  std::set<std::string> seen_;
};

#define RS_TRY(var, expr)          \
  auto var##_r = (expr);           \
  if (!var##_r) return var##_r.error(); \
  auto var = *var##_r

template <typename T>
int32_t IndexOf(const std::vector<T>& v, std::string_view name) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].name == name) return static_cast<int32_t>(i);
  }
  return -1;
}

// toml++ 3.3 (Debian 12) reaches an "unreachable" branch when it classifies
// some non-ASCII code points: outside strings, after a syntax error, and in
// escape sequences inside strings (all found by fuzz/fuzz_toml.cc). Fleet
// and tenants files are therefore plain ASCII; a non-ASCII byte anywhere is
// refused here, with its line, before toml++ sees the text.
inline Status CheckAscii(std::string_view text, const std::string& source) {
  int64_t line = 1;
  for (char c : text) {
    if (c == '\n') ++line;
    if (static_cast<unsigned char>(c) >= 0x80) {
      return Error::InvalidInput(source, line, "",
                                 "non-ASCII character: fleet and tenants files are plain ASCII");
    }
  }
  return Status::Ok();
}

// toml++ parses nested tables, arrays and dotted keys recursively: a file
// of `[t.t.t...]` 20,000 levels deep overflows the stack. Every file is
// scanned first: nesting of [ and { (outside strings and comments) and the
// dots of one key or header are limited to kMaxTomlDepth, and the file to
// kMaxTomlBytes, with the line at fault.
inline constexpr int kMaxTomlDepth = 64;
inline constexpr size_t kMaxTomlBytes = 64u << 20;

inline Status CheckTomlDepth(std::string_view text, const std::string& source) {
  if (text.size() > kMaxTomlBytes) {
    return Error::InvalidInput(source, 0, "", fmt::format("{} bytes: a TOML file may hold at most {} MiB",
                                                          text.size(), kMaxTomlBytes >> 20));
  }
  int64_t line = 1;
  int depth = 0, dots = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    auto too_deep = [&](const char* what) {
      return Error::InvalidInput(source, line, "",
                                 fmt::format("{} nested deeper than {} levels", what, kMaxTomlDepth));
    };
    if (c == '\n') {
      ++line;
      dots = 0;
    } else if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      // A string, basic or literal, single- or multi-line: skip to its end.
      const std::string_view triple = c == '"' ? "\"\"\"" : "'''";
      const bool multi = text.substr(i, 3) == triple;
      const std::string_view close = multi ? triple : text.substr(i, 1);
      size_t j = i + close.size();
      while (j < text.size()) {
        if (c == '"' && text[j] == '\\') {
          j += 2;
          continue;
        }
        if (text.substr(j, close.size()) == close) break;
        if (text[j] == '\n') {
          if (!multi) break;  // toml++ reports the unterminated string
          ++line;
        }
        ++j;
      }
      if (j < text.size() && text[j] == '\n') {
        i = j - 1;  // the newline is counted by the loop
      } else {
        i = std::min(text.size(), j + close.size()) - 1;
      }
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxTomlDepth) return too_deep("arrays or tables");
    } else if (c == ']' || c == '}') {
      depth = std::max(0, depth - 1);
    } else if (c == '.' && !(i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9')) {
      // A key's dot (a float's point is followed by a digit).
      if (++dots > kMaxTomlDepth) return too_deep("dotted keys");
    }
  }
  return Status::Ok();
}

// Parses TOML text into a table, or an error with the line.
inline Result<toml::table> ParseToml(std::string_view text, const std::string& source) {
  if (Status s = CheckAscii(text, source); !s) return s.error();
  if (Status s = CheckTomlDepth(text, source); !s) return s.error();
  toml::parse_result parsed = toml::parse(text, source);
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    return Error::InvalidInput(source, static_cast<int64_t>(e.source().begin.line), "",
                               fmt::format("TOML syntax: {}", e.description()));
  }
  return std::move(parsed).table();
}

// Reads [accelerators.NAME], [nodes.NAME] and [domains.NAME] of `root` into
// f's catalog, marking those keys as read on `top`.
Status ParseFleetCatalog(const toml::table& root, TableReader& top, const std::string& source,
                         Fleet& f);

}  // namespace rackscale::internal
