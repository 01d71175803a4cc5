// The runtime and stream lifecycle over the C ABI: shutdown with streams open, close and wake-up
// from other threads, the readiness fd, configuration errors, the log hook.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "harness.h"

// Test hooks. The test binary's own definitions of these symbols take precedence over libuv's and
// the C++ library's, for the library's calls too; both pass straight through unless a test arms them.
namespace {
std::atomic<int> g_async_send_delay_ms{0};    // delays the next uv_async_send by this much, once
std::atomic<bool> g_async_send_delayed{false};
}  // namespace

extern "C" int uv_async_send(void* handle) {
  using Real = int (*)(void*);
  static Real real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "uv_async_send"));
  if (int ms = g_async_send_delay_ms.exchange(0)) {
    g_async_send_delayed = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
  return real(handle);
}

// Sanitizers bring their own operator new; replacing it there would mix allocators.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TW_TEST_REPLACES_NEW 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TW_TEST_REPLACES_NEW 0
#endif
#endif
#ifndef TW_TEST_REPLACES_NEW
#define TW_TEST_REPLACES_NEW 1
#endif

#if TW_TEST_REPLACES_NEW
namespace {
std::atomic<size_t> g_fail_new_from{0};  // operator new of at least this many bytes throws (0: never)
void* checked_new(std::size_t n) {
  size_t limit = g_fail_new_from.load(std::memory_order_relaxed);
  if (limit && n >= limit) throw std::bad_alloc();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace
void* operator new(std::size_t n) { return checked_new(n); }
void* operator new[](std::size_t n) { return checked_new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#endif

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

// Languages whose strings may hold a NUL hand over lengths: a NUL is refused, never read as the end.
TEST(Config, SetWithLengthsRefusesANulInsteadOfCuttingTheValue) {
  tw_config* c = nullptr;
  ASSERT_EQ(tw_config_create(&c), TW_OK);
  const std::string key = "header.Authorization";
  const std::string secret("Bearer s3cret\0tail", 18);
  EXPECT_EQ(tw_config_set_n(c, key.data(), key.size(), secret.data(), secret.size()), TW_ERR_INVALID_VALUE);
  std::string message = tw_last_error_message();
  EXPECT_NE(message.find("header.Authorization"), std::string::npos) << message;
  EXPECT_NE(message.find("NUL"), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
  const std::string url_key("url\0x", 5);
  EXPECT_EQ(tw_config_set_n(c, url_key.data(), url_key.size(), "http://h/", 9), TW_ERR_UNKNOWN_KEY);
  char* value = nullptr;
  ASSERT_EQ(tw_config_get(&value, c, "url"), TW_OK);
  EXPECT_STREQ(value, "");  // neither call changed anything
  tw_free(value);
  // Without a NUL it is tw_config_set, lengths taken as given (no terminator needed).
  EXPECT_EQ(tw_config_set_n(c, "reconnect.max_msXX", 16, "123456", 4), TW_OK);
  ASSERT_EQ(tw_config_get(&value, c, "reconnect.max_ms"), TW_OK);
  EXPECT_STREQ(value, "1234");
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

TEST(Log, HookReceivesErrorsAndDebugMessages) {
  LogCapture capture;
  tw_log_set(TW_LOG_DEBUG, LogCapture::hook, &capture);
  {
    Runtime rt;
    Stream s(rt.get(), {{"transport", "sse"}, {"url", http_peer().url("/sse/status?key=" + unique_key() + "&code=401")}});
    s.until_end();
  }
  tw_log_set(TW_LOG_WARN, nullptr, nullptr);
  EXPECT_TRUE(capture.contains("answered HTTP 401"));
  EXPECT_TRUE(capture.contains("connected to http://127.0.0.1:"));
}

// post() from another thread, caught between queueing its command and waking the loop, while the
// runtime is destroyed: the wake-up must not reach a loop that has been closed.
TEST(Runtime, DestroyRacingAPostFromAnotherThreadIsSafe) {
  auto rt = std::make_unique<Runtime>();
  auto s = std::make_unique<Stream>(rt->get(), held_sse());
  ASSERT_EQ(s->messages(1).size(), 1u);
  g_async_send_delayed = false;
  g_async_send_delay_ms = 1000;
  std::thread closer([&] { tw_stream_close(s->get()); });
  // EXPECT, not ASSERT: returning here would leave `closer` joinable (std::terminate).
  EXPECT_TRUE(eventually([] { return g_async_send_delayed.load(); }, 5000));
  auto start = Clock::now();
  rt->destroy();
  closer.join();
  g_async_send_delay_ms = 0;  // never left armed for the tests that follow
  // The deliberate 1 s delay + 10 s: catches a destroy that waits on a default timeout (minutes)
  // or for the post, without failing a slow run.
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(1 + 10));
  EXPECT_TRUE(tw_stream_ended(s->get()));
}

#if TW_TEST_REPLACES_NEW
// A bad_alloc inside a loop callback (here: reassembling a 12 MB message while allocations
// of 8 MB or more fail) closes that connection, which reconnects; the process and the runtime's
// other streams carry on.
TEST(Runtime, AnExceptionInALoopCallbackFailsOnlyItsConnection) {
  Peer ws(peer_script("ws_peer.py"));
  std::string base = "ws://127.0.0.1:" + std::to_string(ws.port());
  Runtime rt;
  Stream other(rt.get(), {{"transport", "ws"}, {"url", base + "/push?count=1&key=" + unique_key()}});
  ASSERT_EQ(other.messages(1).size(), 1u);
  g_fail_new_from = 8u << 20;
  Stream big(rt.get(), {{"transport", "ws"},
                        {"url", base + "/big?size=12000000&key=" + unique_key()},
                        {"status_events", "true"},
                        {"reconnect.initial_ms", "10"},
                        {"ws.max_message_bytes", "100000000"}});
  bool reconnecting = false;
  auto deadline = Clock::now() + std::chrono::seconds(15);
  while (!reconnecting && Clock::now() < deadline) {
    Received r;
    if (big.next(r, 1000) == TW_OK && r.kind == TW_KIND_RECONNECTING) reconnecting = true;
  }
  g_fail_new_from = 0;
  EXPECT_TRUE(reconnecting);
  auto messages = big.messages(1, 15000);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].data.size(), 12000000u);
  EXPECT_EQ(tw_stream_send(other.get(), "ping", 4, 0), TW_OK);
}
#endif

}  // namespace
}  // namespace tidewire::test
