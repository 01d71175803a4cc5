// How a transport reaches a URL: the io::ConnectOptions (proxy from proxy.url or the environment,
// TLS settings, connect timeout) and the pool key under which such connections are interchangeable;
// and how a failed connection maps onto the error codes the policy classifies.
#pragma once

#include "../config.h"
#include "../url.h"
#include "io/connection.h"
#include "io/pool.h"
#include "tidewire/tidewire.h"

namespace tidewire::detail {

struct Dial {
  io::ConnectOptions options;
  io::PoolKey key;
};

// Throws Error(TW_ERR_INVALID_VALUE) when the proxy taken from the environment (HTTPS_PROXY,
// HTTP_PROXY) cannot be used; proxy.url itself was checked when the configuration was set.
// `http11_alpn`: offer ALPN "http/1.1" (HTTP requests; a WebSocket handshake offers nothing).
Dial dial_for(const Url& url, const Config& config, bool http11_alpn);

// The code a failed connection is reported with: TW_ERR_TLS for a certificate or host-name
// rejection (fatal by the policy), TW_ERR_TIMEOUT for the connect deadline, TW_ERR_IO otherwise.
tw_err error_code(const io::Error& error);

// What a failed connection attempt to `url` reports: the URL without its secrets, then the
// connection's reason, said once ("http://h/sse: could not resolve host h (unknown node or service)",
// "TLS: certificate of h:443 not trusted (...) — set tls.ca_file ...").
std::string connect_failure_text(const Url& url, const io::Error& error);

}  // namespace tidewire::detail
