#include "proto/proxy_env.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstdlib>
#include <exception>

#include "error.h"
#include "url.h"

namespace tidewire::detail::proxy {

namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

bool is_ip_literal(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// The first set variable of the two spellings, lower case first (curl's order: it is the one tools agree on).
std::string first_set(const EnvLookup& env, const char* lower_name, const char* upper_name) {
  for (const char* name : {lower_name, upper_name}) {
    const char* value = env(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return {};
}

// Splits an entry into host and port (0: any port). "[v6]:port", "[v6]", a bare IPv6 literal
// (more than one colon, no port possible), "host:port", "host".
void split_entry(const std::string& entry, std::string* host, int* port) {
  *port = 0;
  if (!entry.empty() && entry.front() == '[') {
    size_t close = entry.find(']');
    *host = entry.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < entry.size() && entry[close + 1] == ':')
      *port = std::atoi(entry.c_str() + close + 2);
    return;
  }
  size_t colon = entry.find(':');
  if (colon != std::string::npos && entry.find(':', colon + 1) == std::string::npos) {
    *host = entry.substr(0, colon);
    *port = std::atoi(entry.c_str() + colon + 1);
    return;
  }
  *host = entry;
}

}  // namespace

const char* process_env(const char* name) { return std::getenv(name); }

bool no_proxy_matches(const std::string& no_proxy, const std::string& host_in, int port) {
  std::string host = lower(host_in);
  while (!host.empty() && host.back() == '.') host.pop_back();  // "example.com." is example.com
  size_t start = 0;
  while (start <= no_proxy.size()) {
    size_t comma = no_proxy.find(',', start);
    std::string entry = lower(trim(no_proxy.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    start = comma == std::string::npos ? no_proxy.size() + 1 : comma + 1;
    if (entry.empty()) continue;
    if (entry == "*") return true;
    std::string entry_host;
    int entry_port = 0;
    split_entry(entry, &entry_host, &entry_port);
    if (entry_port != 0 && entry_port != port) continue;
    if (is_ip_literal(entry_host) || is_ip_literal(host)) {
      // Addresses match exactly (no CIDR ranges): a suffix of an address means nothing.
      if (entry_host == host) return true;
      continue;
    }
    if (!entry_host.empty() && entry_host.front() == '.') entry_host.erase(0, 1);
    while (!entry_host.empty() && entry_host.back() == '.') entry_host.pop_back();
    if (entry_host.empty()) continue;
    if (host == entry_host) return true;
    if (host.size() > entry_host.size() && host.compare(host.size() - entry_host.size(), entry_host.size(), entry_host) == 0 &&
        host[host.size() - entry_host.size() - 1] == '.')
      return true;
  }
  return false;
}

std::string proxy_for(const std::string& target_url, const std::string& explicit_proxy, const EnvLookup& env) {
  if (!explicit_proxy.empty()) return explicit_proxy;
  Url target;
  try {
    target = Url::parse(target_url);
  } catch (const std::exception&) {
    return {};
  }
  std::string proxy = target.tls() ? first_set(env, "https_proxy", "HTTPS_PROXY") : first_set(env, "http_proxy", "HTTP_PROXY");
  if (proxy.empty()) return {};
  std::string no_proxy = first_set(env, "no_proxy", "NO_PROXY");
  if (!no_proxy.empty() && no_proxy_matches(no_proxy, target.host, target.port)) return {};
  return proxy;
}

std::optional<ProxyEndpoint> parse_proxy_url(const std::string& url, std::string* error) {
  std::string text = trim(url);
  if (text.find("://") == std::string::npos) text.insert(0, "http://");
  Url parsed;
  try {
    parsed = Url::parse(text);
  } catch (const Error& e) {
    *error = std::string("proxy URL is invalid: ") + e.what();
    return std::nullopt;
  }
  if (parsed.scheme != "http") {
    *error = "proxy scheme \"" + parsed.scheme + "\" is not supported (only http:// CONNECT proxies)";
    return std::nullopt;
  }
  // Url::parse gives "/" for no path at all; anything else would be silently dropped otherwise.
  if (parsed.target != "/" || text.find_first_of("?#", text.find("://") + 3) != std::string::npos) {
    *error = "proxy URL must have no path, query or fragment";
    return std::nullopt;
  }
  return ProxyEndpoint{parsed.host, static_cast<uint16_t>(parsed.port)};
}

}  // namespace tidewire::detail::proxy
