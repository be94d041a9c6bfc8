#include "cli/progress.h"

#include <unistd.h>

#include <cmath>
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
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (fraction >= 0.01 && fraction < 1.0 && elapsed >= 2) {
    const double left = elapsed * (1 - fraction) / fraction;
    line += left >= 3600 ? fmt::format("  ETA {:.0f}h{:02.0f}m", std::floor(left / 3600), std::fmod(left, 3600) / 60)
            : left >= 60 ? fmt::format("  ETA {:.0f}m{:02.0f}s", std::floor(left / 60), std::fmod(left, 60))
                         : fmt::format("  ETA {:.0f}s", left);
  }
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
