#include "report/report_check.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rackscale {
namespace {

using json = nlohmann::json;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Unescape(std::string s) {
  const std::pair<const char*, const char*> ents[] = {{"&quot;", "\""}, {"&#39;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}};
  for (const auto& [from, to] : ents) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + std::string(to).size())) {
      s.replace(at, std::string(from).size(), to);
    }
  }
  return s;
}

std::string PercentDecode(const std::string& s) {
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      o += static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      o += s[i];
    }
  }
  return o;
}

// A CSV of the report's directory (no quoting), by column name.
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int Col(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
};

bool ParseNumber(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}


class Files {
 public:
  explicit Files(std::string dir) : dir_(std::move(dir)) {}
  const Csv* GetCsv(const std::string& name) {
    auto it = csv_.find(name);
    if (it != csv_.end()) return it->second.get();
    auto c = std::make_unique<Csv>();
    std::istringstream in(Slurp(dir_ + "/" + name));
    std::string line;
    bool first = true;
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ls(line);
      for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
      if (!line.empty() && line.back() == ',') f.push_back("");
      if (first) {
        c->header = f;
        first = false;
      } else {
        c->rows.push_back(f);
      }
    }
    return (csv_[name] = std::move(c)).get();
  }
  const json* GetJson(const std::string& name) {
    auto it = json_.find(name);
    if (it != json_.end()) return &it->second;
    return &(json_[name] = json::parse(Slurp(dir_ + "/" + name), nullptr, false));
  }

 private:
  std::string dir_;
  std::map<std::string, std::unique_ptr<Csv>> csv_;
  std::map<std::string, json> json_;
};

bool FieldEquals(const json& datum_value, const std::string& cell) {
  if (datum_value.is_number()) {
    double v;
    return ParseNumber(cell, &v) && std::fabs(v - datum_value.get<double>()) <= 1e-9 * std::max(1.0, std::fabs(v));
  }
  if (datum_value.is_string()) return datum_value.get<std::string>() == cell;
  return false;
}

// The value a data-src names ("FILE#/pointer" or "FILE?k=v&...#column"), or
// an error. For CSV, the sum over the matching rows and its tolerance.
struct Resolved {
  bool ok = false;
  std::string error;
  bool is_string = false;
  std::string text;
  double value = 0, tolerance = 0;
};

Resolved Resolve(Files& files, const std::string& src) {
  Resolved r;
  const auto hash = src.find('#');
  if (hash == std::string::npos) {
    r.error = "no '#' in " + src;
    return r;
  }
  const std::string where = src.substr(0, hash), what = src.substr(hash + 1);
  const auto q = where.find('?');
  const std::string file = where.substr(0, q);
  if (file.size() > 5 && file.substr(file.size() - 5) == ".json") {
    const json* j = files.GetJson(file);
    if (j->is_discarded()) {
      r.error = file + " is not JSON";
      return r;
    }
    const json::json_pointer ptr(what);
    if (!j->contains(ptr)) {
      r.error = file + " has no " + what;
      return r;
    }
    const json& v = j->at(ptr);
    if (v.is_string()) {
      r.is_string = true;
      r.text = v.get<std::string>();
    } else if (v.is_number()) {
      r.value = v.get<double>();
    } else {
      r.error = file + what + " is neither a number nor a string";
      return r;
    }
    r.ok = true;
    return r;
  }
  const Csv* c = files.GetCsv(file);
  const int col = c->Col(what);
  if (col < 0) {
    r.error = file + " has no column " + what;
    return r;
  }
  std::vector<std::pair<int, std::string>> keys;
  if (q != std::string::npos) {
    std::stringstream ks(where.substr(q + 1));
    for (std::string kv; std::getline(ks, kv, '&');) {
      const auto eq = kv.find('=');
      const int k = c->Col(PercentDecode(kv.substr(0, eq)));
      if (k < 0) {
        r.error = file + " has no column " + kv.substr(0, eq);
        return r;
      }
      keys.emplace_back(k, PercentDecode(kv.substr(eq + 1)));
    }
  }
  int matched = 0;
  for (const auto& row : c->rows) {
    bool ok = true;
    for (const auto& [k, v] : keys) ok = ok && static_cast<size_t>(k) < row.size() && row[static_cast<size_t>(k)] == v;
    if (!ok) continue;
    double x;
    const std::string& cell = static_cast<size_t>(col) < row.size() ? row[static_cast<size_t>(col)] : std::string();
    if (!ParseNumber(cell, &x)) {
      r.is_string = true;
      r.text = cell;
    } else {
      r.value += x;
      r.tolerance += CellTolerance(cell);
    }
    ++matched;
  }
  if (matched == 0) {
    r.error = "no row of " + file + " matches " + where;
    return r;
  }
  r.ok = true;
  return r;
}

// The rules of one chart against its data points.
void CheckChart(Files& files, const std::string& id, const json& spec, const json& rules, ReportCheck* out) {
  const json* values = nullptr;
  if (spec.contains("data") && spec["data"].contains("values")) values = &spec["data"]["values"];
  if (values == nullptr || !values->is_array()) {
    out->problems.push_back(id + ": no inline data");
    return;
  }
  for (const json& d : *values) {
    int applied = 0;
    for (const json& rule : rules) {
      bool applies = true;
      for (const auto& [k, v] : rule["where"].items()) applies = applies && d.contains(k) && d[k] == v;
      if (!applies) continue;
      ++applied;
      const std::string field = rule["field"].get<std::string>();
      if (!d.contains(field) || !d[field].is_number()) {
        out->problems.push_back(fmt::format("{}: point {} has no number in '{}'", id, d.dump(), field));
        continue;
      }
      const double got = d[field].get<double>();
      double want = 0, tol = 0;
      const std::string file = rule["file"].get<std::string>();
      if (rule.contains("pointer")) {
        const json* j = files.GetJson(file);
        const json::json_pointer ptr(rule["pointer"].get<std::string>());
        if (j->is_discarded() || !j->contains(ptr) || !j->at(ptr).is_number()) {
          out->problems.push_back(fmt::format("{}: {} has no number at {}", id, file, ptr.to_string()));
          continue;
        }
        want = rule["weight"].get<double>() * j->at(ptr).get<double>();
      } else {
        const Csv* c = files.GetCsv(file);
        int matched = 0;
        bool bad = false;
        for (const auto& row : c->rows) {
          bool ok = true;
          for (const auto& [dfield, col] : rule["match"].items()) {
            const int k = c->Col(col.get<std::string>());
            if (k < 0) {
              bad = true;
              break;
            }
            ok = ok && d.contains(dfield) && static_cast<size_t>(k) < row.size() && FieldEquals(d[dfield], row[static_cast<size_t>(k)]);
          }
          if (bad || !ok) continue;
          ++matched;
          for (const auto& [col, w] : rule["columns"].items()) {
            const int k = c->Col(col);
            double x;
            if (k < 0 || static_cast<size_t>(k) >= row.size() || !ParseNumber(row[static_cast<size_t>(k)], &x)) {
              bad = true;
              break;
            }
            want += w.get<double>() * x;
            tol += std::fabs(w.get<double>()) * CellTolerance(row[static_cast<size_t>(k)]);
          }
        }
        if (bad) {
          out->problems.push_back(fmt::format("{}: rule names a column {} lacks: {}", id, file, rule.dump()));
          continue;
        }
        (void)matched;  // no row: the file says 0 (rows of zeros are left out)
      }
      tol += 1e-9 * std::max(1.0, std::fabs(want));
      if (std::fabs(got - want) > tol) {
        out->problems.push_back(fmt::format("{}: point {}: '{}' is {} but {} says {}", id, d.dump(), field, got, file, want));
      }
    }
    if (applied == 0) out->problems.push_back(fmt::format("{}: point {} is traced by no rule", id, d.dump()));
    ++out->points;
  }
}

}  // namespace

// Half a unit of the last digit written: "12.340" -> 0.0005, "12" -> 0.5; 0 for
// an exponent form (written exactly).
double CellTolerance(const std::string& s) {
  const auto dot = s.find('.');
  const auto e = s.find_first_of("eE");
  if (e != std::string::npos) return 0;  // exact (shortest form)
  if (dot == std::string::npos) return 0.5;
  return 0.5 * std::pow(10.0, -static_cast<double>(s.size() - dot - 1));
}

bool ParseDisplayed(const std::string& raw, double* value, double* tolerance) {
  std::string t = raw;
  bool neg = false;
  if (!t.empty() && t[0] == '-') {
    neg = true;
    t = t.substr(1);
  }
  double scale = 1;
  if (!t.empty() && t[0] == '$') t = t.substr(1);
  std::string unit;
  const auto sp = t.find(' ');
  if (sp != std::string::npos) {
    unit = t.substr(sp + 1);
    t = t.substr(0, sp);
  }
  if (unit == "h") scale = 3600;
  else if (unit == "d") scale = 86400;
  else if (!unit.empty() && unit != "MW" && unit != "MWh") return false;
  if (!t.empty()) {
    switch (t.back()) {
      case 'T': scale *= 1e12; t.pop_back(); break;
      case 'B': scale *= 1e9; t.pop_back(); break;
      case 'M': scale *= 1e6; t.pop_back(); break;
      case 'k': scale *= 1e3; t.pop_back(); break;
      case '%': scale *= 0.01; t.pop_back(); break;
      default: break;
    }
  }
  std::string digits;
  for (char c : t) {
    if (c != ',') digits += c;
  }
  if (!std::regex_match(digits, std::regex("[0-9]+(\\.[0-9]+)?"))) return false;
  *value = std::strtod(digits.c_str(), nullptr) * scale * (neg ? -1 : 1);
  *tolerance = CellTolerance(digits) * scale;
  return true;
}

ReportCheck CheckReport(const std::string& dir) {
  ReportCheck out;
  Files files(dir);
  const std::string html = Slurp(dir + "/report.html");
  // Cells and cards: an element with data-src="S" whose text (of its first
  // text node, for a card its value's) is the figure.
  for (size_t at = html.find(" data-src=\""); at != std::string::npos; at = html.find(" data-src=\"", at + 1)) {
    const size_t open = html.rfind('<', at);
    const std::string tag = html.substr(open + 1, html.find_first_of(" >", open + 1) - open - 1);
    const size_t q0 = at + 11, q1 = html.find('"', q0);
    const std::string src = Unescape(html.substr(q0, q1 - q0));
    size_t t0 = html.find('>', q1) + 1;
    if (tag == "li") t0 = html.find('>', html.find("rs-card-value", q1)) + 1;
    const std::string text = Unescape(html.substr(t0, html.find('<', t0) - t0));
    ++out.cells;
    const Resolved r = Resolve(files, src);
    if (!r.ok) {
      out.problems.push_back(fmt::format("'{}' ({}): {}", text, src, r.error));
      continue;
    }
    if (r.is_string) {
      if (r.text != text) out.problems.push_back(fmt::format("'{}' shows {} but it says '{}'", text, src, r.text));
      continue;
    }
    double v, tol;
    if (!ParseDisplayed(text, &v, &tol)) {
      out.problems.push_back(fmt::format("'{}' ({}): not a figure this check reads", text, src));
      continue;
    }
    tol += r.tolerance + 1e-9 * std::max(1.0, std::fabs(r.value));
    if (std::fabs(v - r.value) > tol) {
      out.problems.push_back(fmt::format("'{}' stands for {} but {} says {}", text, v, src, r.value));
    }
  }
  // Charts: the container, its spec and its source rules, in that order.
  const std::string view = "<div class=\"rs-chart-view\" id=\"";
  const std::string spec_open = "<script type=\"application/json\" class=\"rs-spec\">";
  const std::string source_open = "<script type=\"application/json\" class=\"rs-source\">";
  for (size_t at = html.find(view); at != std::string::npos; at = html.find(view, at + 1)) {
    const size_t i0 = at + view.size();
    const std::string id = html.substr(i0, html.find('"', i0) - i0);
    const size_t s0 = html.find(spec_open, i0) + spec_open.size();
    const size_t s1 = html.find("</script>", s0);
    const size_t next = html.find(view, s1);
    const size_t r0 = html.find(source_open, s1);
    if (r0 == std::string::npos || (next != std::string::npos && r0 > next) || r0 > s1 + 16) {
      ++out.untraced_charts;
      continue;
    }
    const size_t r1 = html.find("</script>", r0);
    // ScriptSafeJson escapes '<' as \u003c; nlohmann reads it back.
    const json spec = json::parse(html.substr(s0, s1 - s0), nullptr, false);
    const json rules = json::parse(html.substr(r0 + source_open.size(), r1 - r0 - source_open.size()), nullptr, false);
    if (spec.is_discarded() || rules.is_discarded() || !rules.is_array()) {
      out.problems.push_back(id + ": spec or source is not JSON");
      continue;
    }
    ++out.charts;
    CheckChart(files, id, spec, rules, &out);
  }
  return out;
}

}  // namespace rackscale
