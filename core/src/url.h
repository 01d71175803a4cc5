// Absolute URLs as the transports need them: parse, resolve a Location against, edit the query.
#pragma once

#include <string>

namespace tidewire::detail {

struct Url {
  std::string scheme;  // lower case: http, https, ws, wss
  std::string host;    // without brackets for IPv6 literals
  int port = 0;
  std::string target;  // path and query, starting with '/'

  bool tls() const { return scheme == "https" || scheme == "wss"; }
  // host[:port] as the Host header wants it (port omitted when it is the scheme's default).
  std::string authority() const;
  std::string to_string() const;
  // For error texts: the URL without its query and fragment, which often carry tokens
  // (?token=...); a removed query shows as "?REDACTED".
  std::string display() const;
  // Same scheme, host (ignoring case) and port: where credentials meant for one may go.
  bool same_origin(const Url& other) const;

  // Throws Error(TW_ERR_INVALID_VALUE) saying what is wrong.
  static Url parse(const std::string& text);
  // Like parse(), but for an address to listen on, where port 0 means any free port.
  static Url parse_listen(const std::string& text);
  // Resolves a Location header value (absolute, scheme-relative, absolute-path or relative path).
  Url resolve(const std::string& location) const;
  // Returns a copy with query parameter `name` set to `value` (replacing any earlier value).
  Url with_query_param(const std::string& name, const std::string& value) const;
};

// One redirect hop, decided alike for HTTP requests and WebSocket handshakes. Resolves `location`
// against `from` (for a WebSocket, an http(s) Location becomes ws(s): the handshake is an HTTP
// request). Throws Error, with a message naming both ends without their queries: TW_ERR_LIMIT when
// `hop` (1 for the first redirect) exceeds `max`; TW_ERR_PROTOCOL for a bad Location, or for a hop
// from TLS to clear text, which is never followed (the request and its headers would go out
// unencrypted).
Url redirect_target(const Url& from, const std::string& location, int hop, int max);

std::string percent_encode(const std::string& text);

// Splits a URL's authority (without userinfo) into host ("[v6]" without its brackets) and the text
// after its ':' (empty without one). Returns what is wrong ("missing host", ...), or "" if nothing.
std::string split_authority(const std::string& authority, std::string& host, std::string& port_text);

// `url` with what may carry a secret replaced by "REDACTED": the query (tokens are often passed
// as ?token=...), the fragment and the userinfo's password.
std::string redacted(const std::string& url);
// The same, applied to every URL (anything with "://") inside a text such as an error message.
std::string redact_urls(const std::string& text);

}  // namespace tidewire::detail
