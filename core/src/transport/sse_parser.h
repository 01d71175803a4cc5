#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tidewire::detail {

struct SseEvent {
  std::string id;    // the parser's last-event-ID buffer at dispatch time (may be empty)
  std::string type;  // event name; "message" when none was given
  std::string data;  // data lines joined by '\n' (final trailing LF removed, per spec)
};

// Incremental text/event-stream parser implementing WHATWG HTML §9.2.6 ("Interpreting an event
// stream"). Pure and I/O-free: the transport feeds it body bytes in arbitrary chunks and gets
// events back. Results never depend on how the input is split across feed() calls.
class SseParser {
 public:
  enum class Result { ok, line_too_long };

  // max_line_bytes bounds a single line, counted in raw bytes without its terminator.
  explicit SseParser(size_t max_line_bytes);

  // Feeds raw bytes from the response body. Appends every event completed by this input to `out`
  // (a blank line dispatches). Returns line_too_long as soon as a line grows past max_line_bytes;
  // after that the parser is failed and every further feed returns line_too_long without consuming.
  // Events completed earlier in the same call are still appended to `out`.
  Result feed(const char* data, size_t len, std::vector<SseEvent>& out);

  // The last-event-ID buffer (persists across events and across reset_connection()).
  const std::string& last_event_id() const;

  // Seeds the last-event-ID buffer (e.g. from config before the first connect).
  void set_last_event_id(std::string id);

  // Returns the value of the most recent valid `retry:` field once, then empties it.
  // Values too large for uint64_t are clamped to UINT64_MAX.
  std::optional<uint64_t> take_retry_ms();

  // Starts a new connection: discards partial line, data/type buffers, the BOM state and the failed
  // state, but keeps the last-event-ID buffer. An unterminated event at the end of a connection is
  // discarded. A retry value not yet taken is kept: it was validly received and still applies.
  void reset_connection();

 private:
  // Splits input into lines; returns false once the current line exceeds max_line_bytes_.
  bool feed_lines(const char* data, size_t len, std::vector<SseEvent>& out);
  void process_line(const char* line, size_t len, std::vector<SseEvent>& out);
  void process_field(std::string_view name, std::string_view value);
  void dispatch(std::vector<SseEvent>& out);

  size_t max_line_bytes_;
  std::string line_;     // bytes of the current line not yet terminated (never > max_line_bytes_)
  std::string decoded_;  // scratch for lines that needed U+FFFD replacement; reused to avoid allocs
  std::string data_;
  std::string type_;
  std::string last_event_id_;
  std::optional<uint64_t> retry_ms_;
  size_t bom_matched_ = 0;    // BOM bytes seen so far at the stream start
  bool bom_done_ = false;     // BOM check finished for this connection
  bool pending_cr_ = false;   // previous feed ended in CR: a leading LF belongs to that line end
  bool failed_ = false;
};

}  // namespace tidewire::detail
