#include "browser.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace rackscale::testing {

namespace {

constexpr int kViewportHeight = 1600;

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

// `name` on PATH, or "".
std::string OnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (IsExecutableFile(candidate)) return candidate;
  }
  return "";
}

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

std::string FileUrl(const std::string& path) {
  std::string abs = std::filesystem::absolute(path).lexically_normal().string();
  std::string url = "file://";
  for (unsigned char c : abs) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '/' || c == '-' || c == '_' || c == '.' || c == '~';
    url += plain ? std::string(1, static_cast<char>(c)) : fmt::format("%{:02X}", c);
  }
  return url;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    std::string name = s.substr(i + 1, semi - i - 1);
    if (name == "amp") out += '&';
    else if (name == "lt") out += '<';
    else if (name == "gt") out += '>';
    else if (name == "quot") out += '"';
    else if (name == "apos" || name == "#39") out += '\'';
    else if (name == "nbsp") out += ' ';
    else {
      out += s.substr(i, semi - i + 1);
    }
    i = semi;
  }
  return out;
}

// The attributes of the first <body ...> tag (quoted values may hold '>').
std::string BodyTag(const std::string& dom) {
  size_t start = dom.find("<body");
  if (start == std::string::npos) return "";
  char quote = 0;
  for (size_t i = start; i < dom.size(); ++i) {
    char c = dom[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return dom.substr(start, i + 1 - start);
    }
  }
  return "";
}

// The value of attribute `name` in tag `tag`, unescaped; `found` tells whether it is there.
std::string Attribute(const std::string& tag, const std::string& name, bool* found) {
  std::string key = " " + name + "=\"";
  size_t at = tag.find(key);
  *found = at != std::string::npos;
  if (!*found) return "";
  size_t begin = at + key.size();
  size_t end = tag.find('"', begin);
  if (end == std::string::npos) end = tag.size();
  return Unescape(tag.substr(begin, end - begin));
}

int IntAttribute(const std::string& tag, const std::string& name) {
  bool found = false;
  std::string v = Attribute(tag, name, &found);
  if (!found || v.empty()) return -1;
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  return *end == '\0' ? static_cast<int>(n) : -1;
}

std::string Tail(const std::string& s, size_t n) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

}  // namespace

std::string FindBrowser(std::string* why) {
  const char* env = std::getenv("RACKSCALE_CHROMIUM");
  if (env != nullptr && *env != '\0') {
    std::string given = env;
    std::string path = given.find('/') == std::string::npos ? OnPath(given)
                                                            : (IsExecutableFile(given) ? given : "");
    if (path.empty()) {
      *why = fmt::format(
          "no browser: RACKSCALE_CHROMIUM={} is not an executable; unset it to use chromium from "
          "PATH (./scripts/install-deps.sh installs Debian's chromium)",
          given);
    }
    return path;
  }
  for (const char* name : {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}) {
    std::string path = OnPath(name);
    if (!path.empty()) return path;
  }
  *why =
      "no browser: none of chromium, chromium-browser, google-chrome, google-chrome-stable is on "
      "PATH and RACKSCALE_CHROMIUM is not set; ./scripts/install-deps.sh installs Debian's "
      "chromium";
  return "";
}

bool BrowserRequired() {
  const char* v = std::getenv("RACKSCALE_REQUIRE_BROWSER");
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

BrowserResult RenderInBrowser(const std::string& html_path, int viewport_width) {
  BrowserResult r;
  r.browser = FindBrowser(&r.skip_reason);
  if (r.browser.empty()) return r;
  r.found = true;
  r.skip_reason.clear();
  if (viewport_width < 100 || viewport_width > 10000) {
    r.failure = fmt::format("viewport width {} px is outside 100 to 10000", viewport_width);
    return r;
  }

  // A profile of its own per run: parallel runs (ctest -j) must not share one, and nothing
  // is left in $HOME.
  std::string scratch_template =
      (std::filesystem::temp_directory_path() / "rackscale-chromium-XXXXXX").string();
  if (mkdtemp(scratch_template.data()) == nullptr) {
    r.failure = "cannot create a temporary directory for the browser profile";
    return r;
  }
  const std::string scratch = scratch_template;
  const std::string out_path = scratch + "/dom.html", err_path = scratch + "/stderr.txt";

  // --no-sandbox: the sandbox cannot start as root (CI, containers). --headless is the new
  // headless mode in Chromium >= 132. --virtual-time-budget lets the page's promises and timers
  // run on virtual time; the DOM is dumped when the page is idle or the budget is spent.
  std::string timeout = OnPath("timeout");
  std::string cmd = fmt::format(
      "{}{} --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
      "--no-default-browser-check --disable-extensions --disable-background-networking "
      "--disable-component-update --disable-sync --mute-audio --hide-scrollbars "
      "--window-size={},{} --user-data-dir={} --virtual-time-budget=20000 --dump-dom {} "
      ">{} 2>{} </dev/null",
      timeout.empty() ? "" : ShellQuote(timeout) + " -k 5 120 ", ShellQuote(r.browser),
      viewport_width, kViewportHeight,
      ShellQuote(scratch + "/profile"), ShellQuote(FileUrl(html_path)), ShellQuote(out_path),
      ShellQuote(err_path));
  auto t0 = std::chrono::steady_clock::now();
  int status = std::system(cmd.c_str());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.dom = ReadAll(out_path);
  std::string err = ReadAll(err_path);
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);

  int code = status == -1 ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  std::string tag = BodyTag(r.dom);
  if (!tag.empty()) {
    r.charts = IntAttribute(tag, "data-charts");
    r.rendered = IntAttribute(tag, "data-rendered");
    r.errors = IntAttribute(tag, "data-errors");
    r.warnings = IntAttribute(tag, "data-warnings");
    bool found = false;
    r.error_text = Attribute(tag, "data-error-text", &found);
    r.warning_text = Attribute(tag, "data-warning-text", &found);
    r.layout_width = IntAttribute(tag, "data-layout-width");
    r.layout_issues = IntAttribute(tag, "data-layout-issues");
    r.layout_text = Attribute(tag, "data-layout-text", &found);
    r.ran = Attribute(tag, "data-done", &found) == "1";
  }
  if (!r.ran) {
    r.failure = fmt::format(
        "{} exited with status {}{} after {:.1f} s, {}; its stderr: {}", r.browser, code,
        code == 124 ? " (timed out)" : "", r.seconds,
        tag.empty() ? fmt::format("no <body> in its {}-byte output", r.dom.size())
                    : "the page never set data-done=\"1\"",
        Tail(err, 2000));
  }

  // Each chart container, up to the end of its <figure>, must hold an <svg>.
  const std::string key = "id=\"chart-";
  for (size_t at = r.dom.find(key); at != std::string::npos; at = r.dom.find(key, at + 1)) {
    size_t id_begin = at + key.size();
    size_t id_end = r.dom.find('"', id_begin);
    if (id_end == std::string::npos) break;
    size_t figure_end = r.dom.find("</figure>", id_end);
    if (r.dom.substr(id_end, figure_end - id_end).find("<svg") == std::string::npos) {
      r.charts_without_svg.push_back(r.dom.substr(id_begin, id_end - id_begin));
    }
  }
  return r;
}

}  // namespace rackscale::testing
