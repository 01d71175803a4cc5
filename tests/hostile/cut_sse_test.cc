// SSE with ids through a proxy that cuts the response 100 times, at byte offsets chosen by a
// seeded PRNG and at the places where resuming is easy to get wrong: right after an `id:` line,
// inside a multi-line event, and after an event's last data line but before its blank line.
// Every event of the feed (tests/peers/hostile_feed.py) must arrive exactly once, in order.
#include <gtest/gtest.h>

#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "fault_proxy.h"
#include "harness.h"

namespace tidewire::test {
namespace {

constexpr long kEvents = 10000;
constexpr int kCuts = 100;

std::string expected_data(long n) {
  return n % 7 == 0 ? std::to_string(n) + "\na\nb" : std::to_string(n);
}

// The 100 faults, reproducible from the seed. Occurrence counts stay well within one connection's
// share of the feed, so every planned fault really fires.
std::vector<FaultPlan> sse_plans(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> k(1, 120);
  std::vector<FaultPlan> plans;
  for (int i = 0; i < kCuts; ++i) {
    switch (i % 6) {
      case 0:  // right after an `id:` line: the id is parsed, its event not yet dispatched
        plans.push_back(FaultPlan::after_pattern_then(Fault::cut, "id: ", k(rng), "\n"));
        break;
      case 1:  // inside a multi-line event, between `data: a` and `data: b`
        plans.push_back(FaultPlan::after_pattern_then(Fault::cut, "data: a", 1 + k(rng) / 7, "\n"));
        break;
      case 2:  // the event's lines are all there, its terminating blank line is not
        plans.push_back(FaultPlan::after_pattern_then(Fault::cut, "id: ", k(rng), "\n\n", -1));
        break;
      case 3:  // reset instead of close, right after an id line
        plans.push_back(FaultPlan::after_pattern_then(Fault::rst, "id: ", k(rng), "\n"));
        break;
      default:  // anywhere, the response head included
        plans.push_back(FaultPlan::random(i % 6 == 4 ? Fault::cut : Fault::rst, rng, 1, 4000));
        break;
    }
  }
  return plans;
}

Settings sse_settings(const std::string& url) {
  return {{"transport", "sse"},       {"url", url},
          {"reconnect.initial_ms", "1"}, {"reconnect.max_ms", "10"},
          {"status_events", "true"}};
}

TEST(CutSse, TenThousandEventsThroughAHundredCutsArriveOnceInOrder) {
  Peer peer(peer_script("hostile_feed.py"));
  const std::vector<FaultPlan> plans = sse_plans(20261130);
  FaultProxy proxy(peer.port(), [&plans](size_t i) { return i < plans.size() ? plans[i] : FaultPlan{}; });
  Runtime rt;
  Stream stream(rt.get(), sse_settings(proxy.url("http", "/sse")));

  // The feed ends with a 204 once everything was resumed past, so the stream ends by itself.
  std::vector<Received> events = stream.until_end(60000);
  std::vector<long> ids;
  size_t bad_payloads = 0, reconnects = 0;
  std::string first_bad;
  for (const auto& e : events) {
    if (e.kind == TW_KIND_RECONNECTING) reconnects++;
    if (e.kind != TW_KIND_MESSAGE) continue;
    long n = std::atol(e.id.c_str());
    ids.push_back(n);
    if (e.data != expected_data(n)) {
      if (bad_payloads++ == 0) first_bad = "id " + e.id + " data '" + e.data + "'";
    }
  }
  std::vector<long> expected;
  for (long n = 1; n <= kEvents; ++n) expected.push_back(n);
  SequenceReport report = compare_sequence(ids, expected);
  const std::string counts = "sse cut suite: sent=" + std::to_string(kEvents) + " " + report.summary() +
                             " cuts_fired=" + std::to_string(proxy.faults_triggered()) +
                             " connections=" + std::to_string(proxy.accepted()) +
                             " reconnecting_events=" + std::to_string(reconnects);
  std::cout << counts << std::endl;
  RecordProperty("counts", counts);

  EXPECT_EQ(proxy.faults_triggered(), static_cast<size_t>(kCuts)) << "every planned cut must fire";
  EXPECT_TRUE(report.ok()) << report.first_problems;
  EXPECT_EQ(bad_payloads, 0u) << first_bad;
  auto failure = stream.failure();
  EXPECT_TRUE(failure == nullptr) << "the stream ends cleanly (204), not with an error";
}

// The same feed, sliced into 1-byte writes: framing across reads of any size.
TEST(CutSse, OneByteSlicesDeliverEveryEventIntact) {
  Peer peer(peer_script("hostile_feed.py"), {"--count", "300"});
  FaultProxy proxy(peer.port(), [](size_t) { return FaultPlan::at(Fault::slice, 0); });
  Runtime rt;
  Stream stream(rt.get(), sse_settings(proxy.url("http", "/sse")));
  std::vector<Received> events = stream.until_end(30000);
  std::vector<long> ids;
  for (const auto& e : events) {
    if (e.kind != TW_KIND_MESSAGE) continue;
    ids.push_back(std::atol(e.id.c_str()));
    EXPECT_EQ(e.data, expected_data(ids.back()));
  }
  std::vector<long> expected;
  for (long n = 1; n <= 300; ++n) expected.push_back(n);
  SequenceReport report = compare_sequence(ids, expected);
  EXPECT_TRUE(report.ok()) << report.summary() << ": " << report.first_problems;
}

}  // namespace
}  // namespace tidewire::test
