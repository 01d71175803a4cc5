// Controlling a running stream from another thread: tw_stream_restart, tw_stream_set_header, and
// waiting for new credentials after a 401 (reconnect.on_auth_failure=wait).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "harness.h"

namespace tidewire::test {
namespace {

// A backoff far longer than any test: a reconnect that happens at once was not a backoff's.
const Settings kSlowBackoff = {{"reconnect.initial_ms", "30000"}, {"reconnect.max_ms", "30000"}};

Settings with(Settings base, const Settings& extra) {
  base.insert(base.end(), extra.begin(), extra.end());
  base.insert(base.end(), kSlowBackoff.begin(), kSlowBackoff.end());
  return base;
}

TEST(Restart, ReconnectsAtOnceResumingFromTheLastEventId) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), with({{"transport", "sse"}, {"url", http_peer().url("/sse?key=" + key + "&count=3&hold=1")}},
                          {{"status_events", "true"}}));
  auto events = s.messages(3);
  ASSERT_EQ(events.size(), 3u);
  ASSERT_EQ(tw_stream_restart(s.get()), TW_OK) << tw_last_error_message();
  ASSERT_TRUE(eventually([&] { return peer_log(http_peer(), key).size() == 2; }));
  auto log = peer_log(http_peer(), key);
  EXPECT_EQ(log[1]["last-event-id"], "3");
  // The new connection is announced like any other.
  Received r;
  bool reopened = false;
  while (!reopened && s.next(r) == TW_OK) reopened = r.kind == TW_KIND_OPEN;
  EXPECT_TRUE(reopened);
  EXPECT_EQ(s.stat("errors"), 0u);
}

TEST(Restart, PollsAtOnceKeepingTheETag) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), with({{"transport", "poll"}, {"url", http_peer().url("/poll/etag?key=" + key + "&changes_every=0")}},
                          {{"poll.interval_ms", "60000"}}));
  ASSERT_EQ(s.messages(1).size(), 1u);
  ASSERT_EQ(tw_stream_restart(s.get()), TW_OK);
  ASSERT_TRUE(eventually([&] { return s.stat("not_modified") == 1; }));
  auto log = peer_log(http_peer(), key);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1]["if-none-match"], "\"v0\"");
}

TEST(SetHeader, AppliesFromTheNextRequestAndNullRemovesIt) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), with({{"transport", "poll"}, {"url", http_peer().url("/poll/plain?key=" + key + "&changes_every=1")}},
                          {{"poll.interval_ms", "60000"}, {"header.X-Test", "one"}}));
  ASSERT_EQ(s.messages(1).size(), 1u);
  ASSERT_EQ(tw_stream_set_header(s.get(), "x-test", "two"), TW_OK) << tw_last_error_message();
  ASSERT_EQ(tw_stream_restart(s.get()), TW_OK);
  ASSERT_EQ(s.messages(1).size(), 1u);
  ASSERT_EQ(tw_stream_set_header(s.get(), "X-Test", nullptr), TW_OK);
  ASSERT_EQ(tw_stream_restart(s.get()), TW_OK);
  ASSERT_EQ(s.messages(1).size(), 1u);
  auto log = peer_log(http_peer(), key);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0]["x-test"], "one");
  EXPECT_EQ(log[1]["x-test"], "two");
  EXPECT_EQ(log[2]["x-test"], "");
}

// A running poll reuses its copy of the headers while they do not change: a change made from
// another thread while polls go out is carried by every request after the first that has it.
TEST(SetHeader, ReachesARunningPollWithoutRestart) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), with({{"transport", "poll"}, {"url", http_peer().url("/poll/plain?key=" + key + "&changes_every=0")}},
                          {{"poll.interval_ms", "5"}, {"header.X-Test", "one"}}));
  ASSERT_TRUE(eventually([&] { return peer_log(http_peer(), key).size() >= 3; }));
  ASSERT_EQ(tw_stream_set_header(s.get(), "X-Test", "two"), TW_OK) << tw_last_error_message();
  ASSERT_TRUE(eventually([&] {
    auto log = peer_log(http_peer(), key);
    return log.size() >= 2 && log[log.size() - 1]["x-test"] == "two" && log[log.size() - 2]["x-test"] == "two";
  }));
  ASSERT_EQ(tw_stream_set_header(s.get(), "X-Test", nullptr), TW_OK);
  ASSERT_TRUE(eventually([&] {
    auto log = peer_log(http_peer(), key);
    return log.size() >= 2 && log[log.size() - 1]["x-test"].empty() && log[log.size() - 2]["x-test"].empty();
  }));
  // one, then two, then none: never back to an older value.
  auto log = peer_log(http_peer(), key);
  int phase = 0;
  for (auto& request : log) {
    int p = request["x-test"] == "one" ? 0 : request["x-test"] == "two" ? 1 : 2;
    EXPECT_GE(p, phase);
    phase = std::max(phase, p);
  }
  EXPECT_EQ(phase, 2);
}

TEST(SetHeader, RefusesBadNamesAndValuesWithoutShowingTheValue) {
  Runtime rt;
  Stream s(rt.get(), with({{"transport", "sse"}, {"url", http_peer().url("/sse?key=" + unique_key() + "&hold=1")}}, {}));
  EXPECT_EQ(tw_stream_set_header(s.get(), "Bad Name", "x"), TW_ERR_UNKNOWN_KEY);
  EXPECT_EQ(tw_stream_set_header(s.get(), "Authorization", "Bearer s3cret\r\nX-Evil: 1"), TW_ERR_INVALID_VALUE);
  std::string message = tw_last_error_message();
  EXPECT_NE(message.find("header.Authorization"), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
  EXPECT_EQ(tw_stream_set_header(nullptr, "A", "b"), TW_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tw_stream_restart(nullptr), TW_ERR_INVALID_ARGUMENT);
  tw_stream_close(s.get());
  s.until_end();
  EXPECT_EQ(tw_stream_restart(s.get()), TW_ERR_CLOSED);
  EXPECT_EQ(tw_stream_set_header(s.get(), "A", "b"), TW_ERR_CLOSED);
}

Settings token_stream(const std::string& key, Settings extra) {
  return with({{"transport", "sse"},
               {"url", http_peer().url("/sse/token?key=" + key + "&count=6&cut_every=3&old=old&new=new&old_uses=1")},
               {"header.Authorization", "Bearer old"},
               {"reconnect.on_auth_failure", "wait"}},
              extra);
}

TEST(AuthWait, NewTokenFromAnotherThreadLetsTheStreamGoOnWithoutLosingAnEvent) {
  Runtime rt;
  std::string key = unique_key();
  // The first cut is an ordinary reconnect: the backoff is short here, the wait is not.
  Settings settings = token_stream(key, {{"reconnect.auth_wait_ms", "30000"}});
  settings.push_back({"reconnect.initial_ms", "10"});
  settings.push_back({"reconnect.max_ms", "50"});
  Stream s(rt.get(), settings);
  std::vector<std::string> ids;
  Received r;
  int auth_required = 0;
  std::thread rotator;
  while (ids.size() < 6 && s.next(r) == TW_OK) {
    if (r.kind == TW_KIND_MESSAGE) ids.push_back(r.id);
    if (r.kind == TW_KIND_AUTH_REQUIRED) {
      auth_required++;
      EXPECT_EQ(r.http_status, 401);
      rotator = std::thread([&] { EXPECT_EQ(tw_stream_set_header(s.get(), "Authorization", "Bearer new"), TW_OK); });
    }
  }
  if (rotator.joinable()) rotator.join();
  EXPECT_EQ(auth_required, 1);
  EXPECT_EQ(ids, (std::vector<std::string>{"1", "2", "3", "4", "5", "6"}));
  auto log = peer_log(http_peer(), key);
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(log[1]["authorization"], "Bearer old");
  EXPECT_EQ(log[2]["authorization"], "Bearer new");
  EXPECT_EQ(log[2]["last-event-id"], "3");
}

TEST(AuthWait, WithoutNewCredentialsInTimeTheStreamEndsWithThe401) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), with({{"transport", "sse"},
                           {"url", http_peer().url("/sse/token?key=" + key + "&old=x&new=y")},
                           {"reconnect.on_auth_failure", "wait"},
                           {"reconnect.auth_wait_ms", "200"}},
                          {}));
  auto events = s.until_end();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, TW_KIND_AUTH_REQUIRED);
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_HTTP_STATUS);
  EXPECT_EQ(tw_event_http_status(failure.get()), 401);
  EXPECT_EQ(peer_log(http_peer(), key).size(), 1u);
}

TEST(AuthWait, RestartRetriesOnceWithTheSameCredentials) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), with({{"transport", "sse"},
                           {"url", http_peer().url("/sse/token?key=" + key + "&old=x&new=y")},
                           {"reconnect.on_auth_failure", "wait"},
                           {"reconnect.auth_wait_ms", "30000"}},
                          {}));
  Received r;
  ASSERT_EQ(s.next(r), TW_OK);
  ASSERT_EQ(r.kind, TW_KIND_AUTH_REQUIRED);
  ASSERT_EQ(tw_stream_restart(s.get()), TW_OK);
  ASSERT_EQ(s.next(r), TW_OK);
  EXPECT_EQ(r.kind, TW_KIND_AUTH_REQUIRED);
  EXPECT_EQ(peer_log(http_peer(), key).size(), 2u);
}

TEST(AuthWait, FatalIsTheDefault) {
  Runtime rt;
  Stream s(rt.get(), with({{"transport", "sse"}, {"url", http_peer().url("/sse/token?key=" + unique_key() + "&old=x&new=y")}},
                          {}));
  auto events = s.until_end();
  EXPECT_TRUE(events.empty());
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_http_status(failure.get()), 401);
}

}  // namespace
}  // namespace tidewire::test
