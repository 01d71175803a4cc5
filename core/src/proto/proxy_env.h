// Which HTTP CONNECT proxy a connection goes through: the configured proxy.url, else the
// conventional environment variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, as curl reads them).
// Pure functions: no I/O, no libuv; any thread. io/ dials what these decide.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace tidewire::detail::proxy {

// Looks a variable up; nullptr when unset. The default reads the process environment.
using EnvLookup = std::function<const char*(const char* name)>;
const char* process_env(const char* name);

// The proxy URL to use for `target_url` (http, https, ws or wss): `explicit_proxy` if not empty
// (NO_PROXY does not apply to it: it was asked for); else HTTPS_PROXY/https_proxy for https and wss,
// HTTP_PROXY/http_proxy for http and ws (lower case wins, as in curl), unless NO_PROXY/no_proxy
// exempts the host. "" means connect directly; so does an unparsable target.
std::string proxy_for(const std::string& target_url, const std::string& explicit_proxy,
                      const EnvLookup& env = process_env);

// Whether a NO_PROXY list ("*", or comma-separated entries: "example.com" and ".example.com" both
// match example.com and its subdomains, IP literals match exactly, "host:port" only that port, and
// IPv6 literals may be bracketed) exempts `host` (no brackets) on `port`.
bool no_proxy_matches(const std::string& no_proxy, const std::string& host, int port);

struct ProxyEndpoint {
  std::string host;  // without brackets
  uint16_t port = 0;
};

// "http://host[:port][/]", or "host[:port]" read as if "http://" preceded it. Read by Url::parse, the
// same rules config.cc checks proxy.url with, so a proxy URL the configuration accepts is one this
// accepts: port 80 when absent (Url::parse's default for http; curl would say 1080, but one rule for
// both places matters more). Returns nullopt, with `error` set, for what Url::parse refuses
// (credentials included: proxy authentication is not supported), for another scheme (a TLS
// connection to the proxy itself is not supported) and for a path, query or fragment.
std::optional<ProxyEndpoint> parse_proxy_url(const std::string& url, std::string* error);

}  // namespace tidewire::detail::proxy
