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
  // A comment line (only with set_comments(true)): `data` is the text after the colon, one
  // leading space removed as for a field's value; id and type are empty.
  bool comment = false;
};

// Incremental text/event-stream parser implementing WHATWG HTML §9.2.6 ("Interpreting an event
// stream"). Pure and I/O-free: the transport feeds it body bytes in arbitrary chunks and gets
// events back. Results never depend on how the input is split across feed() calls.
class SseParser {
 public:
  enum class Result { ok, line_too_long, event_too_large };

  // max_line_bytes bounds a single line, counted in raw bytes without its terminator.
  // max_event_bytes bounds the event being assembled: its data buffer (a '\n' counted per data
  // line), its type and the last-event-ID buffer together.
  explicit SseParser(size_t max_line_bytes, size_t max_event_bytes = SIZE_MAX);

  // Feeds raw bytes from the response body. Appends every event completed by this input to `out`
  // (a blank line dispatches). Returns line_too_long as soon as a line grows past max_line_bytes,
  // event_too_large as soon as a field would make the pending event exceed max_event_bytes; after
  // that the parser is failed and every further feed returns the same result without consuming.
  // Events completed earlier in the same call are still appended to `out`.
  Result feed(const char* data, size_t len, std::vector<SseEvent>& out);

  // The last event ID *string*: the id buffer as of the last dispatch (WHATWG), i.e. the id to
  // resume from. An `id:` line whose event has not been dispatched yet does not change it, so a
  // connection cut inside that event resumes before it and the event is not lost.
  const std::string& last_event_id() const;

  // Seeds the last event ID (string and buffer), e.g. from config before the first connect.
  void set_last_event_id(std::string id);

  // Whether comment lines are reported as events (in stream order with the others). Off by
  // default: WHATWG has them ignored; some servers put heartbeats or diagnostics there.
  void set_comments(bool on) { comments_ = on; }

  // Returns the value of the most recent valid `retry:` field once, then empties it.
  // Values too large for uint64_t are clamped to UINT64_MAX.
  std::optional<uint64_t> take_retry_ms();

  // Starts a new connection: discards partial line, data/type buffers, the BOM state and the failed
  // state. The last-event-ID buffer goes back to the last dispatched id: an unterminated event at
  // the end of a connection is discarded, and so is its `id:`. A retry value not yet taken is kept: it was validly received and still applies.
  void reset_connection();

 private:
  // Splits input into lines; returns false once the current line exceeds max_line_bytes_.
  bool feed_lines(const char* data, size_t len, std::vector<SseEvent>& out);
  // Whether replacing `replaced` bytes of the pending event by `added` bytes stays within bounds.
  bool event_fits(size_t replaced, size_t added) const;
  void process_line(const char* line, size_t len, std::vector<SseEvent>& out);
  void process_field(std::string_view name, std::string_view value);
  void dispatch(std::vector<SseEvent>& out);

  size_t max_line_bytes_;
  size_t max_event_bytes_;
  std::string line_;     // bytes of the current line not yet terminated (never > max_line_bytes_)
  std::string decoded_;  // scratch for lines that needed U+FFFD replacement; reused to avoid allocs
  std::string data_;
  std::string type_;
  std::string id_buffer_;      // WHATWG "last event ID buffer": set by `id:` lines
  std::string last_event_id_;  // WHATWG "last event ID string": set from the buffer at dispatch
  std::optional<uint64_t> retry_ms_;
  size_t bom_matched_ = 0;    // BOM bytes seen so far at the stream start
  bool bom_done_ = false;     // BOM check finished for this connection
  bool pending_cr_ = false;   // previous feed ended in CR: a leading LF belongs to that line end
  Result failure_ = Result::ok;  // sticky once a limit is hit
  bool comments_ = false;
};

}  // namespace tidewire::detail
