// report.html of `rackscale run`, built from the run's values
// (run/main_job.h), never from files. Every figure it shows is one that the
// run writes: a table cell or headline card carries its source
// (data-src="FILE#/json/pointer" or "FILE?column=value&...#column") and
// every chart the rules that trace each of its data points to the CSV or
// JSON rows it came from (html_report.h, HtmlChart::source), so a test can
// hold the page equal to the files beside it.
#pragma once

#include <string>
#include <vector>

#include "report/html_report.h"

namespace rackscale {

struct RunResult;

HtmlReport BuildRunReport(const RunResult& r);

}  // namespace rackscale
