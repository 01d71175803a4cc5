// Checks the test peer itself (tests/peers/http_peer.py) through the plain
// http_get helper, so that a failing integration test can be trusted to point
// at the client library rather than at its scripted counterpart.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "peer.h"

namespace tidewire::test {
namespace {

using Clock = std::chrono::steady_clock;

long elapsed_ms(Clock::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

std::string sse_events(int first, int last) {
  std::string out;
  for (int i = first; i <= last; ++i) {
    out += "id: " + std::to_string(i) + "\ndata: {\"i\":" + std::to_string(i) + "}\n\n";
  }
  return out;
}

// One peer for the whole suite: per-test keys keep the tests independent.
class PeerSelfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { peer_ = new Peer(peer_script("http_peer.py")); }
  static void TearDownTestSuite() {
    delete peer_;
    peer_ = nullptr;
  }

  void SetUp() override { key_ = unique_key(); }

  HttpReply get(const std::string& path, const HeaderList& headers = {}, int timeout_ms = 5000) {
    const char sep = path.find('?') == std::string::npos ? '?' : '&';
    return http_get(peer_->port(), path + sep + "key=" + key_, timeout_ms, headers);
  }

  std::string origin() const { return peer_->url(""); }

  static Peer* peer_;
  std::string key_;
};

Peer* PeerSelfTest::peer_ = nullptr;

TEST_F(PeerSelfTest, EtagAnswers304ToMatchingIfNoneMatch) {
  HttpReply first = get("/poll/etag?changes_every=100");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, R"({"version":0})");
  EXPECT_EQ(first.headers["etag"], "\"v0\"");
  EXPECT_EQ(first.headers["x-custom"], "custom-0");
  EXPECT_EQ(first.headers["content-type"], "application/json");

  HttpReply second = get("/poll/etag?changes_every=100", {{"If-None-Match", first.headers["etag"]}});
  EXPECT_EQ(second.status, 304);
  EXPECT_EQ(second.body, "");
  EXPECT_EQ(second.headers["etag"], "\"v0\"");

  HttpReply stale = get("/poll/etag?changes_every=100", {{"If-None-Match", "\"v7\""}});
  EXPECT_EQ(stale.status, 200);
}

TEST_F(PeerSelfTest, EtagVersionAdvancesEveryNRequests) {
  for (int i = 0; i < 6; ++i) {
    HttpReply r = get("/poll/etag?changes_every=2");
    EXPECT_EQ(r.body, "{\"version\":" + std::to_string(i / 2) + "}") << "request " << i;
  }
}

TEST_F(PeerSelfTest, LastModifiedHonoursIfModifiedSince) {
  HttpReply first = get("/poll/lastmod?changes_every=2");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.headers["last-modified"], "Wed, 01 Jan 2020 00:00:00 GMT");
  EXPECT_EQ(first.headers.count("etag"), 0u);
  HttpReply second = get("/poll/lastmod?changes_every=2",
                         {{"If-Modified-Since", first.headers["last-modified"]}});
  EXPECT_EQ(second.status, 304);
  HttpReply third = get("/poll/lastmod?changes_every=2",
                        {{"If-Modified-Since", first.headers["last-modified"]}});
  EXPECT_EQ(third.status, 200);
  EXPECT_EQ(third.headers["last-modified"], "Wed, 01 Jan 2020 00:00:01 GMT");
}

TEST_F(PeerSelfTest, StatusFailsTimesThenSucceeds) {
  for (int i = 0; i < 2; ++i) {
    HttpReply r = get("/status?code=429&times=2&retry_after=3");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.headers["retry-after"], "3");
    EXPECT_EQ(r.body, "status 429");
  }
  HttpReply ok = get("/status?code=429&times=2&retry_after=3");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "ok-3");
}

TEST_F(PeerSelfTest, StatusThenDelegatesToAnotherEndpoint) {
  const std::string path = "/status?code=503&times=1&retry_after=" +
                           url_encode("Wed, 21 Oct 2015 07:28:00 GMT") +
                           "&then=" + url_encode("/poll/etag?changes_every=1");
  HttpReply failed = get(path);
  EXPECT_EQ(failed.status, 503);
  EXPECT_EQ(failed.headers["retry-after"], "Wed, 21 Oct 2015 07:28:00 GMT");
  HttpReply delegated = get(path);
  EXPECT_EQ(delegated.status, 200);
  EXPECT_EQ(delegated.headers["etag"], "\"v0\"");
}

TEST_F(PeerSelfTest, RedirectChainAlternatesRelativeAndAbsoluteLocations) {
  const std::string to = url_encode("/poll/plain?changes_every=1");
  const std::string key = "key=" + key_;
  HttpReply r = get("/redirect?n=3&to=" + to);
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.headers["location"], "/redirect?n=2&to=" + to + "&" + key);

  r = get("/redirect?n=2&to=" + to);
  EXPECT_EQ(r.headers["location"], origin() + "/redirect?n=1&to=" + to + "&" + key);

  r = get("/redirect?n=1&to=" + to);
  EXPECT_EQ(r.headers["location"], "/redirect?n=0&to=" + to + "&" + key);

  r = get("/redirect?n=0&to=" + to);
  EXPECT_EQ(r.status, 302);
  const std::string final_location = r.headers["location"];
  EXPECT_EQ(final_location, origin() + "/poll/plain?changes_every=1&" + key);

  HttpReply end = http_get(peer_->port(), final_location.substr(origin().size()));
  EXPECT_EQ(end.status, 200);
  EXPECT_EQ(end.body, R"({"version":0})");
}

TEST_F(PeerSelfTest, LongpollHoldsUntilTheIndexMoves) {
  HttpReply now = get("/longpoll?publish_every_ms=300");
  ASSERT_EQ(now.status, 200);
  const int index = std::stoi(now.headers["x-consul-index"]);
  EXPECT_EQ(now.body, "{\"index\":" + std::to_string(index) + "}");

  auto start = Clock::now();
  HttpReply moved = get("/longpoll?publish_every_ms=300&index=" + std::to_string(index));
  const long waited = elapsed_ms(start);
  ASSERT_EQ(moved.status, 200);
  EXPECT_GT(std::stoi(moved.headers["x-consul-index"]), index);
  // The key's clock starts at its first request, so nearly a whole period
  // was left to hold for; wait_ms (5 s) must not have been used up.
  EXPECT_GE(waited, 100);
  EXPECT_LT(waited, 2000);
}

TEST_F(PeerSelfTest, LongpollGivesUpAfterWaitMs) {
  auto start = Clock::now();
  HttpReply r = get("/longpoll?index=100000&wait_ms=300");
  const long waited = elapsed_ms(start);
  EXPECT_EQ(r.status, 200);
  EXPECT_LT(std::stoi(r.headers["x-consul-index"]), 100000);
  EXPECT_GE(waited, 290);
  EXPECT_LT(waited, 2000);
}

TEST_F(PeerSelfTest, LongpollFailFirst) {
  EXPECT_EQ(get("/longpoll?fail_first=1").status, 500);
  EXPECT_EQ(get("/longpoll?fail_first=1").status, 200);
}

TEST_F(PeerSelfTest, SseSendsAllEventsAndEndsCleanly) {
  HttpReply r = get("/sse?count=5&retry=1500");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  EXPECT_EQ(r.headers["cache-control"], "no-cache");
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.body, "retry: 1500\n\n" + sse_events(1, 5));
}

TEST_F(PeerSelfTest, SseCutDropsTheConnectionAfterExactlyCEvents) {
  HttpReply cut = get("/sse?count=1000&cut_every=150");
  EXPECT_EQ(cut.status, 200);
  EXPECT_FALSE(cut.complete);
  EXPECT_FALSE(cut.timed_out);
  EXPECT_EQ(cut.body, sse_events(1, 150));

  HttpReply resumed = get("/sse?count=1000&cut_every=150", {{"Last-Event-ID", "150"}});
  EXPECT_FALSE(resumed.complete);
  EXPECT_EQ(resumed.body, sse_events(151, 300));

  HttpReply tail = get("/sse?count=1000&cut_every=150", {{"Last-Event-ID", "950"}});
  EXPECT_TRUE(tail.complete);
  EXPECT_EQ(tail.body, sse_events(951, 1000));
}

TEST_F(PeerSelfTest, SseSilenceKeepsTheConnectionOpen) {
  HttpReply r = get("/sse?count=10&silence_after=2", {}, 400);
  EXPECT_FALSE(r.complete);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.body, sse_events(1, 2));
}

TEST_F(PeerSelfTest, SseRawSendsExactBytes) {
  const std::string body = std::string("data: a\r\ndata: \xff+\r\r\0x", 21);
  HttpReply r = get("/sse/raw?body=" + url_encode(body));
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  EXPECT_EQ(r.body, body);
}

TEST_F(PeerSelfTest, SseStatusAndWrongType) {
  HttpReply unauthorized = get("/sse/status?code=401");
  EXPECT_EQ(unauthorized.status, 401);
  EXPECT_EQ(unauthorized.body, "");
  EXPECT_EQ(get("/sse/status?code=204").status, 204);

  HttpReply wrong = get("/sse/wrongtype");
  EXPECT_EQ(wrong.status, 200);
  EXPECT_EQ(wrong.headers["content-type"].rfind("text/plain", 0), 0u);
  EXPECT_EQ(wrong.body, "hello");
}

TEST_F(PeerSelfTest, LogRecordsRequestsAndHeaders) {
  get("/poll/plain", {{"X-Test", "first;with=odd%chars"}, {"If-None-Match", "\"v3\""}});
  get("/sse?count=1", {{"Last-Event-ID", "0"}, {"If-Modified-Since", "Wed, 01 Jan 2020 00:00:00 GMT"}});
  get("/no/such/endpoint");

  HttpReply log = http_get(peer_->port(), "/_log?key=" + key_);
  ASSERT_EQ(log.status, 200);
  auto entries = parse_log(log.body);
  ASSERT_EQ(entries.size(), 3u) << log.body;

  EXPECT_EQ(entries[0]["path"], "/poll/plain?key=" + key_);
  EXPECT_EQ(entries[0]["x-test"], "first;with=odd%chars");
  EXPECT_EQ(entries[0]["if-none-match"], "\"v3\"");
  EXPECT_EQ(entries[0]["last-event-id"], "");

  EXPECT_EQ(entries[1]["path"], "/sse?count=1&key=" + key_);
  EXPECT_EQ(entries[1]["last-event-id"], "0");
  EXPECT_EQ(entries[1]["if-modified-since"], "Wed, 01 Jan 2020 00:00:00 GMT");
  EXPECT_EQ(entries[1]["x-test"], "");

  EXPECT_EQ(entries[2]["path"], "/no/such/endpoint?key=" + key_);
  EXPECT_LE(std::stod(entries[0]["t_ms"]), std::stod(entries[1]["t_ms"]));
  EXPECT_LE(std::stod(entries[1]["t_ms"]), std::stod(entries[2]["t_ms"]));

  // Another key's log is untouched by all of the above.
  EXPECT_EQ(http_get(peer_->port(), "/_log?key=" + unique_key()).body, "");
}

TEST(PeerLifecycle, MissingScriptThrowsWithTheReason) {
  try {
    Peer peer(peer_script("no_such_peer.py"));
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("exited"), std::string::npos) << e.what();
  }
}

TEST(PeerLifecycle, StopsPromptlyWhileARequestIsHeld) {
  auto peer = std::make_unique<Peer>(peer_script("http_peer.py"));
  const int port = peer->port();
  const std::string key = unique_key();

  std::string held_error;
  std::thread holder([&] {
    try {
      http_get(port, "/longpoll?index=100000&wait_ms=8000&key=" + key, 9000);
    } catch (const std::runtime_error& e) {
      held_error = e.what();
    }
  });
  // The log is the only sign that the request is being held; poll it.
  const auto give_up = Clock::now() + std::chrono::seconds(5);
  while (parse_log(http_get(port, "/_log?key=" + key).body).empty() && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  auto start = Clock::now();
  peer.reset();
  EXPECT_LT(elapsed_ms(start), 3000);
  holder.join();
  EXPECT_LT(elapsed_ms(start), 3000) << "the held request outlived the peer";
  EXPECT_NE(held_error, "");
  EXPECT_THROW(http_get(port, "/_log?key=x", 500), std::runtime_error);
}

}  // namespace
}  // namespace tidewire::test
