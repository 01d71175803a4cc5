// The keep-alive pool against a peer that counts the connections it accepts.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "io/connection.h"
#include "io/pool.h"
#include "io_test_support.h"
#include "peer.h"

namespace tidewire::detail::io::test {
namespace {

using tidewire::test::http_get;
using tidewire::test::Peer;
using tidewire::test::peer_script;
using tidewire::test::TlsPeer;

PoolKey key_for(int port, bool tls) {
  PoolKey key;
  key.scheme = tls ? "https" : "http";
  key.host = "127.0.0.1";
  key.port = static_cast<uint16_t>(port);
  return key;
}

// Sends a GET on an open connection (or opens one first) and waits for the whole response.
bool request(TestLoop& loop, Connection* connection, Recorder* recorder, const std::string& path, std::string* body) {
  connection->set_observer(recorder);
  if (!connection->write(get_request(path))) return false;
  return loop.run_until([&] { return recorder->closed || response_complete(recorder->data, body); }) &&
         !recorder->closed;
}

Connection* open_connection(TestLoop& loop, TlsContextCache& contexts, const ConnectOptions& options, Recorder* recorder) {
  Connection* connection = Connection::open(loop.get(), options, &contexts, recorder);
  EXPECT_TRUE(loop.run_until([&] { return recorder->settled(); }));
  EXPECT_TRUE(recorder->opened) << recorder->error.message;
  return recorder->opened ? connection : nullptr;
}

void reuse_for_two_requests(bool tls) {
  std::unique_ptr<TlsPeer> tls_peer;
  std::unique_ptr<Peer> plain_peer;
  ConnectOptions options;
  options.host = "127.0.0.1";
  if (tls) {
    tls_peer = std::make_unique<TlsPeer>("io_peer.py");
    options.port = static_cast<uint16_t>(tls_peer->peer.port());
    options.tls.enabled = true;
    options.tls.ca_file = tls_peer->ca_file();
  } else {
    plain_peer = std::make_unique<Peer>(peer_script("io_peer.py"));
    options.port = static_cast<uint16_t>(plain_peer->port());
  }
  PoolKey key = key_for(options.port, tls);
  key.tls_ca_file = options.tls.ca_file;
  key.alpn_http11 = options.tls.alpn_http11;
  TestLoop loop;
  TlsContextCache contexts;
  ConnectionPool pool(loop.get(), 10000, 4);

  Recorder first;
  Connection* connection = open_connection(loop, contexts, options, &first);
  ASSERT_NE(connection, nullptr);
  std::string body;
  ASSERT_TRUE(request(loop, connection, &first, "/bytes?n=1000", &body)) << first.error.message;
  EXPECT_EQ(body, expected_body(1000));
  pool.put(key, connection);
  EXPECT_EQ(pool.idle_count(key), 1u);

  PoolKey other = key;
  other.port = static_cast<uint16_t>(other.port + 1);
  EXPECT_EQ(pool.take(other), nullptr) << "another origin must not get this connection";
  PoolKey other_alpn = key;
  other_alpn.alpn_http11 = !key.alpn_http11;
  EXPECT_EQ(pool.take(other_alpn), nullptr) << "a connection made with another ALPN offer must not be reused";
  EXPECT_EQ(pool.idle_count(key), 1u);

  Connection* reused = pool.take(key);
  ASSERT_EQ(reused, connection);
  EXPECT_EQ(pool.idle_count(), 0u);
  Recorder second;
  ASSERT_TRUE(request(loop, reused, &second, "/bytes?n=2000", &body)) << second.error.message;
  EXPECT_EQ(body, expected_body(2000));
  reused->close();

  // Counted at the peer too (its count endpoint speaks plain HTTP only).
  if (!tls) {
    EXPECT_EQ(http_get(options.port, "/_accepts").body, "1") << "the second request opened a new connection";
  }
  EXPECT_TRUE(loop.run_until([&] { return loop.tcp_handles() == 0; }, 5000));
}

TEST(ConnectionPool, ReusesOneConnectionForSequentialRequests) { reuse_for_two_requests(false); }
TEST(ConnectionPool, ReusesOneTlsConnectionForSequentialRequests) { reuse_for_two_requests(true); }

TEST(ConnectionPool, IdleTimeoutClosesAParkedConnection) {
  Peer peer(peer_script("io_peer.py"));
  TestLoop loop;
  TlsContextCache contexts;
  ConnectionPool pool(loop.get(), 150, 4);
  ConnectOptions options;
  options.host = "127.0.0.1";
  options.port = static_cast<uint16_t>(peer.port());
  Recorder recorder;
  Connection* connection = open_connection(loop, contexts, options, &recorder);
  ASSERT_NE(connection, nullptr);
  std::string body;
  ASSERT_TRUE(request(loop, connection, &recorder, "/bytes?n=10", &body));
  uint64_t parked_at = uv_now(loop.get());
  pool.put(key_for(peer.port(), false), connection);
  ASSERT_TRUE(loop.run_until([&] { return pool.idle_count() == 0; }, 5000));
  EXPECT_GE(uv_now(loop.get()) - parked_at, 140u) << "closed before its idle timeout";
  EXPECT_TRUE(loop.run_until([&] { return loop.tcp_handles() == 0; }, 5000)) << "socket not closed";
  EXPECT_EQ(pool.take(key_for(peer.port(), false)), nullptr);
  EXPECT_FALSE(recorder.closed) << "the pool's closing is not the previous owner's business";
}

TEST(ConnectionPool, APeerClosingAParkedConnectionRemovesIt) {
  Peer peer(peer_script("io_peer.py"));
  TestLoop loop;
  TlsContextCache contexts;
  ConnectionPool pool(loop.get(), 60000, 4);
  ConnectOptions options;
  options.host = "127.0.0.1";
  options.port = static_cast<uint16_t>(peer.port());
  Recorder recorder;
  Connection* connection = open_connection(loop, contexts, options, &recorder);
  ASSERT_NE(connection, nullptr);
  std::string body;
  // The peer closes 2 s after answering: time enough for the put below to come first even on a
  // slow machine, so the close hits a parked connection.
  ASSERT_TRUE(request(loop, connection, &recorder, "/later_close?ms=2000", &body));
  EXPECT_EQ(body, "ok");
  pool.put(key_for(peer.port(), false), connection);
  EXPECT_EQ(pool.idle_count(), 1u);
  // Long before the 60 s idle timeout: the peer's close is what removes it.
  ASSERT_TRUE(loop.run_until([&] { return pool.idle_count() == 0; }, 10000));
  EXPECT_TRUE(loop.run_until([&] { return loop.tcp_handles() == 0; }, 5000));
}

TEST(ConnectionPool, AConnectionTheServerAlreadyClosedIsNeverHandedOut) {
  Peer peer(peer_script("io_peer.py"));
  TestLoop loop;
  TlsContextCache contexts;
  ConnectionPool pool(loop.get(), 60000, 4);
  ConnectOptions options;
  options.host = "127.0.0.1";
  options.port = static_cast<uint16_t>(peer.port());
  Recorder recorder;
  Connection* connection = open_connection(loop, contexts, options, &recorder);
  ASSERT_NE(connection, nullptr);
  recorder.data_hook = [&](const char*, size_t) {
    // Stop reading with the response complete, so the server's FIN stays unread in the socket.
    if (response_complete(recorder.data)) connection->pause_reading();
  };
  std::string body;
  ASSERT_TRUE(request(loop, connection, &recorder, "/bytes?n=10&close=1", &body));
  // The peer closes right after answering; wait for its FIN to sit unread in the socket, as when a
  // connection is handed back in the same loop turn as the peer's close.
  ASSERT_TRUE(loop.run_until([&] { return connection->has_unsolicited_input(); }, 5000));
  pool.put(key_for(peer.port(), false), connection);
  // Taken back in the same loop turn, before the loop could read the FIN: take() looks at the socket.
  EXPECT_EQ(pool.take(key_for(peer.port(), false)), nullptr);
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_TRUE(loop.run_until([&] { return loop.tcp_handles() == 0; }, 5000));
}

TEST(ConnectionPool, AParkedConnectionWhoseServerClosedIsDroppedByTheLoop) {
  Peer peer(peer_script("io_peer.py"));
  TestLoop loop;
  TlsContextCache contexts;
  ConnectionPool pool(loop.get(), 60000, 4);
  ConnectOptions options;
  options.host = "127.0.0.1";
  options.port = static_cast<uint16_t>(peer.port());
  Recorder recorder;
  Connection* connection = open_connection(loop, contexts, options, &recorder);
  ASSERT_NE(connection, nullptr);
  recorder.data_hook = [&](const char*, size_t) {
    if (response_complete(recorder.data)) connection->pause_reading();
  };
  std::string body;
  ASSERT_TRUE(request(loop, connection, &recorder, "/bytes?n=10&close=1", &body));
  ASSERT_TRUE(loop.run_until([&] { return connection->has_unsolicited_input(); }, 5000));
  // Parked with the FIN unread: the pool reads it on the loop's next turn and lets the connection go.
  pool.put(key_for(peer.port(), false), connection);
  EXPECT_TRUE(loop.run_until([&] { return pool.idle_count() == 0; }, 5000));
  EXPECT_TRUE(loop.run_until([&] { return loop.tcp_handles() == 0; }, 5000));
  EXPECT_EQ(pool.take(key_for(peer.port(), false)), nullptr);
}

TEST(ConnectionPool, ParksAtMostTheLimitPerKey) {
  Peer peer(peer_script("io_peer.py"));
  TestLoop loop;
  TlsContextCache contexts;
  ConnectionPool pool(loop.get(), 60000, 1);
  ConnectOptions options;
  options.host = "127.0.0.1";
  options.port = static_cast<uint16_t>(peer.port());
  Recorder first;
  Recorder second;
  Connection* a = open_connection(loop, contexts, options, &first);
  Connection* b = open_connection(loop, contexts, options, &second);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  pool.put(key_for(peer.port(), false), a);
  pool.put(key_for(peer.port(), false), b);
  EXPECT_EQ(pool.idle_count(key_for(peer.port(), false)), 1u);
  EXPECT_TRUE(loop.run_until([&] { return loop.tcp_handles() == 1; }, 5000)) << "the extra one was not closed";
  EXPECT_EQ(pool.take(key_for(peer.port(), false)), a);
  a->close();
}

}  // namespace
}  // namespace tidewire::detail::io::test
