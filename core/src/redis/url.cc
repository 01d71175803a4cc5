#include "url.h"

#include <strings.h>

#include <cctype>

#include "../error.h"
#include "../url.h"

namespace tidewire::detail::redis {
namespace {

constexpr char kScheme[] = "redis://";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes; false on a bad escape or a decoded control byte (a name or key goes into
// commands and logs as it is).
bool decode(const std::string& in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); i++) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    out += c;
  }
  return true;
}

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

bool is_redis_url(const std::string& text) {
  return text.size() >= sizeof kScheme - 1 && strncasecmp(text.c_str(), kScheme, sizeof kScheme - 1) == 0;
}

std::string RedisUrl::display() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "redis://" + h + ":" + std::to_string(port) + "/" + std::to_string(db);
}

std::string RedisUrl::param(const std::string& name, const std::string& fallback) const {
  auto it = params.find(name);
  return it == params.end() ? fallback : it->second;
}

RedisUrl RedisUrl::parse(const std::string& text, const std::string& key) {
  auto bad = [&](const std::string& why) -> void {
    throw Error(TW_ERR_INVALID_VALUE, "invalid redis URL for " + key + ": " + why +
                                          " (expected redis://[:password@]host[:port][/db][?name=value&...])");
  };
  RedisUrl u;
  if (!is_redis_url(text)) bad("it does not start with redis://");
  size_t start = sizeof kScheme - 1;
  size_t end = text.find_first_of("/?#", start);
  std::string authority = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    std::string userinfo = authority.substr(0, at);
    authority.erase(0, at + 1);
    size_t colon = userinfo.find(':');
    std::string user = userinfo.substr(0, colon);
    std::string password = colon == std::string::npos ? "" : userinfo.substr(colon + 1);
    if (colon == std::string::npos) std::swap(user, password);  // redis://secret@host: a password alone
    if (!decode(user, u.user) || !decode(password, u.password)) bad("the user or password is badly escaped");
  }
  std::string port_text;
  if (std::string why = split_authority(authority, u.host, port_text); !why.empty()) bad(why);
  for (char c : u.host)
    if (std::isspace(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) < 0x20 || c == '%')
      bad("invalid character in the host");
  if (!port_text.empty()) {
    if (!all_digits(port_text)) bad("invalid port");
    u.port = std::stoi(port_text);
    if (u.port < 1 || u.port > 65535) bad("port out of range 1..65535");
  }
  std::string rest = end == std::string::npos ? "" : text.substr(end);
  size_t hash = rest.find('#');
  if (hash != std::string::npos) rest.erase(hash);
  size_t q = rest.find('?');
  std::string path = rest.substr(0, q);
  if (!path.empty() && path != "/") {
    std::string db = path.substr(1);
    if (!all_digits(db) || std::stoi(db) > 65535) bad("the path must be a database number (/0, /1, ...)");
    u.db = std::stoi(db);
  }
  if (q != std::string::npos) {
    std::string query = rest.substr(q + 1);
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t amp = query.find('&', pos);
      if (amp == std::string::npos) amp = query.size();
      std::string pair = query.substr(pos, amp - pos);
      if (!pair.empty()) {
        size_t eq = pair.find('=');
        std::string name, value;
        if (!decode(pair.substr(0, eq), name) ||
            !decode(eq == std::string::npos ? "" : pair.substr(eq + 1), value))
          bad("a query parameter is badly escaped or holds a control character");
        if (u.params.count(name)) bad("query parameter \"" + name + "\" is given twice");
        u.params[name] = value;
      }
      pos = amp + 1;
    }
  }
  return u;
}

}  // namespace tidewire::detail::redis
