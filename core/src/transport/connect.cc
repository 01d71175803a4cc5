#include "connect.h"

#include "../error.h"
#include "proto/proxy_env.h"

namespace tidewire::detail {

Dial dial_for(const Url& url, const Config& config, bool http11_alpn) {
  Dial dial;
  io::ConnectOptions& o = dial.options;
  o.host = url.host;
  o.port = static_cast<uint16_t>(url.port);
  o.connect_timeout_ms = static_cast<uint64_t>(config.integer("connect_timeout_ms"));
  o.tls.enabled = url.tls();
  o.tls.verify = config.boolean("tls.verify");
  o.tls.ca_file = config.str("tls.ca_file");
  o.tls.alpn_http11 = url.tls() && http11_alpn;
  const std::string& configured = config.str("proxy.url");
  std::string proxy_url = proxy::proxy_for(url.to_string(), configured);
  if (!proxy_url.empty()) {
    std::string why;
    auto endpoint = proxy::parse_proxy_url(proxy_url, &why);
    if (!endpoint)
      throw Error(TW_ERR_INVALID_VALUE, (configured.empty() ? "the proxy from the environment (" +
                                                                 std::string(url.tls() ? "HTTPS_PROXY" : "HTTP_PROXY") +
                                                                 ") "
                                                           : "proxy.url ") +
                                            "\"" + redacted(proxy_url) + "\" cannot be used: " + why);
    o.proxy_host = endpoint->host;
    o.proxy_port = endpoint->port;
  }
  dial.key.scheme = url.scheme;
  dial.key.host = url.host;
  dial.key.port = o.port;
  dial.key.proxy = o.proxy_host.empty() ? "" : o.proxy_host + ":" + std::to_string(o.proxy_port);
  dial.key.tls_verify = o.tls.verify;
  dial.key.tls_ca_file = o.tls.ca_file;
  dial.key.alpn_http11 = o.tls.alpn_http11;
  return dial;
}

tw_err error_code(const io::Error& error) {
  switch (error.kind) {
    case io::ErrorKind::tls_verify:
      return TW_ERR_TLS;
    case io::ErrorKind::timeout:
      return TW_ERR_TIMEOUT;
    default:
      return TW_ERR_IO;
  }
}

std::string connect_failure_text(const Url& url, const io::Error& error) {
  return url.display() + ": " + error.message;
}

}  // namespace tidewire::detail
