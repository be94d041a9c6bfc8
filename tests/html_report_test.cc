// The HTML report writer (src/report/html_report.h): its markup, escaping and determinism,
// and, in headless Chromium (tests/browser.h), that every chart is drawn without a script error
// or a layout issue at 800, 1400 and 1920 px, and that a broken chart, a table or element too
// wide, and cut or overlapping chart text are caught.
#include "report/html_report.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "browser.h"
#include "test_util.h"

namespace rackscale {
namespace {

using nlohmann::json;
using testing::RenderInBrowser;

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// The page without the inlined libraries' code (each in <script data-library="...">).
std::string WithoutLibraries(const std::string& html) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t start = html.find("<script data-library=", pos);
    if (start == std::string::npos) break;
    size_t end = html.find("</script>", start);
    EXPECT_NE(end, std::string::npos);
    out += html.substr(pos, start - pos);
    pos = end + 9;
  }
  return out + html.substr(pos);
}

std::string WriteFile(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Five kinds of chart: lines of several series, stacked bars, an area, a line with a rule
// layered on it, and bars whose labels hold "</script>" and markup.
HtmlReport SampleReport() {
  json util = json::array();
  const char* sites[] = {"Oslo", "Quincy", "Dublin"};
  for (int m = 1; m <= 12; ++m) {
    for (int s = 0; s < 3; ++s) {
      util.push_back({{"month", fmt::format("2027-{:02d}-01", m)},
                      {"site", sites[s]},
                      {"utilization", 0.55 + 0.03 * s + 0.02 * ((m * (s + 3)) % 7)}});
    }
  }
  json hours = json::array();
  const char* tenants[] = {"training", "inference", "research"};
  for (int q = 1; q <= 4; ++q) {
    for (int t = 0; t < 3; ++t) {
      hours.push_back({{"quarter", fmt::format("Q{} 2027", q)},
                       {"tenant", tenants[t]},
                       {"gpu_hours", 1000 * (q + 2) * (3 - t) + 250 * t}});
    }
  }
  json power = json::array();
  for (int h = 0; h < 48; ++h) {
    power.push_back({{"hour", h}, {"megawatts", 40 + 12 * ((h % 24) > 8 && (h % 24) < 20) + h % 5}});
  }
  json demand = json::array();
  for (int d = 0; d < 30; ++d) demand.push_back({{"day", d + 1}, {"gpus", 9000 + 150 * d - 4 * d * d}});
  json hostile = json::array({{{"label", "</script><b>bold</b>"}, {"value", 3}},
                              {{"label", "a & b < c"}, {"value", 5}},
                              {{"label", "<!-- comment"}, {"value", 2}}});

  HtmlSection fleet{"Fleet", {"Utilization & demand, < by site >."}, {}, {}};
  fleet.charts.push_back(
      {"util-by-site", "Utilization by site", "Monthly mean GPU utilization of each site.",
       {{"$schema", "https://vega.github.io/schema/vega-lite/v6.json"},
        {"data", {{"values", util}}},
        {"mark", {{"type", "line"}, {"point", true}}},
        {"encoding",
         {{"x", {{"field", "month"}, {"type", "temporal"}, {"title", "month"}}},
          {"y", {{"field", "utilization"}, {"type", "quantitative"}, {"axis", {{"format", "%"}}}}},
          {"color", {{"field", "site"}, {"type", "nominal"}}}}}}});
  fleet.charts.push_back(
      {"gpu-hours", "GPU-hours by tenant", "GPU-hours per quarter, stacked by tenant.",
       {{"data", {{"values", hours}}},
        {"mark", "bar"},
        {"encoding",
         {{"x", {{"field", "quarter"}, {"type", "ordinal"}}},
          {"y", {{"aggregate", "sum"}, {"field", "gpu_hours"}, {"type", "quantitative"}}},
          {"color", {{"field", "tenant"}, {"type", "nominal"}}}}}}});
  HtmlSection energy{"Power and demand", {"Two days of power, a month of demand."}, {}, {}};
  energy.charts.push_back(
      {"site-power", "Site power", "Power drawn by the fleet, hour by hour.",
       {{"data", {{"values", power}}},
        {"mark", {{"type", "area"}, {"line", true}, {"opacity", 0.6}}},
        {"encoding",
         {{"x", {{"field", "hour"}, {"type", "quantitative"}}},
          {"y", {{"field", "megawatts"}, {"type", "quantitative"}}}}}}});
  energy.charts.push_back(
      {"demand-vs-capacity", "Demand against capacity", "GPUs asked for; the rule is the fleet.",
       {{"data", {{"values", demand}}},
        {"layer",
         {{{"mark", "line"},
           {"encoding",
            {{"x", {{"field", "day"}, {"type", "quantitative"}}},
             {"y", {{"field", "gpus"}, {"type", "quantitative"}}}}}},
          {{"mark", {{"type", "rule"}, {"strokeDash", {6, 4}}, {"color", "#ef4444"}}},
           {"encoding", {{"y", {{"datum", 12000}}}}}}}}}});
  energy.charts.push_back(
      {"hostile-labels", "Labels that look like markup", "Labels holding </script> and <!--.",
       {{"data", {{"values", hostile}}},
        {"mark", "bar"},
        {"encoding",
         {{"y", {{"field", "label"}, {"type", "nominal"}}},
          {"x", {{"field", "value"}, {"type", "quantitative"}}}}}}});
  energy.tables.push_back({"Sites",
                           {"site", "GPUs", "utilization", "power"},
                           {{"Oslo", "12,288", "71.5%", "18.2 MW"}, {"Quincy <2>", "8,192", "64.0%", "12.1 MW"}},
                           {},
                           "Utilization over 2027; power at peak."});

  HtmlReport r;
  r.title = "Fleet plan <2027> & beyond";
  r.subtitle = "A sample report for the tests";
  r.headline = {{"GPUs", "20,480"}, {"Utilization", "68.9%"}, {"Cost <est.>", "$41.2M"}};
  r.sections = {fleet, energy};
  return r;
}

// Four series whose names are long, over two years: the legend of a real report was cut at
// "MW needed by the GPUs i…".
json LongSeries() {
  json v = json::array();
  const char* series[] = {"MW needed by the GPUs in service", "MW contracted at the sites (firm)",
                          "MW available after cooling overhead",
                          "MW held back for failover and maintenance"};
  for (int m = 1; m <= 24; ++m) {
    for (int s = 0; s < 4; ++s) {
      v.push_back({{"month", fmt::format("{}-{:02d}-01", 2026 + (m - 1) / 12, (m - 1) % 12 + 1)},
                   {"series", series[s]},
                   {"mw", 20 + 6 * s + (m * (s + 2)) % 9}});
    }
  }
  return v;
}

json LongSeriesChart(const json& legend) {
  json color = {{"field", "series"}, {"type", "nominal"}, {"title", "power"}};
  if (!legend.is_null()) color["legend"] = legend;
  return {{"data", {{"values", LongSeries()}}},
          {"mark", "line"},
          {"encoding",
           {{"x", {{"field", "month"}, {"type", "temporal"}, {"title", "month"}}},
            {"y", {{"field", "mw"}, {"type", "quantitative"}, {"title", "megawatts"}}},
            {"color", color}}}};
}

// SampleReport and a section of what made a real report's layout fail: a legend of four long
// labels, bars with long names on their axis, a table of nine columns with long headers.
HtmlReport LayoutReport() {
  HtmlReport r = SampleReport();
  json bars = json::array();
  const char* names[] = {"Quincy, Washington: H200 HGX reserved for training",
                         "Oslo, Norway: B200 NVL72 racks awaiting power-on",
                         "Dublin, Ireland: inference pool on the 2025 contract",
                         "Quincy, Washington: spares and burn-in"};
  for (int i = 0; i < 4; ++i) bars.push_back({{"pool", names[i]}, {"gpus", 2048 * (4 - i)}});
  HtmlSection s{"Long labels", {"Charts and a table whose labels are long."}, {}, {}};
  s.charts.push_back({"long-legend", "Power, four long series", "", LongSeriesChart(nullptr)});
  s.charts.push_back({"long-axis", "GPUs by pool", "",
                      {{"data", {{"values", bars}}},
                       {"mark", "bar"},
                       {"encoding",
                        {{"y", {{"field", "pool"}, {"type", "nominal"}, {"title", "pool"}}},
                         {"x", {{"field", "gpus"}, {"type", "quantitative"}, {"title", "GPUs"}}}}}}});
  s.tables.push_back(
      {"Sites in full",
       {"Site and data hall", "GPUs in service at year end", "Utilization of reserved capacity",
        "Power drawn at peak", "Power contracted (firm)", "Cost per GPU-hour", "Lead time in months",
        "Failures per 1,000 GPU-days", "Scenario file"},
       {{"Quincy, hall B", "12,288", "71.5%", "18.2 MW", "20.0 MW", "$2.14", "9", "0.31",
         "scenarios/reallocation-2025-quincy-hall-b.toml"},
        {"Oslo, hall A", "8,192", "64.0%", "12.1 MW", "14.0 MW", "$1.87", "12", "0.27",
         "scenarios/small.toml"},
        {"Dublin", "4,096", "58.3%", "6.4 MW", "8.0 MW", "$2.41", "6", "0.35", "scenarios/default.toml"}},
       {},
       "Nine columns, every header several words long."});
  r.sections.push_back(s);
  return r;
}

TEST(HtmlReport, ContainsEachChartIdAndTitleOnce) {
  HtmlReport r = SampleReport();
  std::string html = RenderHtmlReport(r);
  for (const HtmlSection& s : r.sections) {
    for (const HtmlChart& c : s.charts) {
      EXPECT_EQ(Count(html, c.id), 1u) << c.id;
      EXPECT_EQ(Count(html, "id=\"chart-" + c.id + "\""), 1u) << c.id;
      EXPECT_EQ(Count(html, "<h3>" + c.title + "</h3>"), 1u) << c.title;
      EXPECT_EQ(Count(html, c.title), 1u) << c.title;
    }
  }
  EXPECT_EQ(Count(html, "<figure class=\"rs-chart\">"), 5u);
  EXPECT_NE(html.find("<body data-charts=\"5\""), std::string::npos);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n", 0), 0u);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
}

TEST(HtmlReport, EscapesText) {
  std::string html = RenderHtmlReport(SampleReport());
  EXPECT_NE(html.find("<title>Fleet plan &lt;2027&gt; &amp; beyond</title>"), std::string::npos);
  EXPECT_NE(html.find("<h1>Fleet plan &lt;2027&gt; &amp; beyond</h1>"), std::string::npos);
  EXPECT_NE(html.find("<p>Utilization &amp; demand, &lt; by site &gt;.</p>"), std::string::npos);
  EXPECT_NE(html.find("Cost &lt;est.&gt;"), std::string::npos);
  EXPECT_NE(html.find("<td>Quincy &lt;2&gt;</td>"), std::string::npos);
  EXPECT_NE(html.find("Labels holding &lt;/script&gt; and &lt;!--."), std::string::npos);
  EXPECT_EQ(html.find("Fleet plan <2027>"), std::string::npos);
  EXPECT_EQ(html.find("Quincy <2>"), std::string::npos);

  HtmlReport quotes;
  quotes.title = "\"quoted\" 'single'";
  quotes.sections.push_back({"a\"b", {}, {}, {}});
  quotes.sections.push_back({"c'd", {}, {}, {}});
  std::string q = RenderHtmlReport(quotes);
  EXPECT_NE(q.find("<title>&quot;quoted&quot; &#39;single&#39;</title>"), std::string::npos);
  EXPECT_NE(q.find(">a&quot;b</a>"), std::string::npos);
}

TEST(HtmlReport, ScriptEndInSpecStaysInsideTheScript) {
  std::string html = RenderHtmlReport(SampleReport());
  // The spec's strings are in JSON with '<', '>' and '&' as \u escapes.
  EXPECT_EQ(html.find("</script><b>bold"), std::string::npos);
  EXPECT_EQ(html.find("<!-- comment"), std::string::npos);
  EXPECT_NE(html.find("\\u003c/script\\u003e\\u003cb\\u003ebold\\u003c/b\\u003e"), std::string::npos);
  EXPECT_NE(html.find("a \\u0026 b \\u003c c"), std::string::npos);
  // One </script> per <script: nothing ends a script early.
  EXPECT_EQ(Count(html, "<script"), Count(html, "</script>"));
  // The escaped spec still parses to the same JSON.
  size_t at = html.find("\\u003c/script\\u003e");
  size_t begin = html.rfind("class=\"rs-spec\">", at) + 16;
  size_t end = html.find("</script>", at);
  json spec = json::parse(html.substr(begin, end - begin));
  EXPECT_EQ(spec["data"]["values"][0]["label"], "</script><b>bold</b>");
  EXPECT_EQ(spec["width"], "container");
}

TEST(HtmlReport, SameReportSameBytes) {
  std::string a = RenderHtmlReport(SampleReport());
  std::string b = RenderHtmlReport(SampleReport());
  EXPECT_EQ(a.size(), b.size());
  EXPECT_TRUE(a == b);
  EXPECT_EQ(testing::Sha256Hex(a), testing::Sha256Hex(b));
}

TEST(HtmlReport, ReferencesNothingOutsideTheFile) {
  std::string html = RenderHtmlReport(SampleReport());
  // The libraries' code holds URL strings (SVG namespaces, links in messages), never fetched.
  EXPECT_EQ(Count(html, "<script data-library="), 3u);
  std::string page = WithoutLibraries(html);
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);  // the spec's "$schema" is dropped
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("sourceMappingURL"), std::string::npos);
  EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none';"), std::string::npos);
  // The libraries are really there.
  EXPECT_NE(html.find("vegaEmbed"), std::string::npos);
  EXPECT_GT(html.size() - page.size(), 500000u);
}

TEST(HtmlReport, ChartIdsAreMadeSafeAndUnique) {
  HtmlReport r;
  HtmlSection s{"s", {}, {}, {}};
  json spec = {{"data", {{"values", json::array()}}}, {"mark", "bar"}};
  s.charts = {{"same", "A", "", spec}, {"same", "B", "", spec}, {"Bad Id\"<x>", "C", "", spec},
              {"", "D", "", spec}};
  r.sections = {s};
  std::string html = RenderHtmlReport(r);
  EXPECT_NE(html.find("id=\"chart-same\""), std::string::npos);
  EXPECT_NE(html.find("id=\"chart-same-2\""), std::string::npos);
  EXPECT_NE(html.find("id=\"chart--ad--d--x-\""), std::string::npos);
  EXPECT_NE(html.find("id=\"chart-4\""), std::string::npos);
}

TEST(HtmlReport, NumbersAlignRight) {
  HtmlReport r;
  HtmlSection s{"s", {}, {}, {}};
  s.tables.push_back({"auto",
                      {"name", "count", "share", "power", "note", "mixed"},
                      {{"a", "1,234", "12.5%", "3.5 MW", "fine", "12"},
                       {"b", "-7", "100%", "12 kW", "", "n/a"},
                       {"c", "", "0.1%", "1e6 W", "ok", "3"}},
                      {},
                      ""});
  s.tables.push_back({"given", {"x", "y"}, {{"1", "2"}}, {false, true}, "small print"});
  r.sections = {s};
  std::string html = RenderHtmlReport(r);
  EXPECT_NE(html.find("<tr><td>a</td><td class=\"num\">1,234</td><td class=\"num\">12.5%</td>"
                      "<td class=\"num\">3.5 MW</td><td>fine</td><td>12</td></tr>"),
            std::string::npos)
      << html.substr(html.find("<table>"));
  EXPECT_NE(html.find("<th scope=\"col\" class=\"num\">count</th>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>1</td><td class=\"num\">2</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<p class=\"rs-note\">small print</p>"), std::string::npos);
}

TEST(HtmlReport, NoChartsNoLibraries) {
  HtmlReport r;
  r.title = "Tables only";
  r.headline = {{"jobs", "3"}};
  r.sections.push_back({"s", {"text"}, {{"t", {"a"}, {{"1"}}, {}, ""}}, {}});
  std::string html = RenderHtmlReport(r);
  EXPECT_EQ(html.find("data-library"), std::string::npos);
  EXPECT_LT(html.size(), 20000u);
  EXPECT_NE(html.find("<body data-charts=\"0\""), std::string::npos);
}

TEST(BrowserHarness, ExplicitBadPathIsNoBrowser) {
  const char* old = std::getenv("RACKSCALE_CHROMIUM");
  std::string saved = old != nullptr ? old : "";
  setenv("RACKSCALE_CHROMIUM", "/nonexistent/chromium", 1);
  testing::BrowserResult r = RenderInBrowser("/nonexistent/report.html");
  if (old != nullptr) {
    setenv("RACKSCALE_CHROMIUM", saved.c_str(), 1);
  } else {
    unsetenv("RACKSCALE_CHROMIUM");
  }
  EXPECT_FALSE(r.found);
  EXPECT_FALSE(r.ran);
  EXPECT_NE(r.skip_reason.find("RACKSCALE_CHROMIUM=/nonexistent/chromium is not an executable"),
            std::string::npos)
      << r.skip_reason;
  EXPECT_NE(r.skip_reason.find("install-deps.sh"), std::string::npos);
}

TEST(HtmlReport, LongWordsMayBreakInTables) {
  HtmlReport r;
  HtmlSection s{"s", {}, {}, {}};
  s.tables.push_back({"t",
                      {"a header of short words", "scenario_file_name_here"},
                      {{"short words only here", "scenarios/reallocation-2025.toml"},
                       {"sixteen-chars-ok", "two words"}},
                      {},
                      ""});
  r.sections = {s};
  std::string html = RenderHtmlReport(r);
  EXPECT_NE(html.find("<tr><th scope=\"col\">a header of short words</th>"
                      "<th scope=\"col\" class=\"rs-long\">scenario_file_name_here</th></tr>"),
            std::string::npos)
      << html.substr(html.find("<table>"));
  EXPECT_NE(html.find("<tr><td>short words only here</td>"
                      "<td class=\"rs-long\">scenarios/reallocation-2025.toml</td></tr>"),
            std::string::npos);
  EXPECT_NE(html.find("<tr><td>sixteen-chars-ok</td><td>two words</td></tr>"),
            std::string::npos);
  // Header cells wrap; only numbers in the body stay on one line; no wrapper scrolls.
  EXPECT_EQ(html.find("thead th {\n  border-bottom: 2px solid #d1d5db; font-weight: 600; "
                      "background: var(--stripe); white-space"),
            std::string::npos);
  EXPECT_NE(html.find(".rs-table td.num { white-space: nowrap; }"), std::string::npos);
  EXPECT_EQ(html.find("overflow-x"), std::string::npos);
  // The page measures its layout even without charts.
  EXPECT_NE(html.find("window.rsLayout()"), std::string::npos);
}

TEST(HtmlReport, ChartConfigKeepsLabelsWhole) {
  std::string html = RenderHtmlReport(SampleReport());
  size_t at = html.find("<script type=\"application/json\" id=\"rs-config\">");
  ASSERT_NE(at, std::string::npos);
  at = html.find('>', at) + 1;
  json config = json::parse(html.substr(at, html.find("</script>", at) - at));
  EXPECT_EQ(config["legend"]["labelLimit"], 0);
  EXPECT_EQ(config["legend"]["titleLimit"], 0);
  EXPECT_GE(config["axis"]["labelLimit"].get<int>(), 300);
}

// The sample report and long labels, at a phone-ish, a laptop and a desktop width: every chart
// drawn, no error or warning, and nothing clipped, cut, overlapping or wider than the window.
TEST(BrowserReport, DrawsEveryChartAndFitsAt800To1920) {
  std::string dir = testing::TempDir();
  std::string html = RenderHtmlReport(LayoutReport());
  std::string path = WriteFile(dir, "report.html", html);
  for (int width : {800, 1400, 1920}) {
    SCOPED_TRACE(fmt::format("at {} px", width));
    testing::BrowserResult r = RenderInBrowser(path, width);
    RACKSCALE_REQUIRE_BROWSER_OR_SKIP(r);
    std::printf("layout report at %d px: %zu bytes; %s took %.1f s\n", width, html.size(),
                r.browser.c_str(), r.seconds);
    ASSERT_TRUE(r.ran) << r.failure;
    EXPECT_EQ(r.errors, 0) << r.error_text;
    EXPECT_EQ(r.warnings, 0) << r.warning_text;
    EXPECT_EQ(r.charts, 7);
    EXPECT_EQ(r.rendered, 7);
    EXPECT_TRUE(r.charts_without_svg.empty()) << ::testing::PrintToString(r.charts_without_svg);
    EXPECT_EQ(r.layout_width, width);
    EXPECT_EQ(r.layout_issues, 0) << r.layout_text;
    for (const char* id : {"util-by-site", "gpu-hours", "site-power", "demand-vs-capacity",
                           "hostile-labels", "long-legend", "long-axis"}) {
      EXPECT_NE(r.dom.find(fmt::format("id=\"chart-{}\"", id)), std::string::npos) << id;
    }
    // The label that holds "</script>" was drawn as text in the chart.
    EXPECT_NE(r.dom.find("&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;</text>"), std::string::npos);
    // The page's own markup came through intact after the hostile spec.
    EXPECT_NE(r.dom.find("<td>Quincy &lt;2&gt;</td>"), std::string::npos);
    // The long legend labels and axis labels were drawn whole.
    EXPECT_NE(r.dom.find(">MW held back for failover and maintenance</text>"), std::string::npos);
    EXPECT_NE(r.dom.find(">Dublin, Ireland: inference pool on the 2025 contract</text>"),
              std::string::npos);
  }
}

// A table that cannot fit (thirty columns of numbers, which never wrap) and a paragraph wider
// than the window, on a page without charts.
TEST(BrowserReport, CatchesWideTablesAndText) {
  HtmlReport r;
  r.title = "Too wide";
  HtmlTable wide{"Thirty columns", {}, {}, {}, ""};
  std::vector<std::string> row;
  for (int c = 1; c <= 30; ++c) {
    wide.header.push_back(fmt::format("c{}", c));
    row.push_back(fmt::format("{},234,567,890", c));
  }
  wide.rows = {row, row};
  r.sections.push_back({"Wide things", {"A paragraph set wider than any window."}, {wide}, {}});
  std::string html = RenderHtmlReport(r);
  // No report gives a paragraph a width; this one stands for any element that does not fit.
  const std::string p = "<p>A paragraph set wider than any window.</p>";
  ASSERT_NE(html.find(p), std::string::npos);
  html.replace(html.find(p), 3, "<p style=\"min-width: 3000px\">");
  std::string path = WriteFile(testing::TempDir(), "wide.html", html);
  testing::BrowserResult b = RenderInBrowser(path, 1400);
  RACKSCALE_REQUIRE_BROWSER_OR_SKIP(b);
  ASSERT_TRUE(b.ran) << b.failure;
  EXPECT_EQ(b.errors, 0) << b.error_text;
  EXPECT_EQ(b.charts, 0);
  EXPECT_EQ(b.layout_width, 1400);
  // The table, the paragraph, and the page that now scrolls sideways.
  EXPECT_EQ(b.layout_issues, 3) << b.layout_text;
  EXPECT_EQ(b.layout_text.rfind("table \"Thirty columns\": ", 0), 0u) << b.layout_text;
  EXPECT_NE(b.layout_text.find(" section (clipped or needs scrolling sideways) | "), std::string::npos)
      << b.layout_text;
  EXPECT_NE(b.layout_text.find(" | p \"A paragraph set wider than any window.\": 3000 px wide, past "
                               "the 1400 px viewport | page: "),
            std::string::npos)
      << b.layout_text;
}

// Specs that override the page's defaults: a legend told to cut its labels at 40 px, a legend
// placed over the x axis's labels, an axis title kept within 100 px of its axis (over labels
// that are wider), and a legend of four big entries in one row, wider than the chart.
TEST(BrowserReport, CatchesCutAndOverlappingText) {
  json over_axis = LongSeriesChart({{"orient", "none"}, {"legendX", 0}, {"legendY", 203}});
  over_axis["height"] = 200;
  json title_over_labels = {
      {"data", {{"values", {{{"pool", "Quincy, Washington: H200 HGX reserved for training"}, {"gpus", 3}},
                            {{"pool", "Oslo"}, {"gpus", 2}}}}}},
      {"mark", "bar"},
      {"encoding",
       {{"y", {{"field", "pool"}, {"type", "nominal"}, {"axis", {{"maxExtent", 100}}}}},
        {"x", {{"field", "gpus"}, {"type", "quantitative"}}}}}};
  HtmlReport r;
  r.title = "Cut and overlapping";
  r.sections.push_back(
      {"s",
       {},
       {},
       {{"cut-legend", "Cut legend", "", LongSeriesChart({{"labelLimit", 40}})},
        {"legend-over-axis", "Legend over the axis", "", over_axis},
        {"title-over-labels", "Axis title over its labels", "", title_over_labels},
        {"legend-off-edge", "Legend past the edge", "",
         LongSeriesChart({{"columns", 4}, {"labelFontSize", 22}})}}});
  std::string path = WriteFile(testing::TempDir(), "cut.html", RenderHtmlReport(r));
  testing::BrowserResult b = RenderInBrowser(path, 1400);
  RACKSCALE_REQUIRE_BROWSER_OR_SKIP(b);
  ASSERT_TRUE(b.ran) << b.failure;
  EXPECT_EQ(b.errors, 0) << b.error_text;
  EXPECT_EQ(b.rendered, 4);
  // One issue each; the text holds the first three.
  EXPECT_EQ(b.layout_issues, 4) << b.layout_text;
  EXPECT_EQ(b.layout_text.rfind("chart-cut-legend: 4 texts cut short, e.g. legend-label \"MW", 0), 0u)
      << b.layout_text;
  EXPECT_NE(b.layout_text.find(" | chart-legend-over-axis: axis-label \"2026\" overlaps legend-"),
            std::string::npos)
      << b.layout_text;
  EXPECT_NE(b.layout_text.find(" | chart-title-over-labels: axis-label \"Quincy, Washington: H200"),
            std::string::npos)
      << b.layout_text;
  EXPECT_NE(b.layout_text.find("\" overlaps axis-title \"pool\""), std::string::npos) << b.layout_text;
}

TEST(BrowserReport, CatchesBrokenCharts) {
  json good = {{"data", {{"values", {{{"x", 1}, {"y", 2}}, {{"x", 2}, {"y", 3}}}}}},
               {"mark", "line"},
               {"encoding",
                {{"x", {{"field", "x"}, {"type", "quantitative"}}},
                 {"y", {{"field", "y"}, {"type", "quantitative"}}}}}};
  json unknown_mark = good;
  unknown_mark["mark"] = "no-such-mark";
  json outside_data = good;
  outside_data["data"] = {{"url", "data/points.csv"}};
  HtmlReport r;
  r.title = "Broken";
  r.sections.push_back({"s",
                        {},
                        {},
                        {{"good", "Good", "", good},
                         {"unknown-mark", "Unknown mark", "", unknown_mark},
                         {"outside-data", "Data from a file", "", outside_data}}});
  std::string path = WriteFile(testing::TempDir(), "broken.html", RenderHtmlReport(r));
  testing::BrowserResult b = RenderInBrowser(path);
  RACKSCALE_REQUIRE_BROWSER_OR_SKIP(b);
  ASSERT_TRUE(b.ran) << b.failure;
  EXPECT_EQ(b.charts, 3);
  EXPECT_EQ(b.rendered, 1);
  EXPECT_GE(b.errors, 2);
  // The first error names its chart; which of the two fails first is up to the browser.
  EXPECT_TRUE(b.error_text.rfind("chart-unknown-mark: ", 0) == 0 ||
              b.error_text.rfind("chart-outside-data: ", 0) == 0)
      << b.error_text;
  EXPECT_EQ(b.charts_without_svg, (std::vector<std::string>{"unknown-mark", "outside-data"}));
  // Each broken chart says why in its place.
  EXPECT_EQ(Count(b.dom, "\">This chart could not be drawn: "), 2u);
  EXPECT_NE(b.dom.find("\">This chart could not be drawn: a report loads no data from outside the "
                       "page (asked for data/points.csv)"),
            std::string::npos);
}

}  // namespace
}  // namespace rackscale
