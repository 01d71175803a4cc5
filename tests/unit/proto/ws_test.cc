// The WebSocket client protocol driven with bytes only: handshake headers and checks, frame
// parsing (lengths, control frames, fragmentation, close codes, UTF-8, limits), frame writing.
#include <gtest/gtest.h>

#include <cstring>

#include "proto/ws.h"
#include "ws_test_support.h"

namespace tidewire::detail::ws {
namespace {

using testing::bytes;
using testing::close_payload;
using testing::Outcome;
using testing::run;
using testing::run_in_slices;
using testing::server_frame;
using testing::Recorder;
using testing::unmask_client_frames;

// ---- Handshake ---------------------------------------------------------------------------------

std::array<uint8_t, 16> rfc_sample_nonce() {
  std::array<uint8_t, 16> nonce{};
  std::memcpy(nonce.data(), "the sample nonce", 16);
  return nonce;
}

std::vector<HeaderField> good_response(const ClientHandshake& hs) {
  return {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", accept_for_key(hs.key())}};
}

TEST(WsHandshake, RfcSampleKeyAndAccept) {
  ClientHandshake hs(rfc_sample_nonce(), {});
  EXPECT_EQ(hs.key(), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(accept_for_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  auto r = hs.check_response(101, {{"upgrade", "WebSocket"},
                                   {"connection", "keep-alive, Upgrade"},
                                   {"sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.negotiated->subprotocol, "");
  EXPECT_FALSE(r.negotiated->deflate.has_value());
}

TEST(WsHandshake, RequestHeaders) {
  ClientHandshake hs(rfc_sample_nonce(), {{"chat", "superchat"}, true});
  std::vector<HeaderField> h = hs.request_headers();
  auto value = [&](const char* name) -> std::string {
    for (const auto& f : h)
      if (f.name == name) return f.value;
    return "<absent>";
  };
  EXPECT_EQ(value("Upgrade"), "websocket");
  EXPECT_EQ(value("Connection"), "Upgrade");
  EXPECT_EQ(value("Sec-WebSocket-Key"), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(value("Sec-WebSocket-Version"), "13");
  EXPECT_EQ(value("Sec-WebSocket-Protocol"), "chat, superchat");
  EXPECT_EQ(value("Sec-WebSocket-Extensions"), "permessage-deflate; client_max_window_bits");

  ClientHandshake plain(rfc_sample_nonce(), {{}, false});
  for (const auto& f : plain.request_headers()) {
    EXPECT_NE(f.name, "Sec-WebSocket-Protocol");
    EXPECT_NE(f.name, "Sec-WebSocket-Extensions");
  }
}

TEST(WsHandshake, RefusesBadStatusUpgradeConnectionAccept) {
  ClientHandshake hs(rfc_sample_nonce(), {});
  std::string accept = accept_for_key(hs.key());
  EXPECT_NE(hs.check_response(200, good_response(hs)).error.find("101"), std::string::npos);
  auto r = hs.check_response(101, {{"Upgrade", "h2c"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", accept}});
  EXPECT_NE(r.error.find("Upgrade"), std::string::npos);
  r = hs.check_response(101, {{"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", accept}});
  EXPECT_NE(r.error.find("Upgrade header missing"), std::string::npos);
  r = hs.check_response(101, {{"Upgrade", "websocket"}, {"Connection", "keep-alive"}, {"Sec-WebSocket-Accept", accept}});
  EXPECT_NE(r.error.find("Connection"), std::string::npos);
  r = hs.check_response(101, {{"Upgrade", "websocket"}, {"Connection", "Upgrade"},
                              {"Sec-WebSocket-Accept", accept_for_key("another key")}});
  EXPECT_NE(r.error.find("Sec-WebSocket-Accept"), std::string::npos);
  r = hs.check_response(101, {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}});
  EXPECT_NE(r.error.find("Sec-WebSocket-Accept header missing"), std::string::npos);
  EXPECT_TRUE(hs.check_response(101, good_response(hs)).ok());
}

TEST(WsHandshake, Subprotocol) {
  ClientHandshake hs(rfc_sample_nonce(), {{"chat", "superchat"}, false});
  auto h = good_response(hs);
  h.push_back({"Sec-WebSocket-Protocol", "superchat"});
  auto r = hs.check_response(101, h);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.negotiated->subprotocol, "superchat");

  h.back().value = "other";
  EXPECT_NE(hs.check_response(101, h).error.find("\"other\", which was not offered"), std::string::npos);
  h.back().value = "chat, superchat";  // the server must pick one
  EXPECT_FALSE(hs.check_response(101, h).ok());
  EXPECT_TRUE(hs.check_response(101, good_response(hs)).ok());  // choosing none is allowed

  ClientHandshake none(rfc_sample_nonce(), {{}, false});
  auto h2 = good_response(none);
  h2.push_back({"Sec-WebSocket-Protocol", "chat"});
  EXPECT_FALSE(none.check_response(101, h2).ok());
}

TEST(WsHandshake, ExtensionsNegotiated) {
  ClientHandshake hs(rfc_sample_nonce(), {});
  auto h = good_response(hs);
  h.push_back({"Sec-WebSocket-Extensions",
               "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
               "server_max_window_bits=10; client_max_window_bits=\"12\""});
  auto r = hs.check_response(101, h);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(r.negotiated->deflate.has_value());
  EXPECT_TRUE(r.negotiated->deflate->server_no_context_takeover);
  EXPECT_TRUE(r.negotiated->deflate->client_no_context_takeover);
  EXPECT_EQ(r.negotiated->deflate->server_max_window_bits, 10);
  EXPECT_EQ(r.negotiated->deflate->client_max_window_bits, 12);

  h.back().value = "permessage-deflate";
  r = hs.check_response(101, h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.negotiated->deflate->server_max_window_bits, 15);
  EXPECT_FALSE(r.negotiated->deflate->server_no_context_takeover);
}

TEST(WsHandshake, ExtensionsRefused) {
  ClientHandshake hs(rfc_sample_nonce(), {});
  const char* bad[] = {
      "x-webkit-deflate-frame",
      "permessage-deflate, permessage-deflate",
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; server_max_window_bits=16",
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; client_max_window_bits",
      "permessage-deflate; client_max_window_bits=abc",
      "permessage-deflate; server_no_context_takeover=1",
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      "permessage-deflate; mystery",
  };
  for (const char* value : bad) {
    auto h = good_response(hs);
    h.push_back({"Sec-WebSocket-Extensions", value});
    auto r = hs.check_response(101, h);
    EXPECT_FALSE(r.ok()) << value;
    EXPECT_NE(r.error.find("Sec-WebSocket-Extensions"), std::string::npos) << value;
  }
  ClientHandshake plain(rfc_sample_nonce(), {{}, false});
  auto h = good_response(plain);
  h.push_back({"Sec-WebSocket-Extensions", "permessage-deflate"});
  EXPECT_NE(plain.check_response(101, h).error.find("not offered"), std::string::npos);
}

// ---- Parser ------------------------------------------------------------------------------------

TEST(WsParser, AllLengthEncodings) {
  for (size_t n : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70000u}) {
    std::string payload(n, 'x');
    for (size_t i = 0; i < n; i++) payload[i] = static_cast<char>('a' + i % 26);
    std::string frame = server_frame(0x82, payload);
    EXPECT_EQ(frame.size(), n + (n < 126 ? 2 : n <= 65535 ? 4 : 10));
    Outcome o = run(frame);
    ASSERT_EQ(o.close_code, 0) << o.error;
    ASSERT_EQ(o.events.size(), 1u);
    EXPECT_EQ(o.events[0], "binary:" + payload) << n;
  }
  // A non-minimal 64-bit length for a short payload is still read correctly.
  Outcome o = run(bytes({0x81, 127, 0, 0, 0, 0, 0, 0, 0, 2, 'h', 'i'}));
  EXPECT_EQ(o.events, std::vector<std::string>{"text:hi"});
  EXPECT_EQ(run(bytes({0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 'x'})).close_code, kCloseProtocolError);
}

TEST(WsParser, WholeMessageInOneReadIsNotCopied) {
  std::string stream = server_frame(0x81, "zero copy") + server_frame(0x82, "second");
  struct Where : FrameHandler {
    std::vector<const char*> at;
    void on_message(bool, std::string_view p) override { at.push_back(p.data()); }
    void on_ping(std::string_view) override {}
    void on_pong(std::string_view) override {}
    void on_close(uint16_t, std::string_view) override {}
  } where;
  FrameParser parser(where, {}, std::nullopt);
  ASSERT_TRUE(parser.feed(reinterpret_cast<const uint8_t*>(stream.data()), stream.size()).ok());
  ASSERT_EQ(where.at.size(), 2u);
  EXPECT_EQ(where.at[0], stream.data() + 2);
  EXPECT_EQ(where.at[1], stream.data() + 2 + 9 + 2);
}

TEST(WsParser, ProtocolErrorsAre1002) {
  struct Case {
    const char* what;
    std::string stream;
    const char* error;
  };
  std::vector<Case> cases = {
      {"masked", bytes({0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2}), "masked"},
      {"rsv2", bytes({0xA1, 0}), "RSV2"},
      {"rsv3", bytes({0x91, 0}), "RSV2 or RSV3"},
      {"rsv1 without deflate", bytes({0xC1, 0}), "without permessage-deflate"},
      {"opcode 3", bytes({0x83, 0}), "unknown opcode 3"},
      {"opcode 11", bytes({0x8B, 0}), "unknown opcode 11"},
      {"long ping", server_frame(0x89, std::string(126, 'p')), "longer than 125"},
      {"fragmented ping", bytes({0x09, 0}), "fragmented control"},
      {"lone continuation", server_frame(0x80, "x"), "without a message"},
      {"text inside fragmented", server_frame(0x01, "a") + server_frame(0x81, "b"), "inside a fragmented"},
      {"one-byte close", bytes({0x88, 1, 3}), "1-byte"},
  };
  for (const auto& c : cases) {
    Outcome o = run(c.stream);
    EXPECT_EQ(o.close_code, kCloseProtocolError) << c.what;
    EXPECT_NE(o.error.find(c.error), std::string::npos) << c.what << ": " << o.error;
  }
}

TEST(WsParser, FragmentsWithControlFramesBetween) {
  std::string stream = server_frame(0x01, "Hel") + server_frame(0x89, "are you there") + server_frame(0x00, "lo, ") +
                       server_frame(0x8A, "") + server_frame(0x80, "world");
  Outcome o = run(stream);
  ASSERT_EQ(o.close_code, 0) << o.error;
  EXPECT_EQ(o.events, (std::vector<std::string>{"ping:are you there", "pong:", "text:Hello, world"}));
  EXPECT_EQ(o.stats.messages, 1u);
  EXPECT_EQ(o.stats.payload_bytes, 12u);
}

TEST(WsParser, CloseCodesKeptAsReceived) {
  for (uint16_t code : {1000, 1001, 1003, 1011, 1012, 1013, 1014, 3000, 4000, 4999}) {
    Outcome o = run(server_frame(0x88, close_payload(code, "bye")));
    ASSERT_EQ(o.close_code, 0) << code << ": " << o.error;
    EXPECT_EQ(o.events, std::vector<std::string>{"close:" + std::to_string(code) + ":bye"});
  }
  EXPECT_EQ(run(server_frame(0x88, "")).events, std::vector<std::string>{"close:1005:"});
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    Outcome o = run(server_frame(0x88, close_payload(code)));
    EXPECT_EQ(o.close_code, kCloseProtocolError) << code;
    EXPECT_TRUE(o.events.empty()) << code;
  }
  EXPECT_EQ(run(server_frame(0x88, close_payload(1000, "\xff"))).close_code, kCloseInvalidPayload);
}

TEST(WsParser, NothingReadAfterCloseAndFailureIsSticky) {
  Recorder recorder;
  FrameParser parser(recorder, {}, std::nullopt);
  std::string stream = server_frame(0x88, close_payload(1012)) + server_frame(0x81, "late");
  ASSERT_TRUE(parser.feed(reinterpret_cast<const uint8_t*>(stream.data()), stream.size()).ok());
  EXPECT_TRUE(parser.close_received());
  EXPECT_EQ(recorder.events, std::vector<std::string>{"close:1012:"});

  Recorder r2;
  FrameParser failed(r2, {}, std::nullopt);
  std::string bad = bytes({0x83, 0});
  FeedResult first = failed.feed(reinterpret_cast<const uint8_t*>(bad.data()), bad.size());
  std::string good = server_frame(0x81, "ok");
  FeedResult again = failed.feed(reinterpret_cast<const uint8_t*>(good.data()), good.size());
  EXPECT_EQ(first.close_code, kCloseProtocolError);
  EXPECT_EQ(again.close_code, kCloseProtocolError);
  EXPECT_EQ(again.error, first.error);
  EXPECT_TRUE(r2.events.empty());
}

TEST(WsUtf8, Validator) {
  EXPECT_TRUE(is_valid_utf8("plain ascii, long enough for the word path"));
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xed\x9f\xbf"));
  EXPECT_FALSE(is_valid_utf8("\xc0\x80"));          // overlong NUL
  EXPECT_FALSE(is_valid_utf8("\xc1\xbf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\x80"));      // overlong 3-byte
  EXPECT_FALSE(is_valid_utf8("\xf0\x80\x80\x80"));  // overlong 4-byte
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));      // surrogate U+DFFF
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_FALSE(is_valid_utf8("abcdefgh\xe2\x82"));  // cut at the end
  EXPECT_FALSE(is_valid_utf8("abcdefghijklmno\xff"));
  Utf8Validator v;
  const uint8_t euro[] = {0xe2, 0x82, 0xac};
  for (uint8_t b : euro) {
    EXPECT_FALSE(v.complete() && b != 0xe2);
    EXPECT_TRUE(v.feed(&b, 1));
  }
  EXPECT_TRUE(v.complete());
}

// The ASCII path reads 32 bytes, then 8, then one at a time: a bad or multi-byte sequence must be
// found at every offset, whichever path reaches it.
TEST(WsUtf8, SequencesAreCheckedAtEveryOffsetOfTheAsciiFastPath) {
  const std::string bad[] = {"\xff", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82"};
  const std::string good[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
  for (size_t at = 0; at < 100; at++) {
    for (const std::string& b : bad) {
      std::string text = std::string(at, 'a') + b + (b == "\xe2\x82" ? "" : std::string(70, 'z'));
      EXPECT_FALSE(is_valid_utf8(text)) << "at " << at;
    }
    for (const std::string& g : good) {
      std::string text = std::string(at, 'a') + g + std::string(at % 40, 'z');
      EXPECT_TRUE(is_valid_utf8(text)) << "at " << at;
      text.pop_back();  // cut: a sequence at the end is incomplete unless the tail was ASCII
      EXPECT_EQ(is_valid_utf8(text), at % 40 != 0) << "at " << at;
    }
  }
}

TEST(WsParser, TextUtf8AcrossFragmentsAndReads) {
  // "€😀" cut inside both code points by the fragment boundaries.
  std::string stream = server_frame(0x01, "a\xe2\x82") + server_frame(0x00, "\xac\xf0\x9f") + server_frame(0x80, "\x98\x80z");
  Outcome whole = run(stream);
  ASSERT_EQ(whole.close_code, 0) << whole.error;
  EXPECT_EQ(whole.events, std::vector<std::string>{"text:a\xe2\x82\xac\xf0\x9f\x98\x80z"});
  for (size_t cut = 1; cut < stream.size(); cut++) EXPECT_EQ(run(stream, {cut}), whole) << cut;
  EXPECT_EQ(run_in_slices(stream, 1), whole);

  for (std::string bad : {std::string("\xc0\x80"), std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80")}) {
    Outcome o = run(server_frame(0x01, "ok " + bad.substr(0, 1)) + server_frame(0x80, bad.substr(1)));
    EXPECT_EQ(o.close_code, kCloseInvalidPayload);
    EXPECT_EQ(run(server_frame(0x81, bad)).close_code, kCloseInvalidPayload);
  }
  // A message may not end inside a sequence, even if every fragment was fine so far.
  EXPECT_EQ(run(server_frame(0x01, "ab") + server_frame(0x80, "\xe2\x82")).close_code, kCloseInvalidPayload);
  // Binary messages are not text.
  EXPECT_EQ(run(server_frame(0x82, "\xff\xfe")).events, std::vector<std::string>{"binary:\xff\xfe"});
}

TEST(WsParser, TooBigRefusedFromTheHeader) {
  // Only the header of a 2 MiB frame arrives: refused at once against a 1 MiB limit.
  std::string header = server_frame(0x82, std::string(2 << 20, 'x')).substr(0, 10);
  Outcome o = run(header, {}, 1 << 20);
  EXPECT_EQ(o.close_code, kCloseMessageTooBig);
  EXPECT_NE(o.error.find("max_message_bytes"), std::string::npos);
  // A fragmented message is bounded on its total.
  std::string fragments = server_frame(0x02, std::string(600, 'a')) + server_frame(0x00, std::string(600, 'b')).substr(0, 4);
  EXPECT_EQ(run(fragments, {}, 1000).close_code, kCloseMessageTooBig);
  // Exactly the limit is fine.
  EXPECT_EQ(run(server_frame(0x82, std::string(1000, 'c')), {}, 1000).events.size(), 1u);
}

// The same events and errors however the stream is cut: at every offset, and one byte at a time.
TEST(WsParser, EverySplitGivesTheSameEvents) {
  std::vector<std::string> streams = {
      server_frame(0x81, "hello") + server_frame(0x82, std::string(300, 'b')) + server_frame(0x89, "p") +
          server_frame(0x82, std::string(70000, 'L')) + server_frame(0x88, close_payload(1013, "later")),
      server_frame(0x01, "frag") + server_frame(0x8A, "pong") + server_frame(0x00, std::string(200, 'm')) +
          server_frame(0x80, "end") + server_frame(0x81, ""),
      server_frame(0x81, "ok") + bytes({0x81, 0x81, 1, 2, 3, 4, 'x'}),  // then a masked frame
      server_frame(0x81, "ok") + server_frame(0x81, "caf\xc3\xa9 \xed\xa0\x80"),
      server_frame(0x81, "ok") + server_frame(0x82, std::string(5000, 'z')),  // over the 4000 limit below
      server_frame(0x88, ""),
  };
  for (size_t s = 0; s < streams.size(); s++) {
    const std::string& stream = streams[s];
    Outcome whole = run(stream, {}, 100000);
    if (s == 4) whole = run(stream, {}, 4000);
    size_t limit = s == 4 ? 4000 : 100000;
    EXPECT_FALSE(whole.events.empty()) << s;
    size_t step = stream.size() > 2000 ? 97 : 1;  // every offset of the small streams
    for (size_t cut = 1; cut < stream.size(); cut += step)
      ASSERT_EQ(run(stream, {cut}, limit), whole) << "stream " << s << " cut at " << cut;
    for (size_t cut : {size_t{1}, size_t{2}, size_t{3}, size_t{4}, size_t{5}, size_t{6}, size_t{7}, size_t{8}})
      ASSERT_EQ(run(stream, {cut}, limit), whole) << "stream " << s << " cut at " << cut;
    ASSERT_EQ(run_in_slices(stream, 1, limit), whole) << "stream " << s;
    ASSERT_EQ(run_in_slices(stream, 3, limit), whole) << "stream " << s;
  }
}

TEST(WsParser, HeaderCutAtEveryByteOfEachEncoding) {
  std::string stream = server_frame(0x82, std::string(70000, 'q')) + server_frame(0x82, std::string(300, 'r')) +
                       server_frame(0x82, "s");
  Outcome whole = run(stream);
  ASSERT_EQ(whole.events.size(), 3u);
  size_t second = 10 + 70000, third = second + 4 + 300;
  for (size_t base : {size_t{0}, second, third})
    for (size_t k = 1; k <= 10 && base + k < stream.size(); k++) EXPECT_EQ(run(stream, {base + k}), whole) << base + k;
}

TEST(WsParser, StatsCountWireAndPayload) {
  Recorder recorder;
  FrameParser parser(recorder, {}, std::nullopt);
  std::string stream = server_frame(0x81, "abc") + server_frame(0x89, "p") + server_frame(0x82, std::string(200, 'x'));
  ASSERT_TRUE(parser.feed(reinterpret_cast<const uint8_t*>(stream.data()), stream.size()).ok());
  EXPECT_EQ(parser.stats().wire_bytes, stream.size());
  EXPECT_EQ(parser.stats().payload_bytes, 203u);
  EXPECT_EQ(parser.stats().messages, 2u);
}

// ---- Writer ------------------------------------------------------------------------------------

FrameWriter::MaskSource counting_masks() {
  auto n = std::make_shared<uint8_t>(0);
  return [n] {
    uint8_t b = (*n)++;
    return std::array<uint8_t, 4>{static_cast<uint8_t>(0x11 + b), 0x22, 0x33, static_cast<uint8_t>(0x44 ^ b)};
  };
}

TEST(WsWriter, MaskingMatchesTheByteWiseDefinition) {
  std::array<uint8_t, 4> mask{0x37, 0xfa, 0x21, 0x3d};
  for (size_t n = 0; n < 40; n++) {
    std::vector<uint8_t> data(n), expect(n);
    for (size_t i = 0; i < n; i++) {
      data[i] = static_cast<uint8_t>(i * 7 + 3);
      expect[i] = static_cast<uint8_t>(data[i] ^ mask[i % 4]);
    }
    apply_mask(data.data(), n, mask);
    EXPECT_EQ(data, expect) << n;
  }
  // RFC 6455 5.7: a masked "Hello".
  std::string out;
  FrameWriter::append_frame(Opcode::text, true, false, "Hello", mask, out);
  EXPECT_EQ(out, bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(WsWriter, LengthEncodings) {
  std::array<uint8_t, 4> mask{1, 2, 3, 4};
  for (size_t n : {0u, 125u, 126u, 65535u, 65536u}) {
    std::string out;
    FrameWriter::append_frame(Opcode::binary, true, false, std::string(n, 'w'), mask, out);
    size_t header = n < 126 ? 2 : n <= 65535 ? 4 : 10;
    ASSERT_EQ(out.size(), header + 4 + n);
    EXPECT_EQ(static_cast<uint8_t>(out[1]), 0x80 | (n < 126 ? n : n <= 65535 ? 126 : 127));
    auto server_view = unmask_client_frames(out);
    ASSERT_TRUE(server_view);
    EXPECT_EQ(run(*server_view).events, std::vector<std::string>{"binary:" + std::string(n, 'w')});
  }
}

TEST(WsWriter, MessagesFragmentsAndControlFrames) {
  FrameWriter writer(counting_masks(), std::nullopt, 4);
  std::string out;
  ASSERT_TRUE(writer.write_text("fragmented text", out));
  writer.write_ping("p", out);
  ASSERT_TRUE(writer.write_binary("bin", out));
  writer.write_close(1000, "done", out);
  // Frame by frame: 4 + 4 + 4 + 3 bytes of text, each frame with its own mask.
  EXPECT_EQ(static_cast<uint8_t>(out[0]), 0x01);
  EXPECT_NE(out.substr(2, 4), out.substr(10, 4));
  auto server_view = unmask_client_frames(out);
  ASSERT_TRUE(server_view);
  EXPECT_EQ(run(*server_view).events,
            (std::vector<std::string>{"text:fragmented text", "ping:p", "binary:bin", "close:1000:done"}));
  EXPECT_EQ(writer.stats().payload_bytes, 18u);
  EXPECT_EQ(writer.stats().messages, 2u);
}

TEST(WsWriter, ControlPayloadsCut) {
  FrameWriter writer(counting_masks(), std::nullopt);
  std::string out;
  std::string reason(121, 'r');
  reason += "\xe2\x82\xac\xe2\x82\xac";  // the 123-byte cut would split a euro sign
  writer.write_close(4000, reason, out);
  writer.write_ping(std::string(200, 'p'), out);
  auto server_view = unmask_client_frames(out);
  ASSERT_TRUE(server_view);
  Outcome o = run(*server_view);
  ASSERT_EQ(o.close_code, 0) << o.error;
  ASSERT_EQ(o.events.size(), 1u);  // the parser reads nothing after a close
  EXPECT_EQ(o.events[0], "close:4000:" + std::string(121, 'r'));

  std::string ping;
  writer.write_ping(std::string(200, 'p'), ping);
  EXPECT_EQ(run(*unmask_client_frames(ping)).events, std::vector<std::string>{"ping:" + std::string(125, 'p')});
  std::string no_code;
  writer.write_close(kCloseNoStatus, "ignored", no_code);
  EXPECT_EQ(run(*unmask_client_frames(no_code)).events, std::vector<std::string>{"close:1005:"});
}

}  // namespace
}  // namespace tidewire::detail::ws
