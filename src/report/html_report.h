// A self-contained HTML report: headline figures, sections of text, tables and charts.
// The charts are Vega-Lite specs drawn in the browser by vega, vega-lite and vega-embed,
// inlined into the page (report_js.h), so the file needs no network when opened.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace rackscale {

struct HtmlTable {
  std::string title;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> numeric;   // per column: right-aligned (optional; empty = auto)
  std::string note;            // small print under the table
};

struct HtmlChart {
  std::string id;              // unique, [a-z0-9-]
  std::string title;
  std::string caption;         // one or two sentences under the chart
  nlohmann::json spec;         // a Vega-Lite spec with its data inline ("data": {"values": [...]})
};

struct HtmlSection {
  std::string title;
  std::vector<std::string> paragraphs;  // plain text, escaped on output
  std::vector<HtmlTable> tables;
  std::vector<HtmlChart> charts;
};

struct HtmlReport {
  std::string title;
  std::string subtitle;
  std::vector<std::pair<std::string, std::string>> headline;  // key figures: label, value (a card row at the top)
  std::vector<HtmlSection> sections;
};

// A single self-contained HTML document: vega, vega-lite and vega-embed inlined, every chart's
// spec embedded as JSON (safe against "</script>" in strings), rendered with vegaEmbed on load
// (renderer "svg", actions off). Deterministic: the same report gives the same bytes.
//
// Details:
//  - Each section shows its paragraphs, then its charts, then its tables.
//  - A chart's container is <div id="chart-ID">. Characters of an id outside [a-z0-9-] become
//    '-', an empty id becomes "N" (its 1-based position in the report), and a repeated id gets
//    "-2", "-3", ... appended.
//  - A spec's top-level "$schema" is dropped (every spec is read as Vega-Lite), and a single
//    view (a "mark" or a "layer") without a "width" gets "width": "container", so it fills the
//    page's width.
//  - When `numeric` is empty, a column is right-aligned if it has a non-empty cell and every
//    non-empty cell reads as a number ("1,234", "-3.5", "1e6"), optionally with a leading '$'
//    and a trailing '%' or unit of up to three letters ("27.5%", "1.9x", "3.5 MW"). Columns
//    past the end of a non-empty `numeric` are left-aligned.
//  - Without charts, the page holds no scripts but one that sets data-done.
//  - The page forbids every network request (a Content-Security-Policy and a loader that
//    refuses to load anything), so a spec with a data "url" fails to draw instead of fetching.
//  - The page records its health on <body> for tests (tests/browser.h): data-charts (charts
//    in the report), and once every chart has been drawn or has failed, data-rendered (chart
//    containers holding an <svg>), data-errors (script errors, rejected promises, failed
//    charts, blocked requests), data-error-text (the first error), data-warnings (Vega and
//    Vega-Lite warnings), data-warning-text (the first) and data-done="1".
std::string RenderHtmlReport(const HtmlReport& r);

}  // namespace rackscale
