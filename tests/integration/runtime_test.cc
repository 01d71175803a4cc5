// The runtime and stream lifecycle over the C ABI: shutdown with streams open, close and wake-up
// from other threads, the readiness fd, configuration errors, the log hook.
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "harness.h"

namespace tidewire::test {
namespace {

using Clock = std::chrono::steady_clock;

Settings held_sse() { return {{"transport", "sse"}, {"url", http_peer().url("/sse?key=" + unique_key() + "&count=1&hold=1")}}; }

TEST(Runtime, DestroyWithOpenStreamsReturnsPromptlyAndEndsThemCleanly) {
  Runtime rt;
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < 4; i++) streams.push_back(std::make_unique<Stream>(rt.get(), held_sse()));
  for (int i = 0; i < 3; i++)
    streams.push_back(std::make_unique<Stream>(
        rt.get(), Settings{{"transport", "longpoll"},
                           {"url", http_peer().url("/longpoll?key=" + unique_key() + "&publish_every_ms=100000")},
                           {"longpoll.cursor_header", "X-Consul-Index"},
                           {"longpoll.cursor_param", "index"}}));
  for (int i = 0; i < 3; i++)
    streams.push_back(std::make_unique<Stream>(
        rt.get(), Settings{{"transport", "poll"}, {"url", http_peer().url("/poll/etag?key=" + unique_key())}}));
  for (auto& s : streams) ASSERT_EQ(s->messages(1).size(), 1u);

  auto start = Clock::now();
  rt.destroy();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
  for (auto& s : streams) {
    EXPECT_TRUE(tw_stream_ended(s->get()));
    Received r;
    EXPECT_EQ(s->next(r, 0), TW_ERR_CLOSED);
    EXPECT_EQ(s->failure(), nullptr);
  }
}

TEST(Runtime, StreamsOutliveTheirRuntimeAndOpeningAfterShutdownFails) {
  tw_runtime* rt = nullptr;
  ASSERT_EQ(tw_runtime_create(&rt), TW_OK);
  auto s = std::make_unique<Stream>(rt, held_sse());
  tw_runtime_destroy(rt);
  tw_stream_close(s->get());  // harmless after the runtime is gone
  Received r;
  EXPECT_EQ(s->next(r, 1000), TW_ERR_CLOSED);
}

TEST(Runtime, ManyCreateDestroyCyclesWork) {
  for (int i = 0; i < 5; i++) {
    Runtime rt;
    Stream s(rt.get(), held_sse());
    ASSERT_EQ(s.messages(1).size(), 1u);
  }
}

TEST(Stream, CloseFromAnotherThreadEndsABlockedNext) {
  Runtime rt;
  Stream s(rt.get(), held_sse());
  ASSERT_EQ(s.messages(1).size(), 1u);
  std::thread closer([&] { tw_stream_close(s.get()); });
  auto start = Clock::now();
  Received r;
  EXPECT_EQ(s.next(r, 10000), TW_ERR_CLOSED);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  closer.join();
  EXPECT_EQ(s.failure(), nullptr);
  tw_stream_close(s.get());  // idempotent
}

TEST(Stream, WakeupInterruptsABlockedNext) {
  Runtime rt;
  Stream s(rt.get(), held_sse());
  ASSERT_EQ(s.messages(1).size(), 1u);
  std::thread waker([&] { tw_stream_wakeup(s.get()); });
  Received r;
  EXPECT_EQ(s.next(r, 10000), TW_ERR_WAKEUP);
  waker.join();
  EXPECT_EQ(s.next(r, 0), TW_ERR_TIMEOUT);
}

TEST(Stream, FdIsReadableExactlyWhileEventsWaitOrTheStreamHasEnded) {
  Runtime rt;
  Stream s(rt.get(), {{"transport", "sse"}, {"url", http_peer().url("/sse?key=" + unique_key() + "&count=3&hold=1")}});
  int fd = tw_stream_fd(s.get());
  ASSERT_GE(fd, 0);
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  ASSERT_TRUE(eventually([&] { return s.stat("messages") == 3; }));
  tw_event* batch[8];
  size_t n = 0;
  ASSERT_EQ(tw_stream_next_batch(batch, &n, s.get(), 8, 1000), TW_OK);
  EXPECT_EQ(n, 3u);
  for (size_t i = 0; i < n; i++) {
    EXPECT_EQ(std::string(tw_event_id(batch[i])), std::to_string(i + 1));
    tw_event_destroy(batch[i]);
  }
  p.revents = 0;
  EXPECT_EQ(::poll(&p, 1, 0), 0);  // drained: not readable
  tw_stream_close(s.get());
  EXPECT_EQ(::poll(&p, 1, 5000), 1);  // ended: readable again
  Received r;
  EXPECT_EQ(s.next(r, 0), TW_ERR_CLOSED);
}

TEST(Stream, StatusEventsReportOpenReconnectingAndClosed) {
  Runtime rt;
  Stream s(rt.get(), {{"transport", "sse"},
                      {"url", http_peer().url("/sse?key=" + unique_key() + "&count=2&cut_every=1")},
                      {"reconnect.initial_ms", "10"},
                      {"reconnect.max_ms", "20"},
                      {"status_events", "true"}});
  std::vector<tw_kind> kinds;
  Received r;
  int messages = 0;
  while (messages < 2 && s.next(r) == TW_OK) {
    kinds.push_back(r.kind);
    if (r.kind == TW_KIND_MESSAGE) messages++;
  }
  tw_stream_close(s.get());
  for (const auto& e : s.until_end()) kinds.push_back(e.kind);
  ASSERT_GE(kinds.size(), 6u);
  EXPECT_EQ(kinds[0], TW_KIND_OPEN);
  EXPECT_EQ(kinds[1], TW_KIND_MESSAGE);
  EXPECT_EQ(kinds[2], TW_KIND_RECONNECTING);
  EXPECT_EQ(kinds[3], TW_KIND_OPEN);
  EXPECT_EQ(kinds[4], TW_KIND_MESSAGE);
  EXPECT_EQ(kinds.back(), TW_KIND_CLOSED);
}

TEST(Config, UnknownKeyNamesTheKey) {
  tw_config* c = nullptr;
  ASSERT_EQ(tw_config_create(&c), TW_OK);
  EXPECT_EQ(tw_config_set(c, "reconnect.maxms", "5"), TW_ERR_UNKNOWN_KEY);
  EXPECT_NE(std::string(tw_last_error_message()).find("reconnect.maxms"), std::string::npos);
  EXPECT_EQ(tw_config_set(c, "reconnect.max_ms", "-5"), TW_ERR_INVALID_VALUE);
  std::string message = tw_last_error_message();
  EXPECT_NE(message.find("reconnect.max_ms"), std::string::npos);
  EXPECT_NE(message.find("0..86400000"), std::string::npos);
  EXPECT_EQ(tw_config_set(c, "queue.overflow", "block"), TW_ERR_INVALID_VALUE);
  EXPECT_NE(std::string(tw_last_error_message()).find("pause|drop_oldest"), std::string::npos);
  char* value = nullptr;
  ASSERT_EQ(tw_config_get(&value, c, "reconnect.max_ms"), TW_OK);
  EXPECT_STREQ(value, "30000");  // unchanged by the rejected set
  tw_free(value);
  tw_config_destroy(c);
}

TEST(Config, OpenChecksKeysThatDependOnEachOther) {
  Runtime rt;
  tw_config* c = nullptr;
  tw_stream* s = nullptr;
  ASSERT_EQ(tw_config_create(&c), TW_OK);
  EXPECT_EQ(tw_stream_open(&s, rt.get(), c), TW_ERR_INVALID_VALUE);
  EXPECT_NE(std::string(tw_last_error_message()).find("url"), std::string::npos);
  ASSERT_EQ(tw_config_set(c, "url", "http://127.0.0.1:1/x"), TW_OK);
  EXPECT_EQ(tw_stream_open(&s, rt.get(), c), TW_ERR_INVALID_VALUE);
  EXPECT_NE(std::string(tw_last_error_message()).find("transport"), std::string::npos);
  ASSERT_EQ(tw_config_set(c, "transport", "longpoll"), TW_OK);
  ASSERT_EQ(tw_config_set(c, "longpoll.cursor_header", "X-Index"), TW_OK);
  EXPECT_EQ(tw_stream_open(&s, rt.get(), c), TW_ERR_INVALID_VALUE);
  EXPECT_NE(std::string(tw_last_error_message()).find("longpoll.cursor_param"), std::string::npos);
  EXPECT_EQ(s, nullptr);
  tw_config_destroy(c);
}

TEST(Stream, SendOnAPullStreamSaysWhichTransportCannotSend) {
  Runtime rt;
  Stream s(rt.get(), held_sse());
  EXPECT_EQ(tw_stream_send(s.get(), "x", 1, 0), TW_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(tw_last_error_message()).find("sse"), std::string::npos);
  uint64_t v;
  EXPECT_EQ(tw_stream_stat(&v, s.get(), "nope"), TW_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tw_last_error_message()).find("nope"), std::string::npos);
}

struct LogCapture {
  std::mutex mutex;
  std::vector<std::string> lines;
  static void hook(void* user, tw_log_level, const char* message) {
    auto* self = static_cast<LogCapture*>(user);
    std::lock_guard<std::mutex> lock(self->mutex);
    self->lines.emplace_back(message);
  }
  bool contains(const std::string& text) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
};

TEST(Log, HookReceivesTidewireAndLibwebsocketsMessages) {
  LogCapture capture;
  tw_log_set(TW_LOG_DEBUG, LogCapture::hook, &capture);
  {
    Runtime rt;
    Stream s(rt.get(), {{"transport", "sse"}, {"url", http_peer().url("/sse/status?key=" + unique_key() + "&code=401")}});
    s.until_end();
  }
  tw_log_set(TW_LOG_WARN, nullptr, nullptr);
  EXPECT_TRUE(capture.contains("answered HTTP 401"));
  EXPECT_TRUE(capture.contains("lws: "));
}

}  // namespace
}  // namespace tidewire::test
