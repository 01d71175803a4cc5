// https:// with a private CA, certificate verification on by default, and the CONNECT proxy.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <string>

#include "harness.h"

namespace tidewire::test {
namespace {

TEST(Tls, SseOverHttpsWithTheServersCaFile) {
  TlsPeer tls;
  Runtime rt;
  Stream s(rt.get(), {{"transport", "sse"},
                      {"url", tls.url("/sse?key=" + unique_key() + "&count=3&hold=1")},
                      {"tls.ca_file", tls.ca_file()}});
  auto events = s.messages(3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].id, "3");
}

TEST(Tls, UntrustedCertificateIsRejectedByDefaultAndNotRetried) {
  TlsPeer tls;
  Runtime rt;
  Stream s(rt.get(), {{"transport", "poll"},
                      {"url", tls.url("/poll/etag?key=" + unique_key())},
                      {"reconnect.initial_ms", "10"}});
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_TLS) << tw_event_data(failure.get());
  EXPECT_EQ(s.stat("reconnects"), 0u);
}

TEST(Tls, VerificationCanBeTurnedOffExplicitly) {
  TlsPeer tls;
  Runtime rt;
  Stream s(rt.get(), {{"transport", "poll"}, {"url", tls.url("/poll/etag?key=" + unique_key())}, {"tls.verify", "false"}});
  ASSERT_EQ(s.messages(1).size(), 1u);
}

TEST(Proxy, SseGoesThroughTheConnectProxy) {
  Peer proxy(peer_script("connect_proxy.py"));
  Runtime rt;
  Stream s(rt.get(), {{"transport", "sse"},
                      {"url", http_peer().url("/sse?key=" + unique_key() + "&count=3&hold=1")},
                      {"proxy.url", "http://127.0.0.1:" + std::to_string(proxy.port())}});
  ASSERT_EQ(s.messages(3).size(), 3u);
  std::string count = http_get(proxy.port(), "/_count").body;
  EXPECT_EQ(count.substr(0, count.find('\n')), "1");
  EXPECT_NE(count.find("127.0.0.1:" + std::to_string(http_peer().port())), std::string::npos);
}

TEST(Tls, AThousandHttpsPollsMakeOneTlsHandshake) {
  TlsPeer tls;
  Runtime rt;
  const std::string key = unique_key();
  Stream s(rt.get(), {{"transport", "poll"},
                      {"url", tls.url("/poll/etag?key=" + key + "&changes_every=0")},
                      {"tls.ca_file", tls.ca_file()},
                      {"poll.interval_ms", "0"}});
  ASSERT_EQ(s.messages(1).size(), 1u);
  ASSERT_TRUE(eventually([&] { return s.stat("requests") >= 1000; }, 60000));
  tw_stream_close(s.get());
  // The peer's log, fetched over https by a stream of its own.
  Stream log_reader(rt.get(), {{"transport", "poll"}, {"url", tls.url("/_log?key=" + key)}, {"tls.ca_file", tls.ca_file()}});
  auto fetched = log_reader.messages(1);
  ASSERT_EQ(fetched.size(), 1u);
  auto log = parse_log(fetched[0].data);
  std::set<std::string> ports;
  for (auto& line : log) ports.insert(line["conn"]);
  EXPECT_GE(log.size(), 1000u);
  EXPECT_EQ(ports.size(), 1u);
  EXPECT_EQ(s.stat("tls_handshakes"), 1u);
  EXPECT_EQ(s.stat("connections"), 1u);
}

TEST(Proxy, PollsThroughTheProxyShareOneTunnel) {
  Peer proxy(peer_script("connect_proxy.py"));
  Runtime rt;
  Stream s(rt.get(), {{"transport", "poll"},
                      {"url", http_peer().url("/poll/etag?key=" + unique_key() + "&changes_every=0")},
                      {"poll.interval_ms", "0"},
                      {"proxy.url", "http://127.0.0.1:" + std::to_string(proxy.port())}});
  ASSERT_TRUE(eventually([&] { return s.stat("requests") >= 50; }, 20000));
  tw_stream_close(s.get());
  std::string count = http_get(proxy.port(), "/_count").body;
  EXPECT_EQ(count.substr(0, count.find('\n')), "1");
  EXPECT_EQ(s.stat("connections"), 1u);
}

TEST(Proxy, HttpProxyFromTheEnvironmentIsUsedUnlessNoProxyExemptsTheHost) {
  Peer proxy(peer_script("connect_proxy.py"));
  const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  ::setenv("HTTP_PROXY", proxy_url.c_str(), 1);
  ::unsetenv("http_proxy");
  ::unsetenv("NO_PROXY");
  ::unsetenv("no_proxy");
  {
    Runtime rt;
    Stream s(rt.get(), {{"transport", "sse"}, {"url", http_peer().url("/sse?key=" + unique_key() + "&count=2&hold=1")}});
    ASSERT_EQ(s.messages(2).size(), 2u);
  }
  std::string count = http_get(proxy.port(), "/_count").body;
  EXPECT_EQ(count.substr(0, count.find('\n')), "1");
  ::setenv("NO_PROXY", "localhost,127.0.0.1", 1);
  {
    Runtime rt;
    Stream s(rt.get(), {{"transport", "sse"}, {"url", http_peer().url("/sse?key=" + unique_key() + "&count=2&hold=1")}});
    ASSERT_EQ(s.messages(2).size(), 2u);
  }
  count = http_get(proxy.port(), "/_count").body;
  EXPECT_EQ(count.substr(0, count.find('\n')), "1");  // the second stream went directly
  ::unsetenv("HTTP_PROXY");
  ::unsetenv("NO_PROXY");
}

TEST(Proxy, BadProxyUrlIsRejectedNamingTheKey) {
  tw_config* c = nullptr;
  ASSERT_EQ(tw_config_create(&c), TW_OK);
  EXPECT_EQ(tw_config_set(c, "proxy.url", "socks5://127.0.0.1:1080"), TW_ERR_INVALID_VALUE);
  EXPECT_NE(std::string(tw_last_error_message()).find("proxy.url"), std::string::npos);
  tw_config_destroy(c);
}

}  // namespace
}  // namespace tidewire::test
