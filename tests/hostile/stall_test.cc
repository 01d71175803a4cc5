// Stalls: the proxy stops forwarding (both ways) and keeps the sockets open. Every stall must end
// in a reconnect within its timeout + 1 s, measured on the monotonic clock from the moment the
// proxy stalled to the RECONNECTING status event, and the stream must then go on.
//   SSE: read_timeout_ms bounds silence on an open response. Until the response head is complete
//        the attempt is still connecting, so connect_timeout_ms applies there: both are set to the
//        same value, and the bound is that value + 1 s wherever the stall is.
//   WS:  there is no read timeout; a silent connection is found by the keepalive ping, sent every
//        ws.ping_interval_ms, dropped when no pong came within ws.pong_timeout_ms. A stall starting
//        just after a ping was answered is found at the latest ping_interval + pong_timeout
//        later: the bound is ws.ping_interval_ms + ws.pong_timeout_ms + 1 s.
//   A connect or handshake that never completes is bounded by connect_timeout_ms (+ 1 s).
// The "+ 1 s" is kSlackMs (harness.h), which is 10 s in sanitized builds: there the bounds only
// catch a timeout that never fires.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "fault_proxy.h"
#include "harness.h"

namespace tidewire::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kTimeoutMs = 1000;  // the bounds below add kSlackMs (harness.h): 1 s, or 10 s sanitized

long ms(Clock::duration d) { return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()); }

long ws_id(const std::string& text) {
  size_t p = text.find("{\"i\":");
  return p == std::string::npos ? -1 : std::atol(text.c_str() + p + 5);
}

// Reads until `stalls` RECONNECTING events came (one per stalled connection, in order) and then
// `after` messages more; returns when each RECONNECTING was read. Fails the test on a timeout.
std::vector<Clock::time_point> reconnects(Stream& stream, size_t stalls, size_t after, int timeout_ms,
                                          std::vector<Received>* messages = nullptr) {
  std::vector<Clock::time_point> at;
  size_t later = 0;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while ((at.size() < stalls || later < after) && Clock::now() < deadline) {
    Received r;
    tw_err err = stream.next(r, 100);
    if (err == TW_ERR_TIMEOUT) continue;
    if (err != TW_OK) {
      ADD_FAILURE() << "stream ended: " << tw_err_name(err);
      break;
    }
    if (r.kind == TW_KIND_RECONNECTING) at.push_back(Clock::now());
    if (r.kind == TW_KIND_MESSAGE) {
      if (at.size() >= stalls) later++;
      if (messages) messages->push_back(r);
    }
  }
  EXPECT_EQ(at.size(), stalls);
  EXPECT_EQ(later, after) << "the stream did not go on after the stalls";
  return at;
}

void check_bounds(const FaultProxy& proxy, const std::vector<Clock::time_point>& at, long bound_ms,
                  const char* what) {
  auto conns = proxy.connections();
  for (size_t i = 0; i < at.size() && i < conns.size(); ++i) {
    ASSERT_TRUE(conns[i].triggered) << what << ": connection " << i << " never stalled";
    long took = ms(at[i] - conns[i].triggered_at);
    std::cout << what << ": stall " << i << " ended in a reconnect after " << took << " ms (bound " << bound_ms
              << " ms)" << std::endl;
    EXPECT_GE(took, 0);
    EXPECT_LE(took, bound_ms) << what << ": stall " << i;
  }
}

TEST(Stall, SseStallsAfterTheStatusLineAfterTheHeadAndMidBodyEndInReconnects) {
  Peer peer(peer_script("hostile_feed.py"));
  std::vector<FaultPlan> plans = {
      FaultPlan::after_pattern(Fault::stall, "\r\n", 1, 2),    // after the status line
      FaultPlan::after_pattern(Fault::stall, "\r\n\r\n", 1, 4),  // after the whole head
      FaultPlan::after_pattern(Fault::stall, "data: ", 50, 3),   // inside an event's data line
  };
  FaultProxy proxy(peer.port(), [&plans](size_t i) { return i < plans.size() ? plans[i] : FaultPlan{}; });
  Runtime rt;
  Stream stream(rt.get(), {{"transport", "sse"},
                           {"url", proxy.url("http", "/sse")},
                           {"read_timeout_ms", std::to_string(kTimeoutMs)},
                           {"connect_timeout_ms", std::to_string(kTimeoutMs)},
                           {"reconnect.initial_ms", "1"},
                           {"reconnect.max_ms", "10"},
                           {"status_events", "true"}});
  std::vector<Received> messages;
  // Long enough that every stall can take its whole bound; the bounds are what is checked.
  auto at = reconnects(stream, plans.size(), 1000, static_cast<int>(plans.size()) * (kTimeoutMs + kSlackMs) + 20000,
                       &messages);
  check_bounds(proxy, at, kTimeoutMs + kSlackMs, "sse");
  ASSERT_FALSE(messages.empty());
  EXPECT_GT(std::atol(messages.back().id.c_str()), 1000) << "events go on after the stalls";
}

TEST(Stall, WsStallMidFrameEndsInAReconnectWithinPingIntervalPlusPongTimeout) {
  Peer peer(peer_script("hostile_ws.py"));
  const int ping = 500, pong = 500;
  std::vector<FaultPlan> plans = {
      FaultPlan::after_pattern(Fault::stall, "\"p\":\"", 20, 2),  // inside the 20th message's payload
      FaultPlan::after_pattern(Fault::stall, "\"}", 40, 2),     // exactly between two frames
  };
  FaultProxy proxy(peer.port(), [&plans](size_t i) { return i < plans.size() ? plans[i] : FaultPlan{}; });
  Runtime rt;
  Stream stream(rt.get(), {{"transport", "ws"},
                           {"url", proxy.url("ws", "/feed")},
                           {"ws.subscribe_message", "{\"op\":\"subscribe\"}"},
                           {"ws.ping_interval_ms", std::to_string(ping)},
                           {"ws.pong_timeout_ms", std::to_string(pong)},
                           {"reconnect.initial_ms", "1"},
                           {"reconnect.max_ms", "10"},
                           {"status_events", "true"}});
  std::vector<Received> messages;
  auto at = reconnects(stream, plans.size(), 500, static_cast<int>(plans.size()) * (ping + pong + kSlackMs) + 20000,
                       &messages);
  check_bounds(proxy, at, ping + pong + kSlackMs, "ws");
  // In order across the stalls (what a stalled connection held back is legitimately lost).
  for (size_t i = 1; i < messages.size(); ++i) ASSERT_GT(ws_id(messages[i].data), ws_id(messages[i - 1].data));
}

// Connects that never complete: a SYN nobody answers (full accept queue), and a connection the
// proxy accepts but never answers (no response head, no WebSocket handshake). Each attempt must
// fail within connect_timeout_ms + 1 s, and the stream keep retrying.
// A poll arms its timeout for every request on a kept-alive connection: a stall after many
// requests, later than one timeout after the first, ends in a reconnect one timeout after the
// stall (neither sooner, from an earlier request's deadline, nor much later), and polling goes on.
TEST(Stall, PollStallAfterManyRequestsEndsInAReconnectWithinItsTimeout) {
  Peer peer(peer_script("http_peer.py"));
  const int timeout_ms = 600;
  // The 15th response on the first connection stalls inside its status line (requests go every
  // 100 ms, so 1.4 s after the first: past the first request's deadline).
  FaultProxy proxy(peer.port(), [](size_t i) {
    return i == 0 ? FaultPlan::after_pattern(Fault::stall, "HTTP/1.1 ", 15, 5) : FaultPlan{};
  });
  Runtime rt;
  Stream stream(rt.get(), {{"transport", "poll"},
                           {"url", proxy.url("http", "/poll/etag?changes_every=0")},
                           {"poll.interval_ms", "100"},
                           {"read_timeout_ms", std::to_string(timeout_ms)},
                           {"connect_timeout_ms", std::to_string(timeout_ms)},
                           {"reconnect.initial_ms", "1"},
                           {"reconnect.max_ms", "10"},
                           {"status_events", "true"}});
  auto at = reconnects(stream, 1, 0, 15 * 100 + timeout_ms + kSlackMs + 20000);
  ASSERT_EQ(at.size(), 1u);
  auto conns = proxy.connections();
  ASSERT_FALSE(conns.empty());
  ASSERT_TRUE(conns[0].triggered);
  long took = ms(at[0] - conns[0].triggered_at);
  std::cout << "poll: stall ended in a reconnect after " << took << " ms" << std::endl;
  EXPECT_GE(took, timeout_ms - 50) << "the timeout fired before its deadline";
  EXPECT_LE(took, timeout_ms + kSlackMs);
  const uint64_t requests = stream.stat("requests");
  EXPECT_TRUE(eventually([&] { return stream.stat("requests") >= requests + 3; })) << "polling did not go on";
  EXPECT_EQ(stream.stat("errors"), 1u);
}

TEST(Stall, ConnectsThatNeverCompleteFailWithinConnectTimeout) {
  UnansweredEndpoint unanswered;
  ASSERT_TRUE(unanswered.probe_hangs(200)) << "the accept queue is not full; connects would not hang";
  Peer ws_peer(peer_script("hostile_ws.py"));
  FaultProxy hold(ws_peer.port(), [](size_t) {
    FaultPlan p;
    p.fault = Fault::hold;
    return p;
  });
  const int connect_ms = 500;
  struct Case {
    const char* name;
    Settings settings;
  };
  std::vector<Case> cases = {
      {"sse, SYN unanswered",
       {{"transport", "sse"}, {"url", "http://127.0.0.1:" + std::to_string(unanswered.port()) + "/sse"}}},
      {"sse, accepted never answered", {{"transport", "sse"}, {"url", hold.url("http", "/sse")}}},
      {"ws, handshake never answered", {{"transport", "ws"}, {"url", hold.url("ws", "/feed")}}},
  };
  for (auto& c : cases) {
    c.settings.insert(c.settings.end(), {{"connect_timeout_ms", std::to_string(connect_ms)},
                                         {"reconnect.initial_ms", "1"},
                                         {"reconnect.max_ms", "10"},
                                         {"status_events", "true"}});
    Runtime rt;
    auto start = Clock::now();
    Stream stream(rt.get(), c.settings);
    std::vector<Clock::time_point> at;
    // Room for both attempts to take their whole bound; the bounds are what is checked.
    while (at.size() < 2 && Clock::now() - start < std::chrono::milliseconds(2 * (connect_ms + kSlackMs) + 5000)) {
      Received r;
      tw_err err = stream.next(r, 100);
      if (err == TW_OK && r.kind == TW_KIND_RECONNECTING) at.push_back(Clock::now());
      if (err != TW_OK && err != TW_ERR_TIMEOUT) break;
    }
    ASSERT_EQ(at.size(), 2u) << c.name << ": no retries";
    long first = ms(at[0] - start), second = ms(at[1] - at[0]);
    std::cout << c.name << ": attempts failed after " << first << " ms and " << second << " ms" << std::endl;
    EXPECT_LE(first, connect_ms + kSlackMs) << c.name;
    EXPECT_LE(second, connect_ms + kSlackMs) << c.name;
    EXPECT_GE(first, connect_ms - 50) << c.name << ": failed before its timeout, so it did not hang";
  }
}

}  // namespace
}  // namespace tidewire::test
