// Small, allocation-free text helpers for the readers and writers.
//
// The readers walk a whole in-memory file with LineCursor and split lines into
// fields; the number parsers are strict (the whole token must be consumed) and
// never throw. Writers append to an OutBuffer with std::to_chars.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rackscale {

// Iterates over the lines of a buffer. Line numbers are 1-based; a trailing
// '\r' is stripped, so CRLF files read like LF files.
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : text_(text) {}

  // Stores the next line (without its terminator) in *line and returns true,
  // or returns false at the end of the buffer.
  bool Next(std::string_view* line) {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view l = text_.substr(pos_, end - pos_);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    pos_ = end + 1;
    ++line_no_;
    *line = l;
    return true;
  }
  int64_t line_no() const { return line_no_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_no_ = 0;
};

// Removes leading and trailing spaces and tabs.
std::string_view Trim(std::string_view s);

// Parses a whole token as a base-10 signed integer ("+" not accepted).
std::optional<int64_t> ParseInt(std::string_view s);

// Parses a whole token as a decimal number and truncates it toward zero:
// "12", "12.9" and "1.29e1" all give 12; "-0.5" gives 0. Rejects NaN, inf and
// values beyond +-9.2e18.
std::optional<int64_t> ParseTruncated(std::string_view s);

// Parses a whole token as a finite double.
std::optional<double> ParseDouble(std::string_view s);

// The units a bare number in a duration stands for (ParseDuration).
enum class DurationUnit { kSeconds, kMinutes, kHours, kDays };

// Seconds in one DurationUnit, and its one-letter suffix ("s", "m", "h", "d").
double DurationUnitSeconds(DurationUnit u);
const char* DurationUnitSuffix(DurationUnit u);

// Parses rackscale's one duration grammar (docs/cli.md#durations) into
// seconds. Accepted, with no spaces:
//   - a number with a unit: 90s, 45m, 36h, 2d, 1.5h (s, m, h or d);
//   - Slurm's time formats: D-HH:MM:SS, D-HH:MM, D-HH, HH:MM:SS and MM:SS
//     (whole numbers; minutes and seconds below 60, hours below 24 after a
//     day count);
//   - a bare number, in `bare` units (each flag keeps its historical unit).
// Negative values, nan, inf and anything else give nullopt. The result is
// finite and non-negative but not otherwise bounded: callers check ranges.
std::optional<double> ParseDuration(std::string_view s, DurationUnit bare);

// Shortens `s` for quoting in an error message.
std::string Quote(std::string_view s);

// An append-only byte buffer with fast number formatting.
class OutBuffer {
 public:
  void Reserve(size_t n) { buf_.reserve(n); }
  void Put(std::string_view s) { buf_.append(s); }
  void Put(char c) { buf_.push_back(c); }
  void PutInt(int64_t v) {
    char tmp[24];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf_.append(tmp, r.ptr);
  }
  const std::string& str() const { return buf_; }
  std::string&& Take() { return std::move(buf_); }

 private:
  std::string buf_;
};

}  // namespace rackscale
