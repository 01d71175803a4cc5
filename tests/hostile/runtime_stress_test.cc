// Streams used from many threads while their runtime is destroyed from another, as tidewire.h
// allows: runtime and stream handles are thread-safe, stream handles outlive the runtime, and each
// stream is destroyed (before, during or after the runtime) by one thread once no other uses it.
// Meant to run under ThreadSanitizer (build-tsan/) and AddressSanitizer (build-asan/): a data race,
// a use after free or an abort in the I/O thread's teardown fails it. Every stream call that posts
// to the I/O thread (close, send, a resumed queue) races the runtime's shutdown here.
#include <gtest/gtest.h>
#include <tidewire/tidewire.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace tidewire::test {
namespace {

constexpr int kThreads = 8;
constexpr int kMaxRounds = 40;
// Rounds start until this much time has passed (each round ends within a few seconds at worst).
constexpr auto kBudget = std::chrono::seconds(8);
constexpr int kMinRounds = 3;

Peer& ws_peer() {
  static Peer peer(peer_script("ws_peer.py"));
  return peer;
}

// Every transport, each against a peer that keeps it busy: WebSocket echo and push, an SSE stream
// that keeps sending, a poll that changes on every request, a webhook endpoint.
std::vector<Settings> stream_settings(const std::string& key) {
  std::string ws = "ws://127.0.0.1:" + std::to_string(ws_peer().port());
  Settings fast = {{"reconnect.initial_ms", "5"}, {"reconnect.max_ms", "20"}, {"status_events", "true"},
                   {"queue.max_events", "16"}};
  auto with = [&](Settings s) {
    s.insert(s.end(), fast.begin(), fast.end());
    return s;
  };
  return {
      with({{"transport", "ws"}, {"url", ws + "/echo?key=" + key}}),
      with({{"transport", "ws"}, {"url", ws + "/push?count=200&size=64&key=" + key}}),
      with({{"transport", "sse"}, {"url", http_peer().url("/sse?count=100000&cut_every=50&key=" + key)}}),
      with({{"transport", "poll"}, {"url", http_peer().url("/poll/plain?changes_every=1&key=" + key)},
            {"poll.interval_ms", "5"}}),
      with({{"transport", "webhook"}, {"url", "http://127.0.0.1:0/hooks"}, {"webhook.scheme", "none"}}),
  };
}

// Streams with no connection open (refused, waiting to retry; a webhook nobody posts to): the
// runtime then tears down in well under a millisecond, so a call that posts to the I/O thread
// just before tw_runtime_destroy may still be under way when the loop is already gone.
std::vector<Settings> idle_stream_settings() {
  Settings later = {{"reconnect.initial_ms", "60000"}, {"reconnect.max_ms", "60000"}};
  auto with = [&](Settings s) {
    s.insert(s.end(), later.begin(), later.end());
    return s;
  };
  // Port 1 on the loopback: nothing listens there, the connect is refused at once.
  return {
      with({{"transport", "ws"}, {"url", "ws://127.0.0.1:1/idle"}}),
      with({{"transport", "sse"}, {"url", "http://127.0.0.1:1/idle"}}),
      with({{"transport", "poll"}, {"url", "http://127.0.0.1:1/idle"}}),
      with({{"transport", "webhook"}, {"url", "http://127.0.0.1:0/hooks"}, {"webhook.scheme", "none"}}),
  };
}

tw_stream* open_stream(tw_runtime* rt, const Settings& settings) {
  tw_config* config = nullptr;
  EXPECT_EQ(tw_config_create(&config), TW_OK);
  for (const auto& kv : settings)
    EXPECT_EQ(tw_config_set(config, kv.first.c_str(), kv.second.c_str()), TW_OK)
        << kv.first << ": " << tw_last_error_message();
  tw_stream* stream = nullptr;
  EXPECT_EQ(tw_stream_open(&stream, rt, config), TW_OK) << settings[0].second << ": " << tw_last_error_message();
  tw_config_destroy(config);
  return stream;
}

// What the workers saw that the API does not allow; checked by the test thread after the join.
struct Violations {
  std::mutex mutex;
  std::vector<std::string> seen;
  void add(const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex);
    if (seen.size() < 20) seen.push_back(what);
  }
};

// One call of the public API on `s`, chosen by `op`; checks only what the contract promises.
void call(tw_stream* s, unsigned op, Violations& v) {
  switch (op % 8) {
    case 0:
      tw_stream_close(s);
      break;
    case 1:
    case 2: {
      tw_err err = tw_stream_send(s, "ping", 4, 0);
      if (err != TW_OK && err != TW_ERR_WOULD_BLOCK && err != TW_ERR_CLOSED && err != TW_ERR_UNSUPPORTED)
        v.add(std::string("tw_stream_send: ") + tw_err_name(err));
      break;
    }
    case 3:
      tw_stream_wakeup(s);
      break;
    case 4:
    case 5: {
      tw_event* e = nullptr;
      tw_err err = tw_stream_next(&e, s, static_cast<int>(op % 3));
      tw_event_destroy(e);
      if (err != TW_OK && err != TW_ERR_TIMEOUT && err != TW_ERR_WAKEUP && err != TW_ERR_CLOSED)
        v.add(std::string("tw_stream_next: ") + tw_err_name(err));
      break;
    }
    case 6: {
      uint64_t value = 0;
      for (size_t i = 0; const char* name = tw_stat_name(i); i++)
        if (tw_stream_stat(&value, s, name) != TW_OK) v.add(std::string("tw_stream_stat ") + name);
      (void)tw_stream_ended(s);
      break;
    }
    default: {
      (void)tw_stream_fd(s);
      tw_event* failure = nullptr;
      tw_stream_failure(&failure, s);
      tw_event_destroy(failure);
      char* url = nullptr;
      if (tw_stream_url(&url, s) == TW_OK) tw_free(url);
      break;
    }
  }
}

// Reads until the stream ends; after its runtime is destroyed that must come within the bound.
bool drains_to_closed(tw_stream* s, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    tw_event* e = nullptr;
    tw_err err = tw_stream_next(&e, s, 100);
    tw_event_destroy(e);
    if (err == TW_ERR_CLOSED) return true;
  }
  return false;
}

// One round: open streams of every transport, let kThreads threads call into them, destroy the
// runtime once the threads have made a random number of calls, let them go on calling for a random
// number more, and destroy every stream. Busy rounds (connections carrying traffic, a slow
// teardown) alternate with idle ones (a teardown faster than a thread's call).
void round_of_races(std::mt19937& rng, int round, Violations& v) {
  tw_runtime* rt = nullptr;
  ASSERT_EQ(tw_runtime_create(&rt), TW_OK) << tw_last_error_message();
  std::string key = unique_key();
  std::vector<Settings> kinds = round % 2 == 0 ? stream_settings(key) : idle_stream_settings();

  // Shared streams: every thread uses them; destroyed here after the join.
  std::vector<tw_stream*> shared;
  for (const auto& settings : kinds) shared.push_back(open_stream(rt, settings));
  // Owned streams: one per thread, used and destroyed by that thread only, at a moment of its
  // choosing (before, during or after the runtime's destruction).
  std::vector<tw_stream*> owned;
  for (int t = 0; t < kThreads; t++) owned.push_back(open_stream(rt, kinds[static_cast<size_t>(t) % kinds.size()]));
  for (tw_stream* s : shared) ASSERT_NE(s, nullptr);
  for (tw_stream* s : owned) ASSERT_NE(s, nullptr);

  std::atomic<uint64_t> calls{0};
  std::atomic<bool> destroying{false};  // tw_runtime_destroy has been called
  std::atomic<bool> destroyed{false};   // ... and has returned
  const uint64_t destroy_after = std::uniform_int_distribution<uint64_t>(0, 3000)(rng);
  std::mutex mutex;
  std::condition_variable cv;

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    unsigned seed = static_cast<unsigned>(rng());
    threads.emplace_back([&, t, seed] {
      std::mt19937 local(seed);
      tw_stream* mine = owned[static_cast<size_t>(t)];
      // When this thread destroys its own stream: a third of the threads after 0..400 calls of
      // their own (most likely before the runtime goes), the others 0..400 calls after the
      // runtime's destruction began (often while it is under way, or after it).
      const bool early = t % 3 == 0;
      const unsigned mine_at = std::uniform_int_distribution<unsigned>(0, 400)(local);
      // Calls this thread goes on making once tw_runtime_destroy has returned.
      const unsigned after = std::uniform_int_distribution<unsigned>(50, 600)(local);
      unsigned since_destroying = 0, since_destroyed = 0;
      for (unsigned i = 0;; i++) {
        if (destroying.load(std::memory_order_acquire)) since_destroying++;
        if (destroyed.load(std::memory_order_acquire) && ++since_destroyed > after) break;
        if (mine && (early ? i >= mine_at : since_destroying > mine_at)) {
          tw_stream_destroy(mine);
          mine = nullptr;
        }
        unsigned op = static_cast<unsigned>(local());
        tw_stream* target = mine && op % 4 == 0 ? mine : shared[(op >> 8) % shared.size()];
        call(target, op >> 3, v);
        if (calls.fetch_add(1, std::memory_order_relaxed) + 1 == destroy_after) {
          std::lock_guard<std::mutex> lock(mutex);  // so the waiter cannot miss the notification
          cv.notify_one();
        }
      }
      tw_stream_destroy(mine);
    });
  }

  // The runtime goes once the threads are mid-flight (a call count, not a sleep).
  {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait_for(lock, std::chrono::seconds(5), [&] { return calls.load() >= destroy_after; });
  }
  auto destroy_started = std::chrono::steady_clock::now();
  destroying.store(true, std::memory_order_release);
  tw_runtime_destroy(rt);
  destroyed.store(true, std::memory_order_release);
  auto destroy_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - destroy_started).count();
  // "Returns within a bounded time (about a second at worst)": 30 s catches a destroy that waits
  // on a default timeout (minutes) or hangs, without failing a slow sanitized or loaded run.
  EXPECT_LT(destroy_ms, 30000) << "round " << round;

  for (auto& th : threads) th.join();

  // The runtime ended every stream: each drains to TW_ERR_CLOSED and refuses to send.
  for (size_t i = 0; i < shared.size(); i++) {
    EXPECT_TRUE(drains_to_closed(shared[i], 2000)) << "round " << round << ", " << kinds[i][0].second << " stream";
    EXPECT_TRUE(tw_stream_ended(shared[i])) << kinds[i][0].second;
    tw_err sent = tw_stream_send(shared[i], "late", 4, 0);
    EXPECT_TRUE(sent == TW_ERR_CLOSED || sent == TW_ERR_UNSUPPORTED) << kinds[i][0].second << ": " << tw_err_name(sent);
    tw_stream_destroy(shared[i]);
  }
}

TEST(RuntimeStress, StreamCallsFromManyThreadsRaceRuntimeDestroy) {
  // Printed first, so that a run that crashes or hangs can still be replayed with TW_STRESS_SEED.
  const char* forced = std::getenv("TW_STRESS_SEED");
  const unsigned seed = forced != nullptr ? static_cast<unsigned>(std::strtoul(forced, nullptr, 10))
                                          : std::random_device{}();
  std::printf("seed %u (TW_STRESS_SEED=%u replays it)\n", seed, seed);
  std::fflush(stdout);
  RecordProperty("seed", std::to_string(seed));
  std::mt19937 rng(seed);
  Violations v;
  auto start = std::chrono::steady_clock::now();
  int rounds = 0;
  while (rounds < kMaxRounds && (rounds < kMinRounds || std::chrono::steady_clock::now() - start < kBudget)) {
    round_of_races(rng, rounds, v);
    rounds++;
    if (HasFatalFailure()) break;
  }
  for (const auto& what : v.seen) ADD_FAILURE() << "unexpected result: " << what;
  RecordProperty("rounds", rounds);
  std::printf("%d rounds, seed %u\n", rounds, seed);
}

}  // namespace
}  // namespace tidewire::test
