// A one-line progress display on stderr, shown only when stderr is a
// terminal (so logs and pipes stay clean), redrawn at most 5 times a second,
// with the time left estimated from the pace so far once there is a pace
// (2 s and 1% in).
#pragma once

#include <chrono>
#include <string>

namespace rackscale {

// Wall seconds since t0, for the commands' timing lines.
inline double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class ProgressLine {
 public:
  explicit ProgressLine(std::string label);
  ~ProgressLine();  // clears the line
  bool enabled() const { return enabled_; }
  // fraction in [0, 1]; detail is appended after the percentage.
  void Update(double fraction, const std::string& detail);
  void Clear();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace rackscale
