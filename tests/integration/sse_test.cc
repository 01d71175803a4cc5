// SSE against a real aiohttp server: parsing over the wire, resume, hints, the policy, backpressure.
#include <gtest/gtest.h>

#include <string>

#include "harness.h"

namespace tidewire::test {
namespace {

Settings sse(const std::string& path, Settings extra = {}) {
  Settings s = {{"transport", "sse"},
                {"url", http_peer().url(path)},
                {"reconnect.initial_ms", "10"},
                {"reconnect.max_ms", "50"}};
  s.insert(s.end(), extra.begin(), extra.end());
  return s;
}

TEST(Sse, DeliversIdTypeAndMultiLineDataAsSent) {
  Runtime rt;
  std::string body = "\xEF\xBB\xBF: comment\r\nid: 7\r\nevent: greet\r\ndata: hello\r\ndata: world\r\n\r\ndata: x\n\n";
  Stream s(rt.get(), sse("/sse/raw?key=" + unique_key() + "&body=" + url_encode(body)));
  auto events = s.messages(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, "7");
  EXPECT_EQ(events[0].type, "greet");
  EXPECT_EQ(events[0].data, "hello\nworld");
  EXPECT_EQ(events[1].id, "7");  // the last event id persists
  EXPECT_EQ(events[1].type, "message");
  EXPECT_EQ(events[1].data, "x");
}

TEST(Sse, ResumesWithLastEventIdAcrossTwentyCutsDeliveringEachEventOnceInOrder) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), sse("/sse?key=" + key + "&count=2000&cut_every=100"));
  auto events = s.messages(2000, 30000);
  ASSERT_EQ(events.size(), 2000u);
  for (size_t i = 0; i < events.size(); i++) {
    ASSERT_EQ(events[i].id, std::to_string(i + 1));
    ASSERT_EQ(events[i].data, "{\"i\":" + std::to_string(i + 1) + "}");
  }
  EXPECT_GE(s.stat("reconnects"), 19u);
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 20u);
  EXPECT_EQ(log[0]["last-event-id"], "");
  for (size_t i = 1; i < 20; i++) EXPECT_EQ(log[i]["last-event-id"], std::to_string(i * 100));
}

TEST(Sse, SendsConfiguredLastEventIdAndHeadersOnFirstConnect) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), sse("/sse?key=" + key + "&count=5", {{"sse.last_event_id", "3"}, {"header.X-Test", "abc"}}));
  auto events = s.messages(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, "4");
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 1u);
  EXPECT_EQ(log[0]["last-event-id"], "3");
  EXPECT_EQ(log[0]["x-test"], "abc");
}

TEST(Sse, RetryFieldIsTheFloorOfEveryReconnectDelay) {
  Runtime rt;
  Stream s(rt.get(), sse("/sse?key=" + unique_key() + "&count=3&cut_every=1&retry=300",
                         {{"reconnect.max_ms", "5000"}, {"status_events", "true"}}));
  int reconnecting = 0;
  Received r;
  while (reconnecting < 2 && s.next(r) == TW_OK)
    if (r.kind == TW_KIND_RECONNECTING) {
      reconnecting++;
      EXPECT_GE(r.retry_ms, 300);
      EXPECT_LE(r.retry_ms, 5000);
    }
  EXPECT_EQ(reconnecting, 2);
}

TEST(Sse, RetryFieldIsCappedByReconnectMax) {
  Runtime rt;
  Stream s(rt.get(), sse("/sse?key=" + unique_key() + "&count=3&cut_every=1&retry=100000",
                         {{"reconnect.max_ms", "80"}, {"status_events", "true"}}));
  auto events = s.messages(3);
  EXPECT_EQ(events.size(), 3u);  // three connections, each after at most 80 ms
}

TEST(Sse, NoContentEndsTheStreamCleanly) {
  Runtime rt;
  Stream s(rt.get(), sse("/sse/status?key=" + unique_key() + "&code=204", {{"status_events", "true"}}));
  auto events = s.until_end();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, TW_KIND_CLOSED);
  EXPECT_EQ(s.failure(), nullptr);
  EXPECT_EQ(s.stat("reconnects"), 0u);
}

TEST(Sse, WrongContentTypeIsFatal) {
  Runtime rt;
  Stream s(rt.get(), sse("/sse/wrongtype?key=" + unique_key()));
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_PROTOCOL);
  EXPECT_NE(std::string(tw_event_data(failure.get())).find("text/plain"), std::string::npos);
}

class SseFatalStatus : public ::testing::TestWithParam<int> {};

TEST_P(SseFatalStatus, EndsWithTheStatusAndNoRetry) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), sse("/sse/status?key=" + key + "&code=" + std::to_string(GetParam())));
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_HTTP_STATUS);
  EXPECT_EQ(tw_event_http_status(failure.get()), GetParam());
  EXPECT_EQ(s.stat("reconnects"), 0u);
  EXPECT_EQ(peer_log(http_peer(), key).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(ClientErrors, SseFatalStatus, ::testing::Values(401, 403, 404, 410));

class SseTransientStatus : public ::testing::TestWithParam<int> {};

TEST_P(SseTransientStatus, BacksOffAndRecovers) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), sse("/sse/status?key=" + key + "&code=" + std::to_string(GetParam()) +
                         "&times=2&then=" + url_encode("/sse?count=3&hold=1")));
  auto events = s.messages(3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].id, "3");
  EXPECT_EQ(s.stat("reconnects"), 2u);
  EXPECT_EQ(s.stat("errors"), 2u);
}

INSTANTIATE_TEST_SUITE_P(TransientErrors, SseTransientStatus, ::testing::Values(408, 429, 500, 502, 503));

TEST(Sse, RetryAfterOnServiceUnavailableIsObeyed) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), sse("/sse/status?key=" + key + "&code=503&times=1&retry_after=1&then=" + url_encode("/sse?count=1"),
                         {{"reconnect.max_ms", "5000"}, {"status_events", "true"}}));
  Received r;
  ASSERT_EQ(s.next(r), TW_OK);
  ASSERT_EQ(r.kind, TW_KIND_RECONNECTING);
  EXPECT_EQ(r.http_status, 503);
  EXPECT_GE(r.retry_ms, 1000);
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 2u);
  EXPECT_GE(std::stod(log[1]["t_ms"]) - std::stod(log[0]["t_ms"]), 950.0);
}

TEST(Sse, ReadTimeoutReconnectsAndResumes) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), sse("/sse?key=" + key + "&count=4&silence_after=2", {{"read_timeout_ms", "300"}}));
  auto events = s.messages(4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].id, "4");
  EXPECT_GE(s.stat("reconnects"), 1u);
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[1]["last-event-id"], "2");
}

TEST(Sse, LineLongerThanTheLimitEndsTheStreamWithLimitError) {
  Runtime rt;
  std::string body = "data: " + std::string(200, 'x') + "\n\n";
  Stream s(rt.get(), sse("/sse/raw?key=" + unique_key() + "&body=" + url_encode(body), {{"sse.max_line_bytes", "64"}}));
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_LIMIT);
  EXPECT_NE(std::string(tw_event_data(failure.get())).find("sse.max_line_bytes"), std::string::npos);
}

TEST(Sse, CutInsideAnEventResumesBeforeItAndLosesNothing) {
  // Each cut comes right after the next event's `id:` and first `data:` line: that id was never
  // dispatched, so the resume must ask for it again.
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), sse("/sse?key=" + key + "&count=40&cut_every=10&cut_inside=1"));
  auto events = s.messages(40, 20000);
  ASSERT_EQ(events.size(), 40u);
  for (size_t i = 0; i < events.size(); i++) {
    ASSERT_EQ(events[i].id, std::to_string(i + 1));
    ASSERT_EQ(events[i].data, "{\"i\":" + std::to_string(i + 1) + "}");
  }
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 4u);
  for (size_t i = 1; i < 4; i++) EXPECT_EQ(log[i]["last-event-id"], std::to_string(i * 10));
}

TEST(Sse, EventLargerThanTheLimitEndsTheStreamWithLimitError) {
  // 200 short lines, each far below sse.max_line_bytes, add up to one 200 KiB event.
  Runtime rt;
  Stream s(rt.get(), sse("/sse/big?key=" + unique_key() + "&lines=200&line_bytes=1024",
                         {{"sse.max_event_bytes", "65536"}}));
  auto events = s.until_end();
  for (const auto& e : events) EXPECT_NE(e.kind, TW_KIND_MESSAGE);
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_LIMIT);
  std::string text = tw_event_data(failure.get());
  EXPECT_NE(text.find("sse.max_event_bytes=65536"), std::string::npos) << text;
}

TEST(Sse, EventWithinTheLimitIsDelivered) {
  Runtime rt;
  Stream s(rt.get(), sse("/sse/big?key=" + unique_key() + "&lines=50&line_bytes=1024",
                         {{"sse.max_event_bytes", "65536"}}));
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data.size(), 50u * 1024 + 49);
}

TEST(Sse, RedirectsAreFollowedUpToTheLimit) {
  Runtime rt;
  std::string target = url_encode("/sse?count=2");
  Stream ok(rt.get(), sse("/redirect?key=" + unique_key() + "&n=3&to=" + target, {{"redirect.max", "4"}}));
  EXPECT_EQ(ok.messages(2).size(), 2u);
  Stream too_many(rt.get(), sse("/redirect?key=" + unique_key() + "&n=3&to=" + target, {{"redirect.max", "2"}}));
  too_many.until_end();
  auto failure = too_many.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_LIMIT);
}

TEST(Sse, SlowConsumerPausesReadingAndLosesNothing) {
  Runtime rt;
  const int count = 50000;
  Stream s(rt.get(), sse("/sse?key=" + unique_key() + "&count=" + std::to_string(count) + "&hold=1",
                         {{"queue.max_events", "64"}}));
  ASSERT_TRUE(eventually([&] { return s.stat("paused") >= 1; }));
  // Reading stopped: the queue holds the capacity plus at most one socket read, not the feed.
  uint64_t held = s.stat("queue_depth");
  EXPECT_GE(held, 64u);
  EXPECT_LT(held, 5000u);
  auto events = s.messages(count, 60000);
  ASSERT_EQ(events.size(), static_cast<size_t>(count));
  for (int i = 0; i < count; i++) ASSERT_EQ(events[static_cast<size_t>(i)].id, std::to_string(i + 1));
  EXPECT_EQ(s.stat("dropped"), 0u);
  EXPECT_LT(s.stat("queue_peak"), 5000u);
  EXPECT_GE(s.stat("paused"), 2u);
}

TEST(Sse, DropOldestKeepsTheNewestAndCountsTheRest) {
  Runtime rt;
  const int count = 2000;
  Stream s(rt.get(), sse("/sse?key=" + unique_key() + "&count=" + std::to_string(count) + "&hold=1",
                         {{"queue.max_events", "16"}, {"queue.overflow", "drop_oldest"}}));
  ASSERT_TRUE(eventually([&] { return s.stat("messages") == static_cast<uint64_t>(count); }));
  auto events = s.messages(16);
  ASSERT_EQ(events.size(), 16u);
  EXPECT_EQ(events.back().id, std::to_string(count));
  EXPECT_EQ(events.front().id, std::to_string(count - 15));
  EXPECT_EQ(s.stat("dropped"), static_cast<uint64_t>(count - 16));
}

TEST(Sse, FailedFirstConnectIsRetriedUntilMaxAttempts) {
  Runtime rt;
  // A port that refuses connections, held for the whole test so no parallel test's peer takes it.
  RefusingPort refusing;
  int port = refusing.port();
  Stream s(rt.get(), {{"transport", "sse"},
                      {"url", "http://127.0.0.1:" + std::to_string(port) + "/sse"},
                      {"reconnect.initial_ms", "1"},
                      {"reconnect.max_ms", "5"},
                      {"reconnect.max_attempts", "3"}});
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_GAVE_UP);
  EXPECT_EQ(s.stat("reconnects"), 3u);
  EXPECT_EQ(s.stat("requests"), 4u);
}

TEST(Sse, FailedFirstConnectEndsAtOnceWhenConfiguredSo) {
  Runtime rt;
  RefusingPort refusing;
  int port = refusing.port();
  Stream s(rt.get(), {{"transport", "sse"},
                      {"url", "http://127.0.0.1:" + std::to_string(port) + "/sse"},
                      {"reconnect.first_connect", "false"}});
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_IO);
  EXPECT_EQ(s.stat("reconnects"), 0u);
}

}  // namespace
}  // namespace tidewire::test
