// The redis transport against a real redis-server: consumer groups, acknowledgments, claiming a
// dead consumer's entries, reconnecting, backpressure and the limits on what Redis may send.
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>

#include "harness.h"
#include "redis_server.h"

namespace tidewire::test {
namespace {

Settings worker(const RedisServer& redis, const std::string& consumer, Settings extra = {}) {
  Settings s{{"url", redis.url("?stream=jobs&group=workers&consumer=" + consumer)},
             {"reconnect.initial_ms", "50"},
             {"reconnect.max_ms", "200"},
             {"redis.block_ms", "200"}};
  s.insert(s.end(), extra.begin(), extra.end());
  return s;
}

std::string add(RedisServer& redis, const std::string& data, const std::string& type = "job") {
  return redis.command({"XADD", "jobs", "*", "id", "src-" + data, "type", type, "data", data, "h.x-trace", "t1"});
}

TEST(Redis, WorkerReceivesEntriesWithTheirIdTypeDataAndFields) {
  RedisServer redis;
  std::string first = add(redis, "one");  // before the group exists: the group starts at the stream's start
  Runtime rt;
  Stream s(rt.get(), worker(redis, "w1"));
  std::string second = add(redis, std::string("two\0bytes", 9), "other");
  auto got = s.messages(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, first);
  EXPECT_EQ(got[0].type, "job");
  EXPECT_EQ(got[0].data, "one");
  EXPECT_EQ(got[0].headers["id"], "src-one");
  EXPECT_EQ(got[0].headers["h.x-trace"], "t1");
  EXPECT_EQ(got[1].id, second);
  EXPECT_EQ(got[1].type, "other");
  EXPECT_EQ(got[1].data, std::string("two\0bytes", 9));
  // redis.ack=auto: nothing stays pending once the entries are queued.
  EXPECT_TRUE(eventually([&] { return redis.pending("jobs", "workers") == 0; }));
}

TEST(Redis, ManualAckLeavesEntriesPendingUntilAcknowledged) {
  RedisServer redis;
  Runtime rt;
  Stream s(rt.get(), worker(redis, "w1", {{"redis.ack", "manual"}}));
  for (int i = 0; i < 3; i++) add(redis, std::to_string(i));
  std::vector<tw_event*> events;
  while (events.size() < 3) {
    tw_event* e = nullptr;
    ASSERT_EQ(tw_stream_next(&e, s.get(), 5000), TW_OK);
    if (tw_event_kind(e) == TW_KIND_MESSAGE) events.push_back(e);
    else tw_event_destroy(e);
  }
  EXPECT_EQ(redis.pending("jobs", "workers"), 3);
  EXPECT_EQ(tw_stream_ack(s.get(), tw_event_id(events[1])), TW_OK) << tw_last_error_message();
  EXPECT_TRUE(eventually([&] { return redis.pending("jobs", "workers") == 2; }));
  for (tw_event* e : events) {
    EXPECT_EQ(tw_stream_ack(s.get(), tw_event_id(e)), TW_OK);
    tw_event_destroy(e);
  }
  EXPECT_TRUE(eventually([&] { return redis.pending("jobs", "workers") == 0; }));
}

TEST(Redis, AutoAckAcknowledgesWhenTheApplicationTakesTheEntryNotBefore) {
  RedisServer redis;
  Runtime rt;
  Stream s(rt.get(), worker(redis, "w1", {{"redis.ack", "auto"}}));
  for (int i = 0; i < 3; i++) add(redis, std::to_string(i));
  // Read by the stream and queued, but not taken: still pending, so a crash here loses nothing.
  ASSERT_TRUE(eventually([&] { return s.stat("messages") == 3; }));
  EXPECT_EQ(redis.pending("jobs", "workers"), 3);
  int taken = 0;
  while (taken < 3) {
    tw_event* e = nullptr;
    ASSERT_EQ(tw_stream_next(&e, s.get(), 5000), TW_OK);
    if (tw_event_kind(e) == TW_KIND_MESSAGE) taken++;
    tw_event_destroy(e);
  }
  EXPECT_TRUE(eventually([&] { return redis.pending("jobs", "workers") == 0; }));
}

TEST(Redis, AckIsRefusedForOtherTransportsAndAfterTheEnd) {
  RedisServer redis;
  Runtime rt;
  Stream s(rt.get(), worker(redis, "w1", {{"redis.ack", "manual"}}));
  add(redis, "x");
  tw_event* e = nullptr;
  ASSERT_EQ(tw_stream_next(&e, s.get(), 5000), TW_OK);
  Stream hook(rt.get(), {{"transport", "webhook"}, {"url", "http://127.0.0.1:0/hooks"}, {"webhook.scheme", "none"}});
  EXPECT_EQ(tw_stream_ack(hook.get(), tw_event_id(e)), TW_ERR_UNSUPPORTED);
  EXPECT_EQ(tw_stream_ack(s.get(), nullptr), TW_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tw_stream_ack(s.get(), ""), TW_ERR_INVALID_ARGUMENT);
  tw_stream_close(s.get());
  s.until_end();
  EXPECT_EQ(tw_stream_ack(s.get(), tw_event_id(e)), TW_ERR_CLOSED);
  tw_event_destroy(e);
}

TEST(Redis, EntriesOfAConsumerThatDiedAreClaimedByAnother) {
  RedisServer redis;
  Runtime rt;
  std::set<std::string> taken;
  {
    Stream dying(rt.get(), worker(redis, "dying", {{"redis.ack", "manual"}}));
    for (int i = 0; i < 5; i++) add(redis, std::to_string(i));
    for (auto& m : dying.messages(5)) taken.insert(m.id);
    // Ends without acknowledging anything: the entries stay pending under "dying".
  }
  EXPECT_EQ(redis.pending("jobs", "workers"), 5);
  Stream live(rt.get(), worker(redis, "live", {{"redis.ack", "manual"}, {"redis.claim_idle_ms", "300"}}));
  std::set<std::string> claimed;
  for (auto& m : live.messages(5, 10000)) claimed.insert(m.id);
  EXPECT_EQ(claimed, taken);
}

TEST(Redis, AConsumerRestartedUnderItsNameGetsItsOwnPendingEntriesFirst) {
  RedisServer redis;
  Runtime rt;
  std::vector<std::string> first_ids;
  {
    Stream before(rt.get(), worker(redis, "same", {{"redis.ack", "manual"}, {"redis.count", "2"}}));
    for (int i = 0; i < 5; i++) add(redis, std::to_string(i));
    for (auto& m : before.messages(5)) first_ids.push_back(m.id);
  }
  Stream after(rt.get(), worker(redis, "same", {{"redis.ack", "manual"}, {"redis.count", "2"}}));
  std::vector<std::string> again;
  for (auto& m : after.messages(5)) again.push_back(m.id);
  EXPECT_EQ(again, first_ids);
}

TEST(Redis, ReconnectsAfterRedisRestartsAndLosesNothing) {
  RedisServer redis;
  Runtime rt;
  Stream s(rt.get(), worker(redis, "w1", {{"status_events", "true"}}));
  add(redis, "before");
  EXPECT_EQ(s.messages(1)[0].data, "before");
  redis.stop();
  Received r;
  bool reconnecting = false;
  while (!reconnecting && s.next(r, 5000) == TW_OK) reconnecting = r.kind == TW_KIND_RECONNECTING;
  EXPECT_TRUE(reconnecting);
  redis.start();
  add(redis, "after");
  auto got = s.messages(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, "after");
}

// INFO's count of a section's field (rejected_connections, connected_clients).
long long info_count(RedisServer& redis, const std::string& section, const std::string& field) {
  std::string info = redis.command({"INFO", section});
  size_t at = info.find(field + ":");
  if (at == std::string::npos) throw std::runtime_error("INFO " + section + " has no " + field);
  return std::stoll(info.substr(at + field.size() + 1));
}

// Redis at its client limit refuses the acknowledgment connection while the reading one stays up.
// The refused connection is opened again after the stream's backoff, not at the next entry handed
// over; the acknowledgments wait and go once Redis takes connections again.
TEST(Redis, ARefusedAcknowledgmentConnectionWaitsForTheBackoffNotTheNextEntry) {
  RedisServer redis;
  Runtime rt;
  // Delays drawn from [0, 10 min]: one below the second the entries flow about once in 600 runs,
  // three in a row never in practice. Without backoff it is retried once its refusal is seen
  // (within 100 ms), a dozen times in that second.
  Stream s(rt.get(), {{"url", redis.url("?stream=jobs&group=workers&consumer=w1")},
                      {"redis.ack", "auto"},
                      {"reconnect.initial_ms", "600000"},
                      {"reconnect.max_ms", "600000"},
                      {"redis.block_ms", "200"}});
  ASSERT_TRUE(eventually([&] { return tw_stream_state(s.get()) == TW_STATE_OPEN; }));
  ASSERT_EQ(info_count(redis, "clients", "connected_clients"), 2);  // the test's and the stream's
  redis.command({"CONFIG", "SET", "maxclients", "2"});
  const long long refused_before = info_count(redis, "stats", "rejected_connections");
  // Entries handed over one by one for a second: each is acknowledged, on the acknowledgment
  // connection, so each could open it again.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  int entries = 0;
  while (std::chrono::steady_clock::now() < until) {
    add(redis, std::to_string(entries));
    auto got = s.messages(1);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(got[0].data, std::to_string(entries));
    entries++;
  }
  const long long attempts = info_count(redis, "stats", "rejected_connections") - refused_before;
  EXPECT_GE(attempts, 1);
  EXPECT_LE(attempts, 3) << "the acknowledgment connection was opened again without backoff (" << entries
                         << " entries handed over)";
  EXPECT_EQ(redis.pending("jobs", "workers"), entries);  // waiting, not lost
  redis.command({"CONFIG", "SET", "maxclients", "10000"});
  // A restart connects again at once; the acknowledgments waiting go on its new connection.
  ASSERT_EQ(tw_stream_restart(s.get()), TW_OK);
  EXPECT_TRUE(eventually([&] { return redis.pending("jobs", "workers") == 0; }));
}

// With a short backoff the refused acknowledgments go by themselves once Redis takes connections
// again: the retry is timed, not waiting for another entry or read (the read blocks for a minute).
TEST(Redis, RefusedAcknowledgmentsGoAfterTheBackoffOnceRedisTakesConnectionsAgain) {
  RedisServer redis;
  Runtime rt;
  Stream s(rt.get(), {{"url", redis.url("?stream=jobs&group=workers&consumer=w1")},
                      {"redis.ack", "auto"},
                      {"reconnect.initial_ms", "20"},
                      {"reconnect.max_ms", "100"},
                      {"redis.block_ms", "60000"}});
  ASSERT_TRUE(eventually([&] { return tw_stream_state(s.get()) == TW_STATE_OPEN; }));
  redis.command({"CONFIG", "SET", "maxclients", "2"});
  const long long refused_before = info_count(redis, "stats", "rejected_connections");
  for (int i = 0; i < 3; i++) add(redis, std::to_string(i));
  ASSERT_EQ(s.messages(3).size(), 3u);
  // Refused again and again, each after a backoff: Redis is asked, nothing is acknowledged.
  ASSERT_TRUE(eventually([&] { return info_count(redis, "stats", "rejected_connections") >= refused_before + 2; }));
  EXPECT_EQ(redis.pending("jobs", "workers"), 3);
  redis.command({"CONFIG", "SET", "maxclients", "10000"});
  EXPECT_TRUE(eventually([&] { return redis.pending("jobs", "workers") == 0; }));
}

TEST(Redis, AStalledServerCountsAsAFailureAfterTheTimeout) {
  RedisServer redis;
  Runtime rt;
  // A read served to the connection just given up on stays pending under this consumer: the claim
  // brings it back if the next connect's own-history read came too early to see it.
  Stream s(rt.get(), worker(redis, "w1", {{"status_events", "true"}, {"redis.timeout_ms", "300"}, {"redis.claim_idle_ms", "1000"}}));
  add(redis, "a");
  EXPECT_EQ(s.messages(1)[0].data, "a");
  redis.pause();
  Received r;
  bool reconnecting = false;
  while (!reconnecting && s.next(r, 5000 + kSlackMs) == TW_OK) reconnecting = r.kind == TW_KIND_RECONNECTING;
  redis.resume();
  ASSERT_TRUE(reconnecting);
  EXPECT_NE(r.data.find("did not answer within redis.timeout_ms=300"), std::string::npos) << r.data;
  add(redis, "b");
  EXPECT_EQ(s.messages(1)[0].data, "b");
}

TEST(Redis, AFullQueueStopsReadingAndNothingIsLost) {
  RedisServer redis;
  for (int i = 0; i < 200; i++) add(redis, std::to_string(i));
  Runtime rt;
  Stream s(rt.get(), worker(redis, "w1", {{"queue.max_events", "10"}, {"redis.count", "5"}, {"redis.ack", "manual"}}));
  // Paused: only about a queue and a read's worth is taken from the stream.
  EXPECT_TRUE(eventually([&] { return s.stat("paused") > 0 || s.stat("queue_depth") >= 10; }));
  EXPECT_LE(redis.pending("jobs", "workers"), 15);
  std::vector<std::string> data;
  while (data.size() < 200) {
    tw_event* e = nullptr;
    ASSERT_EQ(tw_stream_next(&e, s.get(), 5000), TW_OK) << data.size();
    if (tw_event_kind(e) == TW_KIND_MESSAGE) {
      data.emplace_back(tw_event_data(e));
      tw_stream_ack(s.get(), tw_event_id(e));
    }
    tw_event_destroy(e);
  }
  for (int i = 0; i < 200; i++) EXPECT_EQ(data[static_cast<size_t>(i)], std::to_string(i));
  EXPECT_TRUE(eventually([&] { return redis.pending("jobs", "workers") == 0; }));
}

TEST(Redis, AReplyLargerThanTheLimitEndsTheStream) {
  RedisServer redis;
  add(redis, std::string(8192, 'x'));
  Runtime rt;
  Stream s(rt.get(), worker(redis, "w1", {{"redis.max_reply_bytes", "4096"}}));
  s.until_end();
  auto f = s.failure();
  ASSERT_TRUE(f);
  EXPECT_EQ(tw_event_error(f.get()), TW_ERR_LIMIT);
  EXPECT_NE(std::string(tw_event_data(f.get())).find("redis.max_reply_bytes=4096"), std::string::npos);
}

TEST(Redis, RefusedCredentialsEndTheStreamWithoutShowingThePassword) {
  RedisServer redis({"--requirepass", "right-secret"});
  Runtime rt;
  Stream s(rt.get(), {{"url", "redis://:wrong-secret@127.0.0.1:" + std::to_string(redis.port()) +
                                  "/0?stream=jobs&group=g"}});
  s.until_end();
  auto f = s.failure();
  ASSERT_TRUE(f);
  std::string text = tw_event_data(f.get());
  EXPECT_NE(text.find("refused"), std::string::npos) << text;
  EXPECT_EQ(text.find("wrong-secret"), std::string::npos) << text;
  Stream ok(rt.get(), {{"url", "redis://:right-secret@127.0.0.1:" + std::to_string(redis.port()) +
                                   "/0?stream=jobs&group=g"}});
  redis.command({"XADD", "jobs", "*", "data", "authorised"});
  EXPECT_EQ(ok.messages(1)[0].data, "authorised");
}

TEST(Redis, AUrlWithoutStreamOrGroupIsRefusedAtOpen) {
  Runtime rt;
  tw_config* c = nullptr;
  ASSERT_EQ(tw_config_create(&c), TW_OK);
  ASSERT_EQ(tw_config_set(c, "url", "redis://127.0.0.1:1/0?group=g"), TW_OK);
  tw_stream* s = nullptr;
  EXPECT_EQ(tw_stream_open(&s, rt.get(), c), TW_ERR_INVALID_VALUE);
  EXPECT_NE(std::string(tw_last_error_message()).find("?stream="), std::string::npos) << tw_last_error_message();
  EXPECT_EQ(tw_config_set(c, "url", "redis://127.0.0.1:99999/0"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(tw_config_set(c, "transport", "sse"), TW_OK);
  ASSERT_EQ(tw_config_unset(c, "url"), TW_OK);  // a key is set once: unset first to change it
  ASSERT_EQ(tw_config_set(c, "url", "redis://127.0.0.1:1/0?stream=s&group=g"), TW_OK);
  EXPECT_EQ(tw_stream_open(&s, rt.get(), c), TW_ERR_INVALID_VALUE);
  tw_config_destroy(c);
}


// sink=redis://…: an SSE reader on one machine feeds workers on many.
TEST(RedisSink, SseEventsAreAppendedToTheStreamInOrderAndReachAWorker) {
  RedisServer redis;
  Runtime rt;
  const std::string key = unique_key();
  Stream reader(rt.get(), {{"transport", "sse"},
                           {"url", http_peer().url("/sse?key=" + key + "&count=50&cut_every=20")},
                           {"reconnect.initial_ms", "10"},
                           {"sink", redis.url("?stream=feed")}});
  ASSERT_TRUE(eventually([&] { return redis.integer({"XLEN", "feed"}) >= 50; }, 10000));
  Stream worker(rt.get(), {{"url", redis.url("?stream=feed&group=g")}});
  auto got = worker.messages(50);
  ASSERT_EQ(got.size(), 50u);
  for (size_t i = 0; i < got.size(); i++) {
    EXPECT_EQ(got[i].headers["id"], std::to_string(i + 1));
    EXPECT_EQ(got[i].headers["transport"], "sse");
  }
  // Forwarded, not queued here.
  Received r;
  EXPECT_EQ(reader.next(r, 0), TW_ERR_TIMEOUT);
  EXPECT_EQ(reader.stat("messages"), 50u);
}

TEST(RedisSink, WhileRedisIsDownEntriesWaitAndNothingIsLost) {
  RedisServer redis;
  redis.stop();
  Runtime rt;
  const std::string key = unique_key();
  Stream reader(rt.get(), {{"transport", "sse"},
                           {"url", http_peer().url("/sse?key=" + key + "&count=30")},
                           {"queue.max_events", "8"},
                           {"reconnect.initial_ms", "20"},
                           {"reconnect.max_ms", "100"},
                           {"sink", redis.url("?stream=feed")}});
  // Past queue.max_events unconfirmed entries the reader stops taking events from the source.
  EXPECT_TRUE(eventually([&] { return reader.stat("messages") >= 8; }));
  redis.start();
  ASSERT_TRUE(eventually([&] { return redis.integer({"XLEN", "feed"}) >= 30; }, 10000));
  EXPECT_EQ(redis.integer({"XLEN", "feed"}), 30);
}

// Entries the sink accepted but Redis has not confirmed when the stream is closed still go: the
// application sees the end at once, Redis gets every entry, once and in order.
TEST(RedisSink, EntriesNotYetConfirmedWhenTheStreamIsClosedStillReachRedis) {
  RedisServer redis;
  redis.pause();  // connected, but nothing answered: no entry can be confirmed
  Runtime rt;
  const std::string key = unique_key();
  Stream reader(rt.get(), {{"transport", "sse"},
                           {"url", http_peer().url("/sse?key=" + key + "&count=20&hold=1")},
                           {"sink", redis.url("?stream=feed")}});
  const bool accepted = eventually([&] { return reader.stat("messages") == 20; });
  tw_stream_close(reader.get());
  reader.until_end();  // ended for the application without waiting for Redis
  redis.resume();
  ASSERT_TRUE(accepted);
  ASSERT_TRUE(eventually([&] { return redis.integer({"XLEN", "feed"}) >= 20; }, 10000));
  EXPECT_EQ(redis.integer({"XLEN", "feed"}), 20);
  Stream worker(rt.get(), {{"url", redis.url("?stream=feed&group=g")}});
  auto got = worker.messages(20);
  ASSERT_EQ(got.size(), 20u);
  for (size_t i = 0; i < got.size(); i++) EXPECT_EQ(got[i].headers["id"], std::to_string(i + 1));
}

// Warnings of the process-wide log hook, for tests that look for one.
struct WarnCapture {
  std::mutex mutex;
  std::vector<std::string> lines;
  static void hook(void* user, tw_log_level level, const char* message) {
    auto* self = static_cast<WarnCapture*>(user);
    std::lock_guard<std::mutex> lock(self->mutex);
    if (level <= TW_LOG_WARN) self->lines.emplace_back(message);
  }
  std::string find(const std::string& part) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& line : lines)
      if (line.find(part) != std::string::npos) return line;
    return "";
  }
};

// Redis still silent at sink.flush_timeout_ms: what is left is dropped, and a warning says how
// many entries.
TEST(RedisSink, EntriesStillUnconfirmedAtTheFlushBoundAreReportedNotDroppedSilently) {
  static WarnCapture capture;  // outlives the hook, whatever fails
  tw_log_set(TW_LOG_WARN, WarnCapture::hook, &capture);
  RedisServer redis;
  redis.pause();
  Runtime rt;
  const std::string key = unique_key();
  Stream reader(rt.get(), {{"transport", "sse"},
                           {"url", http_peer().url("/sse?key=" + key + "&count=5&hold=1")},
                           {"sink", redis.url("?stream=feed")},
                           {"sink.flush_timeout_ms", "300"}});
  const bool accepted = eventually([&] { return reader.stat("messages") == 5; });
  tw_stream_close(reader.get());
  const bool warned = eventually([&] { return !capture.find("sink: 5 entries").empty(); }, 300 + kSlackMs);
  redis.resume();
  tw_log_set(TW_LOG_WARN, nullptr, nullptr);
  ASSERT_TRUE(accepted);
  ASSERT_TRUE(warned);
  const std::string line = capture.find("sink: 5 entries");
  EXPECT_NE(line.find("sink.flush_timeout_ms=300"), std::string::npos) << line;
  EXPECT_NE(line.find("dropped"), std::string::npos) << line;
}

TEST(RedisSink, ASinkWithoutAStreamOrOnAWebhookIsRefusedAtOpen) {
  Runtime rt;
  tw_config* c = nullptr;
  ASSERT_EQ(tw_config_create(&c), TW_OK);
  ASSERT_EQ(tw_config_set(c, "transport", "sse"), TW_OK);
  ASSERT_EQ(tw_config_set(c, "url", "http://127.0.0.1:1/sse"), TW_OK);
  ASSERT_EQ(tw_config_set(c, "sink", "redis://127.0.0.1:1/0"), TW_OK);
  tw_stream* s = nullptr;
  EXPECT_EQ(tw_stream_open(&s, rt.get(), c), TW_ERR_INVALID_VALUE);
  EXPECT_NE(std::string(tw_last_error_message()).find("?stream=NAME"), std::string::npos);
  ASSERT_EQ(tw_config_unset(c, "transport"), TW_OK);  // a key is set once: unset first to change it
  ASSERT_EQ(tw_config_unset(c, "sink"), TW_OK);
  ASSERT_EQ(tw_config_set(c, "transport", "webhook"), TW_OK);
  ASSERT_EQ(tw_config_set(c, "sink", "redis://127.0.0.1:1/0?stream=x"), TW_OK);
  EXPECT_EQ(tw_stream_open(&s, rt.get(), c), TW_ERR_INVALID_VALUE);
  EXPECT_NE(std::string(tw_last_error_message()).find("webhook.handoff"), std::string::npos);
  EXPECT_EQ(tw_config_set(c, "sink", "http://127.0.0.1/"), TW_ERR_INVALID_VALUE);
  tw_config_destroy(c);
}

}  // namespace
}  // namespace tidewire::test
