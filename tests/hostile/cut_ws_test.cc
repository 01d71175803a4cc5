// WebSocket with a subscribe message through a proxy that cuts 100 connections: inside the
// handshake, mid-frame and exactly at frame boundaries. The server (tests/peers/hostile_ws.py)
// numbers its messages globally and starts sending only after a subscribe, so the client must
// resubscribe after every reconnect. What the server wrote into a connection that was then cut
// is legitimately lost if its frame never reached the client; so the oracle is the proxy's own
// record of the bytes it delivered: every frame that was delivered complete must arrive exactly
// once, in order, and nothing else may arrive. And a proxy that forwards one byte per write, under
// messages larger than a read.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "fault_proxy.h"
#include "harness.h"

namespace tidewire::test {
namespace {

constexpr size_t kCuts = 100;

long id_of(const std::string& text) {
  size_t p = text.find("{\"i\":");
  return p == std::string::npos ? -1 : std::atol(text.c_str() + p + 5);
}

// The ids of the complete text frames in bytes a server sent after its 101 response.
std::vector<long> complete_frames(const std::string& wire) {
  std::vector<long> ids;
  size_t head = wire.find("\r\n\r\n");
  if (head == std::string::npos) return ids;
  size_t p = head + 4;
  for (;;) {
    if (wire.size() < p + 2) break;
    auto b0 = static_cast<unsigned char>(wire[p]);
    auto b1 = static_cast<unsigned char>(wire[p + 1]);
    size_t hdr = 2;
    uint64_t len = b1 & 0x7f;
    if (len == 126) {
      if (wire.size() < p + 4) break;
      len = (static_cast<uint64_t>(static_cast<unsigned char>(wire[p + 2])) << 8) |
            static_cast<unsigned char>(wire[p + 3]);
      hdr = 4;
    } else if (len == 127) {
      if (wire.size() < p + 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(wire[p + 2 + static_cast<size_t>(i)]);
      hdr = 10;
    }
    if (b1 & 0x80) hdr += 4;  // a server never masks, but skip a mask rather than misparse
    if (wire.size() < p + hdr + len) break;
    if ((b0 & 0x0f) == 0x1 && (b0 & 0x80)) ids.push_back(id_of(wire.substr(p + hdr, static_cast<size_t>(len))));
    p += hdr + static_cast<size_t>(len);
  }
  return ids;
}

std::vector<long> delivered_complete(const FaultProxy& proxy) {
  std::vector<long> all;
  for (const auto& c : proxy.connections()) {
    auto ids = complete_frames(c.downstream);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  return all;
}

TEST(CutWs, EveryMessageDeliveredAfterEachResubscribeArrivesOnce) {
  Peer peer(peer_script("hostile_ws.py"));
  std::mt19937_64 rng(1009);
  std::uniform_int_distribution<int> k(1, 60);
  std::vector<FaultPlan> plans;
  for (int i = 0; i < 400; ++i) {
    FaultPlan p;
    switch (i % 4) {
      case 0:  // exactly at a frame boundary: after the k-th message's closing `"}`
        p = FaultPlan::after_pattern(Fault::cut, "\"}", k(rng), 2);
        break;
      case 1:  // inside the handshake response
        p = FaultPlan::random(Fault::cut, rng, 1, 120);
        break;
      default:  // mid-frame (or at a boundary by chance)
        p = FaultPlan::random(Fault::cut, rng, 130, 3000);
    }
    plans.push_back(p);
  }
  std::atomic<FaultProxy*> proxy_ptr{nullptr};
  FaultProxy proxy(peer.port(), [&](size_t i) {
    FaultProxy* px = proxy_ptr.load();
    FaultPlan p = (px == nullptr || px->faults_triggered() < kCuts) && i < plans.size() ? plans[i] : FaultPlan{};
    p.record = true;
    return p;
  });
  proxy_ptr = &proxy;

  Runtime rt;
  Stream stream(rt.get(), {{"transport", "ws"},
                           {"url", proxy.url("ws", "/feed")},
                           {"ws.subscribe_message", "{\"op\":\"subscribe\"}"},
                           {"reconnect.initial_ms", "1"},
                           {"reconnect.max_ms", "10"},
                           {"status_events", "true"}});
  // The sequence has no end: once the 100 cuts have fired (later connections pass), read until a
  // thousand messages past the last cut connection's arrived, then compare up to the last one read.
  std::vector<long> received;
  long goal = -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while ((goal < 0 || received.empty() || received.back() < goal) && std::chrono::steady_clock::now() < deadline) {
    Received r;
    tw_err err = stream.next(r, 200);
    if (err == TW_OK && r.kind == TW_KIND_MESSAGE) received.push_back(id_of(r.data));
    if (err != TW_OK && err != TW_ERR_TIMEOUT) {
      ADD_FAILURE() << "stream ended: " << tw_err_name(err);
      break;
    }
    if (goal < 0 && proxy.faults_triggered() >= kCuts) {
      long last_cut = 0;
      for (const auto& c : proxy.connections())
        if (c.triggered)
          for (long id : complete_frames(c.downstream)) last_cut = std::max(last_cut, id);
      goal = last_cut + 1000;
    }
  }
  ASSERT_GE(goal, 0) << "only " << proxy.faults_triggered() << " cuts fired";
  ASSERT_FALSE(received.empty());
  ASSERT_GE(received.back(), goal);
  // The proxy records a frame right after writing it; let its record catch up with the client.
  ASSERT_TRUE(proxy.wait_for([&](const std::vector<ConnInfo>&) {
    auto d = delivered_complete(proxy);
    return !d.empty() && d.back() >= received.back();
  }, 10000)) << "the proxy never recorded the last frame the client received";
  std::vector<long> expected;
  for (long id : delivered_complete(proxy))
    if (id <= received.back()) expected.push_back(id);
  SequenceReport report = compare_sequence(received, expected);
  const std::string counts = "ws cut suite: numbered_by_server=" + std::to_string(received.back()) +
                             " complete_frames_through_proxy=" + std::to_string(expected.size()) + " " +
                             report.summary() + " cuts_fired=" + std::to_string(proxy.faults_triggered()) +
                             " connections=" + std::to_string(proxy.accepted());
  std::cout << counts << std::endl;
  RecordProperty("counts", counts);
  if (std::getenv("TW_HOSTILE_DEBUG")) {  // per-connection detail, for diagnosing a failure
    auto t0 = proxy.connections().front().triggered_at;
    for (const auto& c : proxy.connections())
      std::cout << "offset=" << c.plan.offset << " pattern=" << c.plan.pattern << " k=" << c.plan.occurrence
                << " down=" << c.bytes_down << " up=" << c.bytes_up << " trig=" << c.triggered << " at="
                << std::chrono::duration_cast<std::chrono::milliseconds>(c.triggered_at - t0).count() << " accepted="
                << std::chrono::duration_cast<std::chrono::milliseconds>(c.accepted_at - t0).count()
                << " closed=" << c.closed << " frames=" << complete_frames(c.downstream).size() << " first="
                << (complete_frames(c.downstream).empty() ? 0 : complete_frames(c.downstream).front()) << "\n";
  }
  EXPECT_GE(proxy.faults_triggered(), kCuts);
  EXPECT_TRUE(report.ok()) << report.first_problems;
}

// Messages larger than a read, forwarded one byte per TCP write: headers and payloads come in as
// many reads as the kernel makes of them, and each message must still arrive whole and in order.
TEST(SlicedWs, MessagesLargerThanAReadArriveWholeFromOneByteWrites) {
  Peer peer(peer_script("ws_peer.py"));
  FaultProxy proxy(peer.port(), [](size_t) { return FaultPlan::at(Fault::slice, 0); });
  Runtime rt;
  const size_t size = 70000;  // over the 64 KiB a read takes at most
  const std::string path = "/push?count=3&size=" + std::to_string(size) + "&key=" + unique_key();
  Stream stream(rt.get(), {{"transport", "ws"},
                           {"url", proxy.url("ws", path)},
                           {"ws.max_message_bytes", std::to_string(size)}});
  auto messages = stream.messages(3, 60000);
  ASSERT_EQ(messages.size(), 3u);
  for (size_t i = 0; i < messages.size(); i++) {
    const std::string& d = messages[i].data;
    ASSERT_EQ(d.size(), size) << i;
    std::string head = "{\"i\":" + std::to_string(i + 1) + ",\"p\":\"";
    ASSERT_EQ(d.compare(0, head.size(), head), 0) << d.substr(0, 20);
    ASSERT_EQ(d.find_first_not_of('x', head.size()), size - 2) << i;
  }
  EXPECT_EQ(stream.stat("reconnects"), 0u);
  EXPECT_EQ(proxy.accepted(), 1u);
}

}  // namespace
}  // namespace tidewire::test
