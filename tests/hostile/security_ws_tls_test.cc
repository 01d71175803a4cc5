// Security matrix, WebSocket and TLS part: an error's class comes from where it failed (never from
// words in the URL), a WebSocket handshake answered 3xx follows the redirect.* rules, tls.ca_file
// replaces the system store and must be readable, and IPv6 literals pass host-name verification.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>

#include "harness.h"

namespace tidewire::test {
namespace {

// A wss:// peer whose certificate (127.0.0.1, ::1, localhost) is signed by a test CA: ca.pem, with
// an unrelated CA in other-ca.pem.
struct PkiPeer {
  TempDir dir;
  Peer peer;
  explicit PkiPeer(const std::string& host = "127.0.0.1")
      : peer(peer_script("ws_peer.py"), {"--pki", dir.path, "--host", host}) {}
  std::string ca() const { return dir.path + "/ca.pem"; }
  std::string other_ca() const { return dir.path + "/other-ca.pem"; }
};

// Sets an environment variable for the lifetime of the object.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(const std::string& n, const std::string& value) : name(n) {
    if (const char* v = ::getenv(n.c_str())) old = v;
    ::setenv(n.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old)
      ::setenv(name.c_str(), old->c_str(), 1);
    else
      ::unsetenv(name.c_str());
  }
};

std::string ws_url(const Peer& p, const std::string& path) { return "ws://127.0.0.1:" + std::to_string(p.port()) + path; }

// The stream's terminal error (code, message); fails the test if it ended cleanly.
std::pair<tw_err, std::string> failure_of(const Stream& s) {
  auto f = s.failure();
  if (!f) {
    ADD_FAILURE() << "the stream ended without an error";
    return {TW_OK, ""};
  }
  return {tw_event_error(f.get()), std::string(tw_event_data(f.get()), tw_event_data_len(f.get()))};
}

// ---- error class from the error's source -------------------------------------------------------

class RefusedWithTlsWordsInUrl : public ::testing::TestWithParam<const char*> {};

TEST_P(RefusedWithTlsWordsInUrl, IsAnIoErrorAndRetried) {
  std::string transport = GetParam();
  std::string scheme = transport == "ws" ? "ws" : "http";
  RefusingPort refusing;  // outlives the stream, so the port cannot go to another test's peer
  Runtime rt;
  Stream s(rt.get(), {{"transport", transport},
                      {"url", scheme + "://127.0.0.1:" + std::to_string(refusing.port()) + "/ssl-tls-cert?certs=tls"},
                      {"status_events", "true"},
                      {"reconnect.initial_ms", "10"},
                      {"reconnect.max_ms", "20"},
                      {"reconnect.max_attempts", "3"}});
  auto events = s.until_end(10000);
  int reconnecting = 0;
  for (const auto& e : events) {
    EXPECT_NE(e.error, TW_ERR_TLS) << "kind " << e.kind << ": " << e.data;
    if (e.kind == TW_KIND_RECONNECTING) {
      reconnecting++;
      EXPECT_EQ(e.error, TW_ERR_IO) << e.data;
    }
  }
  EXPECT_GE(reconnecting, 2);
  EXPECT_NE(failure_of(s).first, TW_ERR_TLS);
}

INSTANTIATE_TEST_SUITE_P(Transports, RefusedWithTlsWordsInUrl, ::testing::Values("poll", "sse", "ws"));

TEST(TlsVerification, UntrustedWebSocketPeerIsAFatalTlsErrorNamingTheReason) {
  PkiPeer tls;
  Runtime rt;
  Stream s(rt.get(), {{"transport", "ws"},
                      {"url", "wss://127.0.0.1:" + std::to_string(tls.peer.port()) + "/echo?key=" + unique_key()},
                      {"reconnect.initial_ms", "10"}});
  s.until_end(10000);
  auto [err, message] = failure_of(s);
  EXPECT_EQ(err, TW_ERR_TLS) << message;
  EXPECT_NE(message.find("TLS: certificate of 127.0.0.1:"), std::string::npos) << message;
  EXPECT_NE(message.find("not trusted"), std::string::npos) << message;
  EXPECT_EQ(s.stat("reconnects"), 0u);
}

// ---- tls.ca_file ------------------------------------------------------------------------------

TEST(TlsCaFile, TrustsThePeerSignedByItsCa) {
  PkiPeer tls;
  Runtime rt;
  Stream s(rt.get(), {{"transport", "ws"},
                      {"url", "wss://127.0.0.1:" + std::to_string(tls.peer.port()) + "/push?count=2&key=" + unique_key()},
                      {"tls.ca_file", tls.ca()}});
  EXPECT_EQ(s.messages(2).size(), 2u);
}

// SSL_CERT_FILE makes the peer's CA part of the system store; a tls.ca_file holding another CA must
// still refuse the peer, because the file replaces the store rather than adding to it.
TEST(TlsCaFile, ReplacesTheSystemStore) {
  PkiPeer tls;
  ScopedEnv system_store("SSL_CERT_FILE", tls.ca());
  std::string url = "wss://127.0.0.1:" + std::to_string(tls.peer.port()) + "/push?count=1&key=" + unique_key();
  {
    // Control: the system store (this process's) trusts the peer.
    Runtime rt;
    Stream s(rt.get(), {{"transport", "ws"}, {"url", url}});
    ASSERT_EQ(s.messages(1).size(), 1u) << "SSL_CERT_FILE was not honoured by the system store";
  }
  Runtime rt;
  Stream s(rt.get(), {{"transport", "ws"}, {"url", url}, {"tls.ca_file", tls.other_ca()}, {"reconnect.initial_ms", "10"}});
  s.until_end(10000);
  auto [err, message] = failure_of(s);
  EXPECT_EQ(err, TW_ERR_TLS) << message;
}

// A CA file that cannot be used fails tw_stream_open itself (a configuration error, named with its
// file), rather than a stream that starts and then ends.
TEST(TlsCaFile, UnreadableFileFailsTheOpenNamingKeyAndFile) {
  TempDir dir;
  std::string missing = dir.path + "/missing-ca.pem";
  std::string empty = dir.path + "/no-certificate.pem";
  std::ofstream(empty) << "this is not a certificate\n";
  for (const std::string& file : {missing, empty}) {
    for (const char* url : {"wss://127.0.0.1:9/", "https://127.0.0.1:9/"}) {
      Runtime rt;
      tw_config* config = nullptr;
      ASSERT_EQ(tw_config_create(&config), TW_OK);
      ASSERT_EQ(tw_config_set(config, "transport", url[0] == 'w' ? "ws" : "poll"), TW_OK);
      ASSERT_EQ(tw_config_set(config, "url", url), TW_OK);
      ASSERT_EQ(tw_config_set(config, "tls.ca_file", file.c_str()), TW_OK);
      tw_stream* stream = nullptr;
      tw_err err = tw_stream_open(&stream, rt.get(), config);
      std::string message = tw_last_error_message();
      tw_config_destroy(config);
      EXPECT_EQ(err, TW_ERR_INVALID_VALUE) << message;
      EXPECT_EQ(stream, nullptr);
      EXPECT_NE(message.find("tls.ca_file"), std::string::npos) << message;
      EXPECT_NE(message.find(file), std::string::npos) << message;
      tw_stream_destroy(stream);
    }
  }
}

// An IPv6 literal is checked as an IP address against the certificate, not as a host name.
TEST(TlsVerification, Ipv6LiteralMatchesTheCertificatesIpAddress) {
  PkiPeer tls("::1");
  Runtime rt;
  Stream s(rt.get(), {{"transport", "ws"},
                      {"url", "wss://[::1]:" + std::to_string(tls.peer.port()) + "/push?count=1&key=" + unique_key()},
                      {"tls.ca_file", tls.ca()},
                      {"reconnect.max_attempts", "1"}});
  auto messages = s.messages(1);
  ASSERT_EQ(messages.size(), 1u) << failure_of(s).second;
}

// ---- WebSocket redirects ------------------------------------------------------------------------

struct TwoOrigins {
  Peer a{peer_script("ws_peer.py")};
  Peer b{peer_script("ws_peer.py")};
  std::string key = unique_key();
  // A's handshake answer: `code` to `location`.
  std::string redirect(const std::string& location, int code = 302) const {
    return ws_url(a, "/redirect?code=" + std::to_string(code) + "&key=" + key + "&to=" + url_encode(location));
  }
};

TEST(WsRedirect, CrossOriginIsFollowedWithoutHeaders) {
  TwoOrigins o;
  Runtime rt;
  Stream s(rt.get(), {{"transport", "ws"},
                      {"url", o.redirect(ws_url(o.b, "/push?count=1&key=" + o.key))},
                      {"header.X-Test", "secret-token"},
                      {"connect_timeout_ms", "3000"}});
  ASSERT_EQ(s.messages(1, 5000).size(), 1u);
  auto at_a = peer_log(o.a, o.key);
  auto at_b = peer_log(o.b, o.key);
  ASSERT_EQ(at_a.size(), 1u);
  ASSERT_EQ(at_b.size(), 1u);
  EXPECT_EQ(at_a[0]["x-test"], "secret-token");
  EXPECT_EQ(at_b[0]["x-test"], "");
}

TEST(WsRedirect, CrossOriginHeadersOnlyWhenAllowed) {
  TwoOrigins o;
  Runtime rt;
  Stream s(rt.get(), {{"transport", "ws"},
                      {"url", o.redirect("http://127.0.0.1:" + std::to_string(o.b.port()) + "/push?count=1&key=" + o.key, 307)},
                      {"header.X-Test", "secret-token"},
                      {"redirect.cross_origin_headers", "true"},
                      {"connect_timeout_ms", "3000"}});
  ASSERT_EQ(s.messages(1, 5000).size(), 1u);
  auto at_b = peer_log(o.b, o.key);
  ASSERT_EQ(at_b.size(), 1u);
  EXPECT_EQ(at_b[0]["x-test"], "secret-token");
}

TEST(WsRedirect, SameOriginKeepsHeaders) {
  TwoOrigins o;
  Runtime rt;
  Stream s(rt.get(), {{"transport", "ws"},
                      {"url", o.redirect("/push?count=1&key=" + o.key, 301)},
                      {"header.X-Test", "secret-token"},
                      {"connect_timeout_ms", "3000"}});
  ASSERT_EQ(s.messages(1, 5000).size(), 1u);
  auto at_a = peer_log(o.a, o.key);
  ASSERT_EQ(at_a.size(), 2u);
  EXPECT_EQ(at_a[1]["x-test"], "secret-token");
}

TEST(WsRedirect, LoopEndsAfterRedirectMax) {
  TwoOrigins o;
  Runtime rt;
  Stream s(rt.get(), {{"transport", "ws"},
                      {"url", ws_url(o.a, "/redirect?key=" + o.key)},  // redirects to itself
                      {"redirect.max", "2"},
                      {"connect_timeout_ms", "3000"},
                      {"reconnect.initial_ms", "10"}});
  s.until_end(5000);
  auto [err, message] = failure_of(s);
  EXPECT_EQ(err, TW_ERR_LIMIT) << message;
  EXPECT_NE(message.find("redirect.max=2"), std::string::npos) << message;
  EXPECT_NE(message.find("302"), std::string::npos) << message;
  EXPECT_EQ(peer_log(o.a, o.key).size(), 3u);  // the URL and two redirects, then no more
}

TEST(WsRedirect, FromWssToWsIsRefused) {
  PkiPeer tls;
  Peer plain(peer_script("ws_peer.py"));
  std::string key = unique_key();
  std::string to = ws_url(plain, "/push?count=1&key=" + key);
  Runtime rt;
  Stream s(rt.get(), {{"transport", "ws"},
                      {"url", "wss://127.0.0.1:" + std::to_string(tls.peer.port()) + "/redirect?key=" + key +
                                  "&to=" + url_encode(to)},
                      {"tls.ca_file", tls.ca()},
                      {"header.X-Test", "secret-token"},
                      {"reconnect.initial_ms", "10"}});
  s.until_end(5000);
  auto [err, message] = failure_of(s);
  EXPECT_EQ(err, TW_ERR_PROTOCOL) << message;  // as for https -> http: one rule for both
  EXPECT_NE(message.find("ws://"), std::string::npos) << message;
  EXPECT_EQ(s.stat("reconnects"), 0u);
  EXPECT_TRUE(peer_log(plain, key).empty());
}

}  // namespace
}  // namespace tidewire::test
