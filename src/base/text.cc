#include "base/text.h"

#include <cmath>

namespace rackscale {

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

std::optional<int64_t> ParseInt(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> ParseTruncated(std::string_view s) {
  // Fast path: a plain integer.
  if (auto v = ParseInt(s)) return v;
  // Decimal point or exponent. A token like "-0.5" must truncate to 0, and
  // "12." is accepted as 12. Parse as double (exact for |v| < 2^53, which is
  // beyond any time or size in a workload log) and truncate toward zero.
  auto d = ParseDouble(s);
  if (!d) return std::nullopt;
  if (*d >= 9.2e18 || *d <= -9.2e18) return std::nullopt;
  return static_cast<int64_t>(std::trunc(*d));
}

double DurationUnitSeconds(DurationUnit u) {
  switch (u) {
    case DurationUnit::kSeconds: return 1;
    case DurationUnit::kMinutes: return 60;
    case DurationUnit::kHours: return 3600;
    case DurationUnit::kDays: return 86400;
  }
  return 1;
}

const char* DurationUnitSuffix(DurationUnit u) {
  switch (u) {
    case DurationUnit::kSeconds: return "s";
    case DurationUnit::kMinutes: return "m";
    case DurationUnit::kHours: return "h";
    case DurationUnit::kDays: return "d";
  }
  return "s";
}

namespace {

// A whole number of at most 9 digits (no sign), for Slurm's fields.
std::optional<int64_t> SmallWhole(std::string_view s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return ParseInt(s);
}

// D-HH:MM:SS and its shorter forms; nullopt when `s` is not one of them.
std::optional<double> ParseSlurmTime(std::string_view s) {
  int64_t days = 0;
  bool has_days = false;
  if (size_t dash = s.find('-'); dash != std::string_view::npos) {
    auto d = SmallWhole(s.substr(0, dash));
    if (!d) return std::nullopt;
    days = *d;
    has_days = true;
    s = s.substr(dash + 1);
  }
  int64_t parts[3] = {0, 0, 0};
  int n = 0;
  while (true) {
    size_t colon = s.find(':');
    if (n == 3) return std::nullopt;
    auto v = SmallWhole(s.substr(0, colon));
    if (!v) return std::nullopt;
    parts[n++] = *v;
    if (colon == std::string_view::npos) break;
    s = s.substr(colon + 1);
  }
  int64_t h = 0, m = 0, sec = 0;
  if (has_days) {  // D-HH, D-HH:MM, D-HH:MM:SS
    h = parts[0];
    m = n >= 2 ? parts[1] : 0;
    sec = n >= 3 ? parts[2] : 0;
    if (h >= 24) return std::nullopt;
  } else if (n == 3) {  // HH:MM:SS
    h = parts[0], m = parts[1], sec = parts[2];
  } else if (n == 2) {  // MM:SS
    m = parts[0], sec = parts[1];
  } else {
    return std::nullopt;  // one field without a day count is a bare number
  }
  if (sec >= 60 || (m >= 60 && (has_days || n == 3))) return std::nullopt;
  return static_cast<double>(days) * 86400 + static_cast<double>(h) * 3600 + static_cast<double>(m) * 60 +
         static_cast<double>(sec);
}

}  // namespace

std::optional<double> ParseDuration(std::string_view s, DurationUnit bare) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  if (s.find(':') != std::string_view::npos || (s.find('-') != std::string_view::npos && s[0] != '-' &&
                                                 s.find_first_of("eE") == std::string_view::npos)) {
    return ParseSlurmTime(s);
  }
  double scale = DurationUnitSeconds(bare);
  switch (s.back()) {
    case 's': scale = 1; s.remove_suffix(1); break;
    case 'm': scale = 60; s.remove_suffix(1); break;
    case 'h': scale = 3600; s.remove_suffix(1); break;
    case 'd': scale = 86400; s.remove_suffix(1); break;
    default: break;
  }
  // Digits, one point and an exponent only: no sign, no "inf" or "nan".
  if (s.empty() || s.find_first_not_of("0123456789.eE+-") != std::string_view::npos || s[0] == '-' ||
      s[0] == '+') {
    return std::nullopt;
  }
  auto v = ParseDouble(s);
  if (!v || *v < 0) return std::nullopt;
  const double seconds = *v * scale;
  if (!std::isfinite(seconds)) return std::nullopt;
  return seconds;
}

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 40;
  static const char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {  // keep messages printable whatever the input holds
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (s.size() > kMax) out += "...";
  out += "'";
  return out;
}

}  // namespace rackscale
