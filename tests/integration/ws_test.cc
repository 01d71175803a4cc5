// WebSocket against a real `websockets` server (tests/peers/ws_peer.py): messages both ways,
// fragments, every class of close code, drops and keepalive, limits, backpressure, the handshake,
// TLS and the CONNECT proxy, permessage-deflate.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness.h"

namespace tidewire::test {
namespace {

Peer& ws_peer() {
  static Peer peer(peer_script("ws_peer.py"));
  return peer;
}

std::string ws_url(const std::string& path_and_query) {
  return "ws://127.0.0.1:" + std::to_string(ws_peer().port()) + path_and_query;
}

Settings ws(const std::string& path, Settings extra = {}) {
  Settings s = {{"transport", "ws"},
                {"url", ws_url(path)},
                {"reconnect.initial_ms", "10"},
                {"reconnect.max_ms", "50"}};
  s.insert(s.end(), extra.begin(), extra.end());
  return s;
}

// The peer's connection log for `key`: one map per connection attempt (see ws_peer.py).
std::vector<std::map<std::string, std::string>> ws_log(const std::string& key) { return peer_log(ws_peer(), key); }

// The same log as raw text, for failure messages.
std::string ws_log_text(const std::string& key) {
  return "\npeer log for " + key + ":\n" + http_get(ws_peer().port(), "/_log?key=" + key).body;
}

// What the harness's Received leaves out: the transport and the close code.
struct WsEvent {
  tw_kind kind = TW_KIND_MESSAGE;
  tw_transport transport = TW_TRANSPORT_POLL;
  std::string id;
  std::string type;
  std::string data;
  tw_err error = TW_OK;
  int http_status = 0;
  int close_code = 0;
};

tw_err next_ws(WsEvent& out, Stream& s, int timeout_ms) {
  tw_event* e = nullptr;
  tw_err err = tw_stream_next(&e, s.get(), timeout_ms);
  if (err != TW_OK) return err;
  out.kind = tw_event_kind(e);
  out.transport = tw_event_transport(e);
  out.id = tw_event_id(e);
  out.type = tw_event_type(e);
  out.data.assign(tw_event_data(e), tw_event_data_len(e));
  out.error = tw_event_error(e);
  out.http_status = tw_event_http_status(e);
  out.close_code = tw_event_close_code(e);
  tw_event_destroy(e);
  return TW_OK;
}

int left_ms(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Every event until the stream ends, bounded by timeout_ms (a failure if it does not end).
std::vector<WsEvent> events_until_end(Stream& s, int timeout_ms = 10000) {
  std::vector<WsEvent> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    WsEvent e;
    tw_err err = next_ws(e, s, left_ms(deadline));
    if (err == TW_ERR_CLOSED) return out;
    if (err != TW_OK) {
      ADD_FAILURE() << "stream did not end: " << tw_err_name(err);
      return out;
    }
    out.push_back(std::move(e));
  }
}

// Events until `messages` message events have been read (status events included in the result).
std::vector<WsEvent> events_until_messages(Stream& s, size_t messages, int timeout_ms = 10000) {
  std::vector<WsEvent> out;
  size_t seen = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (seen < messages) {
    WsEvent e;
    tw_err err = next_ws(e, s, left_ms(deadline));
    if (err != TW_OK) {
      ADD_FAILURE() << "after " << seen << " of " << messages << " messages: " << tw_err_name(err);
      break;
    }
    if (e.kind == TW_KIND_MESSAGE) seen++;
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<WsEvent> only(const std::vector<WsEvent>& events, tw_kind kind) {
  std::vector<WsEvent> out;
  for (const auto& e : events)
    if (e.kind == kind) out.push_back(e);
  return out;
}

// Waits for the open event of a stream opened with status_events=true.
void wait_open(Stream& s, int timeout_ms = 5000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    WsEvent e;
    tw_err err = next_ws(e, s, left_ms(deadline));
    ASSERT_EQ(err, TW_OK) << "no open event: " << tw_err_name(err);
    if (e.kind == TW_KIND_OPEN) return;
    ASSERT_NE(e.kind, TW_KIND_ERROR) << e.data;
  }
}

// Names parametrized tests by their code ("1001") rather than by index.
std::string code_name(const ::testing::TestParamInfo<int>& param_info) { return std::to_string(param_info.param); }

std::string i_message(int i) { return "{\"i\":" + std::to_string(i) + "}"; }

// ---------------------------------------------------------------------------------------------- //
// Messages

TEST(Ws, EchoesTextAndBinarySentWithStreamSend) {
  Runtime rt;
  Stream s(rt.get(), ws("/echo?key=" + unique_key(), {{"status_events", "true"}}));
  wait_open(s);
  const std::string text = "hello, \xC3\xA9t\xC3\xA9";
  const std::string binary("\x00\x01\xFF\xFE\x00 binary", 12);
  std::string large(200 * 1024, '\0');
  for (size_t i = 0; i < large.size(); i++) large[i] = static_cast<char>('a' + i % 26);
  ASSERT_EQ(tw_stream_send(s.get(), text.data(), text.size(), 0), TW_OK) << tw_last_error_message();
  ASSERT_EQ(tw_stream_send(s.get(), binary.data(), binary.size(), 1), TW_OK) << tw_last_error_message();
  ASSERT_EQ(tw_stream_send(s.get(), large.data(), large.size(), 0), TW_OK) << tw_last_error_message();
  auto events = only(events_until_messages(s, 3), TW_KIND_MESSAGE);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, "text");
  EXPECT_EQ(events[0].data, text);
  EXPECT_EQ(events[0].id, "");
  EXPECT_EQ(events[1].type, "binary");
  EXPECT_EQ(events[1].data, binary);
  EXPECT_EQ(events[2].type, "text");
  EXPECT_TRUE(events[2].data == large) << "200 KiB echo differs; got " << events[2].data.size() << " bytes";
}

// tw_stream_recycle: the memory of events handed back serves the next ones. Sizes cycle through
// several block classes (and one over the largest), so that blocks are reused for payloads of
// their own class only; every byte of every later payload must be its own.
TEST(Ws, EventsHandedBackWithRecycleLeaveEveryLaterPayloadIntact) {
  Runtime rt;
  Stream s(rt.get(), ws("/echo?key=" + unique_key(), {{"status_events", "true"}}));
  wait_open(s);
  const size_t sizes[] = {0, 10, 300, 1000, 1300, 5000, 70000, 1100000};
  auto payload = [&](int round, int i) {
    std::string p(sizes[i % 8], '\0');
    for (size_t k = 0; k < p.size(); k++) p[k] = static_cast<char>(0x20 + (round * 31 + i * 7 + k) % 90);
    return p;
  };
  for (int round = 0; round < 4; round++) {
    const int count = 16;  // two of each size: under ws.send_buffer_bytes (4 MiB) at once
    for (int i = 0; i < count; i++) {
      std::string p = payload(round, i);
      ASSERT_EQ(tw_stream_send(s.get(), p.data(), p.size(), 0), TW_OK) << tw_last_error_message();
    }
    int seen = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (seen < count) {
      tw_event* batch[16];
      size_t n = 0;
      ASSERT_EQ(tw_stream_next_batch(batch, &n, s.get(), 16, left_ms(deadline)), TW_OK) << "round " << round;
      for (size_t k = 0; k < n; k++) {
        if (tw_event_kind(batch[k]) != TW_KIND_MESSAGE) {
          ASSERT_NE(tw_event_kind(batch[k]), TW_KIND_ERROR) << tw_event_data(batch[k]);
          continue;
        }
        std::string got(tw_event_data(batch[k]), tw_event_data_len(batch[k]));
        ASSERT_TRUE(got == payload(round, seen)) << "round " << round << " message " << seen << ": " << got.size() << " bytes";
        EXPECT_EQ(tw_event_data(batch[k])[got.size()], '\0');
        seen++;
      }
      tw_stream_recycle(s.get(), batch, n);
    }
  }
  tw_event* none[1] = {nullptr};
  tw_stream_recycle(s.get(), none, 1);
  tw_stream_recycle(s.get(), nullptr, 3);
}

TEST(Ws, DeliversAThousandPushedMessagesInOrder) {
  Runtime rt;
  Stream s(rt.get(), ws("/push?key=" + unique_key() + "&count=1000&size=64"));
  auto events = s.messages(1000, 20000);
  ASSERT_EQ(events.size(), 1000u);
  for (size_t i = 0; i < events.size(); i++) {
    ASSERT_EQ(events[i].type, "text");
    ASSERT_EQ(events[i].id, "");
    ASSERT_EQ(events[i].data.size(), 64u);
    ASSERT_EQ(events[i].data.rfind("{\"i\":" + std::to_string(i + 1) + ",", 0), 0u) << events[i].data;
  }
  EXPECT_EQ(s.stat("messages"), 1000u);
  EXPECT_EQ(s.stat("reconnects"), 0u);
}

TEST(Ws, MessagesArrivingWithTheHandshakeResponseAreDelivered) {
  Runtime rt;
  std::string key = unique_key();
  // cork=1: the peer holds the 101 back until the three messages are written, so the client reads
  // the handshake response and the first frames in one go (as it may whenever a server sends at once).
  Stream s(rt.get(), ws("/push?key=" + key + "&count=3&size=16&cork=1"));
  auto events = s.messages(3, 3000);
  ASSERT_EQ(events.size(), 3u) << ws_log_text(key);
  EXPECT_EQ(events[2].data.rfind("{\"i\":3", 0), 0u) << events[2].data;
}

TEST(Ws, BinaryMessagesHaveTheBinaryType) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), ws("/push?key=" + key + "&count=10&size=300&binary=1"));
  auto events = s.messages(10);
  ASSERT_EQ(events.size(), 10u) << ws_log_text(key);
  for (size_t i = 0; i < events.size(); i++) {
    const std::string& d = events[i].data;
    EXPECT_EQ(events[i].type, "binary");
    ASSERT_EQ(d.size(), 300u);
    uint32_t k = (static_cast<uint32_t>(static_cast<unsigned char>(d[0])) << 24) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(d[1])) << 16) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(d[2])) << 8) |
                 static_cast<uint32_t>(static_cast<unsigned char>(d[3]));
    EXPECT_EQ(k, i + 1);
    for (size_t j = 4; j < d.size(); j++) ASSERT_EQ(static_cast<unsigned char>(d[j]), j % 251) << "byte " << j;
  }
}

TEST(Ws, TenMebibyteMessageInSixtyFourKibibyteFragmentsIsReassembledByteExact) {
  Runtime rt;
  const size_t size = 10 * 1024 * 1024;
  Stream s(rt.get(), ws("/big?key=" + unique_key() + "&size=" + std::to_string(size) + "&frag=65536"));
  auto events = s.messages(1, 30000);
  ASSERT_EQ(events.size(), 1u);
  const std::string& d = events[0].data;
  EXPECT_EQ(events[0].type, "binary");
  ASSERT_EQ(d.size(), size);
  for (size_t i = 0; i < size; i++) ASSERT_EQ(static_cast<unsigned char>(d[i]), i % 251) << "byte " << i;
  EXPECT_EQ(s.stat("messages"), 1u);
}

TEST(Ws, FragmentedTextMessageIsOneTextEvent) {
  Runtime rt;
  Stream s(rt.get(), ws("/big?key=" + unique_key() + "&size=5000&frag=700&binary=0"));
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "text");
  ASSERT_EQ(events[0].data.size(), 5000u);
  for (size_t i = 0; i < 5000; i++) ASSERT_EQ(events[0].data[i], static_cast<char>(33 + i % 94)) << "char " << i;
}

TEST(Ws, OneFrameMessagesLargerThanAReadArriveByteExact) {
  Runtime rt;
  const size_t size = 1 << 20;  // sixteen 64 KiB reads at least
  Stream binary(rt.get(), ws("/big?key=" + unique_key() + "&size=" + std::to_string(size)));
  Stream text(rt.get(), ws("/big?key=" + unique_key() + "&size=" + std::to_string(size) + "&binary=0"));
  auto b = binary.messages(1);
  auto t = text.messages(1);
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(b[0].type, "binary");
  EXPECT_EQ(t[0].type, "text");
  ASSERT_EQ(b[0].data.size(), size);
  ASSERT_EQ(t[0].data.size(), size);
  for (size_t i = 0; i < size; i++) {
    ASSERT_EQ(static_cast<unsigned char>(b[0].data[i]), i % 251) << "byte " << i;
    ASSERT_EQ(t[0].data[i], static_cast<char>(33 + i % 94)) << "char " << i;
  }
  EXPECT_EQ(binary.stat("payload_bytes"), size);
  EXPECT_GT(binary.stat("wire_bytes"), size);  // the frame header too
}

// ---------------------------------------------------------------------------------------------- //
// Close codes from the server

TEST(Ws, NormalClosureEndsTheStreamCleanly) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), ws("/close?key=" + key + "&code=1000&after=2&reason=done", {{"status_events", "true"}}));
  auto events = events_until_end(s);
  auto messages = only(events, TW_KIND_MESSAGE);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].data, i_message(1));
  EXPECT_EQ(messages[1].data, i_message(2));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, TW_KIND_CLOSED);
  EXPECT_EQ(events.back().close_code, 1000);
  EXPECT_EQ(s.failure(), nullptr);
  EXPECT_EQ(s.stat("reconnects"), 0u);
  EXPECT_EQ(ws_log(key).size(), 1u);
}

class WsReconnectingClose : public ::testing::TestWithParam<int> {};

TEST_P(WsReconnectingClose, ReconnectsAndMessagesKeepComing) {
  Runtime rt;
  std::string key = unique_key();
  const int code = GetParam();
  // Each connection delivers the next two of a per-key sequence, then closes with `code`
  // (1006: the TCP connection is aborted without a close frame).
  Stream s(rt.get(), ws("/close?key=" + key + "&code=" + std::to_string(code) + "&after=2&reason=later",
                        {{"status_events", "true"}}));
  auto events = events_until_messages(s, 6);
  auto messages = only(events, TW_KIND_MESSAGE);
  ASSERT_EQ(messages.size(), 6u) << ws_log_text(key);
  for (int i = 0; i < 6; i++) EXPECT_EQ(messages[static_cast<size_t>(i)].data, i_message(i + 1));
  auto reconnecting = only(events, TW_KIND_RECONNECTING);
  EXPECT_GE(reconnecting.size(), 2u);
  for (const auto& r : reconnecting) {
    EXPECT_NE(r.error, TW_OK);
    EXPECT_EQ(r.close_code, code) << r.data;
  }
  EXPECT_TRUE(only(events, TW_KIND_ERROR).empty());
  EXPECT_GE(s.stat("reconnects"), 2u);
  EXPECT_EQ(s.failure(), nullptr);
  EXPECT_GE(ws_log(key).size(), 3u);
}

// 1012 (service restart) and 1013 (try again later) arrive as sent, and are retried like 1001.
INSTANTIATE_TEST_SUITE_P(WsServer, WsReconnectingClose, ::testing::Values(1001, 1006, 1011, 1012, 1013), code_name);

TEST(Ws, ServiceRestartCloseKeepsItsCodeAndReasonInTheReconnectingEvent) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), ws("/close?key=" + key + "&code=1012&after=1&reason=restarting", {{"status_events", "true"}}));
  auto events = events_until_messages(s, 2);
  auto reconnecting = only(events, TW_KIND_RECONNECTING);
  ASSERT_FALSE(reconnecting.empty()) << ws_log_text(key);
  EXPECT_EQ(reconnecting[0].close_code, 1012);
  EXPECT_NE(reconnecting[0].data.find("1012"), std::string::npos) << reconnecting[0].data;
  EXPECT_NE(reconnecting[0].data.find("restarting"), std::string::npos) << reconnecting[0].data;
  EXPECT_EQ(s.failure(), nullptr);
  // The client answered the server's close frame with the same code.
  std::vector<std::map<std::string, std::string>> log;
  EXPECT_TRUE(eventually([&] {
    log = ws_log(key);
    return !log.empty() && log[0]["ended"] == "1";
  }));
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log[0]["close_code"], "1012");
}

class WsFatalClose : public ::testing::TestWithParam<int> {};

TEST_P(WsFatalClose, EndsTheStreamWithTheCloseCodeAndNoReconnect) {
  Runtime rt;
  std::string key = unique_key();
  const int code = GetParam();
  Stream s(rt.get(), ws("/close?key=" + key + "&code=" + std::to_string(code) + "&after=2&reason=go-away"));
  auto events = events_until_end(s);
  auto messages = only(events, TW_KIND_MESSAGE);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].data, i_message(2));
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr) << "close code " << code << " ended the stream cleanly";
  EXPECT_EQ(tw_event_kind(failure.get()), TW_KIND_ERROR);
  EXPECT_NE(tw_event_error(failure.get()), TW_OK);
  EXPECT_EQ(tw_event_close_code(failure.get()), code) << tw_event_data(failure.get());
  // The reason says the code ("closed the WebSocket with 1008"): the failure's text does not repeat it.
  char* text = nullptr;
  ASSERT_EQ(tw_event_error_message(&text, failure.get()), TW_OK);
  EXPECT_EQ(std::string(text), std::string(tw_event_data(failure.get())) + " (" +
                                   tw_err_name(tw_event_error(failure.get())) + ")");
  tw_free(text);
  EXPECT_EQ(s.stat("reconnects"), 0u);
  // No second connection, even given time for one.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(ws_log(key).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(WsServer, WsFatalClose, ::testing::Values(1002, 1003, 1007, 1008, 1010, 4001), code_name);

// ---------------------------------------------------------------------------------------------- //
// Drops and keepalive

TEST(Ws, RepeatedDropsReconnectAndTheSubscribeMessageIsResentEachTime) {
  Runtime rt;
  std::string key = unique_key();
  const std::string subscribe = "{\"op\":\"subscribe\",\"topics\":[\"a;b\",\"c\"]}";
  Stream s(rt.get(), ws("/drop?key=" + key + "&after=2", {{"ws.subscribe_message", subscribe}}));
  auto events = s.messages(8, 15000);
  ASSERT_EQ(events.size(), 8u);
  for (int i = 0; i < 8; i++) EXPECT_EQ(events[static_cast<size_t>(i)].data, i_message(i + 1));
  EXPECT_GE(s.stat("reconnects"), 3u);
  EXPECT_EQ(s.failure(), nullptr);
  std::vector<std::map<std::string, std::string>> log;
  ASSERT_TRUE(eventually([&] {
    log = ws_log(key);
    return log.size() >= 4 && log[3]["first"] == subscribe;
  })) << "connections logged: " << log.size();
  for (size_t i = 0; i < 4; i++) {
    EXPECT_EQ(log[i]["first"], subscribe) << "connection " << i + 1;
    EXPECT_EQ(log[i]["close_code"], "") << "connection " << i + 1;  // the peer aborted; the client sent no close
  }
}

TEST(Ws, ServerThatStopsAnsweringPingsIsDroppedAndReconnected) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), ws("/noping?key=" + key, {{"ws.ping_interval_ms", "100"}, {"ws.pong_timeout_ms", "200"}}));
  ASSERT_EQ(s.messages(1).size(), 1u);
  auto t0 = std::chrono::steady_clock::now();
  // A ping within 100 ms, no pong within 200 ms after it: a reconnect in about 300 ms (bounded
  // loosely here, for a busy machine).
  ASSERT_TRUE(eventually([&] { return s.stat("reconnects") >= 1; }, 5000));
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(elapsed, 3000);
  auto again = s.messages(1);  // the new connection's message
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].data, i_message(1));
  auto log = ws_log(key);
  ASSERT_GE(log.size(), 2u);
  EXPECT_GE(std::stoi(log[0]["pings"]), 1);
  EXPECT_EQ(s.failure(), nullptr);
}

TEST(Ws, AnsweredPingsKeepTheConnection) {
  Runtime rt;
  std::string key = unique_key();
  // A pong deadline generous enough for a busy machine: the point is that answered pings never drop.
  Stream s(rt.get(), ws("/push?key=" + key + "&count=1", {{"ws.ping_interval_ms", "100"}, {"ws.pong_timeout_ms", "1000"}}));
  ASSERT_EQ(s.messages(1).size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(s.stat("reconnects"), 0u);
  auto log = ws_log(key);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_GE(std::stoi(log[0]["pings"]), 3);
}

TEST(Ws, PingIntervalZeroSendsNoPings) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), ws("/noping?key=" + key, {{"ws.ping_interval_ms", "0"}, {"ws.pong_timeout_ms", "100"}}));
  ASSERT_EQ(s.messages(1).size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(s.stat("reconnects"), 0u);
  auto log = ws_log(key);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["pings"], "0");
}

// ---------------------------------------------------------------------------------------------- //
// Limits and backpressure

struct Oversized {
  int size;
  int frag;  // 0: one frame
};

class WsMessageTooBig : public ::testing::TestWithParam<Oversized> {};

TEST_P(WsMessageTooBig, EndsWithLimitAndTheServerSees1009) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), ws("/big?key=" + key + "&size=" + std::to_string(GetParam().size) +
                            "&frag=" + std::to_string(GetParam().frag),
                        {{"ws.max_message_bytes", "1024"}}));
  auto events = events_until_end(s);
  EXPECT_TRUE(only(events, TW_KIND_MESSAGE).empty());
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_LIMIT) << tw_event_data(failure.get());
  EXPECT_EQ(s.stat("reconnects"), 0u);
  std::vector<std::map<std::string, std::string>> log;
  EXPECT_TRUE(eventually([&] {
    log = ws_log(key);
    return log.size() == 1 && log[0]["close_code"] == "1009";
  })) << (log.empty() ? std::string("no connection logged") : "close_code=" + log[0]["close_code"]);
}

INSTANTIATE_TEST_SUITE_P(WsServer, WsMessageTooBig,
                         ::testing::Values(Oversized{2048, 0}, Oversized{4096, 512}),
                         [](const ::testing::TestParamInfo<Oversized>& param_info) {
                           const Oversized& o = param_info.param;
                           return std::to_string(o.size) + "_bytes_" +
                                  (o.frag ? "in_" + std::to_string(o.frag) + "_byte_fragments" : std::string("in_one_frame"));
                         });

TEST(Ws, MessageOfExactlyTheLimitIsDelivered) {
  Runtime rt;
  Stream one(rt.get(), ws("/push?key=" + unique_key() + "&count=1&size=1024", {{"ws.max_message_bytes", "1024"}}));
  Stream fragmented(rt.get(),
                    ws("/big?key=" + unique_key() + "&size=1024&frag=256", {{"ws.max_message_bytes", "1024"}}));
  auto a = one.messages(1);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].data.size(), 1024u);
  auto b = fragmented.messages(1);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].data.size(), 1024u);
  EXPECT_EQ(one.failure(), nullptr);
  EXPECT_EQ(fragmented.failure(), nullptr);
}

TEST(Ws, SlowConsumerWithPauseLosesNothing) {
  Runtime rt;
  const int count = 20000;
  Stream s(rt.get(), ws("/slow-consumer?key=" + unique_key() + "&count=" + std::to_string(count),
                        {{"queue.max_events", "16"}, {"queue.overflow", "pause"}}));
  ASSERT_TRUE(eventually([&] { return s.stat("paused") >= 1; }));
  // Reading stopped: the queue holds the capacity plus at most one read's worth, not the feed.
  uint64_t held = s.stat("queue_depth");
  EXPECT_GE(held, 16u);
  EXPECT_LT(held, 5000u);
  auto events = s.messages(count, 60000);
  ASSERT_EQ(events.size(), static_cast<size_t>(count));
  for (int i = 0; i < count; i++) ASSERT_EQ(events[static_cast<size_t>(i)].data, i_message(i + 1));
  EXPECT_EQ(s.stat("dropped"), 0u);
  EXPECT_LT(s.stat("queue_peak"), 5000u);
  EXPECT_GE(s.stat("paused"), 2u);
  EXPECT_EQ(s.stat("reconnects"), 0u);
}

TEST(Ws, SendsFarBeyondWhatOneWriteQueueHoldsAllArriveInOrder) {
  Runtime rt;
  Stream s(rt.get(),
           ws("/echo?key=" + unique_key(), {{"status_events", "true"}, {"ws.send_buffer_bytes", "16777216"}}));
  wait_open(s);
  // 8 MiB in 128 messages of 64 KiB, queued at once: more than the connection is handed at a time,
  // so the rest waits in the send buffer and follows as the socket drains.
  const int count = 128;
  for (int i = 0; i < count; i++) {
    std::string m(64 * 1024, static_cast<char>('a' + i % 26));
    std::string tag = std::to_string(i) + ":";
    m.replace(0, tag.size(), tag);
    ASSERT_EQ(tw_stream_send(s.get(), m.data(), m.size(), 0), TW_OK) << i << ": " << tw_last_error_message();
  }
  auto events = s.messages(count, 30000);
  ASSERT_EQ(events.size(), static_cast<size_t>(count));
  for (int i = 0; i < count; i++) {
    const std::string& d = events[static_cast<size_t>(i)].data;
    ASSERT_EQ(d.size(), 64u * 1024) << i;
    ASSERT_EQ(d.rfind(std::to_string(i) + ":", 0), 0u) << "message " << i << " starts " << d.substr(0, 8);
    ASSERT_EQ(d.back(), static_cast<char>('a' + i % 26)) << i;
  }
}

TEST(Ws, SendLargerThanTheWholeSendBufferIsRefusedAsOverTheLimit) {
  Runtime rt;
  Stream s(rt.get(), ws("/echo?key=" + unique_key(), {{"ws.send_buffer_bytes", "1024"}, {"status_events", "true"}}));
  wait_open(s);
  std::string big(4096, 'x');
  // Never fits, however long the caller waits: a limit error, not "try again".
  EXPECT_EQ(tw_stream_send(s.get(), big.data(), big.size(), 0), TW_ERR_LIMIT);
  EXPECT_NE(std::string(tw_last_error_message()).find("ws.send_buffer_bytes"), std::string::npos)
      << tw_last_error_message();
  // A message that fits still goes through.
  ASSERT_EQ(tw_stream_send(s.get(), "fits", 4, 0), TW_OK) << tw_last_error_message();
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "fits");
}

TEST(Ws, SendsThatOverfillTheSendBufferWouldBlock) {
  Runtime rt;
  // Never connected (every handshake is refused, and slowly retried): nothing drains the buffer.
  Stream s(rt.get(), {{"transport", "ws"},
                      {"url", ws_url("/status?key=" + unique_key() + "&code=503")},
                      {"reconnect.initial_ms", "5000"},
                      {"reconnect.max_ms", "5000"},
                      {"ws.send_buffer_bytes", "1024"}});
  std::string part(600, 'y');
  ASSERT_EQ(tw_stream_send(s.get(), part.data(), part.size(), 1), TW_OK) << tw_last_error_message();
  EXPECT_EQ(tw_stream_send(s.get(), part.data(), part.size(), 1), TW_ERR_WOULD_BLOCK);
  EXPECT_NE(std::string(tw_last_error_message()).find("ws.send_buffer_bytes"), std::string::npos)
      << tw_last_error_message();
  EXPECT_EQ(tw_stream_send(s.get(), part.data(), 424, 1), TW_OK) << tw_last_error_message();  // exactly full
  EXPECT_EQ(tw_stream_send(s.get(), "z", 1, 0), TW_ERR_WOULD_BLOCK);
}

TEST(Ws, SendOnAnEndedStreamIsClosed) {
  Runtime rt;
  Stream s(rt.get(), ws("/close?key=" + unique_key() + "&code=1000"));
  events_until_end(s);
  EXPECT_EQ(tw_stream_send(s.get(), "late", 4, 0), TW_ERR_CLOSED);
}

// ---------------------------------------------------------------------------------------------- //
// Closing from the client

TEST(Ws, StreamCloseSendsNormalClosure) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), ws("/echo?key=" + key, {{"status_events", "true"}}));
  wait_open(s);
  tw_stream_close(s.get());
  events_until_end(s, 5000);
  EXPECT_EQ(s.failure(), nullptr);
  std::vector<std::map<std::string, std::string>> log;
  EXPECT_TRUE(eventually([&] {
    log = ws_log(key);
    return log.size() == 1 && log[0]["ended"] == "1";
  }));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["close_code"], "1000");
}

TEST(Ws, RuntimeDestroyWithTheStreamOpenSendsGoingAway) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), ws("/echo?key=" + key, {{"status_events", "true"}}));
  wait_open(s);
  auto t0 = std::chrono::steady_clock::now();
  rt.destroy();
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count(), 2000);
  std::vector<std::map<std::string, std::string>> log;
  EXPECT_TRUE(eventually([&] {
    log = ws_log(key);
    return log.size() == 1 && log[0]["ended"] == "1";
  }));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["close_code"], "1001");
  EXPECT_TRUE(tw_stream_ended(s.get()));
}

// ---------------------------------------------------------------------------------------------- //
// The handshake

class WsRefusedHandshake : public ::testing::TestWithParam<int> {};

TEST_P(WsRefusedHandshake, IsAFatalFailure) {
  Runtime rt;
  std::string key = unique_key();
  const int status = GetParam();
  Stream s(rt.get(), ws("/status?key=" + key + "&code=" + std::to_string(status)));
  auto events = events_until_end(s);
  EXPECT_TRUE(only(events, TW_KIND_MESSAGE).empty());
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_NE(tw_event_error(failure.get()), TW_OK);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_HTTP_STATUS) << tw_event_data(failure.get());
  EXPECT_EQ(tw_event_http_status(failure.get()), status) << tw_event_data(failure.get());
  EXPECT_EQ(s.stat("reconnects"), 0u);
  auto log = ws_log(key);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["status"], std::to_string(status));
}

INSTANTIATE_TEST_SUITE_P(WsServer, WsRefusedHandshake, ::testing::Values(401, 403, 404), code_name);

TEST(Ws, ServiceUnavailableHandshakeIsRetriedUntilAccepted) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), ws("/status?key=" + key + "&code=503&times=2",
                        {{"ws.subscribe_message", "hello"}, {"status_events", "true"}}));
  auto events = events_until_messages(s, 1);
  auto messages = only(events, TW_KIND_MESSAGE);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].data, "hello");  // echoed by the accepted connection
  auto reconnecting = only(events, TW_KIND_RECONNECTING);
  EXPECT_EQ(reconnecting.size(), 2u);
  for (const auto& r : reconnecting) EXPECT_EQ(r.http_status, 503) << r.data;
  EXPECT_EQ(s.stat("reconnects"), 2u);
  auto log = ws_log(key);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0]["status"], "503");
  EXPECT_EQ(log[1]["status"], "503");
  EXPECT_EQ(log[2]["status"], "101");
}

TEST(Ws, HeadersAndSubprotocolsReachTheServer) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), ws("/subproto?key=" + key, {{"header.X-Test", "abc 123"}, {"ws.subprotocols", "chat.v1,chat.v2"}}));
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u) << ws_log_text(key);
  EXPECT_EQ(events[0].data, "chat.v2");  // the server's preference among those offered
  auto log = ws_log(key);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["x-test"], "abc 123");
  EXPECT_EQ(log[0]["subprotocol"], "chat.v2");
  EXPECT_NE(log[0]["offered"].find("chat.v1"), std::string::npos) << log[0]["offered"];
  EXPECT_NE(log[0]["offered"].find("chat.v2"), std::string::npos) << log[0]["offered"];
}

TEST(Ws, TransportIsInferredFromTheWsScheme) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), {{"url", ws_url("/push?key=" + key + "&count=3&size=16")}});
  auto events = only(events_until_messages(s, 3), TW_KIND_MESSAGE);
  ASSERT_EQ(events.size(), 3u) << ws_log_text(key);
  for (const auto& e : events) {
    EXPECT_EQ(e.transport, TW_TRANSPORT_WS);
    EXPECT_EQ(e.type, "text");
  }
  EXPECT_EQ(events[2].data.rfind("{\"i\":3", 0), 0u) << events[2].data;
}

// ---------------------------------------------------------------------------------------------- //
// TLS and the CONNECT proxy

struct WssPeer : TlsPeer {
  WssPeer() : TlsPeer("ws_peer.py", "wss") {}
};

TEST(WsTls, EchoOverWssWithTheServersCaFile) {
  WssPeer wss;
  Runtime rt;
  Stream s(rt.get(), {{"url", wss.url("/echo?key=" + unique_key())},
                      {"tls.ca_file", wss.ca_file()},
                      {"ws.subscribe_message", "over tls"}});
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "over tls");
}

TEST(WsTls, UntrustedCertificateIsRejectedAndNotRetried) {
  WssPeer wss;
  Runtime rt;
  Stream s(rt.get(), {{"url", wss.url("/echo?key=" + unique_key())}, {"reconnect.initial_ms", "10"}});
  events_until_end(s);
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_TLS) << tw_event_data(failure.get());
  EXPECT_EQ(s.stat("reconnects"), 0u);
}

TEST(WsTls, VerificationCanBeTurnedOffExplicitly) {
  WssPeer wss;
  Runtime rt;
  Stream s(rt.get(), {{"url", wss.url("/push?key=" + unique_key() + "&count=2")}, {"tls.verify", "false"}});
  EXPECT_EQ(s.messages(2).size(), 2u);
}

TEST(WsProxy, GoesThroughTheConnectProxy) {
  Peer proxy(peer_script("connect_proxy.py"));
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), ws("/echo?key=" + key, {{"proxy.url", "http://127.0.0.1:" + std::to_string(proxy.port())},
                                              {"ws.subscribe_message", "via proxy"}}));
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "via proxy");
  std::string count = http_get(proxy.port(), "/_count").body;
  EXPECT_EQ(count.substr(0, count.find('\n')), "1");
  EXPECT_NE(count.find("127.0.0.1:" + std::to_string(ws_peer().port())), std::string::npos) << count;
  auto log = ws_log(key);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["first"], "via proxy");
}

TEST(WsTls, WssCountsOneConnectionAndOneTlsHandshake) {
  WssPeer wss;
  Runtime rt;
  Stream s(rt.get(), {{"url", wss.url("/push?count=3&size=100&key=" + unique_key())}, {"tls.ca_file", wss.ca_file()}});
  ASSERT_EQ(s.messages(3).size(), 3u);
  EXPECT_EQ(s.stat("connections"), 1u);
  EXPECT_EQ(s.stat("tls_handshakes"), 1u);
  EXPECT_EQ(s.stat("requests"), 1u);
}

TEST(WsProxy, WssGoesThroughTheConnectProxyWithVerification) {
  WssPeer wss;
  Peer proxy(peer_script("connect_proxy.py"));
  Runtime rt;
  Stream s(rt.get(), {{"url", wss.url("/echo?key=" + unique_key())},
                      {"tls.ca_file", wss.ca_file()},
                      {"proxy.url", "http://127.0.0.1:" + std::to_string(proxy.port())},
                      {"ws.subscribe_message", "tls via proxy"}});
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "tls via proxy");
  std::string count = http_get(proxy.port(), "/_count").body;
  EXPECT_EQ(count.substr(0, count.find('\n')), "1");
  EXPECT_NE(count.find("127.0.0.1:" + std::to_string(wss.peer.port())), std::string::npos) << count;
  EXPECT_EQ(s.stat("tls_handshakes"), 1u);
}

TEST(WsProxy, UntrustedCertificateBehindTheProxyIsStillRejected) {
  WssPeer wss;
  Peer proxy(peer_script("connect_proxy.py"));
  Runtime rt;
  Stream s(rt.get(), {{"url", wss.url("/echo?key=" + unique_key())},
                      {"proxy.url", "http://127.0.0.1:" + std::to_string(proxy.port())},
                      {"reconnect.initial_ms", "10"}});
  events_until_end(s);
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_TLS) << tw_event_data(failure.get());
  EXPECT_EQ(s.stat("reconnects"), 0u);
}

// ---------------------------------------------------------------------------------------------- //
// permessage-deflate (RFC 7692), against websockets with compression on

Peer& deflate_peer() {
  static Peer peer(peer_script("ws_peer.py"), {"--compression"});
  return peer;
}

std::string deflate_url(const std::string& path_and_query) {
  return "ws://127.0.0.1:" + std::to_string(deflate_peer().port()) + path_and_query;
}

TEST(WsCompression, CompressibleFeedArrivesIntactWithFewerBytesOnTheWire) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), {{"url", deflate_url("/push?count=200&size=1024&key=" + key)}});
  auto events = s.messages(200);
  ASSERT_EQ(events.size(), 200u);
  for (size_t i = 0; i < events.size(); i++) {
    const std::string& d = events[i].data;
    ASSERT_EQ(d.size(), 1024u) << i;
    ASSERT_EQ(d.rfind("{\"i\":" + std::to_string(i + 1) + ",\"p\":\"xxx", 0), 0u) << d.substr(0, 40);
    ASSERT_EQ(d.substr(d.size() - 3), "x\"}");
  }
  EXPECT_EQ(s.stat("payload_bytes"), 200u * 1024);
  EXPECT_LT(s.stat("wire_bytes"), s.stat("payload_bytes") / 4) << "compression saved too little";
  auto log = peer_log(deflate_peer(), key);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["deflate"], "1");
  EXPECT_NE(log[0]["extensions"].find("permessage-deflate"), std::string::npos) << log[0]["extensions"];
}

TEST(WsCompression, MessagesSentCompressedAreEchoedIntact) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), {{"url", deflate_url("/echo?key=" + key)}, {"ws.subscribe_message", "hello, compressed"}});
  std::string text(300 * 1024, '\0');
  for (size_t i = 0; i < text.size(); i++) text[i] = static_cast<char>('a' + (i * 7 + i / 1000) % 26);
  std::string binary(70000, '\0');
  for (size_t i = 0; i < binary.size(); i++) binary[i] = static_cast<char>((i * 2654435761u) >> 13);
  ASSERT_EQ(tw_stream_send(s.get(), text.data(), text.size(), 0), TW_OK) << tw_last_error_message();
  ASSERT_EQ(tw_stream_send(s.get(), binary.data(), binary.size(), 1), TW_OK) << tw_last_error_message();
  for (int i = 0; i < 50; i++) {
    std::string small = i_message(i);
    ASSERT_EQ(tw_stream_send(s.get(), small.data(), small.size(), 0), TW_OK) << tw_last_error_message();
  }
  auto events = s.messages(53);
  ASSERT_EQ(events.size(), 53u);
  EXPECT_EQ(events[0].data, "hello, compressed");
  EXPECT_TRUE(events[1].data == text) << "300 KiB text echo differs; got " << events[1].data.size() << " bytes";
  EXPECT_EQ(events[2].type, "binary");
  EXPECT_TRUE(events[2].data == binary) << "binary echo differs; got " << events[2].data.size() << " bytes";
  for (int i = 0; i < 50; i++) EXPECT_EQ(events[static_cast<size_t>(i) + 3].data, i_message(i));
  auto log = peer_log(deflate_peer(), key);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["deflate"], "1");
}

TEST(WsCompression, OffSendsNoExtensionOffer) {
  Runtime rt;
  std::string key = unique_key();
  Stream s(rt.get(), {{"url", deflate_url("/push?count=3&size=1024&key=" + key)}, {"ws.compression", "off"}});
  auto events = s.messages(3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].data.size(), 1024u);
  auto log = peer_log(deflate_peer(), key);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["extensions"], "");
  EXPECT_EQ(log[0]["deflate"], "0");
  EXPECT_GT(s.stat("wire_bytes"), s.stat("payload_bytes"));  // nothing compressed: framing on top
}

TEST(WsCompression, ZipBombEndsWithLimitAndTheServerSees1009) {
  Runtime rt;
  std::string key = unique_key();
  // 32 MiB of zeros, about 32 KiB on the wire, against a 1 MiB limit on the inflated message.
  Stream s(rt.get(), {{"url", deflate_url("/big?zeros=1&size=" + std::to_string(32 << 20) + "&key=" + key)},
                      {"ws.max_message_bytes", std::to_string(1 << 20)},
                      {"reconnect.initial_ms", "10"}});
  auto events = events_until_end(s, 20000);
  EXPECT_TRUE(only(events, TW_KIND_MESSAGE).empty());
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_LIMIT) << tw_event_data(failure.get());
  EXPECT_EQ(tw_event_close_code(failure.get()), 1009);
  EXPECT_NE(std::string(tw_event_data(failure.get())).find("ws.max_message_bytes"), std::string::npos)
      << tw_event_data(failure.get());
  EXPECT_EQ(s.stat("reconnects"), 0u);
  // What was inflated stayed near the limit: nothing was delivered, and far less than 32 MiB was read.
  EXPECT_EQ(s.stat("payload_bytes"), 0u);
  EXPECT_LT(s.stat("wire_bytes"), 4u << 20);
  std::vector<std::map<std::string, std::string>> log;
  EXPECT_TRUE(eventually([&] {
    log = peer_log(deflate_peer(), key);
    return log.size() == 1 && log[0]["close_code"] == "1009";
  })) << (log.empty() ? std::string("no connection logged") : "close_code=" + log[0]["close_code"]);
}

}  // namespace
}  // namespace tidewire::test
