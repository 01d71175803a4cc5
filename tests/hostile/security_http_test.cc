// Security matrix for the HTTP transports (poll, long-poll, SSE) against hostile or broken peers:
// redirects that downgrade TLS or change origin, stalled bodies, unbounded events, header
// injection through configuration, self-inflicted request floods and connections that never come up.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace tidewire::test {
namespace {

using Clock = std::chrono::steady_clock;

int64_t ms_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

// The first event of `kind` within timeout_ms, skipping others; false if none came.
bool next_of_kind(Stream& s, tw_kind kind, Received& out, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (left <= 0) return false;
    if (s.next(out, left) != TW_OK) return false;
    if (out.kind == kind) return true;
  }
}

std::string failure_text(const Stream& s) {
  auto failure = s.failure();
  return failure ? tw_event_data(failure.get()) : "";
}

const char kSecret[] = "Bearer s3cret-token";

// ---------------------------------------------------------------------------------------------
// Redirects

TEST(Redirect, HttpsToHttpIsRefusedNamingBothUrlsWithoutSecrets) {
  TlsPeer tls;
  Peer plain(peer_script("http_peer.py"));
  const std::string key = unique_key();
  const std::string target =
      "http://127.0.0.1:" + std::to_string(plain.port()) + "/poll/etag?key=" + key + "&token=query-s3cret";
  for (const char* transport : {"poll", "sse"}) {
    SCOPED_TRACE(transport);
    Runtime rt;
    Stream s(rt.get(), {{"transport", transport},
                        {"url", tls.url("/redirect/abs?key=" + key + "&to=" + url_encode(target))},
                        {"tls.ca_file", tls.ca_file()},
                        {"header.X-Test", kSecret},
                        {"reconnect.initial_ms", "10"},
                        {"reconnect.max_ms", "50"}});
    auto events = s.until_end(10000);
    for (const auto& e : events) EXPECT_NE(e.kind, TW_KIND_MESSAGE);
    auto failure = s.failure();
    ASSERT_NE(failure, nullptr);
    EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_PROTOCOL);
    const std::string text = tw_event_data(failure.get());
    EXPECT_NE(text.find("https://127.0.0.1:" + std::to_string(tls.peer.port()) + "/redirect/abs"), std::string::npos)
        << text;
    EXPECT_NE(text.find("http://127.0.0.1:" + std::to_string(plain.port()) + "/poll/etag"), std::string::npos) << text;
    EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
  }
  EXPECT_TRUE(peer_log(plain, key).empty()) << "nothing may be sent in clear text";
}

TEST(Redirect, CrossOriginDoesNotReceiveConfiguredHeadersByDefault) {
  Peer other(peer_script("http_peer.py"));
  const std::string key = unique_key();
  const std::string target = "http://127.0.0.1:" + std::to_string(other.port()) + "/poll/etag?key=" + key;
  Runtime rt;
  Stream s(rt.get(), {{"transport", "poll"},
                      {"url", http_peer().url("/redirect/abs?key=" + key + "&to=" + url_encode(target))},
                      {"header.X-Test", kSecret},
                      {"poll.interval_ms", "10"}});
  ASSERT_EQ(s.messages(1).size(), 1u);
  auto origin_log = peer_log(http_peer(), key);
  ASSERT_FALSE(origin_log.empty());
  EXPECT_EQ(origin_log[0]["x-test"], kSecret) << "the configured origin gets its headers";
  auto other_log = peer_log(other, key);
  ASSERT_FALSE(other_log.empty());
  for (auto& entry : other_log) EXPECT_EQ(entry["x-test"], "") << "another port is another origin";
}

TEST(Redirect, CrossOriginReceivesConfiguredHeadersWhenOptedIn) {
  Peer other(peer_script("http_peer.py"));
  const std::string key = unique_key();
  Runtime rt;
  Stream s(rt.get(), {{"transport", "sse"},
                      {"url", http_peer().url("/redirect/abs?key=" + key + "&to=" +
                                              url_encode("http://127.0.0.1:" + std::to_string(other.port()) +
                                                         "/sse?count=1&hold=1&key=" + key))},
                      {"header.X-Test", kSecret},
                      {"redirect.cross_origin_headers", "true"}});
  ASSERT_EQ(s.messages(1).size(), 1u);
  auto other_log = peer_log(other, key);
  ASSERT_FALSE(other_log.empty());
  EXPECT_EQ(other_log[0]["x-test"], kSecret);
}

TEST(Redirect, SameOriginRedirectStillSendsConfiguredHeaders) {
  const std::string key = unique_key();
  Runtime rt;
  Stream s(rt.get(), {{"transport", "poll"},
                      {"url", http_peer().url("/redirect?key=" + key + "&n=2&to=" + url_encode("/poll/etag"))},
                      {"header.X-Test", kSecret},
                      {"poll.interval_ms", "10"}});
  ASSERT_EQ(s.messages(1).size(), 1u);
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 4u);  // three redirect hops and the poll
  for (auto& entry : log) EXPECT_EQ(entry["x-test"], kSecret) << entry["path"];
}

TEST(Redirect, HttpToHttpsUpgradeIsFollowed) {
  TlsPeer tls;
  const std::string key = unique_key();
  Runtime rt;
  Stream s(rt.get(), {{"transport", "poll"},
                      {"url", http_peer().url("/redirect/abs?key=" + key + "&to=" +
                                              url_encode(tls.url("/poll/etag?key=" + key)))},
                      {"tls.ca_file", tls.ca_file()},
                      {"poll.interval_ms", "10"}});
  EXPECT_EQ(s.messages(1).size(), 1u) << failure_text(s);
}

TEST(Redirect, LongpollCursorIsKeptOnTheRedirectedRequest) {
  const std::string key = unique_key();
  Runtime rt;
  Stream s(rt.get(), {{"transport", "longpoll"},
                      {"url", http_peer().url("/redirect?key=" + key + "&n=1&to=" +
                                              url_encode("/longpoll?publish_every_ms=20&wait_ms=2000"))},
                      {"longpoll.cursor_header", "X-Consul-Index"},
                      {"longpoll.cursor_param", "index"},
                      {"longpoll.cursor", "3"}});
  auto events = s.messages(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_GT(std::stoi(events[0].id), 3) << "the first answer honoured the configured cursor";
  std::vector<std::string> held;
  for (auto& entry : peer_log(http_peer(), key))
    if (entry["path"].rfind("/longpoll", 0) == 0) held.push_back(entry["path"]);
  ASSERT_GE(held.size(), 2u);
  EXPECT_NE(held[0].find("index=3"), std::string::npos) << held[0];
  EXPECT_NE(held[1].find("index=" + events[0].id), std::string::npos) << held[1];
}

// ---------------------------------------------------------------------------------------------
// Stalled bodies: every stall ends in a reconnect within read_timeout_ms + 1 s.

class StalledErrorBody : public ::testing::TestWithParam<const char*> {};

TEST_P(StalledErrorBody, ReconnectsWithinReadTimeout) {
  // 503 with Content-Length: 100, 4 bytes of body, then silence.
  const int read_timeout_ms = 400;
  Runtime rt;
  auto t0 = Clock::now();
  Stream s(rt.get(), {{"transport", GetParam()},
                      {"url", http_peer().url("/stall?key=" + unique_key() + "&code=503&length=100&send=4")},
                      {"read_timeout_ms", std::to_string(read_timeout_ms)},
                      {"longpoll.timeout_ms", std::to_string(read_timeout_ms)},
                      {"status_events", "true"},
                      {"reconnect.initial_ms", "10"},
                      {"reconnect.max_ms", "50"}});
  Received r;
  // + 10 s: catches a timeout that never fires (the default is minutes) without failing a slow run.
  ASSERT_TRUE(next_of_kind(s, TW_KIND_RECONNECTING, r, read_timeout_ms + 10000)) << "after " << ms_since(t0) << " ms";
  EXPECT_EQ(r.http_status, 503);
  EXPECT_EQ(r.error, TW_ERR_HTTP_STATUS);
  EXPECT_NE(r.data.find("503"), std::string::npos) << r.data;
}

INSTANTIATE_TEST_SUITE_P(Transports, StalledErrorBody, ::testing::Values("poll", "longpoll", "sse"));

class StalledPollBody : public ::testing::TestWithParam<const char*> {};

TEST_P(StalledPollBody, FailsEvenWithoutAReadTimeout) {
  // 200 with Content-Length: 100 and 4 bytes; read_timeout_ms=0 means "no silence bound", yet the
  // finite body must still end within connect_timeout_ms.
  const int connect_timeout_ms = 400;
  Runtime rt;
  auto t0 = Clock::now();
  Stream s(rt.get(), {{"transport", GetParam()},
                      {"url", http_peer().url("/stall?key=" + unique_key() + "&code=200&length=100&send=4")},
                      {"read_timeout_ms", "0"},
                      {"connect_timeout_ms", std::to_string(connect_timeout_ms)},
                      {"longpoll.timeout_ms", std::to_string(connect_timeout_ms)},
                      {"status_events", "true"},
                      {"reconnect.initial_ms", "10"},
                      {"reconnect.max_ms", "50"}});
  Received r;
  // + 10 s: catches a timeout that never fires (the default is minutes) without failing a slow run.
  ASSERT_TRUE(next_of_kind(s, TW_KIND_RECONNECTING, r, connect_timeout_ms + 10000))
      << "after " << ms_since(t0) << " ms";
  EXPECT_EQ(r.error, TW_ERR_TIMEOUT);
  EXPECT_EQ(s.stat("messages"), 0u);
}

INSTANTIATE_TEST_SUITE_P(Transports, StalledPollBody, ::testing::Values("poll", "longpoll"));

// ---------------------------------------------------------------------------------------------
// SSE event size

TEST(SseLimits, DataFloodOfShortLinesHitsTheDefaultEventLimit) {
  // 20,000 lines of 1 KiB, each far below sse.max_line_bytes: one 20 MB event, past the default
  // sse.max_event_bytes of 16 MiB.
  Runtime rt;
  Stream s(rt.get(), {{"transport", "sse"},
                      {"url", http_peer().url("/sse/big?key=" + unique_key() + "&lines=20000&line_bytes=1024")}});
  auto events = s.until_end(20000);
  for (const auto& e : events) EXPECT_NE(e.kind, TW_KIND_MESSAGE);
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_LIMIT);
  const std::string text = tw_event_data(failure.get());
  EXPECT_NE(text.find("sse.max_event_bytes=16777216"), std::string::npos) << text;
}

// ---------------------------------------------------------------------------------------------
// Header injection through configuration

TEST(ConfigInjection, HeaderValueWithLineBreakIsRejectedWithoutEchoingIt) {
  tw_config* c = nullptr;
  ASSERT_EQ(tw_config_create(&c), TW_OK);
  for (const char* bad : {"Bearer s3cret\r\nX-Injected: 1", "Bearer s3cret\n", "Bearer s3cret\r"}) {
    EXPECT_EQ(tw_config_set(c, "header.Authorization", bad), TW_ERR_INVALID_VALUE);
    const std::string message = tw_last_error_message();
    EXPECT_NE(message.find("header.Authorization"), std::string::npos) << message;
    EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
  }
  tw_config_destroy(c);
}

TEST(ConfigInjection, CursorParamWithLineBreakIsRejected) {
  tw_config* c = nullptr;
  ASSERT_EQ(tw_config_create(&c), TW_OK);
  EXPECT_EQ(tw_config_set(c, "longpoll.cursor_param", "index HTTP/1.1\r\nX-Injected: 1\r\n"), TW_ERR_INVALID_VALUE);
  EXPECT_NE(std::string(tw_last_error_message()).find("longpoll.cursor_param"), std::string::npos);
  tw_config_destroy(c);
}

TEST(ConfigInjection, CursorWithLineBreakStaysInsideTheQuery) {
  // A cursor (configured here, usually from a response header) goes back percent-encoded, whatever
  // it holds.
  const std::string key = unique_key();
  Runtime rt;
  Stream s(rt.get(), {{"transport", "longpoll"},
                      {"url", http_peer().url("/longpoll?key=" + key + "&publish_every_ms=20&wait_ms=2000")},
                      {"longpoll.cursor_header", "X-Consul-Index"},
                      {"longpoll.cursor_param", "index"},
                      {"longpoll.cursor", "1\r\nX-Injected: 1"}});
  // The peer refuses a non-numeric index (400): what matters is what reached it.
  ASSERT_TRUE(eventually([&] { return !peer_log(http_peer(), key).empty(); }));
  auto log = peer_log(http_peer(), key);
  EXPECT_NE(log[0]["path"].find("index=1%0D%0AX-Injected%3A%201"), std::string::npos) << log[0]["path"];
}

// ---------------------------------------------------------------------------------------------
// Long-poll: self-made floods and connections that never come up

TEST(LongpollFlood, InstantUnchangedAnswersAreRateLimited) {
  // The server answers at once, always with the same cursor. Without a floor this re-issued
  // thousands of requests a second.
  const std::string key = unique_key();
  Runtime rt;
  Stream s(rt.get(), {{"transport", "longpoll"},
                      {"url", http_peer().url("/longpoll?key=" + key + "&publish_every_ms=100000000&wait_ms=0")},
                      {"longpoll.cursor_header", "X-Consul-Index"},
                      {"longpoll.cursor_param", "index"},
                      {"reconnect.initial_ms", "10"},
                      {"reconnect.max_ms", "200"}});
  ASSERT_EQ(s.messages(1).size(), 1u);  // the first cursor is a change
  // Counting over a fixed window is the point here, so this one waits for time itself.
  const auto window = std::chrono::milliseconds(2000);
  const size_t before = peer_log(http_peer(), key).size();
  std::this_thread::sleep_for(window);
  const size_t during = peer_log(http_peer(), key).size() - before;
  // Floor 100 ms doubling to 200 ms: about 11 requests in 2 s; allow slack for timing.
  EXPECT_LE(during, 30u) << "requests in 2 s";
  EXPECT_GE(during, 3u) << "the stream must keep asking";
  EXPECT_EQ(s.stat("errors"), 0u);
  EXPECT_EQ(s.stat("messages"), 1u);
}

TEST(LongpollFlood, ChangesAreStillFetchedWithoutDelay) {
  const std::string key = unique_key();
  Runtime rt;
  Stream s(rt.get(), {{"transport", "longpoll"},
                      {"url", http_peer().url("/longpoll?key=" + key + "&publish_every_ms=30&wait_ms=2000")},
                      {"longpoll.cursor_header", "X-Consul-Index"},
                      {"longpoll.cursor_param", "index"},
                      {"reconnect.initial_ms", "5000"}});
  auto t0 = Clock::now();
  ASSERT_EQ(s.messages(10, 5000).size(), 10u);
  EXPECT_LT(ms_since(t0), 3000) << "held answers that change never wait for the floor";
}

TEST(LongpollConnect, UnreachableHostFailsWithinConnectTimeoutNotTheLongpollTimeout) {
  UnansweredEndpoint blackhole;
  const int connect_timeout_ms = 300;
  Runtime rt;
  auto t0 = Clock::now();
  Stream s(rt.get(), {{"transport", "longpoll"},
                      {"url", "http://127.0.0.1:" + std::to_string(blackhole.port()) + "/v1/kv"},
                      {"connect_timeout_ms", std::to_string(connect_timeout_ms)},
                      {"longpoll.timeout_ms", "60000"},
                      {"status_events", "true"},
                      {"reconnect.initial_ms", "10"},
                      {"reconnect.max_ms", "50"}});
  Received r;
  // + 10 s: catches a timeout that never fires (the default is minutes) without failing a slow run.
  ASSERT_TRUE(next_of_kind(s, TW_KIND_RECONNECTING, r, connect_timeout_ms + 10000)) << "after " << ms_since(t0) << " ms";
  EXPECT_EQ(r.error, TW_ERR_TIMEOUT);
  EXPECT_NE(r.data.find("connect_timeout_ms"), std::string::npos) << r.data;
  EXPECT_GE(s.stat("errors"), 1u);
}

TEST(LongpollConnect, UnreachableHostCountsTowardsMaxAttempts) {
  UnansweredEndpoint blackhole;
  Runtime rt;
  Stream s(rt.get(), {{"transport", "longpoll"},
                      {"url", "http://127.0.0.1:" + std::to_string(blackhole.port()) + "/v1/kv"},
                      {"connect_timeout_ms", "200"},
                      {"longpoll.timeout_ms", "60000"},
                      {"reconnect.initial_ms", "10"},
                      {"reconnect.max_ms", "20"},
                      {"reconnect.max_attempts", "2"}});
  s.until_end(5000);
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_GAVE_UP) << tw_event_data(failure.get());
}

}  // namespace
}  // namespace tidewire::test
