// Long-poll with a cursor (X-Cursor in, ?cursor= out) through a proxy that cuts the kept-alive
// connections 100 times: inside a response head, between head and body, inside a body. A cut
// answer must be asked again with the same cursor, never half-taken: every event of the feed
// (tests/peers/hostile_feed.py /poll) arrives exactly once, in order.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fault_proxy.h"
#include "harness.h"

namespace tidewire::test {
namespace {

constexpr long kEvents = 10000;
constexpr size_t kCuts = 100;

// One answer's body is one event: a line "n ppp..." per feed event (n % 50 p's).
bool parse_batch(const std::string& body, std::vector<long>& ids, std::string& problem) {
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    size_t sp = line.find(' ');
    long n = std::atol(line.substr(0, sp).c_str());
    std::string pad = sp == std::string::npos ? "" : line.substr(sp + 1);
    if (n <= 0 || pad != std::string(static_cast<size_t>(n % 50), 'p')) {
      problem = "bad line '" + line + "'";
      return false;
    }
    ids.push_back(n);
  }
  return true;
}

TEST(CutLongPoll, TenThousandEventsThroughAHundredCutsArriveOnceInOrder) {
  Peer peer(peer_script("hostile_feed.py"));
  // Faults for the connections, reproducible from the seed; once 100 have fired the rest pass.
  std::mt19937_64 rng(7);
  std::vector<FaultPlan> plans;
  for (int i = 0; i < 1000; ++i) {
    switch (i % 4) {
      case 0:  // right after a response head: status and cursor seen, body not
        plans.push_back(FaultPlan::after_pattern(Fault::cut, "\r\n\r\n", 1 + i / 4 % 3, 4));
        break;
      case 1:  // inside the head, right after the cursor header's line
        plans.push_back(FaultPlan::after_pattern_then(Fault::cut, "X-Cursor: ", 1 + i / 4 % 3, "\r\n"));
        break;
      default:
        plans.push_back(FaultPlan::random(i % 4 == 2 ? Fault::cut : Fault::rst, rng, 1, 3000));
    }
  }
  std::atomic<FaultProxy*> proxy_ptr{nullptr};
  FaultProxy proxy(peer.port(), [&plans, &proxy_ptr](size_t i) {
    FaultProxy* p = proxy_ptr.load();
    bool more = p == nullptr || p->faults_triggered() < kCuts;
    return more && i < plans.size() ? plans[i] : FaultPlan{};
  });
  proxy_ptr = &proxy;
  Runtime rt;
  Stream stream(rt.get(), {{"transport", "longpoll"},
                           {"url", proxy.url("http", "/poll")},
                           {"longpoll.cursor_header", "X-Cursor"},
                           {"longpoll.cursor_param", "cursor"},
                           {"reconnect.initial_ms", "1"},
                           {"reconnect.max_ms", "10"},
                           {"status_events", "true"}});

  std::vector<long> ids;
  size_t bad_ids = 0;
  std::string problem;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((ids.empty() || ids.back() < kEvents) && std::chrono::steady_clock::now() < deadline) {
    Received r;
    tw_err err = stream.next(r, 1000);
    if (err == TW_ERR_TIMEOUT) continue;
    if (err != TW_OK) {
      ADD_FAILURE() << "stream ended: " << tw_err_name(err);
      break;
    }
    if (r.kind != TW_KIND_MESSAGE) continue;
    size_t before = ids.size();
    if (!parse_batch(r.data, ids, problem)) break;
    // The event id is the cursor, the last id of its batch.
    if (ids.size() == before || r.id != std::to_string(ids.back())) bad_ids++;
  }
  EXPECT_TRUE(problem.empty()) << problem;

  std::vector<long> expected;
  for (long n = 1; n <= kEvents; ++n) expected.push_back(n);
  SequenceReport report = compare_sequence(ids, expected);
  const std::string counts = "longpoll cut suite: sent=" + std::to_string(kEvents) + " " + report.summary() +
                             " cuts_fired=" + std::to_string(proxy.faults_triggered()) +
                             " connections=" + std::to_string(proxy.accepted());
  std::cout << counts << std::endl;
  RecordProperty("counts", counts);
  EXPECT_GE(proxy.faults_triggered(), kCuts);
  EXPECT_TRUE(report.ok()) << report.first_problems;
  EXPECT_EQ(bad_ids, 0u) << "an event's id is its batch's cursor";
}

}  // namespace
}  // namespace tidewire::test
