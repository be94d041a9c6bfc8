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
  // Optional, parallel to rows: where each cell's figure comes from (empty:
  // not traced), written as the cell's data-src; see "Sources" below.
  std::vector<std::vector<std::string>> sources = {};
};

struct HtmlChart {
  std::string id;              // unique, [a-z0-9-]
  std::string title;
  std::string caption;         // one or two sentences under the chart
  nlohmann::json spec;         // a Vega-Lite spec with its data inline ("data": {"values": [...]})
  // Optional: the rules that trace every data point to the files it came
  // from (see "Sources" below), written as the container's data-src.
  nlohmann::json source = nullptr;
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
  std::vector<std::string> headline_sources;  // optional, parallel to headline: each card's data-src
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
//  - Tables take the section's width and wrap to fit it: header cells wrap between words, and
//    body cells too except numbers (right-aligned cells), which stay on one line. A word of
//    more than 16 characters (a path, an id) may break anywhere, shorter words never. Nothing
//    scrolls sideways inside the page: a table that still does not fit sticks out of its
//    section, and the page reports it (data-layout-issues).
//  - Charts, unless their spec says otherwise (a spec's own config or encoding settings win):
//    legend labels and titles are never cut; axis labels are cut (with "…") only past 360 px,
//    and an axis title keeps clear of labels that wide; a legend at the bottom is one row of
//    entries, and where that row is wider than the chart, the chart is drawn again with the
//    legend in as many columns as fit.
//  - Without charts, the page holds no scripts but one that measures its layout and sets
//    data-done.
//  - The page forbids every network request (a Content-Security-Policy and a loader that
//    refuses to load anything), so a spec with a data "url" fails to draw instead of fetching.
//  - The page records its health on <body> for tests (tests/browser.h): data-charts (charts
//    in the report), and once every chart has been drawn or has failed, data-rendered (chart
//    containers holding an <svg>), data-errors (script errors, rejected promises, failed
//    charts, blocked requests, a layout check that threw), data-error-text (the first error),
//    data-warnings (Vega and Vega-Lite warnings), data-warning-text (the first), the layout
//    attributes below, and last data-done="1".
//  - Layout, measured at the window's width after every chart is drawn (elements that are not
//    displayed are left out; 1 px of slack throughout): data-layout-width (the viewport's
//    width in CSS px), data-layout-issues (how many issues) and data-layout-text (the first
//    three, joined by " | ", each starting with what it is about: "chart-ID: ...",
//    "table \"TITLE\": ..." ("table N" for an untitled one, N its 1-based place among the
//    page's tables), an element by its tag or kind and text ("p \"TEXT\": ...", "h2", "li",
//    "figcaption", "footer", "card", "section"), "page: ..."). One issue per element and kind:
//      a chart whose SVG is wider than its container or reaches past its section's content box;
//      a chart with text past the SVG's edge (not drawn: e.g. a legend wider than the chart);
//      a chart with text that Vega cut short (ending in "…": legend and axis labels, titles);
//      a chart with overlapping text: legend labels over each other or over the legend title,
//        a legend over an axis's labels or title, an axis title over axis labels (boxes of
//        axis labels against each other are not compared: slanted labels' boxes always meet);
//      a table wider than its box (scrollWidth) or reaching past its section's content box;
//      a heading, paragraph, list item or card, caption, footer or section reaching past the
//        viewport, or (but a section) whose content is wider than its box;
//      the page itself wider than the viewport (it scrolls sideways).
std::string RenderHtmlReport(const HtmlReport& r);

}  // namespace rackscale
