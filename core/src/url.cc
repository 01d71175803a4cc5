#include "url.h"

#include <cctype>
#include <cstdlib>

#include "error.h"

namespace tidewire::detail {
namespace {

int default_port(const std::string& scheme) { return (scheme == "https" || scheme == "wss") ? 443 : 80; }

[[noreturn]] void bad(const std::string& why) { throw Error(TW_ERR_INVALID_VALUE, why); }

}  // namespace

std::string Url::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != default_port(scheme)) h += ":" + std::to_string(port);
  return h;
}

std::string Url::to_string() const { return scheme + "://" + authority() + target; }

std::string Url::display() const { return redacted(to_string()); }

bool Url::same_origin(const Url& other) const {
  if (scheme != other.scheme || port != other.port || host.size() != other.host.size()) return false;
  // Host names compare case-insensitively in ASCII (RFC 3986 3.2.2; IDNs arrive as A-labels),
  // without the locale's tolower per byte: this runs for every request.
  auto fold = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; };
  for (size_t i = 0; i < host.size(); i++)
    if (host[i] != other.host[i] && fold(static_cast<unsigned char>(host[i])) != fold(static_cast<unsigned char>(other.host[i])))
      return false;
  return true;
}

Url Url::parse(const std::string& text) {
  Url u = parse_listen(text);
  if (u.port == 0) bad("port out of range 1..65535");
  return u;
}

Url Url::parse_listen(const std::string& text) {
  Url u;
  size_t colon = text.find("://");
  if (colon == std::string::npos) bad("not an absolute URL (expected scheme://host/...)");
  for (size_t i = 0; i < colon; i++) u.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
  if (u.scheme != "http" && u.scheme != "https" && u.scheme != "ws" && u.scheme != "wss")
    bad("unsupported scheme \"" + u.scheme + "\" (expected http, https, ws or wss)");
  size_t start = colon + 3;
  size_t end = text.find_first_of("/?#", start);
  std::string authority = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (authority.find('@') != std::string::npos) bad("credentials in the URL are not supported; use header.Authorization");
  std::string port_text;
  if (std::string why = split_authority(authority, u.host, port_text); !why.empty()) bad(why);
  for (char c : u.host)
    if (std::isspace(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) < 0x20) bad("invalid character in host");
  u.port = default_port(u.scheme);
  if (!port_text.empty()) {
    if (port_text.size() > 5) bad("invalid port \"" + port_text + "\"");
    for (char c : port_text)
      if (!std::isdigit(static_cast<unsigned char>(c))) bad("invalid port \"" + port_text + "\"");
    u.port = std::atoi(port_text.c_str());
    if (u.port > 65535) bad("port out of range 0..65535");
  }
  u.target = end == std::string::npos ? "/" : text.substr(end);
  size_t hash = u.target.find('#');
  if (hash != std::string::npos) u.target.erase(hash);
  if (u.target.empty() || u.target[0] != '/') u.target.insert(0, "/");
  for (char c : u.target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) bad("invalid character in path (percent-encode it)");
  return u;
}

Url Url::resolve(const std::string& location) const {
  if (location.find("://") != std::string::npos) return parse(location);
  if (location.rfind("//", 0) == 0) return parse(scheme + ":" + location);
  Url u = *this;
  if (!location.empty() && location[0] == '/') {
    u.target = location;
  } else {
    std::string path = target.substr(0, target.find('?'));
    u.target = path.substr(0, path.rfind('/') + 1) + location;
  }
  return parse(u.to_string());
}

Url Url::with_query_param(const std::string& name, const std::string& value) const {
  Url u = *this;
  size_t q = u.target.find('?');
  std::string path = u.target.substr(0, q);
  std::string query = q == std::string::npos ? "" : u.target.substr(q + 1);
  std::string kept;
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string::npos) amp = query.size();
    std::string pair = query.substr(start, amp - start);
    std::string key = pair.substr(0, pair.find('='));
    if (!pair.empty() && key != name) kept += (kept.empty() ? "" : "&") + pair;
    start = amp + 1;
  }
  kept += (kept.empty() ? "" : "&") + name + "=" + percent_encode(value);
  u.target = path + "?" + kept;
  return u;
}

Url redirect_target(const Url& from, const std::string& location, int hop, int max) {
  if (hop > max)
    throw Error(TW_ERR_LIMIT, "more than redirect.max=" + std::to_string(max) + " redirects, the last from " +
                                  from.display());
  Url next;
  try {
    next = from.resolve(location);
  } catch (const Error& e) {
    throw Error(TW_ERR_PROTOCOL, "bad redirect Location \"" + redacted(location) + "\" from " + from.display() +
                                     ": " + e.what());
  }
  // A redirect keeps the kind of request: a WebSocket handshake sent to an http(s) Location stays a
  // WebSocket (it is an HTTP request), and an HTTP request sent to a ws(s) Location stays HTTP.
  const bool websocket = from.scheme == "ws" || from.scheme == "wss";
  if (websocket && next.scheme == "http") next.scheme = "ws";
  if (websocket && next.scheme == "https") next.scheme = "wss";
  if (!websocket && next.scheme == "ws") next.scheme = "http";
  if (!websocket && next.scheme == "wss") next.scheme = "https";
  if (from.tls() && !next.tls())
    throw Error(TW_ERR_PROTOCOL, "refused a redirect from " + from.display() + " to " + next.display() +
                                     ": a redirect from TLS (" + from.scheme + "://) to clear text (" + next.scheme +
                                     "://) is never followed");
  return next;
}

std::string percent_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string split_authority(const std::string& authority, std::string& host, std::string& port_text) {
  port_text.clear();
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return "unterminated IPv6 address";
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return "unexpected text after the IPv6 address";
      port_text = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  return host.empty() ? "missing host" : "";
}

std::string redacted(const std::string& url) {
  size_t scheme = url.find("://");
  size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  size_t path = url.find_first_of("/?#", authority);
  std::string out = url;
  // user:password@host -> REDACTED@host: the user name alone may be the token (https://TOKEN@host).
  size_t at = url.rfind('@', path == std::string::npos ? url.size() : path);
  if (scheme != std::string::npos && at != std::string::npos && at >= authority)
    out = url.substr(0, authority) + "REDACTED" + url.substr(at);
  size_t mark = out.find_first_of("?#", authority);
  if (mark != std::string::npos) out = out.substr(0, mark + 1) + "REDACTED";
  return out;
}

std::string redact_urls(const std::string& text) {
  if (text.find("://") == std::string::npos) return text;
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t sep = text.find("://", pos);
    if (sep == std::string::npos) break;
    // The URL starts at its scheme (letters, digits, + - .) and ends at a blank or a quote.
    size_t start = sep;
    while (start > pos && (std::isalnum(static_cast<unsigned char>(text[start - 1])) || text[start - 1] == '+' ||
                           text[start - 1] == '-' || text[start - 1] == '.'))
      start--;
    size_t end = text.find_first_of(" \t\r\n\"'<>", sep);
    if (end == std::string::npos) end = text.size();
    // Punctuation of the sentence after the URL ("<url>: could not resolve ...") stays outside it.
    while (end > sep + 3 && (text[end - 1] == ':' || text[end - 1] == ',' || text[end - 1] == ';')) end--;
    out.append(text, pos, start - pos);
    out += redacted(text.substr(start, end - start));
    pos = end;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

}  // namespace tidewire::detail
