#include "ctl/client.h"

#include <httplib.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "base/file.h"
#include "base/text.h"
#include "ctl/tokens.h"
#include "model/toml_reader.h"

namespace rackscale::ctl {
namespace {

constexpr size_t kMaxTokenFileBytes = 4096;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

// Never throws: bytes that are not UTF-8 become U+FFFD.
std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

const char* kTokenShape = "not a rackscale token (rsa_, rst_ or rsg_ followed by 64 hex digits)";

// The token read from a token file, checked.
Result<std::string> ReadTokenFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Error::Io(path, fmt::format("cannot open token file: {}", std::strerror(errno)));
  std::string text(kMaxTokenFileBytes + 1, '\0');
  const size_t n = std::fread(text.data(), 1, text.size(), f);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Error::Io(path, "cannot read token file");
  text.resize(n);
  if (n > kMaxTokenFileBytes) {
    return Error::InvalidInput(path, 0, "", fmt::format("token file larger than {} bytes", kMaxTokenFileBytes));
  }
  const size_t b = text.find_first_not_of(" \t\r\n"), e = text.find_last_not_of(" \t\r\n");
  const std::string token = b == std::string::npos ? std::string() : text.substr(b, e - b + 1);
  if (token.empty()) return Error::InvalidInput(path, 0, "", "token file is empty");
  if (!WellFormedToken(token)) return Error::InvalidInput(path, 0, "", fmt::format("token file: {}", kTokenShape));
  return token;
}

// The config file's settings, as read.
struct ConfigFile {
  std::string path;  // empty: no config file
  std::string server, token, token_file;
  int64_t server_line = 0, token_line = 0;
};

Result<ConfigFile> ReadConfig(const ClientSources& s) {
  ConfigFile c;
  if (!s.env_config.empty()) {
    c.path = s.env_config;
  } else if (!s.home.empty()) {
    c.path = s.home + "/.config/rackscale/config.toml";
    std::error_code ec;
    if (!std::filesystem::exists(c.path, ec)) return ConfigFile{};
  } else {
    return ConfigFile{};
  }
  Result<std::string> text = ReadFileMaybeGz(c.path, "TOML");
  if (!text.ok()) return text.error();
  Result<toml::table> root = internal::ParseToml(*text, c.path);
  if (!root.ok()) return root.error();
  internal::TableReader r(*root, "", c.path);
  RS_TRY(server, r.String("server", false));
  RS_TRY(token, r.String("token", false));
  RS_TRY(token_file, r.String("token_file", false));
  if (Status st = r.CheckUnknown(); !st) return st.error();
  auto line = [&](const char* key) {
    const toml::node* n = root->get(key);
    return n != nullptr ? static_cast<int64_t>(n->source().begin.line) : int64_t{0};
  };
  if (!token.empty() && !token_file.empty()) {
    return Error::InvalidInput(c.path, line("token_file"), "token_file", "give token or token_file, not both");
  }
  c.server = server;
  c.server_line = line("server");
  c.token = token;
  c.token_line = line(token.empty() ? "token_file" : "token");
  if (!token_file.empty()) {
    // Relative to the config file's directory; ~/ is the home directory.
    if (token_file.rfind("~/", 0) == 0 && !s.home.empty()) {
      c.token_file = s.home + token_file.substr(1);
    } else if (token_file[0] != '/') {
      c.token_file = (std::filesystem::path(c.path).parent_path() / token_file).string();
    } else {
      c.token_file = token_file;
    }
  }
  return c;
}

}  // namespace

ClientSources ClientSources::FromEnvironment() {
  ClientSources s;
  s.env_server = Env("RACKSCALE_SERVER");
  s.env_token = Env("RACKSCALE_TOKEN");
  s.env_config = Env("RACKSCALE_CONFIG");
  s.home = Env("HOME");
  return s;
}

bool ParseServerUrl(std::string_view url, std::string* origin, std::string* prefix, std::string* message) {
  auto bad = [&](const std::string& why) {
    *message = fmt::format("expected http://HOST[:PORT] or https://HOST[:PORT] (a path prefix may follow), got {}: {}",
                           Quote(url), why);
    return false;
  };
  std::string_view rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else {
    return bad("the scheme must be http:// or https://");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) return bad("user names do not belong in the URL");
  std::string_view host = authority, port;
  bool has_port = false;
  if (!authority.empty() && authority[0] == '[') {  // [IPv6]
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    host = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return bad("junk after the address");
    has_port = !after.empty();
    port = has_port ? after.substr(1) : after;
    if (host.size() == 2) return bad("no host");
    for (char c : host.substr(1, host.size() - 2)) {
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) return bad("not an IPv6 address");
    }
  } else {
    const size_t colon = authority.find(':');
    has_port = colon != std::string_view::npos;
    if (has_port) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (host.empty()) return bad("no host");
    for (char c : host) {
      if (!IsHostChar(c)) return bad("the host has a character that is not allowed");
    }
  }
  if (has_port) {
    const bool digits =
        !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string_view::npos;
    const std::optional<int64_t> p = digits ? ParseInt(port) : std::nullopt;
    if (!p || *p < 1 || *p > 65535) return bad("the port must be a number from 1 to 65535");
  }
  if (path.find_first_of("?#") != std::string_view::npos) return bad("no query or fragment");
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  *origin = std::string(url.substr(0, url.size() - rest.size())) + std::string(authority);
  *prefix = std::string(path);
  return true;
}

Result<ClientSettings> ResolveClientSettings(const ClientSources& s) {
  ClientSettings out;
  std::optional<Result<ConfigFile>> config;  // read on first use
  auto cfg = [&]() -> const Result<ConfigFile>& {
    if (!config) config.emplace(ReadConfig(s));
    return *config;
  };
  std::string origin, prefix, why;
  // The server.
  if (!s.server_flag.empty()) {
    out.server = s.server_flag;
    out.server_from = "--server";
  } else if (!s.env_server.empty()) {
    out.server = s.env_server;
    out.server_from = "RACKSCALE_SERVER";
  } else {
    if (!cfg().ok()) return cfg().error();
    const ConfigFile& c = *cfg();
    if (!c.server.empty()) {
      if (!ParseServerUrl(c.server, &origin, &prefix, &why))
        return Error::InvalidInput(c.path, c.server_line, "server", why);
      out.server = c.server;
      out.server_from = c.path;
    } else {
      out.server = kDefaultServer;
      out.server_from = "default";
    }
  }
  if (!ParseServerUrl(out.server, &origin, &prefix, &why)) return Error::InvalidInput(out.server_from, 0, "", why);
  // The token.
  auto check = [&](const std::string& token, const std::string& from) -> Status {
    if (!WellFormedToken(token)) return Error::InvalidInput(from, 0, "", kTokenShape);
    out.token = token;
    out.token_from = from;
    return Status::Ok();
  };
  if (!s.token_flag.empty() && !s.token_file_flag.empty()) {
    return Error::InvalidInput("--token", 0, "", "give --token or --token-file, not both");
  }
  if (!s.token_flag.empty()) {
    if (Status st = check(s.token_flag, "--token"); !st) return st.error();
  } else if (!s.token_file_flag.empty()) {
    Result<std::string> t = ReadTokenFile(s.token_file_flag);
    if (!t.ok()) return t.error();
    out.token = *t;
    out.token_from = s.token_file_flag;
  } else if (!s.env_token.empty()) {
    if (Status st = check(s.env_token, "RACKSCALE_TOKEN"); !st) return st.error();
  } else {
    if (!cfg().ok()) return cfg().error();
    const ConfigFile& c = *cfg();
    if (!c.token.empty()) {
      if (!WellFormedToken(c.token)) return Error::InvalidInput(c.path, c.token_line, "token", kTokenShape);
      out.token = c.token;
      out.token_from = c.path;
    } else if (!c.token_file.empty()) {
      Result<std::string> t = ReadTokenFile(c.token_file);
      if (!t.ok()) return t.error();
      out.token = *t;
      out.token_from = c.token_file;
    } else {
      const std::string file = !s.env_config.empty() ? s.env_config
                               : !s.home.empty()     ? s.home + "/.config/rackscale/config.toml"
                                                     : "~/.config/rackscale/config.toml";
      return Error::InvalidInput(
          "", 0, "",
          fmt::format("no token: give --token TOKEN or --token-file FILE, set RACKSCALE_TOKEN, or write token = "
                      "\"...\" or token_file = \"FILE\" in {} (RACKSCALE_CONFIG names another config file)",
                      file));
    }
  }
  return out;
}

ApiError ApiResponse::error() const {
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    const nlohmann::json& e = json["error"];
    auto str = [&](const char* k) {
      return e.contains(k) && e[k].is_string() ? e[k].get<std::string>() : std::string();
    };
    ApiError out{status, str("code"), str("message"), str("field")};
    if (out.code.empty()) out.code = fmt::format("http_{}", status);
    return out;
  }
  std::string start = body.substr(0, 200);
  for (char& c : start) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return ApiError{
      status, fmt::format("http_{}", status),
      start.empty() ? std::string("no body") : "answer not in the API's error format: " + std::string(Trim(start)), ""};
}

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

Result<ApiClient> ApiClient::Create(Options o) {
  ApiClient c;
  std::string why;
  if (!ParseServerUrl(o.server, &c.origin_, &c.prefix_, &why)) return Error::InvalidInput("server", 0, "", why);
  c.server_ = o.server;
  c.http_ = std::make_unique<httplib::Client>(c.origin_);
  if (!c.http_->is_valid()) return Error::InvalidInput("server", 0, "", fmt::format("{}: not usable", Quote(o.server)));
  c.http_->set_connection_timeout(o.connect_timeout_ms / 1000, (o.connect_timeout_ms % 1000) * 1000);
  c.http_->set_read_timeout(o.timeout_ms / 1000, (o.timeout_ms % 1000) * 1000);
  c.http_->set_write_timeout(o.timeout_ms / 1000, (o.timeout_ms % 1000) * 1000);
  c.http_->set_keep_alive(true);
  if (!o.token.empty()) c.http_->set_bearer_token_auth(o.token);
  c.http_->set_default_headers({{"Accept", "application/json"}, {"User-Agent", "rackscale/0.1.0"}});
  return c;
}

ApiClient::ApiClient(ApiClient&&) noexcept = default;
ApiClient& ApiClient::operator=(ApiClient&&) noexcept = default;
ApiClient::~ApiClient() = default;

std::string ApiClient::Path(std::string_view path, const Query& query) const {
  std::string out = prefix_ + std::string(path);
  char sep = '?';
  for (const auto& [k, v] : query) {
    out += sep + UrlEncode(k) + "=" + UrlEncode(v);
    sep = '&';
  }
  return out;
}

Result<ApiResponse> ApiClient::Take(std::string_view method, std::string_view path, httplib::Result&& r) const {
  if (!r) {
    std::string why;
    switch (r.error()) {
      case httplib::Error::Connection: why = "cannot connect (refused, or no route to the host)"; break;
      case httplib::Error::ConnectionTimeout: why = "timed out connecting"; break;
      case httplib::Error::Read: why = "no answer (the connection closed or the read timed out)"; break;
      case httplib::Error::Write: why = "the request could not be sent"; break;
      case httplib::Error::SSLConnection: why = "TLS handshake failed"; break;
      case httplib::Error::SSLServerVerification: why = "the server's TLS certificate was not accepted"; break;
      default: why = "transport error " + httplib::to_string(r.error()); break;
    }
    return Error::Io(server_, fmt::format("{} {}: {}", method, path, why));
  }
  ApiResponse a;
  a.status = r->status;
  a.body = std::move(r->body);
  a.content_type = r->get_header_value("Content-Type");
  if (a.content_type.rfind("application/json", 0) == 0) {
    a.json = nlohmann::json::parse(a.body, nullptr, false);
    if (a.json.is_discarded()) a.json = nullptr;
  }
  return a;
}

Result<ApiResponse> ApiClient::Get(std::string_view path, const Query& query) {
  const std::string p = Path(path, query);
  return Take("GET", path, http_->Get(p));
}

Result<ApiResponse> ApiClient::Post(std::string_view path, const nlohmann::json& body) {
  return Take("POST", path, http_->Post(Path(path, {}), Dump(body), "application/json"));
}

Result<ApiResponse> ApiClient::Put(std::string_view path, const nlohmann::json& body) {
  return Take("PUT", path, http_->Put(Path(path, {}), Dump(body), "application/json"));
}

Result<ApiResponse> ApiClient::Delete(std::string_view path) {
  return Take("DELETE", path, http_->Delete(Path(path, {})));
}

}  // namespace rackscale::ctl
