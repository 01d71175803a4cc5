// The keep-alive pool against a peer that counts the connections it accepts.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

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
  const ConnectOptions options = plain_to("127.0.0.1", peer.port());
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

// The idle timeout counts from the last put(): a connection taken and parked again (a poll, every
// request) is not closed by the first parking's deadline; and a shorter timeout given after a
// longer one is kept, not delayed to the longer one's deadline.
TEST(ConnectionPool, IdleTimeoutCountsFromTheLastParking) {
  Peer peer(peer_script("io_peer.py"));
  TestLoop loop;
  TlsContextCache contexts;
  ConnectionPool pool(loop.get(), 60000, 4);
  const ConnectOptions options = plain_to("127.0.0.1", peer.port());
  Recorder recorder;
  Connection* connection = open_connection(loop, contexts, options, &recorder);
  ASSERT_NE(connection, nullptr);
  const PoolKey key = key_for(peer.port(), false);
  pool.put(key, connection, 200);
  loop.run_for(120);
  ASSERT_EQ(pool.take(key), connection) << "closed before its idle timeout";
  uint64_t parked_at = uv_now(loop.get());
  pool.put(key, connection, 200);
  ASSERT_TRUE(loop.run_until([&] { return pool.idle_count() == 0; }, 5000));
  EXPECT_GE(uv_now(loop.get()) - parked_at, 190u) << "closed by the first parking's deadline";

  Recorder second;
  connection = open_connection(loop, contexts, options, &second);
  ASSERT_NE(connection, nullptr);
  pool.put(key, connection, 60000);
  ASSERT_EQ(pool.take(key), connection);
  pool.put(key, connection, 50);
  ASSERT_TRUE(loop.run_until([&] { return pool.idle_count() == 0; }, 5000)) << "the shorter timeout was not kept";
  EXPECT_TRUE(loop.run_until([&] { return loop.tcp_handles() == 0; }, 5000)) << "socket not closed";
}

// Each field of the key tells connections apart, in a strict order consistent with ==.
TEST(ConnectionPool, KeysDifferingInAnyFieldAreDistinct) {
  std::vector<PoolKey> keys(8, key_for(8080, false));
  keys[1].scheme = "https";
  keys[2].host = "127.0.0.2";
  keys[3].port = 8081;
  keys[4].proxy = "proxy:3128";
  keys[5].tls_verify = false;
  keys[6].tls_ca_file = "/ca.pem";
  keys[7].alpn_http11 = true;
  for (size_t i = 0; i < keys.size(); i++) {
    EXPECT_FALSE(keys[i] < keys[i]);
    for (size_t j = 0; j < keys.size(); j++) {
      if (i == j) continue;
      EXPECT_FALSE(keys[i] == keys[j]) << i << " " << j;
      EXPECT_NE(keys[i] < keys[j], keys[j] < keys[i]) << i << " " << j;
      for (size_t k = 0; k < keys.size(); k++) {
        if (keys[i] < keys[j] && keys[j] < keys[k]) {
          EXPECT_TRUE(keys[i] < keys[k]) << i << " " << j << " " << k;
        }
      }
    }
  }
}

TEST(ConnectionPool, APeerClosingAParkedConnectionRemovesIt) {
  Peer peer(peer_script("io_peer.py"));
  TestLoop loop;
  TlsContextCache contexts;
  ConnectionPool pool(loop.get(), 60000, 4);
  const ConnectOptions options = plain_to("127.0.0.1", peer.port());
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

// A connection whose last response was complete and whose server then closed it: the FIN sits
// unread in the socket (reading is paused), as when a connection is handed back in the same loop
// turn as the peer's close.
Connection* connection_with_unread_fin(TestLoop& loop, TlsContextCache& contexts, const Peer& peer, Recorder& recorder) {
  const ConnectOptions options = plain_to("127.0.0.1", peer.port());
  Connection* connection = open_connection(loop, contexts, options, &recorder);
  if (!connection) return nullptr;
  recorder.data_hook = [&recorder, connection](const char*, size_t) {
    if (response_complete(recorder.data)) connection->pause_reading();
  };
  std::string body;
  EXPECT_TRUE(request(loop, connection, &recorder, "/bytes?n=10&close=1", &body));
  EXPECT_TRUE(loop.run_until([&] { return connection->has_unsolicited_input(); }, 5000));
  return connection;
}

TEST(ConnectionPool, AConnectionTheServerAlreadyClosedIsNeverHandedOut) {
  Peer peer(peer_script("io_peer.py"));
  TestLoop loop;
  TlsContextCache contexts;
  ConnectionPool pool(loop.get(), 60000, 4);
  Recorder recorder;
  Connection* connection = connection_with_unread_fin(loop, contexts, peer, recorder);
  ASSERT_NE(connection, nullptr);
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
  Recorder recorder;
  Connection* connection = connection_with_unread_fin(loop, contexts, peer, recorder);
  ASSERT_NE(connection, nullptr);
  // Parked with the FIN unread: the pool reads it on the loop's next turn and lets the connection go.
  pool.put(key_for(peer.port(), false), connection);
  EXPECT_TRUE(loop.run_until([&] { return pool.idle_count() == 0; }, 5000));
  EXPECT_TRUE(loop.run_until([&] { return loop.tcp_handles() == 0; }, 5000));
  EXPECT_EQ(pool.take(key_for(peer.port(), false)), nullptr);
}

// Two open connections to one peer, and a pool parking at most `per_key` of them per key.
struct TwoConnections {
  explicit TwoConnections(size_t per_key) : pool(loop.get(), 60000, per_key) {
    const ConnectOptions options = plain_to("127.0.0.1", peer.port());
    a = open_connection(loop, contexts, options, &first);
    b = open_connection(loop, contexts, options, &second);
  }
  Peer peer{peer_script("io_peer.py")};
  TestLoop loop;
  TlsContextCache contexts;
  ConnectionPool pool;
  Recorder first;
  Recorder second;
  Connection* a = nullptr;
  Connection* b = nullptr;
};

TEST(ConnectionPool, ParksAtMostTheLimitPerKey) {
  TwoConnections t(1);
  ASSERT_NE(t.a, nullptr);
  ASSERT_NE(t.b, nullptr);
  const PoolKey key = key_for(t.peer.port(), false);
  t.pool.put(key, t.a);
  t.pool.put(key, t.b);
  EXPECT_EQ(t.pool.idle_count(key), 1u);
  EXPECT_TRUE(t.loop.run_until([&] { return t.loop.tcp_handles() == 1; }, 5000)) << "the extra one was not closed";
  EXPECT_EQ(t.pool.take(key), t.a);
  t.a->close();
}

// A poll takes and parks its connection every request: the entry of a key emptied by take() is
// kept for the next put(), one at most, and every count stays right as keys alternate and parked
// connections expire.
TEST(ConnectionPool, KeysTakenEmptyAndRefilledKeepTheirCounts) {
  TwoConnections t(4);
  ASSERT_NE(t.a, nullptr);
  ASSERT_NE(t.b, nullptr);
  ConnectionPool& pool = t.pool;
  TestLoop& loop = t.loop;
  Connection* a = t.a;
  Connection* b = t.b;
  PoolKey key_a = key_for(t.peer.port(), false);
  PoolKey key_b = key_a;
  key_b.proxy = "127.0.0.1:1";  // another key for the same socket: the pool only compares keys
  for (int round = 0; round < 3; round++) {
    pool.put(key_a, a);
    pool.put(key_b, b);
    EXPECT_EQ(pool.idle_count(key_a), 1u);
    EXPECT_EQ(pool.idle_count(key_b), 1u);
    EXPECT_EQ(pool.idle_count(), 2u);
    EXPECT_EQ(pool.take(key_a), a);
    EXPECT_EQ(pool.take(key_a), nullptr);
    EXPECT_EQ(pool.take(key_b), b);
    EXPECT_EQ(pool.idle_count(), 0u);
  }
  // Refilled after take() emptied it, then expired: the entry goes, and the key works again.
  EXPECT_EQ(pool.take(key_b), nullptr);
  pool.put(key_b, b, 20);
  EXPECT_TRUE(loop.run_until([&] { return pool.idle_count() == 0; }, 5000)) << "the parked connection did not expire";
  EXPECT_EQ(pool.take(key_b), nullptr);
  pool.put(key_b, a);
  EXPECT_EQ(pool.idle_count(key_b), 1u);
  EXPECT_EQ(pool.idle_count(key_a), 0u);
  EXPECT_EQ(pool.take(key_b), a);
  a->close();
  EXPECT_TRUE(loop.run_until([&] { return loop.tcp_handles() == 0; }, 5000));
}

}  // namespace
}  // namespace tidewire::detail::io::test
