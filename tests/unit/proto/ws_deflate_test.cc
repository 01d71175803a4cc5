// permessage-deflate (RFC 7692) through the frame parser and writer, and the bounded inflater.
#include <gtest/gtest.h>

#include "proto/ws.h"
#include "proto/ws_deflate.h"
#include "ws_test_support.h"

namespace tidewire::detail::ws {
namespace {

using testing::bytes;
using testing::Outcome;
using testing::run;
using testing::run_in_slices;
using testing::server_frame;
using testing::unmask_client_frames;

const DeflateParams kDefaults{};

FrameWriter::MaskSource fixed_masks() {
  return [] { return std::array<uint8_t, 4>{0xa1, 0xb2, 0xc3, 0xd4}; };
}

// RFC 7692 section 7.2.3: the same "Hello" in each of the section's wire forms.
TEST(WsDeflate, Rfc7692Examples) {
  const std::string hello = bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});  // 7.2.3.1
  EXPECT_EQ(run(hello, {}, 1 << 20, kDefaults).events, std::vector<std::string>{"text:Hello"});
  // 7.2.3.1, fragmented: the compressed bytes split over two frames.
  const std::string fragmented = bytes({0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00});
  EXPECT_EQ(run(fragmented, {}, 1 << 20, kDefaults).events, std::vector<std::string>{"text:Hello"});
  // 7.2.3.2: the second "Hello" refers back into the first message's window.
  const std::string shared = bytes({0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00});
  EXPECT_EQ(run(hello + shared, {}, 1 << 20, kDefaults).events, (std::vector<std::string>{"text:Hello", "text:Hello"}));
  // 7.2.3.3: a stored (uncompressed) block.
  const std::string stored = bytes({0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00});
  EXPECT_EQ(run(stored, {}, 1 << 20, kDefaults).events, std::vector<std::string>{"text:Hello"});
  // 7.2.3.4: BFINAL set; the next message starts a new stream.
  const std::string final_block = bytes({0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00});
  EXPECT_EQ(run(final_block + hello, {}, 1 << 20, kDefaults).events,
            (std::vector<std::string>{"text:Hello", "text:Hello"}));
  // 7.2.3.5: two deflate blocks in one message.
  const std::string two_blocks =
      bytes({0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00});
  EXPECT_EQ(run(two_blocks, {}, 1 << 20, kDefaults).events, std::vector<std::string>{"text:Hello"});

  // Our compressor produces the RFC's bytes for the first message, and a back-reference for the next.
  FrameWriter writer([] { return std::array<uint8_t, 4>{0, 0, 0, 0}; }, kDefaults);
  std::string out;
  ASSERT_TRUE(writer.write_text("Hello", out));
  EXPECT_EQ(out, bytes({0xc1, 0x87, 0, 0, 0, 0, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
  out.clear();
  ASSERT_TRUE(writer.write_text("Hello", out));
  EXPECT_EQ(out, bytes({0xc1, 0x85, 0, 0, 0, 0, 0xf2, 0x00, 0x11, 0x00, 0x00}));
}

// An empty message between two others: compressed, it is the empty stored block's header alone
// (0x00, RFC 7692 7.2.3.6), and the next message still reads with the shared window.
TEST(WsDeflate, EmptyMessageKeepsTheStreamReadable) {
  for (bool reset : {false, true}) {
    DeflateParams params;
    params.client_no_context_takeover = reset;
    FrameWriter writer([] { return std::array<uint8_t, 4>{0, 0, 0, 0}; }, params);
    std::string out;
    ASSERT_TRUE(writer.write_text("t", out));
    std::string empty;
    ASSERT_TRUE(writer.write_binary("", empty));
    EXPECT_EQ(empty, bytes({0xc2, 0x81, 0, 0, 0, 0, 0x00}));
    out += empty;
    ASSERT_TRUE(writer.write_text("t", out));
    ASSERT_TRUE(writer.write_binary("", out));
    ASSERT_TRUE(writer.write_binary("", out));
    ASSERT_TRUE(writer.write_text("tt", out));
    DeflateParams server_view;
    server_view.server_no_context_takeover = reset;
    auto frames = unmask_client_frames(out);
    ASSERT_TRUE(frames);
    Outcome o = run(*frames, {}, 1 << 20, server_view);
    EXPECT_EQ(o.close_code, 0) << o.error;
    EXPECT_EQ(o.events, (std::vector<std::string>{"text:t", "binary:", "text:t", "binary:", "binary:", "text:tt"}));
  }
}

TEST(WsDeflate, ServerNoContextTakeoverResetsTheWindow) {
  const std::string hello = bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
  const std::string shared = bytes({0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00});
  DeflateParams reset;
  reset.server_no_context_takeover = true;
  // Without the first message's window the back-reference is invalid data.
  Outcome o = run(hello + shared, {}, 1 << 20, reset);
  EXPECT_EQ(o.events, std::vector<std::string>{"text:Hello"});
  EXPECT_EQ(o.close_code, kCloseInvalidPayload);
  EXPECT_EQ(run(hello + hello, {}, 1 << 20, reset).events, (std::vector<std::string>{"text:Hello", "text:Hello"}));
}

TEST(WsDeflate, ClientNoContextTakeoverCompressesEachMessageAlone) {
  DeflateParams reset;
  reset.client_no_context_takeover = true;
  FrameWriter writer(fixed_masks(), reset);
  std::string first, second;
  ASSERT_TRUE(writer.write_text("Hello", first));
  ASSERT_TRUE(writer.write_text("Hello", second));
  EXPECT_EQ(first, second);
  // The server side must be able to read each message with a fresh window.
  DeflateParams server_view_params;
  server_view_params.server_no_context_takeover = true;
  auto frames = unmask_client_frames(first + second);
  ASSERT_TRUE(frames);
  EXPECT_EQ(run(*frames, {}, 1 << 20, server_view_params).events,
            (std::vector<std::string>{"text:Hello", "text:Hello"}));
}

std::string json_feed(int messages) {
  std::string s;
  for (int i = 0; i < messages; i++)
    s += "{\"seq\":" + std::to_string(i) + ",\"symbol\":\"ACME\",\"price\":" + std::to_string(100 + i % 7) +
         ".25,\"side\":\"buy\",\"venue\":\"XNAS\"}";
  return s;
}

TEST(WsDeflate, RoundTripFragmentedEverySplitAndStats) {
  FrameWriter writer(fixed_masks(), kDefaults, 16);
  std::string wire;
  std::vector<std::string> expected;
  for (int i = 0; i < 6; i++) {
    std::string msg = json_feed(i + 1) + " \xe2\x82\xac";
    ASSERT_TRUE(writer.write_text(msg, wire));
    expected.push_back("text:" + msg);
  }
  writer.write_ping("keepalive", wire);
  expected.push_back("ping:keepalive");
  auto frames = unmask_client_frames(wire);
  ASSERT_TRUE(frames);
  Outcome whole = run(*frames, {}, 1 << 20, kDefaults);
  ASSERT_EQ(whole.close_code, 0) << whole.error;
  EXPECT_EQ(whole.events, expected);
  for (size_t cut = 1; cut < frames->size(); cut++)
    ASSERT_EQ(run(*frames, {cut}, 1 << 20, kDefaults), whole) << cut;
  EXPECT_EQ(run_in_slices(*frames, 1, 1 << 20, kDefaults), whole);
  // A repetitive JSON feed compresses: fewer bytes on the wire than in the messages.
  EXPECT_LT(writer.stats().wire_bytes * 10, writer.stats().payload_bytes * 7);
}

TEST(WsDeflate, CompressedTextIsCheckedAsUtf8) {
  DeflateParams p;
  FrameWriter writer(fixed_masks(), p);
  std::string wire;
  ASSERT_TRUE(writer.write_text("bad \xed\xa0\x80 surrogate", wire));  // the writer does not police text
  Outcome o = run(*unmask_client_frames(wire), {}, 1 << 20, p);
  EXPECT_EQ(o.close_code, kCloseInvalidPayload);
  EXPECT_EQ(run(server_frame(0xc1, "\xff\xff\xff"), {}, 1 << 20, p).close_code, kCloseInvalidPayload);  // not deflate
}

TEST(WsDeflate, ZipBombStopsAtTheLimit) {
  const size_t limit = 1 << 20;
  std::string bomb;
  Deflater deflater(kDefaults, 9);
  ASSERT_TRUE(deflater.compress(std::string(10 << 20, '\0'), bomb));
  ASSERT_LT(bomb.size(), 64u * 1024);

  // The inflater allocates at most one byte past the limit before it gives up.
  Inflater inflater(kDefaults);
  ByteBuffer out;
  EXPECT_EQ(inflater.inflate(reinterpret_cast<const uint8_t*>(bomb.data()), bomb.size(), out, limit),
            Inflater::Result::too_big);
  EXPECT_LE(out.capacity(), limit + 1);

  // Through the parser: 1009, and the limit holds with the bomb cut into many reads too.
  std::string frame = server_frame(0xc2, bomb);
  Outcome o = run(frame, {}, limit, kDefaults);
  EXPECT_EQ(o.close_code, kCloseMessageTooBig);
  EXPECT_TRUE(o.events.empty());
  EXPECT_EQ(run_in_slices(frame, 1000, limit, kDefaults).close_code, kCloseMessageTooBig);
  // Just under the limit is delivered.
  std::string fits;
  Deflater d2(kDefaults);
  ASSERT_TRUE(d2.compress(std::string(limit, '\0'), fits));
  Outcome ok = run(server_frame(0xc2, fits), {}, limit, kDefaults);
  ASSERT_EQ(ok.close_code, 0) << ok.error;
  EXPECT_EQ(ok.stats.payload_bytes, limit);
}

TEST(WsDeflate, EightBitClientWindowSendsUncompressed) {
  DeflateParams p;
  p.client_max_window_bits = 8;
  FrameWriter writer(fixed_masks(), p);
  std::string out;
  ASSERT_TRUE(writer.write_text("Hello", out));
  EXPECT_EQ(static_cast<uint8_t>(out[0]), 0x81);  // RSV1 clear
  EXPECT_EQ(run(*unmask_client_frames(out), {}, 1 << 20, p).events, std::vector<std::string>{"text:Hello"});
}

TEST(WsDeflate, RsvOnContinuationRefused) {
  EXPECT_EQ(run(bytes({0x41, 0x03, 0xf2, 0x48, 0xcd, 0xc0, 0x04, 0xc9, 0xc9, 0x07, 0x00}), {}, 1 << 20, kDefaults).close_code,
            kCloseProtocolError);
}

// Bad text early in a message that then grows past the limit: the first fault in the output wins
// (1007), however much each read happened to inflate.
TEST(WsDeflate, FirstFaultWinsWhateverTheReads) {
  std::string compressed;
  Deflater deflater(kDefaults);
  ASSERT_TRUE(deflater.compress("\xff" + std::string(200000, 'a'), compressed));
  std::string frame = server_frame(0xc1, compressed);
  Outcome whole = run(frame, {}, 100000, kDefaults);
  EXPECT_EQ(whole.close_code, kCloseInvalidPayload);
  for (size_t slice : {1u, 5u, 64u}) EXPECT_EQ(run_in_slices(frame, slice, 100000, kDefaults), whole) << slice;
}

// A server that agreed on a small window but reaches further back is read the same way whatever
// the reads: whole, or a few bytes at a time.
TEST(WsDeflate, SmallAgreedWindowSameOutcomeForAnyReads) {
  std::string text;
  for (int i = 0; i < 40; i++) text += "line " + std::to_string(i % 5) + std::string(200, static_cast<char>('a' + i % 3)) + "\n";
  std::string compressed;
  Deflater deflater(kDefaults);  // a 32 KiB window: back-references of ~1000 bytes
  ASSERT_TRUE(deflater.compress(text, compressed));
  DeflateParams small;
  small.server_max_window_bits = 9;
  std::string frame = server_frame(0xc1, compressed);
  Outcome whole = run(frame, {}, 1 << 20, small);
  EXPECT_EQ(whole.events, std::vector<std::string>{"text:" + text});
  for (size_t slice : {1u, 3u, 50u}) EXPECT_EQ(run_in_slices(frame, slice, 1 << 20, small), whole) << slice;
}

}  // namespace
}  // namespace tidewire::detail::ws
