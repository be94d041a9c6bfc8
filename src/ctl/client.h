// The control plane's API client: where the server and the token come from
// (flags, environment, config file), and ApiClient, which sends one request
// at a time to `rackscale serve` (docs/api.md) and returns its answer.
//
// ApiClient is what the command-line clients (cli/cmd_client.cc) are built
// on, and what any other program of this project that talks to the server
// as a person would can use. It knows the transport and the error format,
// not the routes: paths and bodies are the caller's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "ctl/api.h"

namespace httplib {
class Client;
class Result;
}  // namespace httplib

namespace rackscale::ctl {

inline constexpr const char* kDefaultServer = "http://127.0.0.1:8642";

// What the settings are resolved from. Empty strings (and unset or empty
// environment variables) count as not given.
struct ClientSources {
  std::string server_flag;      // --server
  std::string token_flag;       // --token
  std::string token_file_flag;  // --token-file
  std::string env_server;       // $RACKSCALE_SERVER
  std::string env_token;        // $RACKSCALE_TOKEN
  std::string env_config;       // $RACKSCALE_CONFIG: the config file (must exist when set)
  std::string home;             // $HOME: the default config file is $HOME/.config/rackscale/config.toml
  // The environment part from getenv; the flags are left empty.
  static ClientSources FromEnvironment();
};

// The resolved settings, and where each came from ("--server",
// "RACKSCALE_TOKEN", "/home/u/.config/rackscale/config.toml", "default").
struct ClientSettings {
  std::string server, token;
  std::string server_from, token_from;
};

// Resolves the server and the token, each on its own, highest first: the
// flags, then the environment, then the config file, then (server only)
// kDefaultServer. The config file is read only when a setting is left to
// it: $RACKSCALE_CONFIG if set (a missing file is then an error), else
// $HOME/.config/rackscale/config.toml if it exists. Its keys: `server`,
// `token`, `token_file` (relative to the file's directory, or ~/...); any
// other key is an error. --token with --token-file, or token with
// token_file in the file, is an error. A token must be well formed
// (WellFormedToken); a token file holds the token and optional whitespace.
// With no token anywhere, an InvalidInput error names the three ways to
// give one. Errors never contain a token.
Result<ClientSettings> ResolveClientSettings(const ClientSources& s);

// `url` checked: "http://HOST[:PORT][/PREFIX]" or "https://...". On
// success, *origin is "SCHEME://HOST[:PORT]" and *prefix the path prefix
// without a trailing slash ("" or "/rackscale"). The message says what is
// wrong; `url` is not echoed beyond 200 characters.
bool ParseServerUrl(std::string_view url, std::string* origin, std::string* prefix, std::string* message);

// An HTTP answer from the server.
struct ApiResponse {
  int status = 0;
  std::string body;  // as received
  std::string content_type;
  nlohmann::json json;  // the body parsed when it is JSON, else null
  bool ok() const { return status >= 200 && status < 300; }
  // For a non-2xx answer: the body's {"error": {"code", "message", "field"}},
  // or, when the body is not in that format (a proxy's page), an error with
  // code "http_STATUS" and the start of the body as its message.
  ApiError error() const;
};

// Query parameters, in order; values are percent-encoded when sent.
using Query = std::vector<std::pair<std::string, std::string>>;

// One connection to a server (kept alive between requests). Not
// thread-safe: one request at a time.
class ApiClient {
 public:
  struct Options {
    std::string server = kDefaultServer;  // ParseServerUrl's form
    std::string token;                    // sent as "Authorization: Bearer TOKEN" when not empty
    int64_t connect_timeout_ms = 5000;
    int64_t timeout_ms = 90000;  // per read or write; above /v1/watch's longest wait (60 s)
  };
  // Fails (InvalidInput) only on a bad server URL.
  static Result<ApiClient> Create(Options o);
  ApiClient(ApiClient&&) noexcept;
  ApiClient& operator=(ApiClient&&) noexcept;
  ~ApiClient();

  // `path` is the API path ("/v1/jobs"), appended to the server's prefix.
  // Any answer, 2xx or not, is a value; an Error (kIo, naming the server)
  // means no answer came: the server could not be reached, the connection
  // failed or timed out. Bodies are sent as JSON (bytes of strings that are
  // not UTF-8 are sent as U+FFFD).
  Result<ApiResponse> Get(std::string_view path, const Query& query = {});
  Result<ApiResponse> Post(std::string_view path, const nlohmann::json& body);
  Result<ApiResponse> Put(std::string_view path, const nlohmann::json& body);
  Result<ApiResponse> Delete(std::string_view path);

  const std::string& server() const { return server_; }

 private:
  ApiClient() = default;
  // The answer of `method path`, or the transport error naming it.
  Result<ApiResponse> Take(std::string_view method, std::string_view path, httplib::Result&& r) const;
  std::string Path(std::string_view path, const Query& query) const;

  std::string server_, origin_, prefix_;
  std::unique_ptr<httplib::Client> http_;
};

// "a%20b": `s` percent-encoded for a query string or a path segment
// (everything but A-Z a-z 0-9 - . _ ~).
std::string UrlEncode(std::string_view s);

}  // namespace rackscale::ctl
