#include "proto/ws.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tidewire::detail::ws {

namespace {

constexpr char kAcceptGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr size_t kMaxControlPayload = 125;
// A message buffer grown past this is freed after its message, so an idle stream holds little.
constexpr size_t kKeepMessageCapacity = 256 * 1024;
constexpr uint8_t kUtf8Reject = 8;

std::string base64(const uint8_t* bytes, size_t len) {
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]), bytes, static_cast<int>(len));
  out.resize(static_cast<size_t>(written));
  return out;
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits on `sep` outside double quotes (extension parameters may be quoted strings).
std::vector<std::string_view> split_outside_quotes(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '"') quoted = !quoted;
    else if (s[i] == '\\' && quoted) i++;
    else if (s[i] == sep && !quoted) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

std::string unquote(std::string_view v) {
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') return std::string(v);
  std::string out;
  for (size_t i = 1; i + 1 < v.size(); i++) {
    if (v[i] == '\\' && i + 2 < v.size()) i++;
    out.push_back(v[i]);
  }
  return out;
}

// A window-bits value: decimal 8..15, nothing else.
std::optional<int> window_bits(std::string_view v) {
  if (v.empty() || v.size() > 2) return std::nullopt;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 8 || n > 15) return std::nullopt;
  return n;
}

uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

uint64_t load_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

size_t header_size(uint8_t second_byte) {
  size_t len7 = second_byte & 0x7f;
  size_t size = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
  // A masked frame is refused, but only once its whole header is in: the outcome then does not
  // depend on where a read ended.
  return size + ((second_byte & 0x80) ? 4 : 0);
}

// Copies `len` bytes from `src` to `dst` XORed with `mask`; dst may equal src. Eight bytes a step
// through uint64_t (memcpy keeps it free of alignment and aliasing trouble); the mask word is
// built in memory order, so the result is the same on either endianness.
void masked_copy(uint8_t* dst, const uint8_t* src, size_t len, const std::array<uint8_t, 4>& mask) {
  uint8_t doubled[8];
  std::memcpy(doubled, mask.data(), 4);
  std::memcpy(doubled + 4, mask.data(), 4);
  uint64_t mask_word;
  std::memcpy(&mask_word, doubled, 8);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, src + i, 8);
    w ^= mask_word;
    std::memcpy(dst + i, &w, 8);
  }
  for (; i < len; i++) dst[i] = static_cast<uint8_t>(src[i] ^ mask[i & 3]);
}

bool is_continuation_byte(char c) { return (static_cast<uint8_t>(c) & 0xC0) == 0x80; }

}  // namespace

bool close_code_allowed_on_wire(uint16_t code) {
  // RFC 6455 7.4.1 and the IANA registry: 1004 is reserved, 1005/1006/1015 never go on the wire,
  // 1016-2999 are unassigned protocol codes; 3000-4999 belong to libraries and applications.
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

bool Utf8Validator::feed(const uint8_t* bytes, size_t len) {
  uint8_t state = state_;
  if (state == kUtf8Reject) return false;
  size_t i = 0;
  while (i < len) {
    if (state == 0) {
      // ASCII fast path: 64 bytes with no high bit set are 64 complete code points (one test for
      // four 16-byte loads: measured twice as fast as four words), then a word at a time.
#if defined(__SSE2__)
      while (len - i >= 64) {
        const auto* block = reinterpret_cast<const __m128i*>(bytes + i);
        const __m128i any = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(block), _mm_loadu_si128(block + 1)),
                                         _mm_or_si128(_mm_loadu_si128(block + 2), _mm_loadu_si128(block + 3)));
        if (_mm_movemask_epi8(any) != 0) break;
        i += 64;
      }
#else
      while (len - i >= 32) {
        uint64_t a, b, c, d;
        std::memcpy(&a, bytes + i, 8);
        std::memcpy(&b, bytes + i + 8, 8);
        std::memcpy(&c, bytes + i + 16, 8);
        std::memcpy(&d, bytes + i + 24, 8);
        if ((a | b | c | d) & 0x8080808080808080ULL) break;
        i += 32;
      }
#endif
      while (len - i >= 8) {
        uint64_t word;
        std::memcpy(&word, bytes + i, 8);
        if (word & 0x8080808080808080ULL) break;
        i += 8;
      }
      if (i == len) break;
      uint8_t b = bytes[i++];
      if (b < 0x80) continue;
      // States name what the next byte must be: 1/2/3 continuation bytes left (80..BF), or the
      // first continuation of a lead byte that narrows it (no overlongs, surrogates, > U+10FFFF).
      if (b >= 0xC2 && b <= 0xDF) state = 1;
      else if (b == 0xE0) state = 4;                  // next A0..BF: no overlong 3-byte form
      else if (b == 0xED) state = 5;                  // next 80..9F: no UTF-16 surrogates
      else if (b >= 0xE1 && b <= 0xEF) state = 2;
      else if (b == 0xF0) state = 6;                  // next 90..BF: no overlong 4-byte form
      else if (b >= 0xF1 && b <= 0xF3) state = 3;
      else if (b == 0xF4) state = 7;                  // next 80..8F: nothing above U+10FFFF
      else {
        state_ = kUtf8Reject;
        return false;
      }
    } else {
      uint8_t b = bytes[i++];
      uint8_t lo = 0x80, hi = 0xBF, next = 0;
      switch (state) {
        case 1: next = 0; break;
        case 2: next = 1; break;
        case 3: next = 2; break;
        case 4: lo = 0xA0; next = 1; break;
        case 5: hi = 0x9F; next = 1; break;
        case 6: lo = 0x90; next = 2; break;
        default: hi = 0x8F; next = 2; break;  // 7
      }
      if (b < lo || b > hi) {
        state_ = kUtf8Reject;
        return false;
      }
      state = next;
    }
  }
  state_ = state;
  return true;
}

bool is_valid_utf8(std::string_view bytes) {
  Utf8Validator v;
  return v.feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) && v.complete();
}

// ---- Handshake -----------------------------------------------------------------------------------

std::string accept_for_key(std::string_view key) {
  std::string input(key);
  input += kAcceptGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_sha1(), nullptr) != 1) return {};
  return base64(digest, digest_len);
}

ClientHandshake::ClientHandshake(const std::array<uint8_t, 16>& nonce, HandshakeOffer offer)
    : key_(base64(nonce.data(), nonce.size())), offer_(std::move(offer)) {}

std::vector<HeaderField> ClientHandshake::request_headers() const {
  std::vector<HeaderField> headers = {
      {"Upgrade", "websocket"},
      {"Connection", "Upgrade"},
      {"Sec-WebSocket-Key", key_},
      {"Sec-WebSocket-Version", "13"},
  };
  if (!offer_.subprotocols.empty()) {
    std::string list;
    for (const auto& p : offer_.subprotocols) {
      if (!list.empty()) list += ", ";
      list += p;
    }
    headers.push_back({"Sec-WebSocket-Protocol", std::move(list)});
  }
  // client_max_window_bits without a value tells the server it may pick our window (RFC 7692
  // 7.1.2.2); offered the way browsers offer it.
  if (offer_.compression) headers.push_back({"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"});
  return headers;
}

std::optional<Negotiated> parse_extensions_answer(std::string_view value, bool offered_deflate, std::string& error) {
  Negotiated result;
  if (trim(value).empty()) return result;
  for (std::string_view extension : split_outside_quotes(value, ',')) {
    std::vector<std::string_view> parts = split_outside_quotes(extension, ';');
    std::string_view name = trim(parts[0]);
    if (name.empty()) {
      error = "Sec-WebSocket-Extensions: empty extension in \"" + std::string(value) + "\"";
      return std::nullopt;
    }
    if (!iequals(name, "permessage-deflate") || !offered_deflate) {
      error = "Sec-WebSocket-Extensions: the server accepted \"" + std::string(name) + "\", which was not offered";
      return std::nullopt;
    }
    if (result.deflate) {
      error = "Sec-WebSocket-Extensions: permessage-deflate accepted twice";
      return std::nullopt;
    }
    DeflateParams params;
    bool seen[4] = {false, false, false, false};
    for (size_t i = 1; i < parts.size(); i++) {
      std::string_view param = trim(parts[i]);
      size_t eq = param.find('=');
      std::string_view pname = trim(param.substr(0, eq));
      std::optional<std::string> pvalue;
      if (eq != std::string_view::npos) pvalue = unquote(trim(param.substr(eq + 1)));
      int which = pname == "server_no_context_takeover" ? 0
                  : pname == "client_no_context_takeover" ? 1
                  : pname == "server_max_window_bits" ? 2
                  : pname == "client_max_window_bits" ? 3
                  : -1;
      if (which < 0) {
        error = "Sec-WebSocket-Extensions: unknown permessage-deflate parameter \"" + std::string(pname) + "\"";
        return std::nullopt;
      }
      if (seen[which]) {
        error = "Sec-WebSocket-Extensions: parameter " + std::string(pname) + " repeated";
        return std::nullopt;
      }
      seen[which] = true;
      if (which <= 1) {
        if (pvalue) {
          error = "Sec-WebSocket-Extensions: " + std::string(pname) + " takes no value";
          return std::nullopt;
        }
        (which == 0 ? params.server_no_context_takeover : params.client_no_context_takeover) = true;
        continue;
      }
      // A response must give window bits a value (RFC 7692 7.1.2.1 and 7.1.2.2).
      std::optional<int> bits = pvalue ? window_bits(*pvalue) : std::nullopt;
      if (!bits) {
        error = "Sec-WebSocket-Extensions: " + std::string(pname) + " must be 8..15, got \"" + pvalue.value_or("") + "\"";
        return std::nullopt;
      }
      (which == 2 ? params.server_max_window_bits : params.client_max_window_bits) = *bits;
    }
    result.deflate = params;
  }
  return result;
}

HandshakeResult ClientHandshake::check_response(int status, const std::vector<HeaderField>& headers) const {
  HandshakeResult r;
  if (status != 101) {
    r.error = "expected status 101 Switching Protocols, got " + std::to_string(status);
    return r;
  }
  std::vector<std::string_view> upgrade, connection, accept, protocol, extensions;
  for (const auto& h : headers) {
    if (iequals(h.name, "Upgrade")) upgrade.push_back(h.value);
    else if (iequals(h.name, "Connection")) connection.push_back(h.value);
    else if (iequals(h.name, "Sec-WebSocket-Accept")) accept.push_back(h.value);
    else if (iequals(h.name, "Sec-WebSocket-Protocol")) protocol.push_back(h.value);
    else if (iequals(h.name, "Sec-WebSocket-Extensions")) extensions.push_back(h.value);
  }
  if (upgrade.size() != 1 || !iequals(trim(upgrade[0]), "websocket")) {
    r.error = upgrade.empty() ? "Upgrade header missing" : "Upgrade header is not \"websocket\"";
    return r;
  }
  bool has_upgrade_token = false;
  for (auto value : connection)
    for (auto token : split_outside_quotes(value, ','))
      if (iequals(trim(token), "upgrade")) has_upgrade_token = true;
  if (!has_upgrade_token) {
    r.error = "Connection header lacks the \"upgrade\" token";
    return r;
  }
  // An empty expectation (the digest failed) must not match an empty header.
  const std::string expected = accept_for_key(key_);
  if (accept.size() != 1 || expected.empty() || trim(accept[0]) != expected) {
    r.error = accept.empty() ? "Sec-WebSocket-Accept header missing" : "Sec-WebSocket-Accept does not match the key";
    return r;
  }
  Negotiated negotiated;
  if (!protocol.empty()) {
    std::string_view chosen = protocol.size() == 1 ? trim(protocol[0]) : std::string_view();
    bool offered = std::find(offer_.subprotocols.begin(), offer_.subprotocols.end(), chosen) != offer_.subprotocols.end();
    if (!offered) {
      r.error = "Sec-WebSocket-Protocol: the server chose \"" + std::string(protocol[0]) + "\", which was not offered";
      return r;
    }
    negotiated.subprotocol = std::string(chosen);
  }
  std::string joined;
  for (auto value : extensions) {
    if (!joined.empty()) joined += ',';
    joined += value;
  }
  std::optional<Negotiated> ext = parse_extensions_answer(joined, offer_.compression, r.error);
  if (!ext) return r;
  negotiated.deflate = ext->deflate;
  r.negotiated = std::move(negotiated);
  return r;
}

// ---- Frame parser --------------------------------------------------------------------------------

FrameParser::FrameParser(FrameHandler& handler, ParserLimits limits, const std::optional<DeflateParams>& deflate)
    : handler_(handler), limits_(limits) {
  if (deflate) inflater_ = std::make_unique<Inflater>(*deflate);
}

FrameParser::~FrameParser() = default;

FeedResult FrameParser::fail(uint16_t code, std::string why) {
  stage_ = Stage::failed;
  failure_.close_code = code;
  failure_.error = std::move(why);
  message_.release();
  if (inflater_) inflater_->reset();
  return failure_;
}

FeedResult FrameParser::feed(const uint8_t* data, size_t len) {
  if (stage_ == Stage::failed) return failure_;
  stats_.wire_bytes += len;
  size_t pos = 0;
  while (pos < len && stage_ != Stage::closed) {
    if (stage_ == Stage::header) {
      const uint8_t* header = nullptr;
      if (header_have_ == 0 && len - pos >= 2 && len - pos >= header_size(data[pos + 1])) {
        // The usual case: the whole header is in this read; parse it where it lies.
        header = data + pos;
        pos += header_size(data[pos + 1]);
      } else {
        // A header cut by the end of a read: gather it (at most 14 bytes, so bytewise is fine).
        while (pos < len && (header_have_ < 2 || header_have_ < header_size(header_buf_[1]))) {
          header_buf_[header_have_++] = data[pos];
          pos++;
        }
        if (header_have_ < 2 || header_have_ < header_size(header_buf_[1])) break;
        header = header_buf_;
        header_have_ = 0;
      }
      FeedResult r = start_frame(header);
      if (!r.ok()) return r;
      if (frame_left_ == 0) {
        r = take_payload(nullptr, 0, true);
        if (!r.ok()) return r;
      }
      continue;
    }
    // Payload.
    size_t avail = len - pos;
    size_t n = frame_left_ < avail ? static_cast<size_t>(frame_left_) : avail;
    bool ends_frame = n == frame_left_;
    bool data_frame = frame_opcode_ == Opcode::text || frame_opcode_ == Opcode::binary;
    if (data_frame && frame_fin_ && ends_frame && !message_compressed_ && message_.empty() &&
        frame_left_ == frame_length_) {
      // A whole single-frame message in the read buffer: handed out where it lies, no copy.
      const uint8_t* payload = data + pos;
      pos += n;
      frame_left_ = 0;
      stage_ = Stage::header;
      if (message_text_) {
        // The same checks, and the same words, as for a buffered message.
        Utf8Validator text;
        if (!text.feed(payload, n)) return fail(kCloseInvalidPayload, "text message is not valid UTF-8");
        if (!text.complete()) return fail(kCloseInvalidPayload, "text message ends inside a UTF-8 sequence");
      }
      in_message_ = false;
      stats_.payload_bytes += n;
      stats_.messages++;
      handler_.on_message(message_text_, {reinterpret_cast<const char*>(payload), n});
      continue;
    }
    FeedResult r = take_payload(data + pos, n, ends_frame);
    pos += n;
    if (!r.ok()) return r;
  }
  return {};
}

FeedResult FrameParser::start_frame(const uint8_t* h) {
  bool fin = (h[0] & 0x80) != 0;
  bool rsv1 = (h[0] & 0x40) != 0;
  uint8_t op = h[0] & 0x0f;
  if (h[1] & 0x80) return fail(kCloseProtocolError, "masked frame from the server");
  if (h[0] & 0x30) return fail(kCloseProtocolError, "reserved bit RSV2 or RSV3 set");
  if (op > 0xA || (op > 0x2 && op < 0x8)) return fail(kCloseProtocolError, "unknown opcode " + std::to_string(op));
  uint64_t length = h[1] & 0x7f;
  if (length == 126) {
    length = load_be16(h + 2);
  } else if (length == 127) {
    length = load_be64(h + 2);
    if (length >> 63) return fail(kCloseProtocolError, "64-bit frame length with the high bit set");
  }
  bool control = (op & 0x8) != 0;
  if (control) {
    if (!fin) return fail(kCloseProtocolError, "fragmented control frame");
    if (length > kMaxControlPayload) return fail(kCloseProtocolError, "control frame longer than 125 bytes");
    if (rsv1) return fail(kCloseProtocolError, "RSV1 set on a control frame");
    control_.clear();
  } else if (op == 0) {
    if (!in_message_) return fail(kCloseProtocolError, "continuation frame without a message to continue");
    if (rsv1) return fail(kCloseProtocolError, "RSV1 set on a continuation frame");
  } else {
    if (in_message_) return fail(kCloseProtocolError, "new data frame inside a fragmented message");
    if (rsv1 && !inflater_) return fail(kCloseProtocolError, "RSV1 set without permessage-deflate");
    in_message_ = true;
    message_text_ = op == 0x1;
    message_compressed_ = rsv1;
    message_.clear();
    utf8_.reset();
  }
  // Refused from the header alone, before a byte is buffered. A compressed message is bounded
  // on its decompressed size instead, as it is inflated.
  if (!control && !message_compressed_ && length > limits_.max_message_bytes - message_.size())
    return fail(kCloseMessageTooBig, "message of at least " + std::to_string(message_.size() + length) +
                                         " bytes exceeds max_message_bytes (" +
                                         std::to_string(limits_.max_message_bytes) + ")");
  frame_opcode_ = static_cast<Opcode>(op);
  frame_fin_ = fin;
  frame_length_ = length;
  frame_left_ = length;
  stage_ = Stage::payload;
  return {};
}

FeedResult FrameParser::take_payload(const uint8_t* bytes, size_t len, bool ends_frame) {
  frame_left_ -= len;
  if (ends_frame) stage_ = Stage::header;
  if (static_cast<uint8_t>(frame_opcode_) & 0x8) {
    control_.append(bytes, len);
    return ends_frame ? end_control_frame() : FeedResult{};
  }
  if (message_compressed_) {
    size_t before = message_.size();
    FeedResult r = check_inflated(inflater_->inflate(bytes, len, message_, limits_.max_message_bytes), before);
    if (!r.ok()) return r;
  } else if (len > 0) {
    if (message_text_ && !utf8_.feed(bytes, len)) return fail(kCloseInvalidPayload, "text message is not valid UTF-8");
    if (message_.spare_size() < len) {
      // The header said how much is coming: one allocation for the frame, within the limit.
      size_t want = std::max(message_.capacity() * 2, message_.size() + len + static_cast<size_t>(frame_left_));
      message_.reserve(std::min(want, limits_.max_message_bytes));
    }
    message_.append(bytes, len);
  }
  return ends_frame && frame_fin_ ? end_message() : FeedResult{};
}

FeedResult FrameParser::check_inflated(Inflater::Result result, size_t before) {
  // The text produced is checked before the inflater's verdict: how much a call inflates depends
  // on how the reads were cut, so the first fault in output order must win for the outcome to
  // depend on the bytes alone.
  if (message_text_ && !utf8_.feed(message_.data() + before, message_.size() - before))
    return fail(kCloseInvalidPayload, "text message is not valid UTF-8");
  if (result == Inflater::Result::too_big)
    return fail(kCloseMessageTooBig, "decompressed message exceeds max_message_bytes (" +
                                         std::to_string(limits_.max_message_bytes) + ")");
  if (result == Inflater::Result::bad_data) return fail(kCloseInvalidPayload, "invalid permessage-deflate data");
  return {};
}

FeedResult FrameParser::end_message() {
  if (message_compressed_) {
    size_t before = message_.size();
    FeedResult r = check_inflated(inflater_->finish_message(message_, limits_.max_message_bytes), before);
    if (!r.ok()) return r;
  }
  if (message_text_ && !utf8_.complete()) return fail(kCloseInvalidPayload, "text message ends inside a UTF-8 sequence");
  in_message_ = false;
  stats_.payload_bytes += message_.size();
  stats_.messages++;
  handler_.on_message(message_text_, message_.view());
  if (message_.capacity() > kKeepMessageCapacity) message_.release();
  else message_.clear();
  return {};
}

FeedResult FrameParser::end_control_frame() {
  std::string_view payload = control_.view();
  switch (frame_opcode_) {
    case Opcode::ping: handler_.on_ping(payload); return {};
    case Opcode::pong: handler_.on_pong(payload); return {};
    default: break;
  }
  uint16_t code = kCloseNoStatus;
  std::string_view reason;
  if (payload.size() == 1) return fail(kCloseProtocolError, "close frame with a 1-byte payload");
  if (payload.size() >= 2) {
    code = load_be16(control_.data());
    if (!close_code_allowed_on_wire(code))
      return fail(kCloseProtocolError, "close code " + std::to_string(code) + " is not allowed on the wire");
    reason = payload.substr(2);
    if (!is_valid_utf8(reason)) return fail(kCloseInvalidPayload, "close reason is not valid UTF-8");
  }
  close_received_ = true;
  stage_ = Stage::closed;
  handler_.on_close(code, reason);
  return {};
}

// ---- Frame writer --------------------------------------------------------------------------------

void apply_mask(uint8_t* bytes, size_t len, const std::array<uint8_t, 4>& mask) { masked_copy(bytes, bytes, len, mask); }

FrameWriter::FrameWriter(MaskSource masks, const std::optional<DeflateParams>& deflate, size_t fragment_bytes)
    : masks_(std::move(masks)), fragment_bytes_(fragment_bytes) {
  if (deflate && deflate->client_max_window_bits >= 9) deflater_ = std::make_unique<Deflater>(*deflate);
}

FrameWriter::~FrameWriter() = default;

void FrameWriter::append_frame(Opcode opcode, bool fin, bool rsv1, std::string_view payload,
                               const std::array<uint8_t, 4>& mask, std::string& out) {
  uint8_t header[14];
  size_t n = payload.size();
  size_t h = 0;
  header[h++] = static_cast<uint8_t>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<uint8_t>(opcode));
  if (n < 126) {
    header[h++] = static_cast<uint8_t>(0x80 | n);
  } else if (n <= 0xffff) {
    header[h++] = 0x80 | 126;
    header[h++] = static_cast<uint8_t>(n >> 8);
    header[h++] = static_cast<uint8_t>(n);
  } else {
    header[h++] = 0x80 | 127;
    for (int shift = 56; shift >= 0; shift -= 8) header[h++] = static_cast<uint8_t>(static_cast<uint64_t>(n) >> shift);
  }
  std::memcpy(header + h, mask.data(), 4);
  h += 4;
  size_t at = out.size();
  out.resize(at + h + n);
  auto* dst = reinterpret_cast<uint8_t*>(&out[at]);
  std::memcpy(dst, header, h);
  masked_copy(dst + h, reinterpret_cast<const uint8_t*>(payload.data()), n, mask);
}

bool FrameWriter::write_message(Opcode opcode, std::string_view payload, std::string& out) {
  std::string_view body = payload;
  bool compressed = false;
  if (deflater_) {
    compressed_.clear();
    if (!deflater_->compress(payload, compressed_)) return false;
    body = compressed_;
    compressed = true;
  }
  size_t before = out.size();
  if (fragment_bytes_ == 0 || body.size() <= fragment_bytes_) {
    append_frame(opcode, true, compressed, body, masks_(), out);
  } else {
    bool first = true;
    while (!body.empty()) {
      std::string_view piece = body.substr(0, fragment_bytes_);
      body.remove_prefix(piece.size());
      append_frame(first ? opcode : Opcode::continuation, body.empty(), first && compressed, piece, masks_(), out);
      first = false;
    }
  }
  stats_.payload_bytes += payload.size();
  stats_.messages++;
  stats_.wire_bytes += out.size() - before;
  return true;
}

void FrameWriter::write_control(Opcode opcode, std::string_view payload, std::string& out) {
  size_t before = out.size();
  append_frame(opcode, true, false, payload.substr(0, kMaxControlPayload), masks_(), out);
  stats_.wire_bytes += out.size() - before;
}

void FrameWriter::write_ping(std::string_view payload, std::string& out) { write_control(Opcode::ping, payload, out); }

void FrameWriter::write_pong(std::string_view payload, std::string& out) { write_control(Opcode::pong, payload, out); }

void FrameWriter::write_close(uint16_t code, std::string_view reason, std::string& out) {
  std::string payload;
  if (code != kCloseNoStatus) {
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xff));
    size_t cut = std::min(reason.size(), kMaxControlPayload - 2);
    // Never end a truncated reason inside a UTF-8 sequence: the peer would refuse it (1007).
    if (cut < reason.size())
      while (cut > 0 && is_continuation_byte(reason[cut])) cut--;
    payload.append(reason.substr(0, cut));
  }
  write_control(Opcode::close, payload, out);
}

}  // namespace tidewire::detail::ws
