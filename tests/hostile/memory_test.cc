// Memory ceilings under hostile input: a peer must not be able to grow the client's memory without
// a bound. Each scenario runs in a child forked before any runtime exists, so each has its own
// peak: the child resets its peak RSS (VmHWM) after the fork, runs the scenario, and reports the
// peak over its starting RSS. Every flood is sized so that a client without the limit would
// exceed the bound several times over (and a child whose RSS passes the hard cap stops early).
//
// Under AddressSanitizer or ThreadSanitizer RSS says nothing about the code under test (shadow
// memory, quarantine, redzones, history buffers), so these cases are compiled out entirely in
// sanitizer builds rather than skipped.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TW_HOSTILE_MEMORY_UNMEASURABLE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TW_HOSTILE_MEMORY_UNMEASURABLE 1
#endif
#endif

#ifndef TW_HOSTILE_MEMORY_UNMEASURABLE

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <tidewire/tidewire.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "fault_proxy.h"
#include "peer.h"

namespace tidewire::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr long kBoundKib = 64 * 1024;      // allowed growth of the peak over the child's start
constexpr long kHardCapKib = 384 * 1024;   // a child past this stops at once (the bound is long gone)

struct ChildReport {
  long start_kib = 0;
  long peak_kib = 0;
  int error = 0;             // tw_err the stream ended with (0: still running / none)
  uint64_t queue_peak = 0;
  uint64_t requests = 0;
  int capped = 0;            // stopped at the hard cap
  char message[512] = {0};   // a problem found inside the child
};

void set_message(ChildReport& r, const std::string& m) {
  std::snprintf(r.message, sizeof r.message, "%s", m.c_str());
}

// Runs `scenario` in a forked child and returns what it reported. Bounded by timeout_ms.
ChildReport in_child(const std::function<void(ChildReport&)>& scenario, int timeout_ms = 60000) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ChildReport r;
    reset_peak_rss();
    r.start_kib = memory_status().vm_rss_kib;
    try {
      scenario(r);
    } catch (const std::exception& e) {
      set_message(r, e.what());
    }
    r.peak_kib = memory_status().vm_hwm_kib;
    (void)!::write(fds[1], &r, sizeof r);
    ::_exit(0);
  }
  ::close(fds[1]);
  ChildReport r;
  pollfd p{fds[0], POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0 || ::read(fds[0], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) {
    ::kill(pid, SIGKILL);
    set_message(r, "the child did not report within the time limit");
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return r;
}

// Child-side stream setup: no gtest assertions in a child, problems go into the report.
tw_stream* open_stream(tw_runtime* rt, const std::vector<std::pair<std::string, std::string>>& settings,
                       ChildReport& r) {
  tw_config* cfg = nullptr;
  tw_config_create(&cfg);
  for (const auto& kv : settings) {
    if (tw_config_set(cfg, kv.first.c_str(), kv.second.c_str()) != TW_OK) {
      set_message(r, kv.first + ": " + tw_last_error_message());
      tw_config_destroy(cfg);
      return nullptr;
    }
  }
  tw_stream* s = nullptr;
  if (tw_stream_open(&s, rt, cfg) != TW_OK) set_message(r, std::string("open: ") + tw_last_error_message());
  tw_config_destroy(cfg);
  return s;
}

bool over_cap(const ChildReport& r) { return memory_status().vm_rss_kib - r.start_kib > kHardCapKib; }

// Reads (and discards) until the stream ends, the deadline, or the hard cap.
void consume_until_end(tw_stream* s, ChildReport& r, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    if (over_cap(r)) {
      r.capped = 1;
      return;
    }
    tw_event* e = nullptr;
    tw_err err = tw_stream_next(&e, s, 20);
    if (err == TW_OK) tw_event_destroy(e);
    if (err == TW_ERR_CLOSED) {
      tw_event* f = nullptr;
      if (tw_stream_failure(&f, s) == TW_OK && f) {
        r.error = tw_event_error(f);
        tw_event_destroy(f);
      }
      return;
    }
  }
  set_message(r, "the stream did not end within the time limit");
}

// Never reads: lets the stream run for `ms`, watching the hard cap, then records its stats.
void neglect(tw_stream* s, ChildReport& r, int ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  while (Clock::now() < deadline && !over_cap(r)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  r.capped = over_cap(r) ? 1 : 0;
  tw_stream_stat(&r.queue_peak, s, "queue_peak");
  tw_stream_stat(&r.requests, s, "requests");
}

// Child side: a runtime and a stream of the child's own for `settings`, handed to `drive` (unless
// the open failed, which the report then says), then both torn down.
void with_stream(const std::vector<std::pair<std::string, std::string>>& settings, ChildReport& r,
                 const std::function<void(tw_stream*)>& drive) {
  tw_runtime* rt = nullptr;
  tw_runtime_create(&rt);
  tw_stream* s = open_stream(rt, settings, r);
  if (s) drive(s);
  tw_stream_destroy(s);
  tw_runtime_destroy(rt);
}

void report(const char* name, const ChildReport& r) {
  std::cout << name << ": peak " << (r.peak_kib - r.start_kib) / 1024 << " MiB over a start of " << r.start_kib / 1024
            << " MiB (bound " << kBoundKib / 1024 << " MiB); error=" << tw_err_name(static_cast<tw_err>(r.error))
            << " queue_peak=" << r.queue_peak << " requests=" << r.requests << (r.capped ? " HARD CAP HIT" : "")
            << std::endl;
  ::testing::Test::RecordProperty(std::string(name) + "_peak_mib", std::to_string((r.peak_kib - r.start_kib) / 1024));
}

// Parent side, what every scenario must show: it ran cleanly inside the child, stayed under the hard
// cap, and its peak stayed within the bound. Reports the numbers first, for a failure's context.
void expect_within_bound(const char* name, const ChildReport& r) {
  SCOPED_TRACE(name);
  report(name, r);
  EXPECT_STREQ(r.message, "");
  EXPECT_FALSE(r.capped);
  EXPECT_LE(r.peak_kib - r.start_kib, kBoundKib);
}

TEST(Memory, SseDataFloodWithoutABlankLineEndsAtMaxEventBytes) {
  ChildReport r = in_child([](ChildReport& rep) {
    Peer peer(peer_script("hostile_feed.py"));
    // 256 MiB of `data:` lines that never make an event; a client without an event limit keeps them all.
    with_stream({{"transport", "sse"},
                 {"url", peer.url("/flood?bytes=" + std::to_string(256 << 20))},
                 {"sse.max_event_bytes", std::to_string(1 << 20)}},
                rep, [&](tw_stream* s) { consume_until_end(s, rep, 30000); });
  });
  expect_within_bound("sse data flood", r);
  EXPECT_EQ(r.error, TW_ERR_LIMIT);
}

TEST(Memory, HugeWebSocketMessageEndsAtMaxMessageBytes) {
  ChildReport r = in_child([](ChildReport& rep) {
    Peer peer(peer_script("hostile_ws.py"));
    // One 256 MiB message in 1 MiB fragments against a 1 MiB limit.
    std::string url = "ws://127.0.0.1:" + std::to_string(peer.port()) + "/huge?size=" + std::to_string(256 << 20) +
                      "&frag=" + std::to_string(1 << 20);
    with_stream({{"transport", "ws"}, {"url", url}, {"ws.max_message_bytes", std::to_string(1 << 20)}}, rep,
                [&](tw_stream* s) { consume_until_end(s, rep, 30000); });
  });
  expect_within_bound("huge ws message", r);
  EXPECT_EQ(r.error, TW_ERR_LIMIT);
}

TEST(Memory, CompressedWebSocketBombEndsAtMaxMessageBytes) {
  ChildReport r = in_child([](ChildReport& rep) {
    Peer peer(peer_script("hostile_ws.py"), {"--compression"});
    // 256 MiB that deflate into about 256 KiB on the wire: only the inflated size can bound it.
    std::string url = "ws://127.0.0.1:" + std::to_string(peer.port()) + "/huge?size=" + std::to_string(256 << 20) +
                      "&frag=" + std::to_string(1 << 20);
    with_stream({{"transport", "ws"}, {"url", url}, {"ws.max_message_bytes", std::to_string(1 << 20)}}, rep,
                [&](tw_stream* s) { consume_until_end(s, rep, 30000); });
  });
  expect_within_bound("compressed ws bomb", r);
  EXPECT_EQ(r.error, TW_ERR_LIMIT);
}

TEST(Memory, InstantLongPollAnswersToANeglectingConsumerStayBounded) {
  ChildReport r = in_child([](ChildReport& rep) {
    Peer peer(peer_script("hostile_feed.py"));
    // Every answer at once, 1 MiB, a new cursor: without backpressure 3 s of this is gigabytes.
    with_stream({{"transport", "longpoll"},
                 {"url", peer.url("/instant?size=" + std::to_string(1 << 20))},
                 {"longpoll.cursor_header", "X-Cursor"},
                 {"longpoll.cursor_param", "cursor"},
                 {"queue.max_events", "16"},
                 {"status_events", "true"}},
                rep, [&](tw_stream* s) { neglect(s, rep, 3000); });
  });
  expect_within_bound("instant long-poll answers", r);
  EXPECT_LE(r.queue_peak, 16u + 2u) << "status events count against the queue too";
  EXPECT_LE(r.requests, 16u + 8u) << "requests stop while the queue is full";
}

TEST(Memory, UnchangedInstantLongPollAnswersDoNotFloodTheQueue) {
  ChildReport r = in_child([](ChildReport& rep) {
    Peer peer(peer_script("hostile_feed.py"));
    with_stream({{"transport", "longpoll"},
                 {"url", peer.url("/instant?same=1")},
                 {"longpoll.cursor_header", "X-Cursor"},
                 {"longpoll.cursor_param", "cursor"},
                 {"queue.max_events", "64"},
                 {"status_events", "true"}},
                rep, [&](tw_stream* s) { neglect(s, rep, 2000); });
  });
  expect_within_bound("unchanged instant long-poll answers", r);
  EXPECT_LE(r.queue_peak, 64u + 2u) << "an open event per answer must not pass the queue limit";
  // Nothing new, at once, is not a reason to ask again at once: at most one request per 100 ms.
  EXPECT_LE(r.requests, 2000u / 100u + 5u) << "request flood";
}

TEST(Memory, StatusFloodOfAFailingStreamStaysWithinTheQueueLimit) {
  ChildReport r = in_child([](ChildReport& rep) {
    // A port nobody listens on, retried without delay: a RECONNECTING event per attempt.
    RefusingPort refusing;  // (peer.h) held until the stream is gone
    int port = refusing.port();
    with_stream({{"transport", "sse"},
                 {"url", "http://127.0.0.1:" + std::to_string(port) + "/"},
                 {"reconnect.initial_ms", "0"},
                 {"reconnect.max_ms", "0"},
                 {"queue.max_events", "64"},
                 {"status_events", "true"}},
                rep, [&](tw_stream* s) { neglect(s, rep, 2000); });
  });
  expect_within_bound("status flood", r);
  EXPECT_LE(r.queue_peak, 64u + 2u);
  EXPECT_GE(r.requests, 10u) << "the stream kept retrying";
}

}  // namespace
}  // namespace tidewire::test

#endif  // TW_HOSTILE_MEMORY_UNMEASURABLE
