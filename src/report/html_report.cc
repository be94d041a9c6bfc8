#include "report/html_report.h"

#include <algorithm>
#include <cstddef>
#include <set>
#include <string_view>

#include <fmt/format.h>

#include "report/report_js.h"

namespace rackscale {

namespace {

// Text and attribute values: the five characters that HTML gives a meaning.
void PutEscaped(std::string* out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': out->append("&amp;"); break;
      case '<': out->append("&lt;"); break;
      case '>': out->append("&gt;"); break;
      case '"': out->append("&quot;"); break;
      case '\'': out->append("&#39;"); break;
      default: out->push_back(c);
    }
  }
}

std::string Escaped(std::string_view text) {
  std::string s;
  PutEscaped(&s, text);
  return s;
}

// JSON for a <script type="application/json"> element. '<', '>' and '&' only occur inside
// JSON strings, where \u escapes mean the same to JSON.parse, so no "</script" or "<!--" can
// reach the HTML parser. Bytes that are not UTF-8 become U+FFFD instead of throwing.
std::string ScriptSafeJson(const nlohmann::json& j) {
  std::string raw = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(raw.size() + raw.size() / 16);
  for (char c : raw) {
    switch (c) {
      case '<': out.append("\\u003c"); break;
      case '>': out.append("\\u003e"); break;
      case '&': out.append("\\u0026"); break;
      default: out.push_back(c);
    }
  }
  return out;
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "1,234", "-3.5", "+2", "$1.2", "27.5%", "1.9x", "3.5 MW", "1e6": a number, optionally signed,
// with a leading '$' and a trailing '%' or a unit of up to three letters.
bool LooksNumeric(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  if (s.rfind("\xE2\x88\x92", 0) == 0) s.remove_prefix(3);  // U+2212 minus sign
  if (!s.empty() && s.front() == '$') s.remove_prefix(1);
  if (!s.empty() && s.back() == '%') {
    s.remove_suffix(1);
  } else {
    size_t letters = 0;
    while (letters < s.size() && IsAsciiLetter(s[s.size() - 1 - letters])) ++letters;
    if (letters > 3) return false;
    s.remove_suffix(letters);
  }
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  bool digit = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (IsDigit(c)) {
      digit = true;
    } else if (c == ',' || c == '.') {
      if (!digit) return false;
    } else if ((c == 'e' || c == 'E') && digit && i + 1 < s.size()) {
      size_t j = i + 1;
      if (s[j] == '-' || s[j] == '+') ++j;
      if (j >= s.size()) return false;
      for (; j < s.size(); ++j) {
        if (!IsDigit(s[j])) return false;
      }
      return true;
    } else {
      return false;
    }
  }
  return digit;
}

std::vector<bool> NumericColumns(const HtmlTable& t, size_t columns) {
  std::vector<bool> numeric(columns, false);
  for (size_t c = 0; c < columns; ++c) {
    if (c < t.numeric.size()) {
      numeric[c] = t.numeric[c];
      continue;
    }
    if (!t.numeric.empty()) continue;  // given, but shorter than the table: left-aligned
    bool any = false, all = true;
    for (const auto& row : t.rows) {
      if (c >= row.size() || row[c].empty()) continue;
      any = true;
      if (!LooksNumeric(row[c])) {
        all = false;
        break;
      }
    }
    numeric[c] = any && all;
  }
  return numeric;
}

// Chart ids as the header promises: [a-z0-9-], never empty, never repeated.
std::vector<std::string> ChartIds(const HtmlReport& r) {
  std::vector<std::string> ids;
  std::set<std::string> used;
  size_t n = 0;
  for (const HtmlSection& s : r.sections) {
    for (const HtmlChart& c : s.charts) {
      ++n;
      std::string id;
      for (char ch : c.id) {
        id.push_back((ch >= 'a' && ch <= 'z') || IsDigit(ch) || ch == '-' ? ch : '-');
      }
      if (id.empty()) id = std::to_string(n);
      std::string unique = id;
      for (int k = 2; used.count(unique) != 0; ++k) unique = fmt::format("{}-{}", id, k);
      used.insert(unique);
      ids.push_back(unique);
    }
  }
  return ids;
}

nlohmann::json PreparedSpec(const nlohmann::json& spec) {
  nlohmann::json s = spec;
  if (s.is_object()) {
    s.erase("$schema");
    if ((s.contains("mark") || s.contains("layer")) && !s.contains("width")) {
      s["width"] = "container";
    }
  }
  return s;
}

// Vega-Lite config shared by every chart: the page's font and colours, quiet axes.
constexpr std::string_view kFont =
    "system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", Arial, sans-serif";

// Axis labels are cut (with "…") only past this many pixels; legend labels and titles never.
// A legend too wide for its chart is drawn again in as many columns as fit (kBootJs).
constexpr int kAxisLabelLimit = 360;

nlohmann::json ChartConfig() {
  const std::string font(kFont);
  return {
      {"font", font},
      {"background", "transparent"},
      {"view", {{"stroke", nullptr}}},
      {"axis",
       {{"labelColor", "#4b5563"},
        {"titleColor", "#1f2937"},
        {"titleFontWeight", 600},
        {"labelFontSize", 11},
        {"titleFontSize", 12},
        {"labelLimit", kAxisLabelLimit},
        {"maxExtent", kAxisLabelLimit + 40},  // else an axis title sits over labels past 200 px
        {"gridColor", "#e8eaee"},
        {"domainColor", "#9aa3af"},
        {"tickColor", "#9aa3af"}}},
      {"legend",
       {{"labelColor", "#374151"},
        {"titleColor", "#1f2937"},
        {"labelFontSize", 11},
        {"titleFontSize", 12},
        {"orient", "bottom"},
        {"direction", "horizontal"},
        {"labelLimit", 0},
        {"titleLimit", 0},
        {"rowPadding", 4},
        {"columnPadding", 16}}},
      {"title", {{"color", "#1f2937"}, {"fontSize", 13}, {"fontWeight", 600}}},
      {"range",
       {{"category",
         {"#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16",
          "#64748b", "#d97706"}}}},
      {"mark", {{"color", "#2563eb"}}},
      {"line", {{"strokeWidth", 2}}},
  };
}

constexpr std::string_view kCss = R"css(
:root {
  --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f5f6f8; --panel: #fff;
  --accent: #2563eb; --stripe: #fafbfc;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg); overflow-wrap: break-word;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
.rs-page { max-width: 1120px; margin: 0 auto; padding: 36px 24px 48px; }
.rs-head { margin: 0 0 24px; }
.rs-head h1 { font-size: 28px; line-height: 1.25; margin: 0 0 6px; letter-spacing: -0.01em; }
.rs-subtitle { color: var(--muted); margin: 0; font-size: 15px; }
.rs-cards {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 12px;
  margin: 0 0 28px; padding: 0; list-style: none;
}
.rs-card {
  background: var(--panel); border: 1px solid var(--line); border-left: 3px solid var(--accent);
  border-radius: 8px; padding: 12px 16px;
}
.rs-card-value {
  font-size: 22px; font-weight: 650; line-height: 1.3; font-variant-numeric: tabular-nums;
  overflow-wrap: anywhere;
}
.rs-card-label { color: var(--muted); font-size: 13px; }
.rs-toc { margin: 0 0 24px; font-size: 14px; }
.rs-toc ol { margin: 0; padding: 0; list-style: none; display: flex; flex-wrap: wrap; gap: 6px 18px; }
.rs-toc a { color: var(--accent); text-decoration: none; }
.rs-toc a:hover { text-decoration: underline; }
.rs-section {
  background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  padding: 22px 26px 10px; margin: 0 0 24px;
}
.rs-section h2 { font-size: 20px; line-height: 1.3; margin: 0 0 12px; }
.rs-section p { margin: 0 0 12px; max-width: 80ch; }
.rs-chart { margin: 22px 0 26px; }
.rs-chart h3, .rs-table h3 { font-size: 15px; margin: 0 0 8px; }
.rs-chart-view { display: block; width: 100%; min-height: 40px; }
.rs-chart-view.vega-embed { display: block; width: 100%; }
.rs-chart-view svg { max-width: 100%; }
.rs-chart figcaption, .rs-note { color: var(--muted); font-size: 13px; margin: 6px 0 0; max-width: 80ch; }
.rs-chart-failed {
  color: #991b1b; background: #fef2f2; border: 1px solid #fecaca; border-radius: 6px;
  padding: 10px 12px; font-size: 13px;
}
.rs-table { margin: 22px 0 26px; }
.rs-table table { border-collapse: collapse; width: 100%; font-size: 14px; }
.rs-table th, .rs-table td {
  padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top;
}
.rs-table thead th {
  border-bottom: 2px solid #d1d5db; font-weight: 600; background: var(--stripe); vertical-align: bottom;
}
.rs-table tbody tr:nth-child(even) { background: var(--stripe); }
.rs-table .num { text-align: right; font-variant-numeric: tabular-nums; }
.rs-table td.num { white-space: nowrap; }
.rs-table .rs-long { overflow-wrap: anywhere; }
.rs-foot { color: var(--muted); font-size: 12px; margin: 28px 0 0; }
@media (max-width: 960px) {
  .rs-table table { font-size: 13px; }
  .rs-table th, .rs-table td { padding: 5px 6px; }
}
@media (max-width: 640px) {
  .rs-page { padding: 20px 12px 32px; }
  .rs-section { padding: 16px 14px 6px; }
}
@media print {
  body { background: #fff; }
  .rs-page { max-width: none; padding: 0; }
  .rs-section { border: none; padding: 0; break-inside: auto; }
  .rs-chart, .rs-table { break-inside: avoid; }
}
)css";

// Runs before the libraries: counts every error on the page and keeps <body>'s data-errors
// and data-error-text up to date, from the first error on.
constexpr std::string_view kHealthJs = R"js(
window.rsHealth = (function () {
  "use strict";
  var h = { errors: [], warnings: [] };
  function text(e) {
    if (e && e.message) return String(e.message);
    try { return String(e); } catch (x) { return "unprintable error"; }
  }
  h.text = text;
  function note(list, kind, message) {
    list.push(message);
    var b = document.body;
    if (!b) return;
    b.setAttribute("data-" + kind + "s", String(list.length));
    if (list.length === 1) b.setAttribute("data-" + kind + "-text", message);
  }
  h.error = function (message) { note(h.errors, "error", message); };
  h.warning = function (message) { note(h.warnings, "warning", message); };
  window.onerror = function (message, source, line) {
    h.error("script error: " + message + (line ? " (line " + line + ")" : ""));
  };
  window.addEventListener("unhandledrejection", function (e) {
    h.error("unhandled promise rejection: " + text(e.reason));
  });
  document.addEventListener("securitypolicyviolation", function (e) {
    h.error("blocked by the report's no-network policy: " + e.violatedDirective + " " + e.blockedURI);
  });
  return h;
})();
)js";

// Measures the page's layout once everything is drawn and records on <body> the issues it finds
// (html_report.h lists them): data-layout-width, data-layout-issues, data-layout-text.
constexpr std::string_view kLayoutJs = R"js(
window.rsLayout = function () {
  "use strict";
  var doc = document.documentElement, body = document.body, issues = [];
  var vw = doc.clientWidth;
  function each(selector, root, f) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), f);
  }
  function px(n) { return Math.round(n) + " px"; }
  function quote(s) {
    s = String(s).replace(/\s+/g, " ").trim();
    return "\"" + (s.length > 48 ? s.slice(0, 47) + "\u2026" : s) + "\"";
  }
  function contentBox(el) {
    var r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    var left = r.left + parseFloat(cs.borderLeftWidth) + parseFloat(cs.paddingLeft);
    var right = r.right - parseFloat(cs.borderRightWidth) - parseFloat(cs.paddingRight);
    return { left: left, right: right, width: right - left };
  }
  function sectionBox(el) { return contentBox(el.closest(".rs-section") || el.parentNode); }
  function outside(r, box) { return r.right > box.right + 1 || r.left < box.left - 1; }
  function overlap(a, b) {
    return Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 &&
        Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  }
  // The role Vega gives a text's mark: "legend-label", "axis-title", "mark", ...
  function role(t) {
    var g = t.closest("g[class*='role-']");
    var m = g && /(?:^| )role-([a-z-]+)/.exec(g.getAttribute("class"));
    return m ? m[1] : "mark";
  }
  function visible(t) {
    for (var e = t; e && e.tagName !== "svg"; e = e.parentNode) {
      if (e.getAttribute("opacity") === "0" || e.getAttribute("visibility") === "hidden") return false;
    }
    return t.textContent.length > 0;
  }

  function shown(el) { return el.getClientRects().length > 0; }  // not display: none

  each("figure.rs-chart .rs-chart-view", null, function (view) {
    var svg = view.querySelector("svg");
    if (!svg || !shown(svg)) return;  // a chart that was not drawn is an error, counted as one
    var name = view.id, r = svg.getBoundingClientRect(), box = sectionBox(view);
    var width = Math.max(r.width, parseFloat(svg.getAttribute("width")) || 0);
    if (width > view.clientWidth + 1 || outside(r, box)) {
      issues.push(name + ": drawn " + px(width) + " wide in a " + px(view.clientWidth) +
          " space (clipped or shrunk)");
    }
    var texts = [];
    each("text", svg, function (t) {
      if (visible(t)) texts.push({ role: role(t), text: t.textContent, box: t.getBoundingClientRect() });
    });
    // Text past the SVG's edge is not drawn: Vega fits a chart of container width to its
    // container and lets a legend too wide for it run off the edge.
    var off = texts.filter(function (t) {
      return t.box.right > r.right + 1 || t.box.left < r.left - 1 || t.box.bottom > r.bottom + 1 ||
          t.box.top < r.top - 1;
    });
    if (off.length > 0) {
      issues.push(name + ": " + off.length + " text" + (off.length > 1 ? "s" : "") +
          " past the chart's edge, e.g. " + off[0].role + " " + quote(off[0].text));
    }
    var cut = texts.filter(function (t) { return /\u2026$/.test(t.text); });
    if (cut.length > 0) {
      issues.push(name + ": " + cut.length + " text" + (cut.length > 1 ? "s" : "") +
          " cut short, e.g. " + cut[0].role + " " + quote(cut[0].text));
    }
    // Legend entries over each other, a legend over an axis, an axis title over its labels.
    // (Axis labels among themselves are left out: the boxes of slanted labels always meet.)
    var parts = texts.filter(function (t) { return /^(legend|axis)-(label|title)$/.test(t.role); });
    var pairs = 0, first = null;
    for (var i = 0; i < parts.length; i++) {
      for (var j = i + 1; j < parts.length; j++) {
        var a = parts[i], b = parts[j];
        var relevant = !(a.role === b.role && (a.role === "axis-label" || a.role === "legend-title"));
        if (relevant && overlap(a.box, b.box)) {
          pairs++;
          if (first === null) first = [a, b];
        }
      }
    }
    if (pairs > 0) {
      issues.push(name + ": " + first[0].role + " " + quote(first[0].text) + " overlaps " +
          first[1].role + " " + quote(first[1].text) + (pairs > 1 ? " (" + pairs + " overlaps)" : ""));
    }
  });

  each(".rs-table table", null, function (table, i) {
    if (!shown(table)) return;
    var title = table.closest(".rs-table").querySelector("h3");
    var name = "table " + (title ? quote(title.textContent) : String(i + 1));
    var r = table.getBoundingClientRect(), box = sectionBox(table);
    if (table.scrollWidth > table.clientWidth + 1 || outside(r, box)) {
      issues.push(name + ": " + px(Math.max(r.width, table.scrollWidth)) + " wide in a " +
          px(box.width) + " section (clipped or needs scrolling sideways)");
    }
  });

  each("h1, h2, h3, p, li, figcaption, footer, .rs-section", null, function (el) {
    if (!shown(el)) return;
    var r = el.getBoundingClientRect();
    var what = el.classList.contains("rs-card") ? "card" :
        el.classList.contains("rs-section") ? "section" : el.tagName.toLowerCase();
    var label = el.classList.contains("rs-section") ? el.querySelector("h2") : el;
    var name = what + " " + quote(label ? label.textContent : "");
    if (r.right > vw + 1 || r.left < -1) {
      issues.push(name + ": " + px(r.width) + " wide, past the " + px(vw) + " viewport");
    } else if (what !== "section" && el.scrollWidth > el.clientWidth + 1) {
      issues.push(name + ": its content is " + px(el.scrollWidth) + " wide in a " +
          px(el.clientWidth) + " box");
    }
  });

  if (doc.scrollWidth > vw + 1) {
    issues.push("page: " + px(doc.scrollWidth) + " wide in a " + px(vw) + " viewport (scrolls sideways)");
  }
  body.setAttribute("data-layout-width", String(vw));
  body.setAttribute("data-layout-issues", String(issues.length));
  body.setAttribute("data-layout-text", issues.slice(0, 3).join(" | "));
};
)js";

// Draws every chart, then records the page's health on <body>.
constexpr std::string_view kBootJs = R"js(
(function () {
  "use strict";
  var h = window.rsHealth, body = document.body;
  var figures = Array.prototype.slice.call(document.querySelectorAll("figure.rs-chart"));
  function finish() {
    try {
      window.rsLayout();
    } catch (e) {
      h.error("layout check: " + h.text(e));
    }
    var rendered = 0;
    figures.forEach(function (f) {
      if (f.querySelector(".rs-chart-view svg")) rendered++;
    });
    body.setAttribute("data-charts", String(figures.length));
    body.setAttribute("data-rendered", String(rendered));
    body.setAttribute("data-errors", String(h.errors.length));
    body.setAttribute("data-warnings", String(h.warnings.length));
    body.setAttribute("data-done", "1");
  }
  function failed(view, message) {
    view.classList.add("rs-chart-failed");
    view.textContent = "This chart could not be drawn: " + message;
  }
  if (typeof vega === "undefined" || typeof vegaEmbed !== "function") {
    h.error("the chart libraries did not load");
    figures.forEach(function (f) { failed(f.querySelector(".rs-chart-view"), "the chart libraries did not load"); });
    finish();
    return;
  }
  var config = JSON.parse(document.getElementById("rs-config").textContent);
  function join(args) { return Array.prototype.slice.call(args).map(h.text).join(" "); }
  // Vega lays a horizontal legend out in one row, which runs off the edge of a narrow chart.
  // Returns how many columns the widest such legend of a drawn chart fits in (at least 1), or 0
  // when every legend fits.
  function legendColumns(view) {
    var svg = view.querySelector("svg");
    if (!svg) return 0;
    var right = svg.getBoundingClientRect().left + view.clientWidth - 5;  // Vega's padding
    var gap = config.legend.columnPadding, columns = 0;
    Array.prototype.forEach.call(svg.querySelectorAll(".role-legend-entry .role-scope"), function (scope) {
      var boxes = [];
      Array.prototype.forEach.call(scope.children, function (g) {
        if (g.tagName === "g") boxes.push(g.getBoundingClientRect());
      });
      var left = Infinity, end = -Infinity;
      boxes.forEach(function (b) { left = Math.min(left, b.left); end = Math.max(end, b.right); });
      if (boxes.length < 2 || end <= right + 1) return;
      var fit = 1;
      for (var n = boxes.length - 1; n > 1 && fit === 1; n--) {
        var widths = [], total = gap * (n - 1);
        boxes.forEach(function (b, i) { widths[i % n] = Math.max(widths[i % n] || 0, b.width); });
        widths.forEach(function (w) { total += w; });
        if (left + total <= right) fit = n;
      }
      columns = columns === 0 ? fit : Math.min(columns, fit);
    });
    return columns;
  }
  var drawn = figures.map(function (f) {
    var view = f.querySelector(".rs-chart-view");
    var spec;
    try {
      spec = JSON.parse(f.querySelector("script.rs-spec").textContent);
    } catch (e) {
      h.error(view.id + ": " + h.text(e));
      failed(view, h.text(e));
      return Promise.resolve();
    }
    // Everything a report shows is inline: a spec that asks for a file or URL fails instead
    // (Vega itself would only warn and draw an empty chart).
    var blocked = null;
    var loader = vega.loader();
    loader.load = loader.sanitize = function (uri) {
      var message = "a report loads no data from outside the page (asked for " + uri + ")";
      if (blocked === null) {
        blocked = message;
        h.error(view.id + ": " + message);
      }
      return Promise.reject(new Error(message));
    };
    var logger = vega.logger(vega.Warn), quiet = false;
    logger.warn = function () {
      if (quiet) return logger;  // drawing the chart again says nothing new
      var message = join(arguments);
      // Vega-Lite 6 says this whenever a chart of container width has a discrete y axis,
      // though it keeps "fit-x" and draws the chart as asked.
      var spurious = spec.width === "container" && spec.height !== "container" &&
          message.indexOf("Dropping \"fit-y\" because spec has discrete height") === 0;
      if (!spurious) h.warning(view.id + ": " + message);
      return logger;
    };
    logger.error = function () {
      h.error(view.id + ": " + join(arguments));
      return logger;
    };
    function embed(chartConfig) {
      return vegaEmbed(view, spec, {
        mode: "vega-lite", renderer: "svg", actions: false, loader: loader, logger: logger,
        config: chartConfig, tooltip: true
      }).then(function (result) {
        return result.view.runAsync().then(function () { return result; });
      });
    }
    return embed(config).then(function (result) {
      var columns = blocked === null ? legendColumns(view) : 0;
      if (columns === 0) return;
      result.finalize();
      view.textContent = "";
      quiet = true;
      var again = JSON.parse(JSON.stringify(config));
      again.legend.columns = columns;
      return embed(again);
    }).then(function () {
      if (blocked !== null) failed(view, blocked);
    }).catch(function (e) {
      h.error(view.id + ": " + h.text(e));
      failed(view, h.text(e));
    });
  });
  Promise.all(drawn).then(finish, function (e) { h.error(h.text(e)); finish(); });
})();
)js";

// Words longer than this (in characters) may break anywhere in a table cell; shorter ones
// never break, so an ordinary column is never split mid-word.
constexpr size_t kLongWord = 16;

bool HasLongWord(std::string_view text) {
  size_t run = 0;
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      run = 0;
    } else if ((c & 0xC0) != 0x80 && ++run > kLongWord) {  // counts UTF-8 lead bytes
      return true;
    }
  }
  return false;
}

void PutTable(std::string* out, const HtmlTable& t) {
  size_t columns = t.header.size();
  for (const auto& row : t.rows) columns = std::max(columns, row.size());
  const std::vector<bool> numeric = NumericColumns(t, columns);
  // Numbers never wrap; a cell with a long word (a path, an id) may break it anywhere.
  auto cell_class = [&](size_t c, std::string_view text) -> std::string_view {
    if (numeric[c]) return HasLongWord(text) ? " class=\"num rs-long\"" : " class=\"num\"";
    return HasLongWord(text) ? " class=\"rs-long\"" : "";
  };
  out->append("<div class=\"rs-table\">\n");
  if (!t.title.empty()) *out += fmt::format("<h3>{}</h3>\n", Escaped(t.title));
  if (t.rows.empty() && !t.note.empty()) {  // nothing to list: the note says so
    *out += fmt::format("<p class=\"rs-note\">{}</p>\n</div>\n", Escaped(t.note));
    return;
  }
  out->append("<table>\n");
  if (!t.header.empty()) {
    out->append("<thead><tr>");
    for (size_t c = 0; c < columns; ++c) {
      std::string_view text = c < t.header.size() ? std::string_view(t.header[c]) : "";
      *out += fmt::format("<th scope=\"col\"{}>{}</th>", cell_class(c, text), Escaped(text));
    }
    out->append("</tr></thead>\n");
  }
  out->append("<tbody>\n");
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    out->append("<tr>");
    for (size_t c = 0; c < columns; ++c) {
      std::string_view text = c < row.size() ? std::string_view(row[c]) : "";
      const std::string_view src = r < t.sources.size() && c < t.sources[r].size() ? std::string_view(t.sources[r][c]) : "";
      const std::string src_attr = src.empty() ? "" : fmt::format(" data-src=\"{}\"", Escaped(src));
      *out += fmt::format("<td{}{}>{}</td>", cell_class(c, text), src_attr, Escaped(text));
    }
    out->append("</tr>\n");
  }
  out->append("</tbody></table>\n");
  if (!t.note.empty()) *out += fmt::format("<p class=\"rs-note\">{}</p>\n", Escaped(t.note));
  out->append("</div>\n");
}

void PutChart(std::string* out, const HtmlChart& c, const std::string& id) {
  out->append("<figure class=\"rs-chart\">\n");
  if (!c.title.empty()) *out += fmt::format("<h3>{}</h3>\n", Escaped(c.title));
  *out += fmt::format("<div class=\"rs-chart-view\" id=\"chart-{}\"></div>\n", id);
  *out += fmt::format("<script type=\"application/json\" class=\"rs-spec\">{}</script>\n",
                      ScriptSafeJson(PreparedSpec(c.spec)));
  if (!c.source.is_null()) {
    *out += fmt::format("<script type=\"application/json\" class=\"rs-source\">{}</script>\n", ScriptSafeJson(c.source));
  }
  if (!c.caption.empty()) *out += fmt::format("<figcaption>{}</figcaption>\n", Escaped(c.caption));
  out->append("</figure>\n");
}

}  // namespace

std::string RenderHtmlReport(const HtmlReport& r) {
  const std::vector<std::string> ids = ChartIds(r);
  std::string libraries;
  size_t js_bytes = 0;
  for (size_t i = 0; i < report_js::kLibraryCount; ++i) {
    const report_js::Library& lib = report_js::kLibraries[i];
    libraries += fmt::format("{}{} {}", i == 0 ? "" : ", ", lib.name, lib.version);
    js_bytes += lib.size;
  }

  std::string out;
  out.reserve(js_bytes + 64 * 1024);
  out.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
  out.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
  // No request may leave the page: no default-src, no connect-src. Vega compiles its
  // expressions with Function, hence 'unsafe-eval'.
  out.append(
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:\">\n");
  out += fmt::format("<meta name=\"generator\" content=\"rackscale; charts: {}\">\n",
                     Escaped(libraries));
  out += fmt::format("<title>{}</title>\n", Escaped(r.title));
  out += fmt::format("<style>{}</style>\n", kCss);
  out += fmt::format("<script>{}</script>\n", kHealthJs);
  out.append("</head>\n");

  size_t chart_count = ids.size();
  out += fmt::format(
      "<body data-charts=\"{}\" data-rendered=\"0\" data-errors=\"0\" data-warnings=\"0\" "
      "data-done=\"0\">\n",
      chart_count);
  out.append("<div class=\"rs-page\">\n<header class=\"rs-head\">\n");
  out += fmt::format("<h1>{}</h1>\n", Escaped(r.title));
  if (!r.subtitle.empty()) {
    out += fmt::format("<p class=\"rs-subtitle\">{}</p>\n", Escaped(r.subtitle));
  }
  out.append("</header>\n");
  if (chart_count > 0) {
    out.append("<noscript><p>This report draws its charts with JavaScript, which is off.</p></noscript>\n");
  }

  if (!r.headline.empty()) {
    out.append("<ul class=\"rs-cards\">\n");
    for (size_t i = 0; i < r.headline.size(); ++i) {
      const auto& [label, value] = r.headline[i];
      const std::string src = i < r.headline_sources.size() && !r.headline_sources[i].empty()
                                  ? fmt::format(" data-src=\"{}\"", Escaped(r.headline_sources[i]))
                                  : "";
      out += fmt::format(
          "<li class=\"rs-card\"{}><div class=\"rs-card-value\">{}</div>"
          "<div class=\"rs-card-label\">{}</div></li>\n",
          src, Escaped(value), Escaped(label));
    }
    out.append("</ul>\n");
  }

  if (r.sections.size() > 1) {
    out.append("<nav class=\"rs-toc\" aria-label=\"Contents\"><ol>\n");
    for (size_t i = 0; i < r.sections.size(); ++i) {
      out += fmt::format("<li><a href=\"#rs-section-{}\">{}</a></li>\n", i + 1,
                         Escaped(r.sections[i].title));
    }
    out.append("</ol></nav>\n");
  }

  size_t next_chart = 0;
  for (size_t i = 0; i < r.sections.size(); ++i) {
    const HtmlSection& s = r.sections[i];
    out += fmt::format("<section class=\"rs-section\" id=\"rs-section-{}\">\n", i + 1);
    if (!s.title.empty()) out += fmt::format("<h2>{}</h2>\n", Escaped(s.title));
    for (const std::string& p : s.paragraphs) out += fmt::format("<p>{}</p>\n", Escaped(p));
    for (const HtmlChart& c : s.charts) PutChart(&out, c, ids[next_chart++]);
    for (const HtmlTable& t : s.tables) PutTable(&out, t);
    out.append("</section>\n");
  }

  out += fmt::format("<footer class=\"rs-foot\">Written by rackscale. Charts drawn by {}, inlined in this file.</footer>\n",
                     Escaped(libraries));
  out.append("</div>\n");

  if (chart_count > 0) {
    out += fmt::format("<script type=\"application/json\" id=\"rs-config\">{}</script>\n",
                       ScriptSafeJson(ChartConfig()));
    for (size_t i = 0; i < report_js::kLibraryCount; ++i) {
      const report_js::Library& lib = report_js::kLibraries[i];
      out += fmt::format("<script data-library=\"{} {}\">\n", lib.name, lib.version);
      for (size_t k = 0; k < lib.chunk_count; ++k) out.append(lib.chunks[k]);
      out.append("\n</script>\n");
    }
    out += fmt::format("<script>{}{}</script>\n", kLayoutJs, kBootJs);
  } else {
    // Nothing to draw: no libraries, and the page is done as soon as it is laid out.
    out += fmt::format(
        "<script>{}try {{ window.rsLayout(); }} catch (e) {{ rsHealth.error(\"layout check: \" + "
        "rsHealth.text(e)); }}\ndocument.body.setAttribute(\"data-done\", \"1\");</script>\n",
        kLayoutJs);
  }
  out.append("</body>\n</html>\n");
  return out;
}

}  // namespace rackscale
