// The C++ layer (tidewire.hpp) against the HTTP test peer: ownership, iteration, errors and the
// calls that turn C results into optionals and exceptions.
#include <gtest/gtest.h>
#include <tidewire/tidewire.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "peer.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using tidewire::test::Peer;
using tidewire::test::peer_script;
using tidewire::test::unique_key;

Peer& peer() {
  static Peer instance(peer_script("http_peer.py"));
  return instance;
}

tidewire::Config sse_config(const std::string& path_and_query) {
  tidewire::Config config;
  config.set("transport", "sse")
      .set("url", peer().url(path_and_query + "&key=" + unique_key()))
      .set("reconnect.initial_ms", "10")
      .set("reconnect.max_ms", "50");
  return config;
}

// Bounds a test that blocks in range-for (which waits with no limit): closes the stream if the
// test is not done with it within `limit`. fired() then says the test ran out of time.
class CloseAfter {
 public:
  CloseAfter(tidewire::Stream& stream, std::chrono::milliseconds limit)
      : thread_([this, &stream, limit] {
          std::unique_lock<std::mutex> lock(mutex_);
          if (!done_cv_.wait_for(lock, limit, [this] { return done_; })) {
            fired_ = true;
            stream.close();
          }
        }) {}
  ~CloseAfter() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }
  bool fired() const { return fired_; }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::atomic<bool> fired_{false};
  std::thread thread_;  // last: starts once the members it uses exist
};

std::string sse_data(int i) { return "{\"i\":" + std::to_string(i) + "}"; }

TEST(CppConfig, SetChainsAndGetReturnsValuesAndDefaults) {
  tidewire::Config config;
  config.set("transport", "sse").set("reconnect.max_ms", "250").set("header.X-Test", "abc");
  EXPECT_EQ(config.get("transport"), "sse");
  EXPECT_EQ(config.get("reconnect.max_ms"), "250");
  EXPECT_EQ(config.get("header.x-test"), "abc");
  EXPECT_EQ(config.get("reconnect.initial_ms"), "1000");
  EXPECT_EQ(config.get("header.Unset"), "");
  EXPECT_THROW(config.set("reconnect_max_ms", "300"), tidewire::Error) << "given twice, as its alias";
  EXPECT_EQ(config.unset("reconnect.max_ms").set("reconnect_max_ms", "5s").get("reconnect.max_ms"), "5000");
}

TEST(CppConfig, UnknownKeyThrowsErrorNamingTheKey) {
  tidewire::Config config;
  try {
    config.set("reconnect.max_msec", "10");
    FAIL() << "expected tidewire::Error";
  } catch (const tidewire::Error& e) {
    EXPECT_EQ(e.code(), TW_ERR_UNKNOWN_KEY);
    EXPECT_NE(std::string(e.what()).find("reconnect.max_msec"), std::string::npos) << e.what();
  }
  EXPECT_THROW(config.get("reconnect.max_msec"), tidewire::Error);
}

TEST(CppConfig, InvalidValueThrowsErrorNamingTheKeyAndLeavesTheValue) {
  tidewire::Config config;
  config.set("reconnect.max_ms", "250");
  try {
    config.set("reconnect.max_ms", "soon");
    FAIL() << "expected tidewire::Error";
  } catch (const tidewire::Error& e) {
    EXPECT_EQ(e.code(), TW_ERR_INVALID_VALUE);
    EXPECT_NE(std::string(e.what()).find("reconnect.max_ms"), std::string::npos) << e.what();
  }
  EXPECT_EQ(config.get("reconnect.max_ms"), "250");
}

TEST(CppConfig, OpeningWithoutUrlThrowsErrorNamingUrl) {
  tidewire::Runtime runtime;
  tidewire::Config config;
  config.set("transport", "sse");
  try {
    tidewire::Stream stream(runtime, config);
    FAIL() << "expected tidewire::Error";
  } catch (const tidewire::Error& e) {
    EXPECT_EQ(e.code(), TW_ERR_INVALID_VALUE);
    EXPECT_NE(std::string(e.what()).find("url"), std::string::npos) << e.what();
  }
}

TEST(CppStream, RangeForYieldsSseEventsInOrderAndEndsAfterClose) {
  tidewire::Runtime runtime;
  tidewire::Stream stream(runtime, sse_config("/sse?count=5&hold=1"));
  CloseAfter limit(stream, 10s);
  std::vector<tidewire::Event> events;
  for (auto& event : stream) {
    events.push_back(std::move(event));
    if (events.size() == 5) stream.close();
  }
  EXPECT_FALSE(limit.fired()) << "the loop did not end by itself";
  ASSERT_EQ(events.size(), 5u);
  for (int i = 1; i <= 5; i++) {
    const tidewire::Event& event = events[static_cast<size_t>(i - 1)];
    EXPECT_EQ(event.kind(), TW_KIND_MESSAGE);
    EXPECT_EQ(event.transport(), TW_TRANSPORT_SSE);
    EXPECT_EQ(event.id(), std::to_string(i));
    EXPECT_EQ(event.type(), "message");
    EXPECT_EQ(event.data(), sse_data(i));
    EXPECT_GT(event.received_ns(), 0);
  }
  EXPECT_TRUE(stream.ended());
  EXPECT_FALSE(stream.failure());
}

TEST(CppStream, SetHeaderAndRestartReachTheServerAndThrowAfterTheEnd) {
  tidewire::Runtime runtime;
  tidewire::Config config;
  const std::string key = unique_key();
  config.set("transport", "sse").set("url", peer().url("/sse?count=2&hold=1&key=" + key));
  tidewire::Stream stream(runtime, config);
  CloseAfter limit(stream, 10s);
  ASSERT_TRUE(stream.next(5s));
  ASSERT_TRUE(stream.next(5s));
  stream.set_header("X-Test", "rotated");
  stream.restart();
  std::vector<std::map<std::string, std::string>> log;
  for (auto deadline = Clock::now() + 5s; Clock::now() < deadline && log.size() < 2;
       std::this_thread::sleep_for(5ms))
    log = tidewire::test::parse_log(tidewire::test::http_get(peer().port(), "/_log?key=" + key).body);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1]["x-test"], "rotated");
  EXPECT_EQ(log[1]["last-event-id"], "2");
  EXPECT_THROW(stream.set_header("Bad Name", "x"), tidewire::Error);
  stream.close();
  while (stream.next(5s)) {
  }
  EXPECT_THROW(stream.restart(), tidewire::Error);
}

TEST(CppStream, FailureReportsHttp401AfterTheIterationEnds) {
  tidewire::Runtime runtime;
  tidewire::Stream stream(runtime, sse_config("/sse/status?code=401"));
  CloseAfter limit(stream, 10s);
  size_t yielded = 0;
  for (auto& event : stream) {
    (void)event;
    yielded++;
  }
  EXPECT_FALSE(limit.fired());
  EXPECT_EQ(yielded, 0u);
  EXPECT_TRUE(stream.ended());
  std::optional<tidewire::Event> failure = stream.failure();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind(), TW_KIND_ERROR);
  EXPECT_EQ(failure->error(), TW_ERR_HTTP_STATUS);
  EXPECT_EQ(failure->http_status(), 401);
  EXPECT_FALSE(failure->data().empty());
}

TEST(CppStream, RangeForYieldsStatusEventsWhenAskedEndingWithTheError) {
  tidewire::Runtime runtime;
  tidewire::Config config = sse_config("/sse/status?code=401");
  config.set("status_events", "true");
  tidewire::Stream stream(runtime, config);
  CloseAfter limit(stream, 10s);
  std::vector<tidewire::Event> events;
  for (auto& event : stream) events.push_back(std::move(event));
  EXPECT_FALSE(limit.fired());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind(), TW_KIND_ERROR);
  EXPECT_EQ(events.back().http_status(), 401);
}

TEST(CppStream, NextReturnsNulloptWhenASilentStreamTimesOut) {
  tidewire::Runtime runtime;
  tidewire::Stream stream(runtime, sse_config("/sse?count=10&silence_after=0"));
  const auto start = Clock::now();
  EXPECT_FALSE(stream.next(150ms));
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, 140ms);
  EXPECT_LT(waited, 5s);
  EXPECT_FALSE(stream.ended());
}

TEST(CppStream, NextReturnsNulloptAtOnceOnceClosedAndDrained) {
  tidewire::Runtime runtime;
  tidewire::Stream stream(runtime, sse_config("/sse?count=1&hold=1"));
  std::optional<tidewire::Event> first = stream.next(10s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->data(), sse_data(1));
  stream.close();
  const auto start = Clock::now();
  EXPECT_FALSE(stream.next(10s));
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_TRUE(stream.ended());
  EXPECT_FALSE(stream.failure());
}

TEST(CppStream, WakeupEndsIterationWithoutEndingTheStream) {
  tidewire::Runtime runtime;
  tidewire::Stream stream(runtime, sse_config("/sse?count=10&silence_after=0"));
  CloseAfter limit(stream, 10s);
  stream.wakeup();
  size_t yielded = 0;
  for (auto& event : stream) {
    (void)event;
    yielded++;
  }
  EXPECT_FALSE(limit.fired());
  EXPECT_EQ(yielded, 0u);
  EXPECT_FALSE(stream.ended());
}

TEST(CppStream, NextBatchAppendsAtMostMaxEventsInOrder) {
  tidewire::Runtime runtime;
  tidewire::Stream stream(runtime, sse_config("/sse?count=5&hold=1"));
  std::vector<tidewire::Event> events;
  const auto give_up = Clock::now() + 10s;
  while (events.size() < 5 && Clock::now() < give_up) {
    const size_t before = events.size();
    const size_t appended = stream.next_batch(events, 3, 1s);
    EXPECT_LE(appended, 3u);
    EXPECT_EQ(events.size(), before + appended);
  }
  ASSERT_EQ(events.size(), 5u);
  for (int i = 1; i <= 5; i++) EXPECT_EQ(events[static_cast<size_t>(i - 1)].data(), sse_data(i));

  EXPECT_EQ(stream.next_batch(events, 3, 50ms), 0u);
  stream.close();
  EXPECT_EQ(stream.next_batch(events, 3, 10s), 0u);
  EXPECT_TRUE(stream.ended());
  EXPECT_EQ(events.size(), 5u);
  stream.recycle(events);
  EXPECT_TRUE(events.empty());
}

TEST(CppStream, StatsHasEveryStatisticTheCoreNames) {
  tidewire::Runtime runtime;
  tidewire::Stream stream(runtime, sse_config("/sse?count=3&hold=1"));
  for (int i = 0; i < 3; i++) ASSERT_TRUE(stream.next(10s)) << "event " << i;

  const std::map<std::string, uint64_t> stats = stream.stats();
  std::set<std::string> expected;
  for (size_t i = 0; tw_stat_name(i); i++) expected.insert(tw_stat_name(i));
  std::set<std::string> names;
  for (const auto& entry : stats) names.insert(entry.first);
  EXPECT_EQ(names, expected);
  EXPECT_EQ(stats.at("messages"), 3u);
  EXPECT_EQ(stream.stat("messages"), 3u);

  try {
    stream.stat("no_such_stat");
    FAIL() << "expected tidewire::Error";
  } catch (const tidewire::Error& e) {
    EXPECT_EQ(e.code(), TW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("no_such_stat"), std::string::npos) << e.what();
  }
}

TEST(CppStream, UrlIsTheConfiguredOneAndSendOnSseThrowsUnsupported) {
  tidewire::Runtime runtime;
  tidewire::Config config = sse_config("/sse?count=1&hold=1");
  tidewire::Stream stream(runtime, config);
  EXPECT_EQ(stream.url(), config.get("url"));
  try {
    stream.send("hello");
    FAIL() << "expected tidewire::Error";
  } catch (const tidewire::Error& e) {
    EXPECT_EQ(e.code(), TW_ERR_UNSUPPORTED);
    EXPECT_NE(std::string(e.what()).find("sse"), std::string::npos) << e.what();
  }
}

TEST(CppStream, MovedStreamKeepsItsEventsAndTheMovedFromOneIsEmpty) {
  tidewire::Runtime runtime;
  tidewire::Stream first(runtime, sse_config("/sse?count=2&hold=1"));
  ASSERT_TRUE(first.next(10s));
  tidewire::Stream second = std::move(first);
  EXPECT_EQ(first.native_handle(), nullptr);
  std::optional<tidewire::Event> event = second.next(10s);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->data(), sse_data(2));
}

TEST(CppEvent, ExposesPollResponseHeadersByNameAndInOrder) {
  tidewire::Runtime runtime;
  tidewire::Config config;
  config.set("transport", "poll")
      .set("url", peer().url("/poll/etag?changes_every=100&key=" + unique_key()))
      .set("poll.expose_headers", "X-Custom");
  tidewire::Stream stream(runtime, config);
  std::optional<tidewire::Event> event = stream.next(10s);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->transport(), TW_TRANSPORT_POLL);
  EXPECT_EQ(event->type(), "change");
  EXPECT_EQ(event->data(), R"({"version":0})");
  EXPECT_EQ(event->header("X-Custom"), "custom-0");
  EXPECT_EQ(event->header("etag"), "\"v0\"");
  EXPECT_EQ(event->header("x-absent"), std::nullopt);

  const auto headers = event->headers();
  ASSERT_EQ(headers.size(), tw_event_header_count(event->native_handle()));
  for (size_t i = 0; i < headers.size(); i++) {
    const char* name = nullptr;
    const char* value = nullptr;
    ASSERT_EQ(tw_event_header_at(&name, &value, event->native_handle(), i), TW_OK);
    EXPECT_EQ(headers[i].first, name);
    EXPECT_EQ(headers[i].second, value);
  }
  const std::pair<std::string_view, std::string_view> custom("x-custom", "custom-0");
  EXPECT_NE(std::find(headers.begin(), headers.end(), custom), headers.end());
}

TEST(CppEvent, EmptyEventIsFalseAndReleaseGivesUpOwnership) {
  tidewire::Event empty;
  EXPECT_FALSE(empty);
  EXPECT_EQ(empty.data(), "");

  tidewire::Runtime runtime;
  tidewire::Stream stream(runtime, sse_config("/sse?count=1&hold=1"));
  std::optional<tidewire::Event> event = stream.next(10s);
  ASSERT_TRUE(event);
  EXPECT_TRUE(*event);
  tw_event* raw = event->release();
  EXPECT_FALSE(*event);
  EXPECT_EQ(std::string_view(tw_event_data(raw)), sse_data(1));
  tw_event_destroy(raw);
}

}  // namespace

namespace {

TEST(CppStream, StateAndLastErrorTellAFailingStreamFromAWaitingOne) {
  tidewire::Runtime runtime;
  tidewire::Stream stream(runtime, sse_config("/framework404?from=cpp"));
  CloseAfter limit(stream, 10s);
  for (auto& event : stream) (void)event;  // ends at once: a 404 is fatal
  EXPECT_FALSE(limit.fired());
  EXPECT_EQ(stream.state(), TW_STATE_ENDED);
  EXPECT_EQ(stream.last_error(), "http://127.0.0.1:" + std::to_string(peer().port()) +
                                     "/framework404?REDACTED answered HTTP 404 Not Found");
  EXPECT_EQ(stream.stat("attempts"), 1u);
}

}  // namespace
