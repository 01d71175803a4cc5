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
  bool operator<(const PoolKey& other) const { return tie() < other.tie(); }
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
  std::map<PoolKey, std::vector<std::unique_ptr<Parked>>> idle_;
  // The last entry taken and its map node, reused by the next put() (see take()).
  std::unique_ptr<Parked> spare_;
  std::map<PoolKey, std::vector<std::unique_ptr<Parked>>>::node_type spare_node_;
};

}  // namespace tidewire::detail::io
