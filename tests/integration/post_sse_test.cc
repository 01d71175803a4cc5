// SSE over POST, as LLM APIs stream: the request's method, body and Content-Type; in-band end
// markers; a reconnect that never sends a POST twice unless the server made it resumable; comments.
#include <gtest/gtest.h>

#include <string>

#include "harness.h"

namespace tidewire::test {
namespace {

Settings post(const std::string& path, Settings extra = {}) {
  Settings s = {{"transport", "sse"},
                {"url", http_peer().url(path)},
                {"http.method", "POST"},
                {"http.body", R"({"model":"m","stream":true})"},
                {"reconnect.initial_ms", "10"},
                {"reconnect.max_ms", "50"}};
  s.insert(s.end(), extra.begin(), extra.end());
  return s;
}

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::vector<std::string> data_of(const std::vector<Received>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    if (e.kind == TW_KIND_MESSAGE) out.push_back(e.data);
  return out;
}

TEST(PostSse, SendsMethodBodyAndJsonContentTypeAndEndsCleanlyOnDoneWithoutDeliveringIt) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), post("/sse/post?key=" + key + "&count=3&end=done&hold=1", {{"sse.end_data", "[DONE]"}}));
  auto events = s.until_end();
  EXPECT_EQ(data_of(events), (std::vector<std::string>{R"({"i":1})", R"({"i":2})", R"({"i":3})"}));
  EXPECT_EQ(s.failure(), nullptr);
  auto log = peer_log(http_peer(), key);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["method"], "POST");
  EXPECT_EQ(log[0]["body"], hex(R"({"model":"m","stream":true})"));
  EXPECT_EQ(log[0]["content-type"], "application/json");
}

TEST(PostSse, ConfiguredContentTypeReplacesTheJsonDefault) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), post("/sse/post?key=" + key + "&count=1&end=done&hold=1",
                          {{"sse.end_data", "[DONE]"}, {"header.Content-Type", "text/plain"}}));
  s.until_end();
  auto log = peer_log(http_peer(), key);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["content-type"], "text/plain");
}

TEST(PostSse, EndEventIsDeliveredThenTheStreamEndsCleanly) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), post("/sse/post?key=" + key + "&count=2&end=stop&hold=1", {{"sse.end_event", "message_stop"}}));
  auto events = s.until_end();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].type, "delta");
  EXPECT_EQ(events[2].type, "message_stop");
  EXPECT_EQ(events[2].data, "{}");
  EXPECT_EQ(s.failure(), nullptr);
}

TEST(PostSse, BinaryBodyWithNulBytesArrivesIntact) {
  Runtime rt;
  std::string key = unique_key();
  const std::string body("\x00\x01{\"a\":\x00}\xff\x00", 10);
  Stream s(rt.get(), post("/sse/post?key=" + key + "&count=1&end=done&hold=1",
                          {{"http.body", body}, {"sse.end_data", "[DONE]"}, {"header.Content-Type", "application/octet-stream"}}));
  s.until_end();
  auto log = peer_log(http_peer(), key);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["body"], hex(body));
}

TEST(PostSse, ResponseEndWithoutIdsEndsTheStreamCleanlyWithOnePost) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), post("/sse/post?key=" + key + "&count=2"));
  auto events = s.until_end();
  EXPECT_EQ(data_of(events).size(), 2u);
  EXPECT_EQ(s.failure(), nullptr);
  EXPECT_EQ(peer_log(http_peer(), key).size(), 1u);
}

TEST(PostSse, CutWithoutIdsEndsNotResumableAfterExactlyOnePost) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), post("/sse/post?key=" + key + "&count=5&cut_after=2"));
  auto events = s.until_end();
  EXPECT_EQ(data_of(events).size(), 2u);
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_IO);
  EXPECT_NE(std::string(tw_event_data(failure.get())).find("cut, not resumable"), std::string::npos)
      << tw_event_data(failure.get());
  EXPECT_EQ(peer_log(http_peer(), key).size(), 1u);
}

TEST(PostSse, CutWithIdsResumesWithOneMorePostCarryingLastEventIdAndTheSameBody) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), post("/sse/post?key=" + key + "&count=6&ids=1&cut_after=3&end=done&hold=1",
                          {{"sse.end_data", "[DONE]"}}));
  auto events = s.until_end();
  auto data = data_of(events);
  ASSERT_EQ(data.size(), 6u);
  for (size_t i = 0; i < data.size(); i++) EXPECT_EQ(data[i], "{\"i\":" + std::to_string(i + 1) + "}");
  EXPECT_EQ(s.failure(), nullptr);
  auto log = peer_log(http_peer(), key);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0]["last-event-id"], "");
  EXPECT_EQ(log[1]["last-event-id"], "3");
  EXPECT_EQ(log[1]["method"], "POST");
  EXPECT_EQ(log[1]["body"], log[0]["body"]);
}

TEST(PostSse, ReplayNeverDoesNotResumeEvenWithIds) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), post("/sse/post?key=" + key + "&count=6&ids=1&cut_after=3", {{"http.replay_body", "never"}}));
  auto events = s.until_end();
  EXPECT_EQ(data_of(events).size(), 3u);
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_NE(std::string(tw_event_data(failure.get())).find("not resumable"), std::string::npos);
  EXPECT_EQ(peer_log(http_peer(), key).size(), 1u);
}

TEST(PostSse, ReplayAlwaysSendsTheRequestAgainWithoutIds) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), post("/sse/post?key=" + key + "&count=3&cut_after=2&end=done&hold=1",
                          {{"http.replay_body", "always"}, {"sse.end_data", "[DONE]"}}));
  auto events = s.until_end();
  // Without ids the server starts again: the first two events come twice, as asked for.
  EXPECT_EQ(data_of(events).size(), 5u);
  EXPECT_EQ(s.failure(), nullptr);
  auto log = peer_log(http_peer(), key);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1]["method"], "POST");
}

// A transient error answer (503) would be retried for a GET; retrying a POST would send it again.
TEST(PostSse, ErrorAnswerEndsAPostThatMayNotBeSentAgainAfterExactlyOnePost) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), post("/sse/status?key=" + key + "&code=503&times=1&then=" +
                          url_encode("/sse/post?count=2&end=done")));
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_HTTP_STATUS);
  EXPECT_EQ(tw_event_http_status(failure.get()), 503);
  EXPECT_NE(std::string(tw_event_data(failure.get())).find("http.replay_body"), std::string::npos);
  EXPECT_EQ(peer_log(http_peer(), key).size(), 1u);
}

TEST(PostSse, ErrorAnswerIsRetriedWhenReplayIsAlways) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), post("/sse/status?key=" + key + "&code=503&times=1&then=" +
                              url_encode("/sse/post?count=2&end=done"),
                          {{"http.replay_body", "always"}, {"sse.end_data", "[DONE]"}}));
  auto events = s.until_end();
  EXPECT_EQ(data_of(events).size(), 2u);
  EXPECT_EQ(s.failure(), nullptr);
  auto log = peer_log(http_peer(), key);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1]["method"], "POST");
  EXPECT_EQ(log[1]["body"], log[0]["body"]);
}

TEST(PostSse, GetStillReconnectsAfterTheResponseEnds) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), {{"transport", "sse"},
                      {"url", http_peer().url("/sse/post?key=" + key + "&count=1&cut_after=1&cut_times=1&end=done")},
                      {"sse.end_data", "[DONE]"},
                      {"reconnect.initial_ms", "10"},
                      {"reconnect.max_ms", "50"}});
  auto events = s.until_end();
  EXPECT_EQ(data_of(events).size(), 2u);
  auto log = peer_log(http_peer(), key);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0]["method"], "GET");
  EXPECT_EQ(log[0]["content-type"], "");
}

TEST(SseComments, AreDeliveredAsCommentEventsOnlyWhenEnabled) {
  std::string body = ": hello\n:world\ndata: x\n\n: bye\n";
  for (bool enabled : {false, true}) {
    Runtime rt;
    Stream s(rt.get(), {{"transport", "sse"},
                        {"url", http_peer().url("/sse/raw?key=" + unique_key() + "&body=" + url_encode(body))},
                        {"sse.comments", enabled ? "true" : "false"},
                        {"reconnect.initial_ms", "5000"}});
    std::vector<Received> got;
    Received r;
    size_t want = enabled ? 4 : 1;
    while (got.size() < want && s.next(r) == TW_OK) got.push_back(r);
    ASSERT_EQ(got.size(), want);
    if (enabled) {
      EXPECT_EQ(got[0].kind, TW_KIND_COMMENT);
      EXPECT_EQ(got[0].data, "hello");
      EXPECT_EQ(got[1].data, "world");
      EXPECT_EQ(got[2].kind, TW_KIND_MESSAGE);
      EXPECT_EQ(got[3].kind, TW_KIND_COMMENT);
      EXPECT_EQ(got[3].data, "bye");
      EXPECT_EQ(s.stat("comments"), 3u);
    } else {
      EXPECT_EQ(got[0].kind, TW_KIND_MESSAGE);
      EXPECT_EQ(s.stat("comments"), 0u);
    }
    EXPECT_EQ(s.stat("messages"), 1u);
  }
}

}  // namespace
}  // namespace tidewire::test
