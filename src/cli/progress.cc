#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace rackscale {

ProgressLine::ProgressLine(std::string label)
    : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) == 1) {}

ProgressLine::~ProgressLine() { Clear(); }

void ProgressLine::Update(double fraction, const std::string& detail) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(200) && fraction < 1.0) return;
  last_ = now;
  drawn_ = true;
  std::string line = fmt::format("\r{}: {:5.1f}%  {}", label_, 100.0 * fraction, detail);
  std::fputs(line.c_str(), stderr);
  std::fputs("\x1b[K", stderr);  // clear to end of line
  std::fflush(stderr);
}

void ProgressLine::Clear() {
  if (!enabled_ || !drawn_) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace rackscale
