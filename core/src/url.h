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

std::string percent_encode(const std::string& text);

}  // namespace tidewire::detail
