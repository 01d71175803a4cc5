// Idle keep-alive connections, parked per origin so the next request to the same place skips DNS,
// TCP, the proxy and TLS. Loop thread only.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "io/connection.h"

namespace tidewire::detail::io {

// What makes two connections interchangeable: everything that shaped the connection.
struct PoolKey {
  std::string scheme;
  std::string host;
  uint16_t port = 0;
  std::string proxy;  // "host:port", or "" for a direct connection
  bool tls_verify = true;
  std::string tls_ca_file;
  bool alpn_http11 = false;  // TlsOptions::alpn_http11: what was offered may decide what was agreed

  auto tie() const { return std::tie(scheme, host, port, proxy, tls_verify, tls_ca_file, alpn_http11); }
  // Each field compared once (a tuple's < compares each twice, a < b then b < a): the pool looks a
  // key up for every request. Most selective first; an order consistent with ==.
  bool operator<(const PoolKey& other) const {
    if (port != other.port) return port < other.port;
    if (int c = host.compare(other.host)) return c < 0;
    if (int c = scheme.compare(other.scheme)) return c < 0;
    if (int c = proxy.compare(other.proxy)) return c < 0;
    if (tls_verify != other.tls_verify) return tls_verify < other.tls_verify;
    if (int c = tls_ca_file.compare(other.tls_ca_file)) return c < 0;
    return alpn_http11 < other.alpn_http11;
  }
  bool operator==(const PoolKey& other) const { return tie() == other.tie(); }
};

class ConnectionPool {
 public:
  // `idle_timeout_ms` is http.idle_timeout_ms: how long a parked connection may wait for reuse.
  // At most `max_idle_per_key` connections are parked per key; more are closed.
  ConnectionPool(uv_loop_t* loop, uint64_t idle_timeout_ms, size_t max_idle_per_key);
  // Closes every parked connection.
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // An idle open connection for `key`, most recently parked first, or nullptr. Connections the peer
  // closed or spoke on while parked are closed and skipped. The caller owns the returned connection
  // again and must attach its own observer before control returns to the loop: it has none on
  // return, and a connection without one ends silently.
  Connection* take(const PoolKey& key);
  // Parks an open connection whose last exchange is complete. The pool becomes its owner and
  // observer: it closes it when the idle timeout fires, when the peer closes it or sends anything
  // unasked, when the key already has max_idle_per_key parked, or when the pool goes.
  void put(const PoolKey& key, Connection* connection) { put(key, connection, idle_timeout_ms_); }
  // The same with this connection's own idle timeout (a stream's http.idle_timeout_ms); 0 closes it.
  void put(const PoolKey& key, Connection* connection, uint64_t idle_timeout_ms);

  size_t idle_count(const PoolKey& key) const;
  size_t idle_count() const;

 private:
  struct Parked;
  void forget(Parked* parked);  // removes and deletes the entry; the connection is not touched

  uv_loop_t* loop_;
  uint64_t idle_timeout_ms_;
  size_t max_idle_per_key_;
  using Entries = std::map<PoolKey, std::vector<std::unique_ptr<Parked>>>;
  // Removes an entry that has no connection left (and forgets it as empty_).
  void erase_entry(Entries::iterator entry);
  Entries idle_;
  // The last entry taken, reused by the next put() (see take()).
  std::unique_ptr<Parked> spare_;
  // At most one entry without connections stays in idle_: the one whose last connection take()
  // handed out, which a poll's put() fills again (no node made, no rebalancing). end() if none.
  Entries::iterator empty_ = idle_.end();
};

}  // namespace tidewire::detail::io
