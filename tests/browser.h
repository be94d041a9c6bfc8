// Renders an HTML report (src/report/html_report.h) in headless Chromium and reads back the
// health the page records on <body>: how many charts it has, how many were drawn as SVG, the
// errors its scripts met, and the layout issues it measured at the window's width.
#pragma once

#include <string>
#include <vector>

namespace rackscale::testing {

struct BrowserResult {
  // False when no browser was found: skip_reason says why and how to install one.
  bool found = false;
  std::string skip_reason;
  std::string browser;  // the executable used
  // True when the browser ran and printed a DOM whose <body> says data-done="1". When false
  // (and found), failure says what went wrong: exit status, time out, the browser's stderr.
  bool ran = false;
  std::string failure;
  int charts = -1;    // data-charts: charts in the report
  int rendered = -1;  // data-rendered: chart containers holding an <svg>
  int errors = -1;    // data-errors: script errors, rejected promises, charts that failed
  int warnings = -1;  // data-warnings: Vega and Vega-Lite warnings
  std::string error_text;    // data-error-text: the first error
  std::string warning_text;  // data-warning-text: the first warning
  // The page's measure of its own layout (html_report.h), taken once every chart was drawn:
  int layout_width = -1;   // data-layout-width: the viewport's width in CSS px
  int layout_issues = -1;  // data-layout-issues: clipped tables and charts, cut or overlapping text, ...
  std::string layout_text; // data-layout-text: the first 3 issues, each naming its element, " | " between
  // The charts whose container (<div id="chart-ID">) in the DOM holds no <svg>, by ID (the
  // HtmlChart id, without "chart-"), in page order.
  std::vector<std::string> charts_without_svg;
  std::string dom;  // the DOM after the page's scripts ran (chromium --dump-dom)
  double seconds = 0;  // wall time of the browser run
};

// The browser: $RACKSCALE_CHROMIUM if set and not empty (an explicit path that is not an
// executable counts as no browser), else the first of chromium, chromium-browser,
// google-chrome, google-chrome-stable on PATH. Empty if none; *why says what was tried.
std::string FindBrowser(std::string* why);

// True if $RACKSCALE_REQUIRE_BROWSER is set to anything but empty or "0" (CI): a missing
// browser must fail the test instead of skipping it.
bool BrowserRequired();

// Loads file://html_path in headless Chromium in a window of viewport_width x 1600 CSS px
// (--window-size, so the page is laid out at that width) with a 20 s virtual-time budget (the
// page's scripts and timers run, nothing waits in real time), dumps the DOM and parses its
// status. Takes 1 to 3 s of wall time for a report of a few charts.
BrowserResult RenderInBrowser(const std::string& html_path, int viewport_width = 1400);

// For tests: skips (or, with RACKSCALE_REQUIRE_BROWSER, fails) when no browser is found.
#define RACKSCALE_REQUIRE_BROWSER_OR_SKIP(result)                                          \
  if (!(result).found) {                                                                  \
    if (::rackscale::testing::BrowserRequired()) {                                        \
      FAIL() << (result).skip_reason << " and RACKSCALE_REQUIRE_BROWSER is set";          \
    }                                                                                     \
    GTEST_SKIP() << (result).skip_reason;                                                 \
  }

}  // namespace rackscale::testing
