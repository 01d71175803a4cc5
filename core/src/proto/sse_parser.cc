#include "proto/sse_parser.h"

#include <cstring>
#include <utility>

namespace tidewire::detail {
namespace {

constexpr char kBom[] = "\xEF\xBB\xBF";
constexpr size_t kBomSize = 3;
constexpr char kReplacementChar[] = "\xEF\xBF\xBD";  // U+FFFD in UTF-8
constexpr size_t kReplacementCharSize = 3;

const char* find_or_end(const char* p, const char* end, char c) {
  const void* hit = std::memchr(p, c, static_cast<size_t>(end - p));
  return hit != nullptr ? static_cast<const char*>(hit) : end;
}

struct Utf8Sequence {
  size_t len;  // bytes of the character, or of the maximal ill-formed subpart when !valid
  bool valid;
};

// Classifies the sequence starting at the non-ASCII byte s[0] following the WHATWG UTF-8 decoder,
// whose errors cover exactly the Unicode "maximal subpart" of an ill-formed sequence.
Utf8Sequence classify_utf8(const unsigned char* s, size_t n) {
  const unsigned char lead = s[0];
  size_t continuation_bytes = 0;
  // Bounds of the first continuation byte; they exclude overlongs, surrogates and > U+10FFFF.
  unsigned char lower = 0x80;
  unsigned char upper = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuation_bytes = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuation_bytes = 2;
    if (lead == 0xE0) lower = 0xA0;
    if (lead == 0xED) upper = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuation_bytes = 3;
    if (lead == 0xF0) lower = 0x90;
    if (lead == 0xF4) upper = 0x8F;
  } else {
    // Stray continuation byte, overlong lead (C0, C1) or lead beyond U+10FFFF (F5..FF).
    return {1, false};
  }
  for (size_t i = 1; i <= continuation_bytes; ++i) {
    if (i >= n || s[i] < lower || s[i] > upper) return {i, false};
    lower = 0x80;
    upper = 0xBF;
  }
  return {continuation_bytes + 1, true};
}

// Returns the index of the first ill-formed sequence at or after `i`, or `n` if there is none.
size_t skip_valid_utf8(const unsigned char* s, size_t i, size_t n) {
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  while (i < n) {
    // Event streams are overwhelmingly ASCII: skip 8 bytes at a time while no high bit is set.
    while (n - i >= 8) {
      uint64_t word;
      std::memcpy(&word, s + i, sizeof word);
      if ((word & kHighBits) != 0) break;
      i += 8;
    }
    if (i == n) break;
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    const Utf8Sequence seq = classify_utf8(s + i, n - i);
    if (!seq.valid) return i;
    i += seq.len;
  }
  return n;
}

}  // namespace

SseParser::SseParser(size_t max_line_bytes, size_t max_event_bytes)
    : max_line_bytes_(max_line_bytes), max_event_bytes_(max_event_bytes) {}

SseParser::Result SseParser::feed(const char* data, size_t len, std::vector<SseEvent>& out) {
  if (failure_ != Result::ok) return failure_;
  if (!bom_done_) {
    // Matched byte by byte because the BOM itself may be split across feeds.
    while (len > 0 && bom_matched_ < kBomSize && *data == kBom[bom_matched_]) {
      ++data;
      --len;
      ++bom_matched_;
    }
    if (bom_matched_ < kBomSize && len == 0) return Result::ok;  // undecided until more input
    bom_done_ = true;
    // A partial match was not a BOM: those bytes are ordinary line content (they hold no CR/LF).
    if (bom_matched_ < kBomSize && !feed_lines(kBom, bom_matched_, out)) return failure_;
  }
  return feed_lines(data, len, out) ? Result::ok : failure_;
}

bool SseParser::feed_lines(const char* p, size_t len, std::vector<SseEvent>& out) {
  if (len == 0) return true;
  const char* const end = p + len;
  if (pending_cr_) {
    pending_cr_ = false;
    if (*p == '\n') ++p;  // second half of a CRLF split across feeds
  }
  // Next CR and next LF, each searched again only once passed, so a stream that uses just one
  // kind of line end does not rescan the rest of the chunk for the other kind on every line.
  const char* cr = find_or_end(p, end, '\r');
  const char* lf = find_or_end(p, end, '\n');
  for (;;) {
    const char* const eol = cr < lf ? cr : lf;
    const size_t n = static_cast<size_t>(eol - p);
    // Checked before buffering so a hostile stream cannot make a line use more memory.
    if (line_.size() + n > max_line_bytes_) {
      failure_ = Result::line_too_long;
      line_.clear();
      return false;
    }
    if (eol == end) {
      line_.append(p, n);
      return true;
    }
    if (line_.empty()) {
      process_line(p, n, out);  // common case: whole line inside this chunk, no copy
    } else {
      line_.append(p, n);
      process_line(line_.data(), line_.size(), out);
      line_.clear();
    }
    if (failure_ != Result::ok) return false;
    p = eol + 1;
    if (*eol == '\r') {
      if (p == end) {
        pending_cr_ = true;
        return true;
      }
      if (*p == '\n') ++p;
    }
    if (cr < p) cr = find_or_end(p, end, '\r');
    if (lf < p) lf = find_or_end(p, end, '\n');
  }
}

void SseParser::process_line(const char* line, size_t len, std::vector<SseEvent>& out) {
  if (len == 0) {
    dispatch(out);
    return;
  }
  if (line[0] == ':' && !comments_) return;  // comment, ignored without a decoding pass

  // Lines are complete, so a multibyte character can never be split here; decoding per line
  // replaces ill-formed input just as decoding the whole stream would (CR/LF end any sequence).
  const auto* bytes = reinterpret_cast<const unsigned char*>(line);
  size_t pos = skip_valid_utf8(bytes, 0, len);
  if (pos != len) {
    decoded_.assign(line, pos);
    while (pos < len) {
      decoded_.append(kReplacementChar, kReplacementCharSize);
      pos += classify_utf8(bytes + pos, len - pos).len;
      const size_t next_bad = skip_valid_utf8(bytes, pos, len);
      decoded_.append(line + pos, next_bad - pos);
      pos = next_bad;
    }
    line = decoded_.data();
    len = decoded_.size();
  }

  const std::string_view text(line, len);
  if (text.front() == ':') {
    std::string_view value = text.substr(1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    SseEvent& comment = out.emplace_back();
    comment.comment = true;
    comment.data.assign(value);
    return;
  }
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    process_field(text, std::string_view());
    return;
  }
  std::string_view value = text.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  process_field(text.substr(0, colon), value);
}

bool SseParser::event_fits(size_t replaced, size_t added) const {
  const size_t pending = data_.size() + type_.size() + id_buffer_.size() - replaced;
  return added <= max_event_bytes_ && pending <= max_event_bytes_ - added;
}

void SseParser::process_field(std::string_view name, std::string_view value) {
  // Checked before buffering, like the line limit: a hostile stream of short data lines must not
  // grow one event without bound.
  if (name == "data") {
    if (!event_fits(0, value.size() + 1)) {
      failure_ = Result::event_too_large;
      return;
    }
    data_.append(value);
    data_.push_back('\n');
  } else if (name == "event") {
    if (!event_fits(type_.size(), value.size())) {
      failure_ = Result::event_too_large;
      return;
    }
    type_.assign(value);
  } else if (name == "id") {
    if (value.find('\0') != std::string_view::npos) return;
    if (!event_fits(id_buffer_.size(), value.size())) {
      failure_ = Result::event_too_large;
      return;
    }
    // Only the buffer: the id becomes the resume point when its event is dispatched.
    id_buffer_.assign(value);
  } else if (name == "retry") {
    if (value.empty()) return;
    uint64_t ms = 0;
    for (const char c : value) {
      if (c < '0' || c > '9') return;
      const auto digit = static_cast<uint64_t>(c - '0');
      // Saturate rather than wrap: an absurd delay should read as "very long", not a small one.
      ms = ms > (UINT64_MAX - digit) / 10 ? UINT64_MAX : ms * 10 + digit;
    }
    retry_ms_ = ms;
  }
}

void SseParser::dispatch(std::vector<SseEvent>& out) {
  // WHATWG: every dispatch, even one with no data, makes the buffer the last event ID string.
  last_event_id_ = id_buffer_;
  if (data_.empty()) {
    type_.clear();
    return;
  }
  data_.pop_back();  // every data line appended a '\n'; the last one is not part of the data
  SseEvent& event = out.emplace_back();
  event.id = id_buffer_;
  if (type_.empty()) {
    event.type = "message";
  } else {
    event.type = std::move(type_);
  }
  event.data = data_;  // copied, not moved, so data_ keeps its capacity for the next event
  data_.clear();
  type_.clear();
}

const std::string& SseParser::last_event_id() const { return last_event_id_; }

void SseParser::set_last_event_id(std::string id) {
  id_buffer_ = id;
  last_event_id_ = std::move(id);
}

std::optional<uint64_t> SseParser::take_retry_ms() {
  return std::exchange(retry_ms_, std::nullopt);
}

void SseParser::reset_connection() {
  line_.clear();
  data_.clear();
  type_.clear();
  bom_matched_ = 0;
  bom_done_ = false;
  pending_cr_ = false;
  failure_ = Result::ok;
  // The event cut off with the old connection was not dispatched; neither was its id.
  id_buffer_ = last_event_id_;
}

}  // namespace tidewire::detail
