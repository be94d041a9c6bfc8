// Holds a report.html equal to the files beside it: every table cell and
// headline card with a data-src, and every data point of every chart with
// source rules (src/report/html_report.h, "Sources"), is compared with the
// CSV or JSON value it names. Independent of the report's code: it reads only
// the written files.
#pragma once

#include <string>
#include <vector>

namespace rackscale {

struct ReportCheck {
  std::vector<std::string> problems;  // each names the element and the mismatch
  int cells = 0;        // traced cells and cards checked
  int charts = 0;       // charts with source rules
  int points = 0;       // chart data points checked
  int untraced_charts = 0;  // charts without source rules
};

// `dir` holds report.html and the files its sources name (relative to dir).
ReportCheck CheckReport(const std::string& dir);

// The value a displayed figure stands for, and how far off it may be given
// how it is shown: "$65.8B" -> 65.8e9 +- 0.05e9, "81.5%" -> 0.815 +- 0.0005,
// "6.2 h" -> 22320 s +- 180, "2.5 d" in seconds, "1,234" +- 0.5, "880 MW",
// "0.912". False if the text is not a number in one of these forms.
bool ParseDisplayed(const std::string& text, double* value, double* tolerance);

// How far a number written as `cell` may be from the value it rounds: half a
// unit of its last digit ("12.340" -> 0.0005, "12" -> 0.5); 0 for an
// exponent form (written exactly).
double CellTolerance(const std::string& cell);

}  // namespace rackscale
