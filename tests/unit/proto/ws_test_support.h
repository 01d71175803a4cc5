#pragma once
// Helpers for the WebSocket protocol tests: server frames built by hand, client frames turned back
// into what a server would see, and a parser run that records events as text for comparison.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/ws.h"

namespace tidewire::detail::ws::testing {

inline std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(static_cast<char>(b));
  return s;
}

// An unmasked server frame: `first_byte` is FIN/RSV/opcode, the length is encoded minimally.
inline std::string server_frame(uint8_t first_byte, std::string_view payload) {
  std::string f(1, static_cast<char>(first_byte));
  size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(n));
  } else if (n <= 0xffff) {
    f.push_back(126);
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(127);
    for (int shift = 56; shift >= 0; shift -= 8) f.push_back(static_cast<char>((static_cast<uint64_t>(n) >> shift) & 0xff));
  }
  f.append(payload);
  return f;
}

inline std::string close_payload(uint16_t code, std::string_view reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xff));
  p.append(reason);
  return p;
}

// Client frames as a server receives them: checks and removes each frame's mask, so the result
// can be fed to the (client-side) parser. Returns nullopt when a frame is not masked or is cut.
inline std::optional<std::string> unmask_client_frames(std::string_view wire) {
  std::string out;
  size_t pos = 0;
  while (pos < wire.size()) {
    if (wire.size() - pos < 2) return std::nullopt;
    auto b = [&](size_t i) { return static_cast<uint8_t>(wire[pos + i]); };
    if (!(b(1) & 0x80)) return std::nullopt;
    uint64_t len = b(1) & 0x7f;
    size_t h = 2;
    if (len == 126) {
      len = static_cast<uint64_t>(b(2)) << 8 | b(3);
      h = 4;
    } else if (len == 127) {
      len = 0;
      for (size_t i = 0; i < 8; i++) len = len << 8 | b(2 + i);
      h = 10;
    }
    if (wire.size() - pos < h + 4 + len) return std::nullopt;
    std::string frame(wire.substr(pos, h));
    frame[1] = static_cast<char>(b(1) & 0x7f);
    for (uint64_t i = 0; i < len; i++)
      frame.push_back(static_cast<char>(wire[pos + h + 4 + i] ^ wire[pos + h + (i & 3)]));
    out += frame;
    pos += h + 4 + len;
  }
  return out;
}

// Every event as one line of text, so runs compare with ==.
class Recorder : public FrameHandler {
 public:
  std::vector<std::string> events;
  void on_message(bool text, std::string_view payload) override {
    events.push_back((text ? "text:" : "binary:") + std::string(payload));
  }
  void on_ping(std::string_view payload) override { events.push_back("ping:" + std::string(payload)); }
  void on_pong(std::string_view payload) override { events.push_back("pong:" + std::string(payload)); }
  void on_close(uint16_t code, std::string_view reason) override {
    events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
  }
};

struct Outcome {
  std::vector<std::string> events;
  uint16_t close_code = 0;  // 0: no error
  std::string error;
  WireStats stats;
  bool operator==(const Outcome& o) const {
    return events == o.events && close_code == o.close_code && error == o.error &&
           stats.payload_bytes == o.stats.payload_bytes && stats.messages == o.stats.messages;
  }
};

// Feeds `stream` cut at `cuts` (ascending offsets), stopping at the first error.
inline Outcome run(std::string_view stream, const std::vector<size_t>& cuts = {}, size_t max_message_bytes = 1 << 20,
                   const std::optional<DeflateParams>& deflate = std::nullopt) {
  Recorder recorder;
  FrameParser parser(recorder, ParserLimits{max_message_bytes}, deflate);
  Outcome o;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    FeedResult r = parser.feed(reinterpret_cast<const uint8_t*>(stream.data()) + start, end - start);
    start = end;
    if (!r.ok()) {
      o.close_code = r.close_code;
      o.error = r.error;
      break;
    }
  }
  o.events = recorder.events;
  o.stats = parser.stats();
  return o;
}

inline Outcome run_in_slices(std::string_view stream, size_t slice, size_t max_message_bytes = 1 << 20,
                             const std::optional<DeflateParams>& deflate = std::nullopt) {
  std::vector<size_t> cuts;
  for (size_t i = slice; i < stream.size(); i += slice) cuts.push_back(i);
  return run(stream, cuts, max_message_bytes, deflate);
}

}  // namespace tidewire::detail::ws::testing
