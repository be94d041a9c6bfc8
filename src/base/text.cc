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
