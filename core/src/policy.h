// The one reconnect policy for every transport (DESIGN's policy table): how a failure is
// classified, how long to wait before the next attempt, and how server hints are read.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "tidewire/tidewire.h"

namespace tidewire::detail {

enum class Verdict {
  retry,     // transient: reconnect with backoff
  fatal,     // cannot succeed by retrying: end the stream with an error
  end_clean  // the server asked us to stop: end without an error
};

// HTTP status of a streaming or polling response that is not a success.
// 204 ends cleanly; 408, 429 and 5xx are transient; every other 4xx (and unfollowed 3xx) is fatal.
Verdict classify_http_status(int status);
// WebSocket close code received from the peer.
Verdict classify_ws_close(int code);
// Local errors (connect refused, reset, read timeout, TLS failure, limits).
Verdict classify_error(tw_err err);

// http.replay_body: whether a request may be sent again on a reconnect.
enum class Replay { automatic, always, never };
Replay parse_replay(const std::string& text);  // "auto" | "always" | "never"

// Idempotent request methods (RFC 9110 9.2.2: GET, HEAD, PUT, DELETE, OPTIONS, TRACE) and the safe
// ones other specifications define (QUERY, WebDAV's REPORT, PROPFIND, SEARCH). Case-sensitive, as
// methods are.
bool idempotent_method(const std::string& method);

// Whether a reconnect may send the request again. With `automatic`: an idempotent method, or a
// non-idempotent one that the server made resumable by giving an event id (then sent back as
// Last-Event-ID). `never`: idempotent methods only. `always`: every method. Sending a POST again
// otherwise could repeat what it did (a second order, a second LLM completion).
bool may_replay(Replay mode, const std::string& method, bool has_resume_id);

// A 401 or 403: credentials the application may replace (reconnect.on_auth_failure=wait).
inline bool is_auth_failure(int http_status) { return http_status == 401 || http_status == 403; }

struct BackoffSettings {
  int64_t initial_ms = 1000;
  int64_t max_ms = 30000;
  int64_t reset_after_ms = 60000;
  int64_t max_attempts = 0;  // 0 = unlimited
};

// SplitMix64 (Steele, Lea, Flood 2014): 8 bytes of state where std::mt19937_64 holds 2.5 KB, in
// every stream; ample for spreading reconnect delays.
class SplitMix64 {
 public:
  using result_type = uint64_t;
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return UINT64_MAX; }
  result_type operator()() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// Exponential backoff with full jitter. Not thread-safe: each transport owns one on the I/O thread.
class Backoff {
 public:
  explicit Backoff(BackoffSettings settings, uint64_t seed = std::random_device{}());

  // A connection became healthy at `now_ms` (response headers accepted, socket open).
  void connected(int64_t now_ms);
  // A successful exchange that proves the source healthy at once (e.g. a poll answered 200/304).
  void succeeded();
  // An attempt failed at `now_ms`. Returns the delay before the next attempt, or nullopt when
  // reconnect.max_attempts is reached. The backoff part never exceeds settings.max_ms; `hint_ms`
  // (SSE retry:, Retry-After), already capped by the caller, is a floor.
  std::optional<int64_t> next_delay(int64_t now_ms, std::optional<int64_t> hint_ms);
  // Replaces the base delay (SSE `retry:` is the stream's reconnection time).
  void set_base_ms(int64_t base_ms);
  int64_t attempts() const { return attempts_; }
  // Whether the last next_delay() drew from the full range [0, max_ms]: the backoff is at its maximum.
  bool at_max() const { return at_max_; }

 private:
  BackoffSettings settings_;
  SplitMix64 rng_;
  int64_t base_ms_;
  int64_t attempts_ = 0;
  bool at_max_ = false;
  std::optional<int64_t> connected_at_ms_;
};

// Retry-After: delay-seconds or an HTTP-date (IMF-fixdate, RFC 850, asctime), as ms from `now_unix_s`.
// Returns nullopt if unparsable; a date in the past gives 0.
std::optional<int64_t> parse_retry_after(const std::string& value, int64_t now_unix_s);
// X-Poll-Interval: seconds (integer or decimal) as ms; nullopt if unparsable.
std::optional<int64_t> parse_seconds_ms(const std::string& value);
// An HTTP-date as unix seconds; nullopt if it is not one of the three formats RFC 9110 allows.
std::optional<int64_t> parse_http_date(const std::string& value);

}  // namespace tidewire::detail
