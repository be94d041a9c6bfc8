// docs/cluster.md and the readers agree: every numeric range in its tables
// of keys ("| key | type | unit | default | range | meaning |") is read from
// the document itself, and each bound is probed: the bound is accepted, a
// value just past it is refused with an error naming the key.
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "model/fleet.h"
#include "sim/services.h"

namespace rackscale {
namespace {

struct Row {
  std::string table;  // the heading above the table, e.g. "[[sites.pools]]"
  std::string key, type, range;
  int line = 0;
};

std::vector<Row> DocumentedKeys() {
  std::ifstream in(std::string(RACKSCALE_SOURCE_DIR) + "/docs/cluster.md");
  std::vector<Row> rows;
  std::string line, heading;
  bool in_table = false;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.rfind("#", 0) == 0) {
      heading = line;
      in_table = false;
      continue;
    }
    if (line.rfind("| key | type | unit | default | range |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table || line.rfind("|---", 0) == 0) continue;
    if (line.rfind("| `", 0) != 0) {
      in_table = false;
      continue;
    }
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    for (std::string c; std::getline(ss, c, '|');) {
      const auto a = c.find_first_not_of(' '), b = c.find_last_not_of(' ');
      cells.push_back(a == std::string::npos ? "" : c.substr(a, b - a + 1));
    }
    if (cells.size() < 6) continue;
    // `peak_hour`, `trough_hour`: one row for two keys.
    std::regex key_re("`([a-z_]+)`");
    for (auto it = std::sregex_iterator(cells[0].begin(), cells[0].end(), key_re); it != std::sregex_iterator(); ++it) {
      const auto b = heading.find('`'), e = heading.rfind('`');
      const std::string table = b != std::string::npos && e > b ? heading.substr(b + 1, e - b - 1)
                                                                : heading.substr(heading.find(' ') + 1);
      rows.push_back({table, (*it)[1], cells[1], cells[4], n});
    }
  }
  return rows;
}

// "10^6", "2^40", "−10^6", "0.01" -> the number; false if not one.
bool ParseBound(std::string s, double* v) {
  const std::string minus = "\xe2\x88\x92";  // U+2212
  bool neg = false;
  if (s.rfind(minus, 0) == 0) {
    neg = true;
    s = s.substr(minus.size());
  } else if (!s.empty() && s[0] == '-') {
    neg = true;
    s = s.substr(1);
  }
  std::smatch m;
  if (std::regex_match(s, m, std::regex("(10|2)\\^(-?[0-9]+)"))) {
    *v = std::pow(std::stod(m[1]), std::stod(m[2]));
  } else if (std::regex_match(s, std::regex("[0-9]+(\\.[0-9]+)?"))) {
    *v = std::stod(s);
  } else {
    return false;
  }
  if (neg) *v = -*v;
  return true;
}

// A fleet or tenants file with `key = value` in the table under test, and
// every other key at a value that lets the probed one reach its bounds.
std::string Fleet(const std::string& table, const std::string& key, const std::string& value) {
  // A top-level key: before the first table of an otherwise plain fleet.
  if (table == "cross_site_slowdown") return fmt::format("{} = {}\n", key, value) + Fleet("[[sites]]", "name", "\"s\"");
  std::map<std::string, std::map<std::string, std::string>> t = {
      {"[accelerators.NAME]", {{"busy_watts", "1000000"}, {"idle_watts", "0"}}},
      {"[nodes.NAME]", {{"cpu_milli", "1000"}, {"memory_mib", "1000"}, {"gpus", "1"}, {"accelerator", "\"A\""}}},
      {"[domains.NAME]", {{"node", "\"N\""}, {"nodes", "1"}}},
      {"[[sites]]", {{"name", "\"s\""}}},
      {"[[sites.pools]]", {{"domain", "\"D\""}, {"count", "1"}}},
  };
  if (!t.count(table)) return "";
  t[table][key] = value;
  if (table == "[nodes.NAME]" && key == "gpus" && value == "0") t[table].erase("accelerator");
  if (table == "[[sites.pools]]" && key == "online_day") t[table]["retire_day"] = "10000000";
  auto body = [&](const std::string& name) {
    std::string o;
    for (const auto& [k, v] : t[name]) o += fmt::format("{} = {}\n", k, v);
    return o;
  };
  return "[accelerators.A]\n" + body("[accelerators.NAME]") + "[nodes.N]\n" + body("[nodes.NAME]") + "[domains.D]\n" +
         body("[domains.NAME]") + "[[sites]]\n" + body("[[sites]]") + "[[sites.pools]]\n" + body("[[sites.pools]]");
}

std::string Tenants(const std::string& table, const std::string& key, const std::string& value) {
  std::map<std::string, std::map<std::string, std::string>> t = {
      {"[[tenants]]", {{"name", "\"a\""}, {"nominal_gpus", "10"}}},
      {"[[tenants.dedicated]]", {{"domain_type", "\"D\""}, {"domains", "1"}, {"start_day", "-1000000"}, {"end_day", "10000000"}}},
      {"services", {{"name", "\"s\""}, {"tenant", "\"a\""}, {"rate", "\"1000\""}, {"gpus_per_replica", "1"},
                    {"tokens_per_s_per_replica", "100"}, {"tokens_per_request", "10"}, {"max_replicas", "1048576"},
                    {"min_replicas", "0"}}},
  };
  const std::string name = table == "Inference services" ? "services" : table;
  if (!t.count(name)) return "";
  t[name][key] = value;
  if (name == "[[tenants.dedicated]]" && key == "end_day") t[name]["start_day"] = "-1000000";
  if (name == "[[tenants.dedicated]]" && key == "start_day") t[name]["end_day"] = "10000000";
  auto body = [&](const std::string& n, const char* indent) {
    std::string o;
    for (const auto& [k, v] : t[n]) o += fmt::format("{}{} = {}\n", indent, k, v);
    return o;
  };
  return "[[tenants]]\n" + body("[[tenants]]", "") + "  [[tenants.dedicated]]\n" + body("[[tenants.dedicated]]", "  ") +
         "[[services]]\n" + body("services", "");
}

// Reads the file as rackscale does: a fleet to its spec, tenants with their
// services checked as the simulator loads them.
Status Read(const Row& r, const std::string& value) {
  const std::string fleet = Fleet(r.table, r.key, value);
  if (!fleet.empty()) {
    auto s = ParseFleetSpec(fleet, "probe.toml");
    return s ? Status::Ok() : Status(s.error());
  }
  const std::string tenants = Tenants(r.table, r.key, value);
  auto c = ParseTenantsToml(tenants, "probe.toml");
  if (!c) return c.error();
  auto sv = LoadServices(*c, "probe.toml");
  return sv ? Status::Ok() : Status(sv.error());
}

std::string Text(double v, bool integer) { return integer ? fmt::format("{:.0f}", v) : fmt::format("{}", v); }

TEST(DocsRanges, EveryDocumentedBoundIsTheReadersBound) {
  const std::vector<Row> rows = DocumentedKeys();
  ASSERT_GT(rows.size(), 40u) << "docs/cluster.md's key tables were not found";
  int probed = 0;
  for (const Row& r : rows) {
    if (r.type != "number" && r.type != "integer") continue;
    // "A – B" (an en dash), optionally followed by ", <= other".
    // "A – B" (an en dash; both included), optionally followed by ", <=
    // other"; or "[A, B)" (B excluded).
    std::smatch m;
    const std::string range = r.range.substr(0, r.range.find(", "));
    bool hi_open = false;
    if (std::regex_match(r.range, m, std::regex("\\[(\\S+), (\\S+)\\)"))) {
      hi_open = true;
    } else if (!std::regex_match(range, m, std::regex("(\\S+) \xe2\x80\x93 (\\S+)"))) {
      continue;
    }
    double lo, hi;
    if (!ParseBound(m[1], &lo) || !ParseBound(m[2], &hi)) continue;
    const bool integer = r.type == "integer";
    const double step_lo = integer ? 1 : std::max(std::fabs(lo), 1e-6) * 1e-3;
    const double step_hi = integer ? 1 : std::max(std::fabs(hi), 1.0) * 1e-3;
    const std::string where = fmt::format("docs/cluster.md:{}: {} {} ({})", r.line, r.table, r.key, r.range);
    // A bound that another key limits too ("> `start_day`") is probed at
    // the side that key does not reach.
    const bool lo_free = r.range.find("> `") == std::string::npos;
    std::vector<std::pair<double, bool>> probes{{hi, !hi_open}, {hi + step_hi, false}};
    if (hi_open) probes.push_back({hi - step_hi, true});
    if (lo_free) probes.insert(probes.end(), {{lo, true}, {lo - step_lo, false}});
    for (const auto& [value, ok] : probes) {
      const Status s = Read(r, Text(value, integer));
      if (ok) {
        EXPECT_TRUE(s.ok()) << where << ": " << Text(value, integer) << " refused: " << s.error().ToString();
      } else {
        EXPECT_FALSE(s.ok()) << where << ": " << Text(value, integer) << " accepted";
        if (!s.ok()) {
          EXPECT_NE(s.error().ToString().find(r.key), std::string::npos) << where << ": " << s.error().ToString();
        }
      }
    }
    ++probed;
  }
  EXPECT_GT(probed, 30);
  std::printf("probed the bounds of %d documented ranges\n", probed);
}

}  // namespace
}  // namespace rackscale
