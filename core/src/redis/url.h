// redis:// URLs as the redis transport, the webhook's dedup store and hand-off, and the sink use
// them: redis://[[user]:password@]host[:port][/db][?name=value&...]. Pure: no I/O.
#pragma once

#include <map>
#include <string>

namespace tidewire::detail::redis {

struct RedisUrl {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string user;      // empty: the default user
  std::string password;  // empty: no AUTH; never shown (display() hides it)
  std::map<std::string, std::string> params;  // percent-decoded query parameters

  // host:port/db, with no credentials: safe for logs and error texts.
  std::string display() const;
  // The parameter `name`, or `fallback` when absent.
  std::string param(const std::string& name, const std::string& fallback = "") const;

  // Throws Error(TW_ERR_INVALID_VALUE) saying what is wrong, naming `key` (the configuration key the
  // text came from) and never the password.
  static RedisUrl parse(const std::string& text, const std::string& key);
};

// Whether `text` starts with redis:// (any case).
bool is_redis_url(const std::string& text);

}  // namespace tidewire::detail::redis
