#pragma once
// The WebSocket client protocol (RFC 6455, with RFC 7692 permessage-deflate), sans-I/O: the
// handshake's headers and checks, a frame parser fed whole read buffers, and a frame writer. No
// socket, no event loop, no libwebsockets: transport/ moves the bytes, this decides.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/ws_deflate.h"

namespace tidewire::detail::ws {

// Close codes this module produces (RFC 6455 section 7.4.1).
constexpr uint16_t kCloseNormal = 1000;
constexpr uint16_t kCloseProtocolError = 1002;
constexpr uint16_t kCloseNoStatus = 1005;  // a close frame without a code; never sent on the wire
constexpr uint16_t kCloseInvalidPayload = 1007;
constexpr uint16_t kCloseMessageTooBig = 1009;

// Whether `code` may appear in a close frame: 1000-1003, 1007-1014 and 3000-4999.
bool close_code_allowed_on_wire(uint16_t code);

// Whether `bytes` is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

// Incremental UTF-8 check: text may be cut anywhere (fragments, reads) and checked piece by piece.
// ASCII runs are checked 8 bytes at a time; multibyte sequences by a small state machine.
class Utf8Validator {
 public:
  // False as soon as the bytes so far cannot start valid UTF-8 (a sequence cut at the end is fine).
  bool feed(const uint8_t* bytes, size_t len);
  // True when the text ends here on a whole code point.
  bool complete() const { return state_ == 0; }
  void reset() { state_ = 0; }

 private:
  uint8_t state_ = 0;
};

// ---- Handshake -----------------------------------------------------------------------------------

struct HeaderField {
  std::string name;
  std::string value;
};

// What the client asks for.
struct HandshakeOffer {
  std::vector<std::string> subprotocols;  // offered in order of preference; may be empty
  bool compression = true;                // offer permessage-deflate (as browsers do)
};

// What the server accepted.
struct Negotiated {
  std::string subprotocol;             // empty when the server chose none
  std::optional<DeflateParams> deflate;  // set when permessage-deflate is in use
};

struct HandshakeResult {
  std::optional<Negotiated> negotiated;  // set on success
  std::string error;                     // on failure: which header or value was wrong
  bool ok() const { return negotiated.has_value(); }
};

// base64(SHA-1(key + RFC 6455's GUID)): what Sec-WebSocket-Accept must say for `key`.
std::string accept_for_key(std::string_view key);

// The client's side of the opening handshake. The HTTP/1.1 request and response themselves are
// written and read by proto/http1; this supplies and checks the WebSocket headers.
class ClientHandshake {
 public:
  // `nonce` is 16 random bytes from the caller (RAND_bytes in production, fixed in tests); the
  // Sec-WebSocket-Key is their base64.
  ClientHandshake(const std::array<uint8_t, 16>& nonce, HandshakeOffer offer);

  const std::string& key() const { return key_; }

  // The headers to add to the GET request: Upgrade, Connection, Sec-WebSocket-Key,
  // Sec-WebSocket-Version, and Sec-WebSocket-Protocol / Sec-WebSocket-Extensions when offered.
  std::vector<HeaderField> request_headers() const;

  // Checks the server's answer (status code and every response header, names in any case, a
  // header possibly repeated). A redirect is not this check's business: http1 decides it first.
  HandshakeResult check_response(int status, const std::vector<HeaderField>& headers) const;

 private:
  std::string key_;
  HandshakeOffer offer_;
};

// Parses a Sec-WebSocket-Extensions answer; on success returns the agreed parameters (nullopt
// deflate when the value is empty), otherwise fills `error`.
std::optional<Negotiated> parse_extensions_answer(std::string_view value, bool offered_deflate, std::string& error);

// ---- Frames --------------------------------------------------------------------------------------

enum class Opcode : uint8_t { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA };

// Receives what the parser decodes. Every view is valid only during the call: it may point into
// the caller's read buffer (a whole, unfragmented, uncompressed message is handed out without a
// copy) or into the parser's message buffer, which the next message reuses. Callbacks must not
// call back into the parser.
class FrameHandler {
 public:
  virtual ~FrameHandler() = default;
  // A complete message; `text` says whether it was a text message (already checked as UTF-8).
  virtual void on_message(bool text, std::string_view payload) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  virtual void on_pong(std::string_view payload) = 0;
  // The server's close frame: its code as received (kCloseNoStatus when it had none) and reason.
  virtual void on_close(uint16_t code, std::string_view reason) = 0;
};

struct ParserLimits {
  // The largest message delivered, counted after decompression; larger ones fail with 1009.
  size_t max_message_bytes = 16 * 1024 * 1024;
};

// Byte counts for the stats: what came over the wire and what it carried.
struct WireStats {
  uint64_t wire_bytes = 0;     // every byte fed, frame headers included
  uint64_t payload_bytes = 0;  // message payloads delivered, after decompression
  uint64_t messages = 0;       // data messages delivered (not control frames)
};

// The outcome of feed(): ok, or the close code to send and why.
struct FeedResult {
  uint16_t close_code = 0;  // 0 when ok; else 1002, 1007 or 1009
  std::string error;
  bool ok() const { return close_code == 0; }
};

// Decodes server-to-client frames. One pass over each read buffer: headers are parsed in place
// (only a header cut by the end of a read is copied, at most 14 bytes), payloads move with one
// memcpy per span or not at all, text is validated as it arrives. Events and errors do not depend
// on how the stream is cut into feed() calls.
class FrameParser {
 public:
  // `deflate` is the negotiated permessage-deflate, if any (RSV1 is a protocol error without it).
  // `handler` must outlive the parser.
  FrameParser(FrameHandler& handler, ParserLimits limits, const std::optional<DeflateParams>& deflate);
  ~FrameParser();
  FrameParser(const FrameParser&) = delete;
  FrameParser& operator=(const FrameParser&) = delete;

  // Consumes `len` bytes read from the connection, calling the handler for each completed message
  // and control frame. On a protocol violation returns the close code to send; the parser is then
  // failed and returns that result again without reading. After a close frame the rest of the
  // stream is ignored (the peer must send nothing after it). `data` is read only during the call.
  FeedResult feed(const uint8_t* data, size_t len);

  bool close_received() const { return close_received_; }
  const WireStats& stats() const { return stats_; }

 private:
  enum class Stage : uint8_t { header, payload, closed, failed };

  FeedResult fail(uint16_t code, std::string why);
  // Checks a complete frame header; `header` holds header_size_ bytes.
  FeedResult start_frame(const uint8_t* header);
  // Handles `len` payload bytes of the current frame; `ends_frame` when they are its last.
  FeedResult take_payload(const uint8_t* bytes, size_t len, bool ends_frame);
  // Checks freshly inflated text (from offset `before`), then the inflater's result.
  FeedResult check_inflated(Inflater::Result result, size_t before);
  FeedResult end_control_frame();
  FeedResult end_message();

  FrameHandler& handler_;
  ParserLimits limits_;
  std::unique_ptr<Inflater> inflater_;
  Stage stage_ = Stage::header;
  FeedResult failure_;
  bool close_received_ = false;

  // The header being read: only used when a read ends inside one.
  uint8_t header_buf_[14] = {};
  size_t header_have_ = 0;

  // The current frame.
  Opcode frame_opcode_ = Opcode::continuation;
  bool frame_fin_ = false;
  uint64_t frame_length_ = 0;
  uint64_t frame_left_ = 0;  // payload bytes still to come

  // The current data message (possibly fragmented).
  bool in_message_ = false;
  bool message_text_ = false;
  bool message_compressed_ = false;
  ByteBuffer message_;  // buffered payload (decompressed when compressed)
  Utf8Validator utf8_;

  ByteBuffer control_;  // a control frame's payload (at most 125 bytes)
  WireStats stats_;
};

// Encodes client-to-server frames (always masked, RFC 6455 section 5.3).
class FrameWriter {
 public:
  // Supplies a fresh 4-byte masking key per frame (RAND_bytes in production, fixed in tests).
  using MaskSource = std::function<std::array<uint8_t, 4>()>;

  // `deflate`: the negotiated permessage-deflate; data messages are then compressed (RSV1 on the
  // first frame) unless the server limited our window to 8 bits, which zlib cannot produce for raw
  // deflate: those messages go uncompressed, as RFC 7692 allows. `fragment_bytes` (0: never)
  // splits data messages into frames of at most that many payload bytes.
  FrameWriter(MaskSource masks, const std::optional<DeflateParams>& deflate, size_t fragment_bytes = 0);
  ~FrameWriter();
  FrameWriter(const FrameWriter&) = delete;
  FrameWriter& operator=(const FrameWriter&) = delete;

  // Each appends the frames' wire bytes to `out`. Control payloads over 125 bytes are cut to 125
  // (a close reason to 123 bytes, never inside a UTF-8 sequence).
  bool write_text(std::string_view text, std::string& out) { return write_message(Opcode::text, text, out); }
  bool write_binary(std::string_view bytes, std::string& out) { return write_message(Opcode::binary, bytes, out); }
  void write_ping(std::string_view payload, std::string& out);
  void write_pong(std::string_view payload, std::string& out);
  // `code` must be one allowed on the wire (kCloseNoStatus writes a close frame without a code).
  void write_close(uint16_t code, std::string_view reason, std::string& out);

  // Bytes handed to write_* (payload) and bytes produced (wire), for the stats.
  const WireStats& stats() const { return stats_; }

  // One frame, masked with `mask`: the building block, public for tests and fuzzers.
  static void append_frame(Opcode opcode, bool fin, bool rsv1, std::string_view payload,
                           const std::array<uint8_t, 4>& mask, std::string& out);

 private:
  bool write_message(Opcode opcode, std::string_view payload, std::string& out);
  void write_control(Opcode opcode, std::string_view payload, std::string& out);

  MaskSource masks_;
  std::unique_ptr<Deflater> deflater_;
  size_t fragment_bytes_;
  std::string compressed_;  // reused between messages
  WireStats stats_;
};

// XORs `len` bytes at `bytes` with the 4-byte `mask` cycling from its first byte, 8 bytes a step.
void apply_mask(uint8_t* bytes, size_t len, const std::array<uint8_t, 4>& mask);

}  // namespace tidewire::detail::ws
