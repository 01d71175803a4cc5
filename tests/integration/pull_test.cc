// poll and long-poll against a real aiohttp server: validators, hints, redirects, cursor, backpressure.
#include <gtest/gtest.h>

#include <ctime>
#include <set>
#include <string>

#include "harness.h"

namespace tidewire::test {
namespace {

Settings poll(const std::string& path, Settings extra = {}) {
  Settings s = {{"transport", "poll"},
                {"url", http_peer().url(path)},
                {"poll.interval_ms", "10"},
                {"reconnect.initial_ms", "10"},
                {"reconnect.max_ms", "50"}};
  s.insert(s.end(), extra.begin(), extra.end());
  return s;
}

double gap_ms(std::vector<std::map<std::string, std::string>>& log, size_t i) {
  return std::stod(log[i]["t_ms"]) - std::stod(log[i - 1]["t_ms"]);
}

TEST(Poll, EtagMakesConditionalRequestsAnd304sYieldNoEventButAreCounted) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), poll("/poll/etag?key=" + key + "&changes_every=3"));
  auto events = s.messages(3);
  ASSERT_EQ(events.size(), 3u);
  for (int v = 0; v < 3; v++) {
    EXPECT_EQ(events[static_cast<size_t>(v)].data, "{\"version\":" + std::to_string(v) + "}");
    EXPECT_EQ(events[static_cast<size_t>(v)].id, "\"v" + std::to_string(v) + "\"");
    EXPECT_EQ(events[static_cast<size_t>(v)].type, "change");
  }
  EXPECT_GE(s.stat("not_modified"), 4u);
  EXPECT_EQ(s.stat("messages"), 3u);
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(log[0]["if-none-match"], "");
  EXPECT_EQ(log[1]["if-none-match"], "\"v0\"");
}

TEST(Poll, LastModifiedMakesIfModifiedSinceRequests) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), poll("/poll/lastmod?key=" + key + "&changes_every=2"));
  auto events = s.messages(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].data, "{\"version\":1}");
  EXPECT_GE(s.stat("not_modified"), 1u);
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[1]["if-modified-since"], events[0].id);
}

TEST(Poll, UnchangedBodyWithoutValidatorsYieldsNoEvent) {
  Runtime rt;
  Stream s(rt.get(), poll("/poll/plain?key=" + unique_key() + "&changes_every=3"));
  auto events = s.messages(3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].data, "{\"version\":0}");
  EXPECT_EQ(events[1].data, "{\"version\":1}");
  EXPECT_EQ(events[2].data, "{\"version\":2}");
  EXPECT_GE(s.stat("requests"), 7u);
}

TEST(Poll, EventCarriesKnownAndExposedHeaders) {
  Runtime rt;
  Stream s(rt.get(), poll("/poll/etag?key=" + unique_key(), {{"poll.expose_headers", "X-Custom, X-Absent"}}));
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].headers["x-custom"], "custom-0");
  EXPECT_EQ(events[0].headers["etag"], "\"v0\"");
  EXPECT_EQ(events[0].headers["content-type"].rfind("application/json", 0), 0u);
  EXPECT_EQ(events[0].headers.count("x-absent"), 0u);
}

TEST(Poll, ExposeHeadersStarCarriesEveryResponseHeader) {
  Runtime rt;
  Stream s(rt.get(), poll("/poll/etag?key=" + unique_key(), {{"poll.expose_headers", "*"}}));
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].headers["x-custom"], "custom-0");
  EXPECT_EQ(events[0].headers["etag"], "\"v0\"");
  EXPECT_EQ(events[0].headers.count("content-length"), 1u);
}

// The client ports the peer saw for `key`'s requests: one per connection.
std::set<std::string> connections_seen(const std::string& key, size_t* requests) {
  auto log = peer_log(http_peer(), key);
  std::set<std::string> ports;
  for (auto& line : log) ports.insert(line["conn"]);
  *requests = log.size();
  return ports;
}

TEST(Poll, AThousandPollsShareOneKeptAliveConnection) {
  Runtime rt;
  const std::string key = unique_key();
  Stream s(rt.get(), poll("/poll/etag?key=" + key + "&changes_every=0", {{"poll.interval_ms", "0"}}));
  ASSERT_EQ(s.messages(1).size(), 1u);
  ASSERT_TRUE(eventually([&] { return s.stat("requests") >= 1000; }, 60000));
  tw_stream_close(s.get());
  size_t requests = 0;
  auto ports = connections_seen(key, &requests);
  EXPECT_GE(requests, 1000u);
  EXPECT_EQ(ports.size(), 1u);
  EXPECT_EQ(s.stat("connections"), 1u);
  // The first poll brought the message and every later one a 304, but for the one poll that may
  // be under way at any moment (polls go one after another): "requests" counts a poll when it
  // starts, "not_modified" when its answer came.
  const uint64_t started = s.stat("requests");
  EXPECT_GE(s.stat("not_modified"), started - 2);
}

TEST(Poll, IdleTimeoutZeroOpensAConnectionPerPoll) {
  Runtime rt;
  const std::string key = unique_key();
  Stream s(rt.get(), poll("/poll/etag?key=" + key + "&changes_every=0",
                          {{"poll.interval_ms", "0"}, {"http.idle_timeout_ms", "0"}}));
  // Counted once each connection is up (a request is counted when it starts).
  ASSERT_TRUE(eventually([&] { return s.stat("connections") >= 5; }, 10000));
  tw_stream_close(s.get());
  size_t requests = 0;
  auto ports = connections_seen(key, &requests);
  EXPECT_EQ(ports.size(), requests);
  EXPECT_GE(s.stat("connections"), 5u);
}

TEST(Poll, XPollIntervalRaisesTheInterval) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), poll("/poll/hint?key=" + key + "&interval=0.3"));
  ASSERT_EQ(s.messages(3).size(), 3u);
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 3u);
  EXPECT_GE(gap_ms(log, 1), 290.0);
  EXPECT_GE(gap_ms(log, 2), 290.0);
}

TEST(Poll, XPollIntervalIsCappedByMaxInterval) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), poll("/poll/hint?key=" + key + "&interval=30", {{"poll.max_interval_ms", "100"}}));
  ASSERT_EQ(s.messages(3, 5000).size(), 3u);  // 30 s apart if the cap were ignored
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 3u);
  EXPECT_GE(gap_ms(log, 2), 95.0);
}

TEST(Poll, RetryAfterSecondsOnTooManyRequestsIsObeyed) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), poll("/status?key=" + key + "&code=429&times=1&retry_after=1&then=" + url_encode("/poll/etag"),
                          {{"poll.max_interval_ms", "5000"}}));
  ASSERT_EQ(s.messages(1).size(), 1u);
  EXPECT_EQ(s.stat("reconnects"), 1u);
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 2u);
  EXPECT_GE(gap_ms(log, 1), 950.0);
}

TEST(Poll, RetryAfterHttpDateOnServiceUnavailableIsObeyed) {
  Runtime rt;
  std::string key = unique_key();
  http_peer();  // started before the date is taken: starting it can take a while on a busy machine
  char date[64];
  std::time_t at = std::time(nullptr) + 3;
  std::tm tm{};
  gmtime_r(&at, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  Stream s(rt.get(), poll("/status?key=" + key + "&code=503&times=1&retry_after=" + url_encode(date) +
                              "&then=" + url_encode("/poll/etag"),
                          {{"poll.max_interval_ms", "5000"}}));
  ASSERT_EQ(s.messages(1).size(), 1u);
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 2u);
  EXPECT_GE(gap_ms(log, 1), 900.0);  // the date has one-second resolution: 2–3 s later, less any delay in starting
}

TEST(Poll, RetryAfterIsCappedByMaxInterval) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), poll("/status?key=" + key + "&code=503&times=1&retry_after=3600&then=" + url_encode("/poll/etag"),
                          {{"poll.max_interval_ms", "100"}}));
  ASSERT_EQ(s.messages(1, 5000).size(), 1u);
}

TEST(Poll, RedirectsAreFollowedUpToTheLimit) {
  Runtime rt;
  std::string target = url_encode("/poll/etag");
  Stream ok(rt.get(), poll("/redirect?key=" + unique_key() + "&n=4&to=" + target, {{"redirect.max", "5"}}));
  auto events = ok.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "{\"version\":0}");
  Stream too_many(rt.get(), poll("/redirect?key=" + unique_key() + "&n=4&to=" + target, {{"redirect.max", "1"}}));
  too_many.until_end();
  auto failure = too_many.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_LIMIT);
  EXPECT_NE(std::string(tw_event_data(failure.get())).find("redirect.max=1"), std::string::npos);
}

TEST(Poll, UnauthorizedIsFatalWithItsStatus) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), poll("/status?key=" + key + "&code=401"));
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_HTTP_STATUS);
  EXPECT_EQ(tw_event_http_status(failure.get()), 401);
  EXPECT_NE(std::string(tw_event_data(failure.get())).find("status 401"), std::string::npos);  // body prefix
  EXPECT_EQ(peer_log(http_peer(), key).size(), 1u);
}

TEST(Poll, FullQueueDelaysTheNextPollUntilTheConsumerCatchesUp) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), poll("/poll/hint?key=" + key + "&interval=0", {{"queue.max_events", "4"}, {"poll.interval_ms", "0"}}));
  ASSERT_TRUE(eventually([&] { return s.stat("paused") >= 1; }));
  uint64_t requests = s.stat("requests");
  // Nothing to wait on: the absence of requests is the behaviour under test.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(s.stat("requests"), requests);
  EXPECT_EQ(s.stat("queue_depth"), 4u);
  auto events = s.messages(8);
  ASSERT_EQ(events.size(), 8u);
  for (size_t i = 0; i < events.size(); i++) EXPECT_EQ(events[i].data, "{\"n\":" + std::to_string(i + 1) + "}");
  EXPECT_EQ(s.stat("dropped"), 0u);
}

Settings longpoll(const std::string& path, Settings extra = {}) {
  Settings s = {{"transport", "longpoll"},
                {"url", http_peer().url(path)},
                {"longpoll.cursor_header", "X-Consul-Index"},
                {"longpoll.cursor_param", "index"},
                {"reconnect.initial_ms", "10"},
                {"reconnect.max_ms", "50"}};
  s.insert(s.end(), extra.begin(), extra.end());
  return s;
}

TEST(Longpoll, CarriesTheConsulIndexForward) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), longpoll("/longpoll?key=" + key + "&publish_every_ms=50"));
  auto events = s.messages(3);
  ASSERT_EQ(events.size(), 3u);
  for (size_t i = 1; i < events.size(); i++) EXPECT_GT(std::stoi(events[i].id), std::stoi(events[i - 1].id));
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(log[0]["path"].find("index="), std::string::npos);
  EXPECT_NE(log[1]["path"].find("&index=" + events[0].id), std::string::npos);
  EXPECT_NE(log[2]["path"].find("&index=" + events[1].id), std::string::npos);
}

TEST(Longpoll, ServerErrorsAreRetriedByThePolicy) {
  Runtime rt;
  Stream s(rt.get(), longpoll("/longpoll?key=" + unique_key() + "&publish_every_ms=50&fail_first=2"));
  ASSERT_EQ(s.messages(2).size(), 2u);
  EXPECT_EQ(s.stat("reconnects"), 2u);
}

TEST(Longpoll, HeldRequestIsReissuedAfterItsTimeoutWithoutError) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), longpoll("/longpoll?key=" + key + "&publish_every_ms=100000&wait_ms=10000",
                              {{"longpoll.timeout_ms", "150"}}));
  ASSERT_EQ(s.messages(1).size(), 1u);  // the first answer comes at once
  ASSERT_TRUE(eventually([&] { return peer_log(http_peer(), key).size() >= 4; }));
  EXPECT_EQ(s.stat("errors"), 0u);
  EXPECT_EQ(s.stat("messages"), 1u);
}

TEST(Longpoll, StartsFromTheConfiguredCursor) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), longpoll("/longpoll?key=" + key + "&publish_every_ms=20", {{"longpoll.cursor", "2"}}));
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_GT(std::stoi(events[0].id), 2);
  EXPECT_NE(peer_log(http_peer(), key)[0]["path"].find("index=2"), std::string::npos);
}

}  // namespace
}  // namespace tidewire::test
